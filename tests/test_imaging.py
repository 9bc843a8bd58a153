from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from proofcheck.imaging import ImageError, _png_pixels, decode
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


def _rgb_png(width: int, height: int, interlaced: bool, idat: bytes) -> bytes:
    """An 8-bit RGB PNG around `idat`, a zlib stream of filtered rows, each chunk's
    CRC right."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, int(interlaced))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def _adam7_png(pixels: np.ndarray) -> bytes:
    """An interlaced 8-bit RGB PNG; Pillow writes no interlaced files."""
    height, width, _ = pixels.shape
    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
              (1, 0, 2, 2), (0, 1, 1, 2))
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = pixels[y0::dy, x0::dx]
        if sub.size:
            raw += b"".join(b"\0" + row.tobytes() for row in sub)
    return _rgb_png(width, height, True, zlib.compress(raw))


def _png_variants() -> dict[str, tuple[bytes, bool]]:
    """PNG files of each kind, and whether Wuffs (not Pillow) should decode them."""
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)

    def save(img: Image.Image, **options: object) -> bytes:
        out = io.BytesIO()
        img.save(out, "PNG", **options)
        return out.getvalue()

    rgba = Image.fromarray(noise)
    palette = Image.fromarray(noise[..., :3]).quantize(40)
    # A gamma and a colour profile, as phones write them: Pillow ignores both.
    described = PngImagePlugin.PngInfo()
    described.add(b"gAMA", struct.pack(">I", 45455))
    described.add(b"sRGB", b"\x00")
    first_rgb = tuple(int(v) for v in noise[0, 0, :3])
    first_grey = int(np.asarray(rgba.convert("L"))[0, 0])
    return {
        "rgb": (save(rgba.convert("RGB")), True),
        "rgba": (save(rgba), True),
        "grey": (save(rgba.convert("L")), True),
        "palette": (save(palette), True),
        "palette_transparent": (save(palette, transparency=5), True),
        # The transparent colours are the first pixel's, so some pixels have them.
        "rgb_transparent": (save(rgba.convert("RGB"), transparency=first_rgb), False),
        "grey_transparent": (save(rgba.convert("L"), transparency=first_grey), False),
        "rgb_gamma_srgb": (save(rgba.convert("RGB"), pnginfo=described), True),
        "interlaced": (_adam7_png(noise[..., :3]), True),
        "grey_alpha": (save(rgba.convert("LA")), True),
        "bilevel": (save(rgba.convert("1")), True),
        "palette_4bit": (save(Image.fromarray(noise[..., :3]).quantize(12), bits=4), True),
        "palette_2bit": (save(Image.fromarray(noise[..., :3]).quantize(4), bits=2), True),
        "grey_16bit": (save(Image.fromarray(noise[..., 0].astype(np.uint16) * 257)), False),
    }


@pytest.mark.parametrize("kind", list(_png_variants()))
def test_png_pixels_are_pillows_whichever_decoder_reads_them(kind):
    data, fast = _png_variants()[kind]
    decoded = decode(data, LIMIT)
    with Image.open(io.BytesIO(data)) as img:
        expected = np.asarray(img.convert("RGB"))
    assert decoded.image.mode == "RGB"
    assert np.array_equal(np.asarray(decoded.image), expected)
    assert (_png_pixels(data) is not None) == fast


def test_pixels_that_fail_their_checksum_are_refused_by_either_decoder():
    # Stored (uncompressed) deflate: a flipped bit still inflates, to other pixels, and
    # only the stream's Adler-32 tells. zlib, and so Pillow, refuses it; so must Wuffs,
    # which ignores checksums unless told not to.
    pixels = np.random.default_rng(4).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    rows = b"".join(b"\0" + row.tobytes() for row in pixels)
    stream = bytearray(zlib.compress(rows, level=0))
    stream[len(stream) // 2] ^= 0x10
    data = _rgb_png(40, 30, False, bytes(stream))
    assert _png_pixels(data) is None
    with pytest.raises(ImageError) as info:
        decode(data, LIMIT)
    assert info.value.code == "truncated_image"


def test_a_damaged_png_is_refused_by_either_decoder():
    data = bytearray(image_bytes("PNG", size=(120, 90)))
    start = data.index(b"IDAT") + 4
    data[start : start + 40] = bytes(40)  # a broken zlib stream, CRC left as it was
    assert _png_pixels(bytes(data)) is None
    with pytest.raises(ImageError) as info:
        decode(bytes(data), LIMIT)
    assert info.value.code == "truncated_image"
