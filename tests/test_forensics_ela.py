"""Error level analysis: the heat-map and per-text-box ghost statistics."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from proofcheck.forensics import ela, synth
from proofcheck.imaging import DecodedImage, decode


def _decode(data: bytes) -> DecodedImage:
    return decode(data, 50_000_000)


def _jpeg_roundtrip(img: Image.Image, quality: int) -> Image.Image:
    return Image.open(io.BytesIO(synth.jpeg_bytes(img, quality))).convert("RGB")


def _hits(result: dict, box: tuple[int, int, int, int]) -> list[dict]:
    left, top, right, bottom = box
    found = []
    for o in result.get("outliers", []):
        x, y, w, h = o["box"]
        if left - 10 <= x + w / 2 <= right + 10 and top - 10 <= y + h / 2 <= bottom + 10:
            found.append(o)
    return found


@pytest.fixture(scope="module", params=[3, 4])
def receipt(request: pytest.FixtureRequest) -> synth.Receipt:
    return synth.receipt(request.param)


def _edited(receipt: synth.Receipt, first: int) -> tuple[Image.Image, Image.Image]:
    """The receipt as saved once by the bank app, and a copy with the amount retyped."""
    original = _jpeg_roundtrip(receipt.image, first)
    return original, synth.edit_text(original, receipt.amount_box, "9,250,000 IRR", 56)


def test_retyped_amount_in_a_png_export_is_found(receipt: synth.Receipt) -> None:
    original, edited = _edited(receipt, 75)
    data = synth.png_bytes(edited)
    result = ela.analyse(data, _decode(data), None)
    assert result["quality"] == 75  # the ghost of the bank app's save
    assert _hits(result, receipt.amount_box), result
    assert len(result["outliers"]) == len(_hits(result, receipt.amount_box))
    assert "ela_inconsistent_region" in {f["code"] for f in result["flags"]}

    control = synth.png_bytes(original)
    clean = ela.analyse(control, _decode(control), None)
    assert clean["quality"] == 75 and clean["outliers"] == [] and clean["flags"] == []


def test_retyped_amount_saved_again_as_a_better_jpeg_is_found(receipt: synth.Receipt) -> None:
    original, edited = _edited(receipt, 70)
    data = synth.jpeg_bytes(edited, 90)
    result = ela.analyse(data, _decode(data), None)
    assert result["quality"] == 70
    assert _hits(result, receipt.amount_box)

    control = synth.jpeg_bytes(original, 90)
    assert ela.analyse(control, _decode(control), None)["flags"] == []


def test_no_earlier_save_means_no_verdict(receipt: synth.Receipt) -> None:
    # Rendered and saved once: nothing to compare against, so nothing is claimed,
    # even though one box was retyped. Whole-image ELA would "see" text everywhere.
    edited = synth.edit_text(receipt.image, receipt.amount_box, "9,250,000 IRR", 56)
    data = synth.png_bytes(edited)
    result = ela.analyse(data, _decode(data), None)
    assert result["quality"] is None and result["flags"] == []
    assert "no earlier JPEG save" in result["reason"]


def test_ocr_boxes_can_be_given(receipt: synth.Receipt) -> None:
    _, edited = _edited(receipt, 80)
    data = synth.png_bytes(edited)
    boxes = [[x0, y0, x1 - x0, y1 - y0] for x0, y0, x1, y1 in receipt.line_boxes]
    result = ela.analyse(data, _decode(data), None, boxes=boxes)
    assert result["box_source"] == "given" and result["boxes"] == len(boxes)
    assert _hits(result, receipt.amount_box)


def test_photo_without_text_gives_no_statistics() -> None:
    data = synth.jpeg_bytes(synth.photo(640, 480, seed=2), 85)
    result = ela.analyse(data, _decode(data), None)
    assert result["flags"] == []
    assert "text-like boxes" in result.get("reason", "") or result.get("outliers") == []


def test_heatmap_is_a_bounded_png_that_lights_up_the_edit(receipt: synth.Receipt) -> None:
    _, edited = _edited(receipt, 75)
    data = synth.png_bytes(edited)
    decoded = _decode(data)
    png = ela.heatmap_png(data, decoded, quality=75)
    heat = Image.open(io.BytesIO(png))
    assert heat.format == "PNG" and max(heat.size) <= ela.HEATMAP_MAX_SIDE
    arr = np.asarray(heat.convert("L"), dtype=np.float32)
    scale = heat.width / decoded.width
    left, top, right, bottom = (int(v * scale) for v in receipt.amount_box)
    inside = arr[top:bottom, left:right].mean()
    others = [arr[int(y0 * scale):int(y1 * scale), int(x0 * scale):int(x1 * scale)].mean()
              for x0, y0, x1, y1 in receipt.line_boxes[1:]]
    assert inside > 2 * float(np.median(others))

    ramp = np.tile(np.linspace(0, 255, 2400, dtype=np.float32), (1200, 1))
    big = synth.jpeg_bytes(Image.fromarray(ramp.astype(np.uint8)).convert("RGB"), 80)
    assert Image.open(io.BytesIO(ela.heatmap_png(big, _decode(big)))).size == (1024, 512)


@pytest.mark.parametrize("size", [(1, 1), (7, 300), (300, 7)])
def test_tiny_images_do_not_raise(size: tuple[int, int]) -> None:
    data = synth.png_bytes(Image.new("RGB", size, (200, 10, 10)))
    result = ela.analyse(data, _decode(data), None)
    assert result["flags"] == [] and "error" not in result
    assert ela.heatmap_png(data, _decode(data)).startswith(b"\x89PNG")


def test_text_boxes_follow_the_lines(receipt: synth.Receipt) -> None:
    gray = np.asarray(receipt.image.convert("L"), dtype=np.float32)
    boxes = ela.find_text_boxes(ela._gradient(gray))
    assert len(boxes) >= len(receipt.line_boxes) - 2
    _, top, _, bottom = receipt.amount_box
    assert any(abs(b[1] - top) < 12 and abs(b[3] - bottom) < 12 for b in boxes)


@pytest.mark.parametrize(("seed", "dark"), [(201, True), (202, False), (207, True)])
def test_untouched_chat_screenshot_is_not_flagged(seed: int, dark: bool) -> None:
    # Status-bar icons and bright titles clip at 255 after a JPEG save and keep only a
    # shallow ghost; these three were flagged before boxes had to lack the dip entirely.
    shot = _jpeg_roundtrip(synth.phone_screenshot(720, 1600, seed=seed, dark=dark), 80)
    data = synth.png_bytes(shot)
    result = ela.analyse(data, _decode(data), None)
    assert result["quality"] == 80
    assert result["flags"] == [] and result["outliers"] == []
