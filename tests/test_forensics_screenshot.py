"""Screenshot anatomy on rendered phone screenshots, photos and receipts."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from proofcheck.forensics import screenshot, synth
from proofcheck.imaging import DecodedImage, decode


def _decode(data: bytes) -> DecodedImage:
    return decode(data, 50_000_000)


def _analyse(img: Image.Image, fmt: str = "PNG", **save: object) -> dict:
    data = synth.png_bytes(img, **save) if fmt == "PNG" else synth.jpeg_bytes(img, 80, **save)
    return screenshot.analyse(data, _decode(data), None)


def _hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


@pytest.mark.parametrize(("size", "nav"), [((1080, 2340), "gesture"), ((1170, 2532), "buttons"),
                                           ((720, 1600), None)])
def test_rendered_phone_screenshot(size: tuple[int, int], nav: str | None) -> None:
    w, h = size
    result = _analyse(synth.phone_screenshot(w, h, seed=1, nav=nav))
    assert result["is_phone_screenshot"] is True
    assert result["device_resolution"] == f"{w}x{h}"
    bar = result["status_bar"]
    assert bar["present"] is True
    assert abs(bar["height"] - round(24 * w / 411)) <= 2  # the rendered 24 dp bar
    cx, cy, cw, ch = bar["clock_box"]
    assert cx + cw < 0.4 * w and cy > 0 and cy + ch < bar["height"]
    assert bar["icons_box"][0] > 0.6 * w
    assert bar["theme"] == "light" and len(bar["dhash"]) == 16 and len(bar["dhash256"]) == 64
    assert result["navigation_bar"] == nav
    assert result["flags"] == [] and "error" not in result


def test_same_status_bar_gives_the_same_fingerprint_across_a_series() -> None:
    first = _analyse(synth.phone_screenshot(seed=1))["status_bar"]
    other_chat = _analyse(synth.phone_screenshot(seed=2))["status_bar"]
    recompressed = _analyse(synth.phone_screenshot(seed=1), "JPEG")["status_bar"]
    later = _analyse(synth.phone_screenshot(seed=3, clock="18:07"))["status_bar"]
    dark = _analyse(synth.phone_screenshot(seed=1, dark=True))["status_bar"]
    assert other_chat["dhash256"] == first["dhash256"]  # a template series
    assert _hamming(recompressed["dhash256"], first["dhash256"]) <= 4
    assert _hamming(later["dhash256"], first["dhash256"]) > 0
    assert dark["theme"] == "dark"
    assert _hamming(dark["dhash256"], first["dhash256"]) > 16


def test_screenshot_without_a_status_bar() -> None:
    result = _analyse(synth.phone_screenshot(seed=5, status_bar=False))
    assert result["status_bar"] == {"present": False}
    # Still a phone-sized PNG with a navigation bar: a screenshot, missing its bar.
    assert result["is_phone_screenshot"] is True and result["navigation_bar"] == "gesture"


def test_camera_photo_is_not_a_screenshot() -> None:
    img = synth.photo(1080, 2340, seed=9)  # even at a phone's screen size
    spec = synth.ExifSpec(make="Google", model="Pixel 8", camera_settings=True)
    data = synth.jpeg_bytes(img, 90, exif=synth.exif_bytes(spec))
    result = screenshot.analyse(data, _decode(data), None)
    assert result["camera_exif"] is True
    assert result["is_phone_screenshot"] is False
    assert result["status_bar"]["present"] is False


def test_receipt_and_landscape_images_have_no_status_bar() -> None:
    assert _analyse(synth.receipt(1).image)["status_bar"]["present"] is False
    wide = _analyse(synth.phone_screenshot(seed=1).rotate(90, expand=True))
    assert wide["orientation"] == "landscape" and wide["status_bar"] == {"present": False}


def test_cropped_screenshot_with_a_bar_has_an_odd_shape() -> None:
    cropped = synth.phone_screenshot(seed=1).crop((0, 0, 1080, 1500))
    result = _analyse(cropped)
    assert result["status_bar"]["present"] is True
    assert result["device_resolution"] is None and result["phone_aspect"] is False
    assert "screenshot_odd_shape" in {f["code"] for f in result["flags"]}


def test_apple_idot_chunk_is_noticed() -> None:
    data = synth.png_bytes(synth.phone_screenshot(750, 1334, seed=1, nav=None))
    body = b"\x00" * 28
    crc = struct.pack(">I", zlib.crc32(b"iDOT" + body))
    data = data[:33] + struct.pack(">I", len(body)) + b"iDOT" + body + crc + data[33:]
    result = screenshot.analyse(data, _decode(data), None)
    assert result["apple_screenshot_chunk"] is True
    assert "Apple screenshot chunk" in result["evidence"]


def test_dhash_is_stable_hex() -> None:
    img = synth.phone_screenshot(seed=1)
    band = Image.open(io.BytesIO(synth.png_bytes(img.crop((0, 0, 1080, 63))))).convert("L")
    gray = np.asarray(band, dtype=np.float32)
    assert screenshot.dhash(gray, 16, 4) == screenshot.dhash(gray.copy(), 16, 4)
    assert screenshot.dhash(np.full((63, 1080), 128.0), 16, 4) == "0" * 16
