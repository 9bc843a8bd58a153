from __future__ import annotations

import io

import pytest
from PIL import Image

from proofcheck.imaging import ImageError, decode
from tests.conftest import image_bytes, png_with_size

LIMIT = 50_000_000


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_decodes_the_accepted_formats_to_rgb(fmt):
    decoded = decode(image_bytes(fmt, size=(200, 300)), LIMIT)
    assert (decoded.format, decoded.width, decoded.height) == (fmt, 200, 300)
    assert decoded.image.mode == "RGB"
    assert decoded.image.size == (200, 300)


def test_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (40, 40), color) for color in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    decoded = decode(out.getvalue(), LIMIT)
    assert decoded.frames == 2
    red, _green, blue = decoded.image.getpixel((5, 5))
    assert red > 200 and blue < 50


def test_too_many_frames_is_refused():
    frames = [Image.new("RGB", (8, 8), (i, 0, 0)) for i in range(12)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageError) as info:
        decode(out.getvalue(), LIMIT, max_frames=5)
    assert info.value.code == "too_many_frames"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"<html><script>alert(1)</script></html>", "not_an_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not_an_image"),
        (image_bytes("PNG")[:-200], "truncated_image"),
        (image_bytes("JPEG")[: len(image_bytes("JPEG")) // 2], "truncated_image"),
        (image_bytes("WEBP")[: len(image_bytes("WEBP")) // 2], "corrupt_image"),
        (image_bytes("JPEG")[:40], "corrupt_image"),
    ],
)
def test_bad_bytes_raise_a_coded_error(data, code):
    with pytest.raises(ImageError) as info:
        decode(data, LIMIT)
    assert info.value.code == code
    assert info.value.message


def test_bomb_is_refused_from_the_header_without_decompressing():
    bomb = png_with_size(200_000, 200_000)  # 40 gigapixels claimed by a 100-byte file
    assert len(bomb) < 200
    with pytest.raises(ImageError) as info:
        decode(bomb, LIMIT)
    assert info.value.code == "image_too_large"
    assert "40000.0 megapixels" in info.value.message


def test_pixel_limit_is_configurable():
    data = image_bytes(size=(100, 100))
    assert decode(data, 10_000).width == 100
    with pytest.raises(ImageError):
        decode(data, 9_999)


def test_tiff_and_bmp_are_not_accepted():
    for fmt in ("TIFF", "BMP"):
        out = io.BytesIO()
        Image.new("RGB", (10, 10)).save(out, fmt)
        with pytest.raises(ImageError) as info:
            decode(out.getvalue(), LIMIT)
        assert info.value.code == "unsupported_format"
