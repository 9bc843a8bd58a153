"""The values in a phone's status bar: clock, battery level, network and carrier.

`forensics.screenshot` finds the bar and the boxes of its clock and icons; this reads
them. A series of "receipts" made from one screenshot shows the same clock and battery
on every image, which is what the cross-post rules look for; and a clock that reads
later than the post it appeared in is impossible.
"""

from __future__ import annotations

import re
from typing import Any

from PIL import Image

from proofcheck.text.normalize import to_ascii_digits

_CLOCK = re.compile(r"(?<!\d)([01]?\d|2[0-3])[:.]([0-5]\d)(?!\d)\s*([AaPp][Mm])?")
_BATTERY = re.compile(r"(?<!\d)(\d{1,3})\s?%")
NETWORKS = frozenset({"LTE", "LTE+", "5G", "5G+", "5GE", "4G", "4G+", "3G", "H", "H+", "E",
                      "VOLTE", "WIFI"})
# Text glyphs are small: reading them upscaled this much is what makes them legible.
UPSCALE = 3


def in_status_bar(top: float, width: float, height: float) -> bool:
    """Whether print whose top is `top` px down a `width` x `height` page sits in a
    phone's status bar: the system draws it, in its own font, so its clock is no date
    of the proof (`fields`) and its digits say nothing of the app's digit shapes
    (`numbers`). A crop that kept the bar is short, hence the share of the width."""
    return top < max(0.04 * height, 0.08 * width)


def parse_status_text(text: str) -> dict[str, Any]:
    """Clock ("HH:MM" as shown, 12-hour clocks keep their AM/PM), battery percent,
    network type and carrier name from the bar's text."""
    text = to_ascii_digits(text)
    clock = _CLOCK.search(text)
    battery = next((int(m.group(1)) for m in _BATTERY.finditer(text)
                    if 0 <= int(m.group(1)) <= 100), None)
    rest = _BATTERY.sub(" ", _CLOCK.sub(" ", text))
    words = [w.strip(".,:;|()[]") for w in rest.split()]
    network = next((w.upper() for w in words if w.upper() in NETWORKS), None)
    carrier_words = [w for w in words if len(w) >= 2 and w.upper() not in NETWORKS
                     and any(c.isalpha() for c in w)]
    value = None
    if clock:
        value = f"{int(clock.group(1))}:{clock.group(2)}"
        if clock.group(3):
            value += " " + clock.group(3).upper()
    return {"clock": value, "battery": battery, "network": network,
            "carrier": " ".join(carrier_words) or None}


def read_status_bar(image: Image.Image, bar: dict[str, Any]) -> dict[str, Any]:
    """The values of a status bar found by `forensics.screenshot.status_bar`; every
    value is None when it cannot be read. Never raises."""
    from proofcheck.text.ocr import OcrError, read_line

    try:
        band = image.crop((0, 0, image.width, int(bar["height"]))).convert("L")
        band = band.resize((band.width * UPSCALE, band.height * UPSCALE),
                           Image.Resampling.BICUBIC)
        text, confidence = read_line(band)
    except (OcrError, KeyError, ValueError, RuntimeError) as exc:
        return {"clock": None, "battery": None, "network": None, "carrier": None,
                "text_error": str(exc)[:200]}
    values = parse_status_text(text)
    values["text"] = text[:200]
    values["text_confidence"] = round(confidence / 100, 3)
    return values
