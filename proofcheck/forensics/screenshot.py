"""Screenshot anatomy: is this a phone screenshot, does it have a status bar and a
navigation bar, and a fingerprint of the status bar.

Template series (dozens of "receipts" or "chats" made from one screenshot) keep the
phone's status bar pixel for pixel: the same clock, battery and signal in every
image. The status-bar hashes here let the index find such a series cheaply; the
clock and icon boxes are returned so OCR can read the values where it is needed.
"""

from __future__ import annotations

import io
import warnings
from datetime import datetime
from typing import Any

import numpy as np
from PIL import Image

from proofcheck.forensics._common import Flag, flag, join_errors, true_runs
from proofcheck.forensics._container import walk_png
from proofcheck.imaging import DecodedImage

# Native screenshot sizes (portrait) of common phones, iPhone and Android.
DEVICE_SIZES: frozenset[tuple[int, int]] = frozenset({
    # iPhone
    (640, 1136), (750, 1334), (1242, 2208), (1080, 1920), (1125, 2436), (828, 1792),
    (1242, 2688), (1080, 2340), (1170, 2532), (1284, 2778), (1179, 2556), (1290, 2796),
    (1206, 2622), (1320, 2868),
    # Android
    (720, 1280), (720, 1440), (720, 1520), (720, 1560), (720, 1600), (720, 1612),
    (1080, 2160), (1080, 2220), (1080, 2246), (1080, 2280), (1080, 2310), (1080, 2400),
    (1080, 2408), (1080, 2412), (1080, 2460), (1080, 2520), (1080, 2640), (1440, 2560),
    (1440, 2880), (1440, 2960), (1440, 3040), (1440, 3088), (1440, 3120), (1440, 3200),
    (1220, 2712), (1240, 2772), (1260, 2800), (1264, 2780), (1344, 2992), (1280, 2856),
    (1080, 2376), (1116, 2484),
})
INK_DIFF = 48  # colour distance from the row's background that counts as a glyph pixel
INK_ROW = 0.002  # a row with more than 0.2 % glyph pixels carries glyphs


def analyse(data: bytes, decoded: DecodedImage, posted_at: datetime | None) -> dict[str, Any]:
    """Screenshot signals for one upload; never raises."""
    out: dict[str, Any] = {"flags": []}
    errors: list[str] = []
    try:
        _analyse(data, decoded, out, errors)
    except Exception as exc:
        errors.append(f"screenshot analysis failed: {type(exc).__name__}: {str(exc)[:100]}")
    err = join_errors(errors)
    if err:
        out["error"] = err
    return out


def _analyse(data: bytes, decoded: DecodedImage, out: dict[str, Any], errors: list[str]) -> None:
    flags: list[Flag] = out["flags"]
    w, h = decoded.width, decoded.height
    portrait = (w, h) if h >= w else (h, w)
    out["size"] = [w, h]
    out["orientation"] = "portrait" if h >= w else "landscape"
    out["device_resolution"] = f"{portrait[0]}x{portrait[1]}" if portrait in DEVICE_SIZES else None
    ratio = portrait[1] / portrait[0]
    out["aspect"] = round(ratio, 3)
    out["phone_aspect"] = 1.75 <= ratio <= 2.4  # 16:9 up to 21.6:9
    out["camera_exif"] = _camera_exif(data)
    out["apple_screenshot_chunk"] = decoded.format == "PNG" and any(
        c.type == "iDOT" for c in walk_png(data).chunks)  # Apple writes iDOT in screenshots

    bar = status_bar(decoded.image) if h >= w else None
    out["status_bar"] = bar or {"present": False}
    out["navigation_bar"] = navigation_bar(decoded.image) if h >= w else None

    evidence = []
    if out["device_resolution"]:
        evidence.append("device resolution")
    if bar:
        evidence.append("status bar")
    if out["navigation_bar"]:
        evidence.append("navigation bar")
    if out["apple_screenshot_chunk"]:
        evidence.append("Apple screenshot chunk")
    out["evidence"] = evidence
    out["is_phone_screenshot"] = not out["camera_exif"] and (
        bar is not None or out["apple_screenshot_chunk"]
        or (out["device_resolution"] is not None and decoded.format == "PNG"))

    if bar and out["camera_exif"]:
        flags.append(flag("screenshot_with_camera_metadata",
                          "It looks like a phone screenshot but carries a camera's metadata: "
                          "the two were combined in an editor.", 0.3))
    if bar and not out["device_resolution"] and not out["phone_aspect"]:
        flags.append(flag("screenshot_odd_shape",
                          f"It has a phone status bar but its shape ({w}x{h}) fits no phone: it "
                          "was cropped or composed from parts.", 0.15))


