"""A corpus of malformed and hostile uploads, generated on the spot (never committed).

Each entry is (name, bytes, expectation): "refuse" means the API must answer 4xx, "any"
means it may accept (a valid image with junk around it is still an image) but then the
check must end done or failed — never a 5xx, a crashed worker or a stuck check; "done"
means a valid picture, however odd its shape, that must be accepted and checked.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageDraw


def _image(fmt: str, size: tuple[int, int] = (320, 480), seed: int = 0, **save: object) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), 200, 220))
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.rectangle((x, y, x + 40, y + 12), fill=(rng.randrange(256), 0, rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def plain_picture(width: int, height: int, kind: str, seed: int) -> Image.Image:
    """A valid picture of any shape, down to a pixel: random `noise`, one `flat`
    colour, black `rules` every few rows, or coloured `blocks` on a flat ground."""
    rng = np.random.default_rng(seed)
    if kind == "noise":
        return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    pixels = np.full((height, width, 3), rng.integers(0, 256, 3), np.uint8)
    if kind == "rules":
        pixels[:: int(rng.integers(2, 12))] = 0
    elif kind == "blocks":
        for _ in range(12):
            y, x = int(rng.integers(0, height)), int(rng.integers(0, width))
            pixels[y:y + int(rng.integers(1, 200)), x:x + int(rng.integers(1, 200))] = \
                rng.integers(0, 256, 3)
    return Image.fromarray(pixels)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png(width: int, height: int, extra: bytes = b"", body: bytes | None = None) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = body if body is not None else zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + extra + _chunk(b"IDAT", idat)
            + _chunk(b"IEND", b""))


def _jpeg_with_segment(marker: int, payload: bytes, repeat: int = 1) -> bytes:
    base = _image("JPEG", quality=80)
    segment = b""
    for _ in range(repeat):
        segment += struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload
    return base[:2] + segment + base[2:]


def _jpeg_sof_size(width: int, height: int) -> bytes:
    data = bytearray(_image("JPEG", quality=80))
    i = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, i + 5, height, width)
    return bytes(data)


def _gif_frames(count: int) -> bytes:
    frames = [Image.new("P", (16, 16), i % 256) for i in range(count)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=10)
    return out.getvalue()


def _zip_payload() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.sh", "#!/bin/sh\nrm -rf /\n")
    return out.getvalue()


def corpus() -> Iterator[tuple[str, bytes, str]]:
    rng = random.Random(1234)
    formats = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP", "gif": "GIF"}
    for ext, fmt in formats.items():
        good = _image(fmt, seed=len(ext))
        for cut in (0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.95, 0.99):
            yield f"truncated-{int(cut * 100)}.{ext}", good[: int(len(good) * cut)], "any"
        for flip in range(20):
            bad = bytearray(good)
            for _ in range(1 + flip * 3):
                position = rng.randrange(min(len(bad), 64), len(bad))
                bad[position] ^= 1 << rng.randrange(8)
            yield f"bitflip-{flip}.{ext}", bytes(bad), "any"
        for junk in range(3):
            yield f"junk-{junk}.{ext}", good[:24] + rng.randbytes(2000 * (junk + 1)), "any"
    # Decompression bombs: headers that claim enormous canvases.
    for width, height in ((100_000, 100_000), (65_535, 65_535), (1, 2**31 - 1), (50_000, 2_000)):
        yield f"bomb-png-{width}x{height}.png", _png(width, height), "refuse"
    yield "bomb-jpeg-65500x65500.jpg", _jpeg_sof_size(65_500, 65_500), "refuse"
    yield "bomb-gif.gif", b"GIF89a" + struct.pack("<HH", 65_535, 65_535) + b"\x00\x00\x00;", \
        "refuse"
    yield "bomb-idat.png", _png(4_000, 4_000, body=zlib.compress(b"\x00" * 48_000_000)), "any"
    yield "zero-size.png", _png(0, 0), "refuse"
    # Valid pictures of extreme shape: a banner one row high, a divider a pixel wide.
    # OpenCV's ORB pyramid shrank a level of them to nothing and raised.
    for width, height in ((2000, 3), (3, 2000), (500, 1), (1, 500)):
        yield f"thin-{width}x{height}.png", _image("PNG", size=(width, height)), "done"
    # Metadata bombs and odd chunks.
    yield "ztxt-bomb.png", _png(64, 64, _chunk(b"zTXt", b"k\x00\x00" + zlib.compress(
        b"A" * 50_000_000))), "any"
    yield "text-10mb.png", _png(64, 64, _chunk(b"tEXt", b"k\x00" + b"B" * 10_000_000)), "any"
    yield "bad-crc.png", _png(64, 64, b"\x00\x00\x00\x04tEXtk\x00v\x00\xde\xad\xbe\xef"), "any"
    yield "exif-bomb.jpg", _jpeg_with_segment(0xE1, b"Exif\x00\x00" + b"\xff" * 65_000, 40), \
        "any"
    yield "xmp-bomb.jpg", _jpeg_with_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00"
                                             + b"<x:xmpmeta>" + b"A" * 65_000, 60), "any"
    yield "icc-bomb.jpg", _jpeg_with_segment(0xE2, b"ICC_PROFILE\x00\x01\x01" + b"\x00" * 65_000,
                                             30), "any"
    yield "zero-segment.jpg", _jpeg_with_segment(0xE1, b"", 3), "any"
    yield "many-frames.gif", _gif_frames(3000), "any"
    # Polyglots: valid images with something else glued on.
    yield "png-zip.png", _image("PNG") + _zip_payload(), "any"
    yield "jpeg-html.jpg", _image("JPEG") + b"<html><script>alert(1)</script></html>", "any"
    yield "gif-js.gif", _image("GIF") + b"/*\n*/alert(document.domain)//", "any"
    # Not images at all, under image names.
    yield "svg.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "refuse"
    yield "html.jpg", b"<!doctype html><html><body>hi</body></html>", "refuse"
    yield "pdf.png", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "refuse"
    yield "elf.gif", b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "refuse"
    yield "zip.webp", _zip_payload(), "refuse"
    yield "empty.png", b"", "refuse"
    yield "one-byte.jpg", b"\xff", "refuse"
    yield "tiff.png", _image("TIFF"), "refuse"
    yield "bmp.jpg", _image("BMP"), "refuse"
    yield "ico.png", _image("ICO", size=(32, 32)), "refuse"
    for number in range(60):
        yield f"random-{number}.png", rng.randbytes(rng.randrange(1, 5000)), "refuse"
