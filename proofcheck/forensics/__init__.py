"""Forensic signal families (DESIGN.md step 4), one module each.

Every family has `analyse(data, decoded, posted_at) -> dict`: JSON-native values,
a `flags` list of `{"code", "message", "severity"}`, and `error` when something
could not be read. `run_all` runs them all, each isolated and timed, so one broken
parser costs one signal, never the check.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from proofcheck.forensics import c2pa, ela, exif, jpeg, screenshot
from proofcheck.forensics._common import jsonable
from proofcheck.imaging import DecodedImage

Analyser = Callable[[bytes, DecodedImage, datetime | None], dict[str, Any]]

FAMILIES: dict[str, Analyser] = {
    "exif": exif.analyse,
    "jpeg": jpeg.analyse,
    "ela": ela.analyse,
    "c2pa": c2pa.analyse,
    "screenshot": screenshot.analyse,
}


def run_all(data: bytes, decoded: DecodedImage, posted_at: datetime | None, *,
            boxes: Sequence[Sequence[int]] | None = None,
            trust_anchors_pem: str | None = None,
            families: dict[str, Analyser] | None = None) -> dict[str, dict[str, Any]]:
    """Run every family; a family that raises anyway reports `error` instead.

    `boxes` are OCR word boxes ([x, y, w, h]) for ELA; `trust_anchors_pem` the C2PA
    root certificates to trust (none: intact credentials are "valid", not "trusted").
    """
    if families is None:
        families = dict(FAMILIES)
        families["ela"] = functools.partial(ela.analyse, boxes=boxes)
        families["c2pa"] = functools.partial(c2pa.analyse, trust_anchors_pem=trust_anchors_pem)
    results: dict[str, dict[str, Any]] = {}
    for name, analyse in families.items():
        start = time.perf_counter()
        try:
            result = jsonable(analyse(data, decoded, posted_at))
            if not isinstance(result, dict):
                result = {"error": f"{name} returned {type(result).__name__}, not a dict"}
        except Exception as exc:  # the families promise not to raise; belt and braces
            result = {"error": f"{name} failed: {type(exc).__name__}: {str(exc)[:120]}"}
        result.setdefault("flags", [])
        result["took_ms"] = round((time.perf_counter() - start) * 1000, 1)
        results[name] = result
    return results


def all_flags(signals: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every family's flags in one list, most severe first, each naming its family."""
    flat = [{**f, "family": name} for name, result in signals.items()
            for f in result.get("flags", []) if isinstance(f, dict)]
    return sorted(flat, key=lambda f: -float(f.get("severity", 0)))
