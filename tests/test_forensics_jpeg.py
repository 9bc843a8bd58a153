"""JPEG tables, quality, editor segments and double compression on files made here."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from proofcheck.forensics import jpeg, synth
from proofcheck.imaging import DecodedImage, decode


def _decode(data: bytes) -> DecodedImage:
    return decode(data, 50_000_000)


def _analyse(data: bytes) -> dict:
    return jpeg.analyse(data, _decode(data))


def _resave(data: bytes, quality: int) -> bytes:
    return synth.jpeg_bytes(Image.open(io.BytesIO(data)).convert("RGB"), quality)


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    return [synth.photo(768, 576, seed=s) for s in (11, 12)]


@pytest.mark.parametrize("quality", [35, 50, 75, 90, 95])
def test_pillow_saves_give_exact_ijg_quality(photos: list[Image.Image], quality: int) -> None:
    result = _analyse(synth.jpeg_bytes(photos[0], quality))
    assert result["applicable"] is True
    assert result["quality"] == quality
    assert result["standard_tables"] is True
    assert result["table_mean_abs_error"] == 0
    assert len(result["quantization"]["0"]) == 64


def test_custom_tables_are_not_standard(photos: list[Image.Image]) -> None:
    flat = [3] * 64
    ramp = [min(255, 2 + i) for i in range(64)]
    data = synth.jpeg_bytes(photos[0], 0, qtables=[flat, ramp])
    result = _analyse(data)
    assert result["standard_tables"] is False
    assert result["table_mean_abs_error"] > 0
    assert result["tables_sha1"] != _analyse(synth.jpeg_bytes(photos[0], 90))["tables_sha1"]


def test_ijg_table_matches_the_standard_at_50() -> None:
    assert np.array_equal(jpeg.ijg_table(50, jpeg.STD_LUMA), jpeg.STD_LUMA)
    assert jpeg.ijg_table(100, jpeg.STD_LUMA).max() == 1


@pytest.mark.parametrize(("first", "second"), [(90, 70), (70, 90), (60, 85)])
def test_double_compression_is_detected_with_its_first_quality(
        photos: list[Image.Image], first: int, second: int) -> None:
    for img in photos:
        data = _resave(synth.jpeg_bytes(img, first), second)
        dq = _analyse(data)["double_compression"]
        assert dq["detected"] is True, dq
        assert abs(dq["primary_quality"] - first) <= 3
        result = _analyse(data)
        assert "jpeg_double_compressed" in {f["code"] for f in result["flags"]}
        assert result["quality"] == second


@pytest.mark.parametrize("quality", [60, 70, 90])
def test_single_compression_is_not_called_double(photos: list[Image.Image], quality: int) -> None:
    for img in photos:
        dq = _analyse(synth.jpeg_bytes(img, quality))["double_compression"]
        assert dq["checked"] is True
        assert dq["detected"] is False, dq
        assert dq["score"] < jpeg.DQ_THRESHOLD


def test_same_quality_twice_and_resized_copies_are_not_flagged(photos: list[Image.Image]) -> None:
    # Limits of the method, kept visible: an identical second save and a resized copy
    # leave no trace on the grid, so they must not be reported either way.
    twice = _resave(synth.jpeg_bytes(photos[0], 80), 80)
    assert _analyse(twice)["double_compression"]["detected"] is False
    first = Image.open(io.BytesIO(synth.jpeg_bytes(photos[0], 90))).convert("RGB")
    small = first.resize((600, 450))
    assert _analyse(synth.jpeg_bytes(small, 75))["double_compression"]["detected"] is False


def test_screenshots_are_not_judged_for_double_compression() -> None:
    shot = synth.phone_screenshot(720, 1600, seed=4)
    dq = _analyse(synth.jpeg_bytes(shot, 80))["double_compression"]
    assert dq["checked"] is False
    assert "photos" in dq["reason"]


def test_structure_subsampling_progressive_huffman(photos: list[Image.Image]) -> None:
    plain = _analyse(synth.jpeg_bytes(photos[0], 85))
    assert plain["subsampling"] == "4:2:0" and plain["progressive"] is False
    assert plain["huffman"] == "standard" and plain["segments"] == ["JFIF"]
    fancy = _analyse(synth.jpeg_bytes(photos[0], 85, progressive=True, subsampling=0,
                                      optimize=True))
    assert fancy["subsampling"] == "4:4:4" and fancy["progressive"] is True
    assert fancy["huffman"] == "optimized"


def test_photoshop_segments_and_comments(photos: list[Image.Image]) -> None:
    base = synth.jpeg_bytes(photos[0].resize((256, 192)), 85)
    irb = b"Photoshop 3.0\x00" + b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + b"\x00" * 4
    result = _analyse(synth.insert_segment(base, 0xED, irb))
    assert "Photoshop IRB" in result["segments"]
    assert "photoshop_segments" in {f["code"] for f in result["flags"]}

    comment = synth.insert_segment(base, 0xFE, b"Edited with PicsArt")
    result = _analyse(comment)
    assert result["comments"] == ["Edited with PicsArt"]
    assert "edited_with_software" in {f["code"] for f in result["flags"]}

    clean = _analyse(base)
    assert clean["flags"] == [] and "error" not in clean


def test_data_appended_after_the_image(photos: list[Image.Image]) -> None:
    data = synth.jpeg_bytes(photos[0].resize((256, 192)), 85) + b"PK\x03\x04" + b"\x00" * 500
    result = _analyse(data)
    assert result["trailing_bytes"] == 504
    assert "data_after_end" in {f["code"] for f in result["flags"]}


def test_damaged_structure_is_an_error_not_an_exception(photos: list[Image.Image]) -> None:
    base = synth.jpeg_bytes(photos[0].resize((256, 192)), 85)
    bad = base[:2] + b"\xff\xfe\x00\x00" + base[2:]  # a COM segment of length 0
    result = _analyse(bad)
    assert "impossible length 0" in result["error"]
    assert "malformed_file" in {f["code"] for f in result["flags"]}
    # Tables are still read from what Pillow could parse.
    assert result.get("quality") in (None, 85)


def test_non_jpeg_is_not_applicable() -> None:
    data = synth.png_bytes(Image.new("RGB", (32, 32)))
    assert jpeg.analyse(data, _decode(data)) == {"applicable": False, "flags": []}
