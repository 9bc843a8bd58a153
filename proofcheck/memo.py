"""Remembering results for the same objects, compared by identity.

A search compares one query with many candidates in a row, and one candidate can be
judged twice (on the grids' alignment, then on keypoints): the query's keypoints, its
low-passed pixels and a pair's coarse verdict would otherwise be recomputed each time.
Images and signatures hold numpy arrays and are not hashable, and hashing megabytes
of pixels would cost more than it saves, so entries are found by the identity of the
arguments. Each entry keeps its arguments alive, so an id cannot be reused by another
object while the entry exists.

What is derived from one image alone (its keypoints) is worth keeping as long as the
image itself is kept: a candidate's decoded pixels stay in the worker's cache
(`pixelcache`) across searches. `per_object` ties such results to the life of their
first argument instead of to a count of recent calls.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

_IDENTITY = object()  # marks an identity in a key, unlike any plain value
P = ParamSpec("P")
R = TypeVar("R")


def by_identity(size: int) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: remember the last `size` results, keyed by the identity of the
    positional arguments that are not plain values and the value of those that are
    (numbers, strings, tuples of them). Keyword arguments are not supported."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        entries: OrderedDict[tuple[Hashable, ...], tuple[tuple[Any, ...], R]] = OrderedDict()
        lock = threading.Lock()  # web threads share a process's entries

        @wraps(function)
        def remembered(*args: P.args, **kwargs: P.kwargs) -> R:
            if kwargs:
                raise TypeError(f"{function.__name__}: remembered calls take positional "
                                "arguments only")
            key = tuple(arg if _plain(arg) else (_IDENTITY, id(arg)) for arg in args)
            with lock:
                found = entries.get(key)
                if found is not None:
                    entries.move_to_end(key)
                    return found[1]
            result = function(*args, **kwargs)
            with lock:
                entries[key] = (args, result)
                while len(entries) > size:
                    entries.popitem(last=False)
            return result

        return remembered

    return decorate


def per_object(function: Callable[[Any], R]) -> Callable[[Any], R]:
    """Decorator for a function of one object: its result is remembered while the object
    lives (found by identity, dropped when the object is collected). The object must
    accept weak references, and the result must not refer back to it, or the object
    would never be collected."""
    results: dict[int, R] = {}
    lock = threading.Lock()

    def forget(key: int) -> None:
        with lock:
            results.pop(key, None)

    @wraps(function)
    def remembered(owner: Any) -> R:
        key = id(owner)
        with lock:
            if key in results:
                return results[key]
        result = function(owner)
        with lock:
            if key not in results:
                # Runs as the owner is collected, before its id can be given to another.
                weakref.finalize(owner, forget, key)
            results[key] = result
        return result

    return remembered


def _plain(value: object) -> bool:
    if isinstance(value, tuple):
        return all(_plain(item) for item in value)
    return value is None or isinstance(value, (bool, int, float, str))
