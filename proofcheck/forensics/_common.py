"""Helpers shared by the forensic signal families.

Each family returns a plain dict that goes straight into the check's JSON, so values
must be JSON-native; `jsonable` is the last line of defence against a numpy scalar or
a stray `bytes` slipping into a result and breaking the write of the whole check.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import numpy as np
from PIL import Image


class Flag(TypedDict):
    """One finding a moderator can read: a stable code, a sentence, how suspicious.

    `severity` is 0..1: 0 is informational or exculpatory (e.g. valid content
    credentials), 1 is close to proof of fabrication on its own.
    """

    code: str
    message: str
    severity: float


def flag(code: str, message: str, severity: float) -> Flag:
    return Flag(code=code, message=message, severity=round(min(1.0, max(0.0, severity)), 2))


# Strings from metadata are attacker-controlled; cap them so one field cannot bloat
# the stored JSON or the review page.
MAX_STR = 200


def clean_str(value: object, limit: int = MAX_STR) -> str | None:
    """A printable, bounded string from a metadata value, or None when empty."""
    if value is None:
        return None
    if isinstance(value, bytes):
        text = value[: limit * 4].decode("utf-8", "replace")
    else:
        text = str(value)[: limit * 4]
    text = "".join(ch for ch in text if ch.isprintable()).strip().strip("\x00")
    if not text:
        return None
    return text[:limit]


def jsonable(obj: Any, depth: int = 0) -> Any:
    """Convert to JSON-native types: numpy scalars to Python, NaN/inf to None."""
    if depth > 20:
        return None
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, bytes):
        return clean_str(obj)
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, Sequence):
        return [jsonable(v, depth + 1) for v in obj]
    # numpy scalars and arrays, without importing numpy here
    item = getattr(obj, "tolist", None)
    if callable(item):
        return jsonable(item(), depth + 1)
    return clean_str(obj)


def join_errors(errors: Sequence[str]) -> str | None:
    """The single short `error` string of a result, from the problems met."""
    if not errors:
        return None
    text = "; ".join(dict.fromkeys(errors))  # de-duplicated, order kept
    return text[:300]


def open_quietly(data: bytes) -> Image.Image:
    """`Image.open` without Pillow's "Corrupt EXIF data" warnings: a damaged block is
    reported once, by the exif family, not as log noise from every family."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Image.open(io.BytesIO(data))


def true_runs(flags_1d: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """[start, end) runs of True, joining runs separated by at most `gap` False."""
    idx = np.flatnonzero(flags_1d)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > gap + 1)
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    ends = np.concatenate((idx[breaks], [idx[-1]])) + 1
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]
