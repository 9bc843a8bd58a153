"""Text signals: OCR, field extraction and text similarity (DESIGN.md step 5)."""

from __future__ import annotations

import time
from typing import Any

from PIL import Image

MIN_LETTERS_FOR_LANGUAGE = 4


def text_signals(image: Image.Image) -> dict[str, Any]:
    """The `signals.ocr` object of API.md for one decoded image.

    Never raises: any failure (missing Tesseract data, odd image) comes back as
    `{"error": "...", "took_ms": ...}` so that one bad signal never fails a check.
    """
    # Imported here so that importing the package stays cheap and works without
    # tesserocr installed (the web process only needs the pipeline's results).
    start = time.perf_counter()
    try:
        from .fields import extract_fields
        from .ocr import read_text

        if not isinstance(image, Image.Image):
            raise TypeError(f"expected a PIL image, got {type(image).__name__}")
        ocr = read_text(image)
        fields = extract_fields(ocr)
        # Tesseract finds "text" in shapes and noise (a lone digit, a bar). Without a
        # few letters there is no language to report, so nothing filters on a guess.
        letters = sum(ch.isalpha() for ch in ocr.text)
        out: dict[str, Any] = {
            "text": ocr.text,
            "languages": ocr.languages if letters >= MIN_LETTERS_FOR_LANGUAGE else [],
            "fields": [f.to_dict() for f in fields],
        }
        if ocr.truncated:
            out["truncated"] = True
    except Exception as exc:  # a signal reports its failure, it does not fail the check
        return {"error": f"{type(exc).__name__}: {exc}",
                "took_ms": round((time.perf_counter() - start) * 1000.0, 1)}
    out["took_ms"] = round((time.perf_counter() - start) * 1000.0, 1)
    return out
