"""Glyph templates on disk: what a process loads is what it would have rendered, a
changed input is another file, and a damaged file is rendered again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from proofcheck.text import glyphs as gl
from proofcheck.text import templatecache

DIGITS = {str(d): str(d) for d in range(10)}
SANS = ("dejavu/DejaVuSans.ttf",)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(templatecache, "cache_dir", lambda: tmp_path)
    return tmp_path


def test_templates_are_stored_then_loaded_as_rendered(cache: Path) -> None:
    rendered = gl.DigitTemplates(DIGITS, SANS, cached=True)
    [stored] = cache.glob("*.npz")
    # Mark the stored file: the next build must return the mark, so it read the file.
    with np.load(stored) as data:
        matrix, labels = data["matrix"].copy(), list(data["labels"])
    np.testing.assert_array_equal(matrix, rendered.matrix)
    assert labels == rendered.labels
    matrix[0, 0] = 42.0
    np.savez(stored, matrix=matrix, labels=np.array(labels))
    loaded = gl.DigitTemplates(DIGITS, SANS, cached=True)
    assert loaded.matrix[0, 0] == 42.0 and loaded.labels == rendered.labels
    assert loaded.classify(_glyph("7"))[0] == "7"


def test_other_fonts_or_weights_are_other_files(cache: Path) -> None:
    gl.DigitTemplates(DIGITS, SANS, cached=True)
    gl.DigitTemplates(DIGITS, ("dejavu/DejaVuSans-Bold.ttf",), cached=True)
    gl.DigitTemplates(DIGITS, SANS, prong_weight=0.6, cached=True)
    assert len(list(cache.glob("*.npz"))) == 3
    gl.DigitTemplates(DIGITS, SANS, cached=False)
    assert len(list(cache.glob("*.npz"))) == 3


def test_a_damaged_file_is_rendered_again_and_replaced(cache: Path) -> None:
    rendered = gl.DigitTemplates(DIGITS, SANS, cached=True)
    [stored] = cache.glob("*.npz")
    stored.write_bytes(stored.read_bytes()[:1000])
    again = gl.DigitTemplates(DIGITS, SANS, cached=True)
    np.testing.assert_array_equal(again.matrix, rendered.matrix)
    assert templatecache.load(stored.stem) is not None


def test_an_unwritable_cache_still_gives_templates(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("")
    monkeypatch.setattr(templatecache, "cache_dir", lambda: blocker / "glyphs")
    templates = gl.DigitTemplates(DIGITS, SANS, cached=True)
    assert templates.classify(_glyph("3"))[0] == "3"


def _glyph(ch: str) -> np.ndarray:
    font = gl.ImageFont.truetype(str(gl.font_path(SANS[0])), 40)
    [comp] = gl.glyph_components(gl.degraded_print(font, ch, 1.0, 90))
    return comp.mask
