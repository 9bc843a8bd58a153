"""proofcheck.memo: results remembered by argument identity, never across distinct
objects that merely look alike."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from proofcheck import memo


def counting(size: int):
    calls: list[tuple] = []

    @memo.by_identity(size)
    def total(values: np.ndarray, scale: float) -> float:
        calls.append((values, scale))
        return float(values.sum()) * scale

    return total, calls


def test_same_object_and_value_is_computed_once() -> None:
    total, calls = counting(2)
    values = np.arange(4.0)
    assert total(values, 2.0) == 12.0
    assert total(values, 2.0) == 12.0
    assert len(calls) == 1
    assert total(values, 3.0) == 18.0  # plain arguments are keyed by value
    assert len(calls) == 2


def test_equal_but_distinct_objects_are_not_confused() -> None:
    total, calls = counting(4)
    first = np.arange(4.0)
    second = np.arange(4.0)
    total(first, 1.0)
    total(second, 1.0)
    assert len(calls) == 2
    # Mutating one object in place is the caller's business, but a different object
    # with other contents must never get the remembered answer of the first.
    assert total(np.ones(4), 1.0) == 4.0


def test_oldest_entry_is_forgotten_beyond_size() -> None:
    total, calls = counting(2)
    a, b, c = np.zeros(1), np.ones(1), np.full(1, 2.0)
    total(a, 1.0)
    total(b, 1.0)
    total(a, 1.0)  # a is now the most recent
    total(c, 1.0)  # evicts b
    assert len(calls) == 3
    total(a, 1.0)
    assert len(calls) == 3
    total(b, 1.0)
    assert len(calls) == 4


def test_keyword_arguments_are_refused() -> None:
    total, _calls = counting(2)
    with pytest.raises(TypeError, match="positional"):
        total(np.zeros(1), scale=1.0)


def test_per_object_results_live_exactly_as_long_as_their_object() -> None:
    calls: list[int] = []

    @memo.per_object
    def doubled(values: np.ndarray) -> np.ndarray:
        calls.append(len(values))
        return values * 2

    kept, other = np.arange(3.0), np.arange(3.0)
    first = doubled(kept)
    assert doubled(kept) is first and len(calls) == 1
    assert doubled(other) is not first and len(calls) == 2  # equal is not the same
    for _ in range(50):  # no count of recent calls pushes it out
        doubled(np.zeros(2))
    assert doubled(kept) is first and len(calls) == 52

    owner, result = weakref.ref(kept), weakref.ref(first)
    del kept, first
    gc.collect()
    assert owner() is None  # the memo does not keep its object alive
    assert result() is None  # and lets go of the result with it
