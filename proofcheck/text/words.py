"""The words OCR gives: text, box and confidence, shared by the page reader (`ocr`),
the number re-reader (`numbers`) and the code checker (`codes`)."""

from __future__ import annotations

from dataclasses import dataclass

Box = tuple[int, int, int, int]  # x, y, w, h in the input image's pixels


@dataclass
class Word:
    text: str
    box: Box
    confidence: float  # 0..1
    line: int  # index into OcrResult.lines
    language: str = ""  # the tesseract model that produced it ("fas", "eng"...)
    reread: bool = False  # digits re-read from pixels (`numbers`)


def union(boxes: list[Box]) -> Box:
    """The smallest box holding all of `boxes`."""
    x1 = min(b[0] for b in boxes)
    y1 = min(b[1] for b in boxes)
    x2 = max(b[0] + b[2] for b in boxes)
    y2 = max(b[1] + b[3] for b in boxes)
    return (x1, y1, x2 - x1, y2 - y1)
