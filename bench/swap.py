"""Benchmarks compare the code with an earlier way of doing part of it, in one process:
attributes of our modules swapped for the old way's and put back after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from proofcheck import imaging

Replacement = tuple[object, str, object]  # (module, attribute name, value instead)

# PNG decoded by Pillow, as before Wuffs (and libspng before it): the fast path declines.
PILLOW_PNG: Replacement = (imaging, "_png_pixels", lambda _data: None)


@contextmanager
def replaced(*replacements: Replacement) -> Iterator[None]:
    """Within the block, each (module, name, value) has that value instead of its own."""
    own = [getattr(module, name) for module, name, _value in replacements]
    for module, name, value in replacements:
        setattr(module, name, value)
    try:
        yield
    finally:
        for (module, name, _value), value in zip(replacements, own, strict=True):
            setattr(module, name, value)
