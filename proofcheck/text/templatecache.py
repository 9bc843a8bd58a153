"""Rendered glyph templates kept on disk, so that a process loads them instead of
rendering them again.

Rendering every template font's digits and letters, clean and degraded, takes 8-11 s
of CPU; every worker paid it at start-up, and every test or benchmark process on its
first page. The file is named by a hash of everything the rendering reads: the
glyphs, each font file (path, size, modification time), the render parameters, the
source of `glyphs` itself and the versions of Pillow, FreeType, NumPy and SciPy. So a
changed input is a miss, never a stale hit. A file that cannot be read is rendered
again and replaced; one that cannot be written is skipped (templates are then built
in memory, as before).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import PIL
import scipy
from PIL import features

log = logging.getLogger(__name__)

_GLYPHS_SOURCE = Path(__file__).with_name("glyphs.py")


def cache_dir() -> Path:
    """Inside the Python environment, beside the fetched fonts: a new environment
    starts empty, and removing it removes the cache."""
    return Path(sys.prefix) / "var" / "cache" / "proofcheck" / "glyphs"


def key(parts: dict[str, Any], fonts: list[Path]) -> str:
    """The file name for templates rendered from `fonts` with `parts` (JSON-able)."""
    stamp = {
        **parts,
        "fonts": [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in fonts],
        "code": hashlib.sha256(_GLYPHS_SOURCE.read_bytes()).hexdigest(),
        "versions": [PIL.__version__, features.version("freetype2"), np.__version__,
                     scipy.__version__],
    }
    return hashlib.sha256(json.dumps(stamp, sort_keys=True).encode()).hexdigest()[:32]


def load(name: str) -> tuple[np.ndarray, list[str]] | None:
    """The templates' matrix and labels stored under `name`, None when absent or
    unreadable."""
    path = cache_dir() / f"{name}.npz"
    try:
        with np.load(path, allow_pickle=False) as stored:
            matrix, labels = stored["matrix"], [str(v) for v in stored["labels"]]
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged file is rendered again and replaced
        log.warning("glyph template cache %s unreadable (%s): rendering again", path, exc)
        return None
    if matrix.ndim != 2 or len(labels) != len(matrix):
        return None
    return matrix.astype(np.float32, copy=False), labels


def save(name: str, matrix: np.ndarray, labels: list[str]) -> None:
    """Store the templates under `name`, whole or not at all (a temporary file renamed
    into place), so a reader never sees half a file."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(out, matrix=matrix, labels=np.array(labels, dtype=str))
            os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a service user
            os.replace(tmp, folder / f"{name}.npz")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.info("glyph template cache not written to %s (%s)", folder, exc)
