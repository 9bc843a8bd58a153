"""Generated images for testing and measuring the forensic signals.

Nothing here is downloaded: photos are random smooth fields with shapes and sensor
noise, receipts and phone screenshots are drawn with Pillow's built-in font, and
EXIF blocks (with an IFD1 thumbnail, which `PIL.Image.Exif` cannot write) are
assembled byte by byte. Used by the tests, the benchmarks and the synthetic corpus.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Box = tuple[int, int, int, int]  # left, top, right, bottom


def photo(width: int, height: int, seed: int) -> Image.Image:
    """A photo-like RGB image: smooth colour fields, edges, texture and sensor noise."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (height // 64 + 2, width // 64 + 2, 3), dtype=np.uint8)
    img = Image.fromarray(coarse, "RGB").resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1 = x0 + int(rng.integers(width // 10, width // 2))
        y1 = y0 + int(rng.integers(height // 10, height // 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    texture = rng.normal(0, 1, (height // 4 + 1, width // 4 + 1)).astype(np.float32)
    tex = np.asarray(Image.fromarray(texture, "F").resize((width, height),
                                                          Image.Resampling.BILINEAR))
    arr = np.asarray(img, dtype=np.float32)
    arr = arr + tex[:, :, None] * 14 + rng.normal(0, 4, (height, width, 1))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def jpeg_bytes(img: Image.Image, quality: int, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, **params)
    return buf.getvalue()


def png_bytes(img: Image.Image, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **params)
    return buf.getvalue()


# ---- EXIF assembled by hand --------------------------------------------------------

_Entry = tuple[int, int, int, bytes]  # tag, TIFF type, count, value bytes


def _ascii(tag: int, text: str) -> _Entry:
    raw = text.encode("utf-8") + b"\x00"
    return (tag, 2, len(raw), raw)


def _long(tag: int, value: int) -> _Entry:
    return (tag, 4, 1, struct.pack("<I", value))


def _rationals(tag: int, values: list[tuple[int, int]]) -> _Entry:
    return (tag, 5, len(values), b"".join(struct.pack("<II", n, d) for n, d in values))


def _ifd_size(entries: list[_Entry]) -> int:
    return 2 + 12 * len(entries) + 4 + sum(len(v) + len(v) % 2 for *_, v in entries if len(v) > 4)


def _ifd(entries: list[_Entry], offset: int, next_ifd: int) -> bytes:
    head = struct.pack("<H", len(entries))
    data = b""
    data_at = offset + 2 + 12 * len(entries) + 4
    for tag, typ, count, value in sorted(entries):
        if len(value) <= 4:
            head += struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\x00")
        else:
            head += struct.pack("<HHII", tag, typ, count, data_at + len(data))
            data += value + b"\x00" * (len(value) % 2)
    return head + struct.pack("<I", next_ifd) + data


@dataclass
class ExifSpec:
    make: str | None = None
    model: str | None = None
    software: str | None = None
    datetime: str | None = None  # "YYYY:MM:DD HH:MM:SS", the modification time
    datetime_original: str | None = None
    offset_original: str | None = None  # "+03:30"
    pixel_size: tuple[int, int] | None = None
    gps: bool = False
    camera_settings: bool = False
    thumbnail: bytes | None = None  # a small JPEG


def exif_bytes(spec: ExifSpec) -> bytes:
    """An APP1 EXIF payload ("Exif\\0\\0" + TIFF) as cameras write it, with IFD1."""
    ifd0: list[_Entry] = []
    sub: list[_Entry] = []
    gps: list[_Entry] = []
    for tag, value in ((0x010F, spec.make), (0x0110, spec.model), (0x0131, spec.software),
                       (0x0132, spec.datetime)):
        if value is not None:
            ifd0.append(_ascii(tag, value))
    if spec.datetime_original:
        sub.append(_ascii(0x9003, spec.datetime_original))
        sub.append(_ascii(0x9004, spec.datetime_original))
    if spec.offset_original:
        sub.append(_ascii(0x9011, spec.offset_original))
    if spec.pixel_size:
        sub.append(_long(0xA002, spec.pixel_size[0]))
        sub.append(_long(0xA003, spec.pixel_size[1]))
    if spec.camera_settings:
        sub.append(_rationals(0x829A, [(1, 120)]))
        sub.append(_rationals(0x829D, [(18, 10)]))
    if spec.gps:
        gps = [(0, 1, 4, b"\x02\x02\x00\x00"), _ascii(1, "N"),
               _rationals(2, [(35, 1), (41, 1), (2200, 100)]), _ascii(3, "E"),
               _rationals(4, [(51, 1), (23, 1), (1500, 100)])]
    # Pointers are LONGs stored inline, so sizes do not depend on their values.
    if sub:
        ifd0.append(_long(0x8769, 0))
    if gps:
        ifd0.append(_long(0x8825, 0))
    ifd1: list[_Entry] = []
    if spec.thumbnail:
        ifd1 = [(0x0103, 3, 1, struct.pack("<H", 6)), _long(0x0201, 0),
                _long(0x0202, len(spec.thumbnail))]
    pos = 8 + _ifd_size(ifd0)
    sub_at, pos = pos, pos + (_ifd_size(sub) if sub else 0)
    gps_at, pos = pos, pos + (_ifd_size(gps) if gps else 0)
    ifd1_at, pos = pos, pos + (_ifd_size(ifd1) if ifd1 else 0)
    thumb_at = pos
    ifd0 = [(t, ty, c, struct.pack("<I", sub_at) if t == 0x8769 else
             struct.pack("<I", gps_at) if t == 0x8825 else v) for t, ty, c, v in ifd0]
    ifd1 = [(t, ty, c, struct.pack("<I", thumb_at) if t == 0x0201 else v)
            for t, ty, c, v in ifd1]
    tiff = b"II*\x00" + struct.pack("<I", 8)
    tiff += _ifd(ifd0, 8, ifd1_at if ifd1 else 0)
    if sub:
        tiff += _ifd(sub, sub_at, 0)
    if gps:
        tiff += _ifd(gps, gps_at, 0)
    if ifd1:
        tiff += _ifd(ifd1, ifd1_at, 0)
        tiff += spec.thumbnail or b""
    return b"Exif\x00\x00" + tiff


def thumbnail_jpeg(img: Image.Image, size: tuple[int, int] = (160, 120)) -> bytes:
    """The preview a camera embeds: the image fitted into `size`, JPEG quality 85."""
    t = img.copy()
    t.thumbnail(size, Image.Resampling.LANCZOS)
    return jpeg_bytes(t, 85)


def insert_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    """Insert a raw segment right after SOI (the length field is computed)."""
    head = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2)
    return jpeg[:2] + head + payload + jpeg[2:]


# ---- Text images -------------------------------------------------------------------


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


@dataclass
class Receipt:
    image: Image.Image
    amount_box: Box
    line_boxes: list[Box]


def receipt(seed: int, width: int = 720, height: int = 1100, amount: str = "1,250,000") -> Receipt:
    """A bank-transfer receipt: a coloured header, label/value lines, one big amount."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (width, height), (250, 250, 250))
    d = ImageDraw.Draw(img)
    header = tuple(int(c) for c in rng.integers(20, 160, 3))
    d.rectangle((0, 0, width, 140), fill=header)
    d.text((40, 45), "Transfer successful", fill=(255, 255, 255), font=font(40))
    boxes: list[Box] = []
    amount_box = _text(d, (40, 190), f"{amount} IRR", font(56), (20, 20, 20))
    boxes.append(amount_box)
    labels = ["From", "To", "Card", "Reference", "Date", "Time", "Bank", "Status", "Fee"]
    y = 300
    for label in labels:
        value = "".join(str(int(c)) for c in rng.integers(0, 10, int(rng.integers(6, 14))))
        boxes.append(_text(d, (40, y), label, font(30), (110, 110, 110)))
        boxes.append(_text(d, (width // 2, y), value, font(30), (30, 30, 30)))
        y += 80
    return Receipt(img, amount_box, boxes)


def _text(d: ImageDraw.ImageDraw, xy: tuple[int, int], text: str,
          f: ImageFont.FreeTypeFont | ImageFont.ImageFont, fill: tuple[int, int, int]) -> Box:
    d.text(xy, text, fill=fill, font=f)
    left, top, right, bottom = d.textbbox(xy, text, font=f)
    return int(left), int(top), int(right), int(bottom)


def edit_text(img: Image.Image, box: Box, text: str, size: int,
              fill: tuple[int, int, int] = (20, 20, 20)) -> Image.Image:
    """Cover a text box with its background and write new text: the classic receipt edit."""
    out = img.copy()
    d = ImageDraw.Draw(out)
    left, top, right, bottom = box
    bg = out.getpixel((max(0, left - 4), max(0, top - 4)))
    d.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=bg)
    d.text((left, top - (size // 5)), text, fill=fill, font=font(size))
    return out


def phone_screenshot(width: int = 1080, height: int = 2340, seed: int = 0, clock: str = "12:41",
                     battery: float = 0.8, dark: bool = False, nav: str | None = "gesture",
                     status_bar: bool = True) -> Image.Image:
    """An Android-style chat screenshot: status bar, app bar, bubbles, navigation bar."""
    rng = np.random.default_rng(seed)
    bg = (18, 18, 18) if dark else (255, 255, 255)
    ink = (235, 235, 235) if dark else (30, 30, 30)
    img = Image.new("RGB", (width, height), bg)
    d = ImageDraw.Draw(img)
    density = width / 411
    sb = round(24 * density) if status_bar else 0
    if status_bar:
        f = font(round(14 * density))
        glyph_top = sb // 2 - round(7 * density)
        d.text((round(16 * density), glyph_top), clock, fill=ink, font=f)
        # signal bars, wifi wedge and a battery on the right
        x = width - round(16 * density)
        bw, bh = round(10 * density), round(15 * density)
        top = sb // 2 - bh // 2
        d.rectangle((x - bw, top, x, top + bh), outline=ink, width=max(1, round(density)))
        fill_top = top + bh - int(bh * battery)
        d.rectangle((x - bw, fill_top, x, top + bh), fill=ink)
        x -= bw + round(8 * density)
        for i in range(4):
            h = round((4 + 3 * i) * density)
            d.rectangle((x - round(3 * density), top + bh - h, x, top + bh), fill=ink)
            x -= round(5 * density)
        cx, half = x - round(16 * density), round(9 * density)
        d.polygon([(cx, top + bh), (cx - half, top), (cx + half, top)], fill=ink)
    bar_colour = tuple(int(c) for c in rng.integers(0, 140, 3))
    app_h = round(56 * density)
    d.rectangle((0, sb, width, sb + app_h), fill=bar_colour)
    title = "Customer " + str(int(rng.integers(10, 99)))
    d.text((round(72 * density), sb + round(16 * density)), title,
           fill=(255, 255, 255), font=font(round(20 * density)))
    y = sb + app_h + round(16 * density)
    words = ["thank", "you", "received", "the", "parcel", "today", "great", "quality",
             "will", "order", "again", "payment", "sent", "size", "perfect"]
    bottom_limit = height - round(110 * density)
    while y < bottom_limit - round(60 * density):
        mine = bool(rng.random() < 0.5)
        text = " ".join(str(w) for w in rng.choice(words, int(rng.integers(2, 6))))
        f = font(round(16 * density))
        tw = d.textlength(text, font=f)
        bw = int(tw) + round(24 * density)
        bh = round(40 * density)
        x0 = width - bw - round(12 * density) if mine else round(12 * density)
        colour = (220, 248, 198) if mine and not dark else (40, 60, 40) if mine else (
            (240, 240, 240) if not dark else (45, 45, 45))
        d.rounded_rectangle((x0, y, x0 + bw, y + bh), radius=round(10 * density), fill=colour)
        d.text((x0 + round(12 * density), y + round(10 * density)), text, fill=ink, font=f)
        y += bh + round(10 * density)
    nav_h = round(48 * density) if nav == "buttons" else round(24 * density) if nav else 0
    if nav:
        d.rectangle((0, height - nav_h, width, height), fill=bg)
        cy = height - nav_h // 2
        if nav == "gesture":
            pw = round(0.3 * width)
            half = round(2 * density)
            d.rounded_rectangle((width // 2 - pw // 2, cy - half, width // 2 + pw // 2, cy + half),
                                radius=half, fill=ink)
        else:
            r = round(9 * density)
            for cx in (width // 4, width // 2, 3 * width // 4):
                d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=ink,
                          width=max(2, round(density)))
    return img