def _camera_exif(data: bytes) -> bool:
    """Whether the file carries a camera's capture metadata (make, exposure...)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # corrupt EXIF is the exif family's finding
            with Image.open(io.BytesIO(data)) as im:
                exif = im.getexif()
                sub = exif.get_ifd(0x8769)
                return bool(exif.get(0x010F)) and any(t in sub for t in (0x829A, 0x829D, 0x8827))
    except Exception:
        # Unreadable metadata is the exif family's finding; here it only means "no
        # camera metadata we can trust".
        return False


def _ink(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Glyph mask (rows x width) against each row's median colour, and the medians."""
    bg = np.median(rows, axis=1).astype(np.int16)  # (rows, 3)
    mask = np.abs(rows - bg[:, None, :]).max(axis=2) > INK_DIFF
    return mask, bg



def status_bar(image: Image.Image) -> dict[str, Any] | None:
    """Find a status bar: a uniform top band whose only content is one row of small
    glyphs, with something at the left (the clock) and at the right (the icons)."""
    w, h = image.size
    region = np.asarray(image.crop((0, 0, w, max(8, int(h * 0.08)))), dtype=np.int16)
    mask, bg = _ink(region)
    glyph_rows = np.asarray(mask.mean(axis=1) > INK_ROW, dtype=bool)
    runs = true_runs(glyph_rows, gap=2)
    if not runs:
        return None
    g0, g1 = runs[0]
    gh = g1 - g0
    if g0 < 2 or not 0.004 * h <= gh <= 0.035 * h:
        return None
    top_bg = np.median(bg[:g0], axis=0)
    if np.abs(bg[:g0] - top_bg).max() > 24:
        return None  # not a uniform band above the glyphs (a photo or a gradient)
    # Glyphs sit centred in the bar, so it ends about g0 rows below them, or earlier
    # where the background changes (an app bar of another colour starts).
    band_h = g1
    while band_h < min(len(region), g0 + g1 + 2) and not glyph_rows[band_h] \
            and np.abs(bg[band_h] - top_bg).max() <= 24:
        band_h += 1
    if band_h - g1 < 0.5 * g0:
        return None  # glyphs run into the content below: not a bar
    band_bg = bg[:band_h]
    cols = np.asarray(mask[g0:g1].any(axis=0), dtype=bool)
    parts = true_runs(cols, gap=max(3, int(gh * 0.8)))
    left = [p for p in parts if p[1] <= 0.45 * w]
    right = [p for p in parts if p[0] >= 0.55 * w]
    if not left or not right or mask[:band_h].mean() > 0.25:
        return None
    clock = left[0]
    icons = (right[0][0], right[-1][1])
    gray = region[:band_h].mean(axis=2)
    light = float(np.median(band_bg.mean(axis=1))) > 128
    return {
        "present": True,
        "height": int(band_h),
        "theme": "light" if light else "dark",
        "clock_box": [clock[0], int(g0), clock[1] - clock[0], int(gh)],
        "icons_box": [icons[0], int(g0), icons[1] - icons[0], int(gh)],
        "dhash": dhash(gray, 16, 4),
        "dhash256": dhash(gray, 32, 8),
        # Reading the values needs OCR (proofcheck.text); the boxes above say where.
        "clock": None,
        "battery": None,
        "carrier": None,
    }


def dhash(gray: np.ndarray, cols: int, rows: int) -> str:
    """Difference hash of a band: `cols` x `rows` bits comparing horizontal neighbours.

    A small margin keeps flat areas at 0 instead of flipping on compression noise, so
    a recompressed copy of the same bar keeps (nearly) the same hash.
    """
    img = Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8), "L")
    small = np.asarray(img.resize((cols + 1, rows), Image.Resampling.BOX), dtype=np.float32)
    bits = (small[:, 1:] - small[:, :-1]) > 2.0
    value = 0
    for bit in bits.flatten():
        value = (value << 1) | int(bit)
    return f"{value:0{cols * rows // 4}x}"


def navigation_bar(image: Image.Image) -> str | None:
    """"gesture" (one centred pill), "buttons" (three glyphs at 1/4, 1/2, 3/4) or None."""
    w, h = image.size
    top = h - max(8, int(h * 0.07))
    mask, _ = _ink(np.asarray(image.crop((0, top, w, h)), dtype=np.int16))
    glyph_rows = np.asarray(mask.mean(axis=1) > INK_ROW, dtype=bool)
    runs = true_runs(glyph_rows, gap=2)
    if not runs:
        return None
    n0, n1 = runs[-1]
    if n0 < 2 or n1 >= len(glyph_rows) - 1 or n1 - n0 > 0.03 * h:
        return None
    parts = true_runs(np.asarray(mask[n0:n1].any(axis=0), dtype=bool), gap=3)
    centres = [(a + b) / 2 / w for a, b in parts]
    widths = [(b - a) / w for a, b in parts]
    if len(parts) == 1 and abs(centres[0] - 0.5) < 0.05 and 0.12 <= widths[0] <= 0.45 \
            and n1 - n0 <= 0.012 * h:
        return "gesture"
    if len(parts) == 3 and all(abs(c - t) < 0.08 for c, t in zip(centres, (0.25, 0.5, 0.75),
                                                                     strict=True)):
        return "buttons"
    return None
