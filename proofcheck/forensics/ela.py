"""Error level analysis (ELA): how much each pixel changes when the image is saved
again as JPEG. Regions with a different compression history (text pasted or retyped
into an already-compressed receipt) change by a different amount than their peers.

We look for the "JPEG ghost" of an earlier save (Farid, "Exposing digital forgeries
from JPEG ghosts", 2009): re-saving at the quality a region was saved at before
changes it unusually little, so its error dips at that quality. Text that was pasted
after that save has no dip. Comparing each box's dip with the other boxes' dips
cancels out content (font size, contrast), which a raw error level does not.

ELA is never used as a whole-image verdict here. On screenshots and receipts the
error level is driven by content (sharp text edges change a lot, flat backgrounds not
at all), so "this image has high ELA" means nothing. What carries information is a
text box whose error level, normalised by its own edge content, stands out from the
other text boxes of the same image. That is what `analyse` reports; the heat-map is
for a moderator's eyes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from PIL import Image, ImageChops

from proofcheck.forensics._common import Flag, flag, join_errors, open_quietly, true_runs
from proofcheck.imaging import DecodedImage

HEATMAP_MAX_SIDE = 1024
MAX_BOXES = 400
MAX_WORK_SIDE = 2400  # larger images are analysed at a reduced scale
OUTLIER_Z = 4.0  # robust z-score above which a box is reported
# A median dip shallower than this means no earlier save was found (measured: single
# saves give 0.78-0.80 at their best, earlier saves 0.26-0.62).
GHOST_MAX_DEPTH = 0.7
# A reported box must have no dip at all. Measured: 52 pasted boxes had >= 0.95; the
# untouched boxes that still stood out (status-bar icons, bright titles whose ringing
# clips at 255) kept a dip of <= 0.79.
NO_GHOST_DEPTH = 0.9
MIN_BOXES = 6  # fewer peers than this and "stands out" is meaningless
DEFAULT_QUALITY = 90

# Heat-map colours: black (no change) through red and yellow to white.
_ANCHORS = np.array([[0, 0, 0], [120, 0, 0], [230, 40, 0], [255, 200, 0], [255, 255, 255]],
                    dtype=np.float32)
_LUT = np.stack([np.interp(np.linspace(0, 4, 256), np.arange(5), _ANCHORS[:, c])
                 for c in range(3)], axis=1).astype(np.uint8)

Box = Sequence[int]  # [x, y, w, h], as in API.md's OCR fields


def resave_quality(data: bytes, decoded: DecodedImage) -> int:
    """The quality to re-save at: the file's own (estimated) quality for a JPEG, so
    that regions saved at that quality before barely change; 90 otherwise."""
    if decoded.format != "JPEG":
        return DEFAULT_QUALITY
    try:
        from proofcheck.forensics.jpeg import estimate_quality

        with open_quietly(data) as im:
            tables = getattr(im, "quantization", None) or {}
        luma = np.array(tables[min(tables)], dtype=np.int64)
        chroma = None
        if len(tables) > 1:
            chroma = np.array(tables[sorted(tables)[1]], dtype=np.int64)
        return int(min(98, max(30, estimate_quality(luma, chroma)["quality"])))
    except Exception:  # tables unreadable: fall back rather than fail the heat-map
        return DEFAULT_QUALITY


def heatmap_png(data: bytes, decoded: DecodedImage, quality: int | None = None) -> bytes:
    """A PNG heat-map of the error level, at most 1024 px on its long side.

    Pass the `quality` that `analyse` reported (the earlier save it found): at that
    quality untouched regions go dark and pasted ones stay bright. Without it, the
    file's own quality (JPEG) or 90 is used.
    """
    image = decoded.image
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality or resave_quality(data, decoded))
    buf.seek(0)
    with Image.open(buf) as again:
        # Pillow's C routines, then shrink before any numpy work: a 12 MP photo took
        # 2.2 s with full-size numpy arrays.
        diff = ImageChops.difference(image, again.convert("RGB")).convert("L")
    diff.thumbnail((HEATMAP_MAX_SIDE, HEATMAP_MAX_SIDE), Image.Resampling.BOX)
    err = np.asarray(diff, dtype=np.float32)
    # Scale to the image's own 99.5th percentile: absolute levels differ wildly between
    # images and the eye needs contrast, not a calibrated scale.
    top = float(np.percentile(err, 99.5)) or 1.0
    idx = np.clip(err * (255.0 / top), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(_LUT[idx], "RGB").save(out, "PNG", compress_level=6)
    return out.getvalue()


def analyse(data: bytes, decoded: DecodedImage, posted_at: datetime | None,
            boxes: Sequence[Box] | None = None) -> dict[str, Any]:
    """Error-level statistics inside text/number boxes; never raises.

    `boxes` are [x, y, w, h] in image pixels (e.g. OCR word boxes); without them,
    text-like boxes are found from high-contrast rows and columns.
    """
    out: dict[str, Any] = {"flags": []}
    errors: list[str] = []
    try:
        _analyse(data, decoded, boxes, out, errors)
    except Exception as exc:
        errors.append(f"ELA failed: {type(exc).__name__}: {str(exc)[:100]}")
    err = join_errors(errors)
    if err:
        out["error"] = err
    return out


def _analyse(data: bytes, decoded: DecodedImage, boxes: Sequence[Box] | None,
             out: dict[str, Any], errors: list[str]) -> None:
    flags: list[Flag] = out["flags"]
    image = decoded.image
    scale = 1.0
    if max(image.size) > MAX_WORK_SIDE:
        # Resizing breaks the 8x8 grid the ghosts live on, so big images lose most of
        # the signal; they are rare for screenshots and receipts.
        scale = MAX_WORK_SIDE / max(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)),
                             Image.Resampling.BOX)
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    grad = _gradient(gray)
    if boxes is not None:
        out["box_source"] = "given"
        work = [b for b in (_scaled(b, scale, image.size) for b in boxes[:MAX_BOXES]) if b]
    else:
        out["box_source"] = "contrast"
        work = find_text_boxes(grad)
    out["boxes"] = len(work)
    if len(work) < MIN_BOXES:
        out["reason"] = f"only {len(work)} text-like boxes; need {MIN_BOXES} to compare"
        return
    final_q = resave_quality(data, decoded) if decoded.format == "JPEG" else None
    levels = _box_levels(image, gray, work)  # boxes x GHOST_QUALITIES
    ghost, depth = _ghost(levels, final_q)
    out["quality"] = ghost
    out["ghost_depth"] = round(float(np.median(depth)), 3)
    if ghost is None:
        out["reason"] = "no earlier JPEG save found to compare regions against"
        return
    rgb = np.asarray(image, dtype=np.float32)
    groups: dict[tuple[bool, bool, bool, bool], list[int]] = {}
    for i, (x0, y0, x1, y1) in enumerate(work):
        pixels = rgb[y0:y1, x0:x1].reshape(-1, 3)
        bg = np.median(pixels, axis=0)
        # Text is compared only with text of the same kind. Where decoding clipped at
        # 0 or 255 (text on pure white, bright text ringing) the earlier save is no
        # longer a fixed point and the ghost is shallower. On 15 untouched generated
        # chat screenshots this grouping cut false flags from 15 to 5; requiring no
        # dip at all (NO_GHOST_DEPTH) removed the rest.
        clipped = float(((pixels.max(axis=1) >= 253) | (pixels.min(axis=1) <= 2)).mean())
        key = (bool(bg.max() - bg.min() > 40), bool(bg.mean() > 128),
               bool(pixels.mean() < bg.mean()), clipped > 0.2)
        groups.setdefault(key, []).append(i)
    z = np.zeros(len(work))
    judged = np.zeros(len(work), dtype=bool)
    for members in groups.values():
        if len(members) < MIN_BOXES:
            continue
        logs = np.log(depth[members])
        med = float(np.median(logs))
        mad = float(np.median(np.abs(logs - med))) * 1.4826 + 0.05
        z[members] = (logs - med) / mad
        judged[members] = True
    out["judged_boxes"] = int(judged.sum())
    outliers: list[dict[str, Any]] = []
    for i in np.argsort(-z)[:10]:
        if z[i] < OUTLIER_Z:
            break
        if depth[i] < NO_GHOST_DEPTH:
            continue  # it has the earlier save's dip, only a shallower one
        outliers.append({"box": _unscaled(work[i], scale), "z": round(float(z[i]), 2),
                         "ghost_depth": round(float(depth[i]), 3)})
    out["outliers"] = outliers
    if outliers:
        x, y, w, h = outliers[0]["box"]
        flags.append(flag(
            "ela_inconsistent_region",
            f"{len(outliers)} text region(s), the first at x={x}, y={y} ({w}x{h} px), lack "
            f"the trace of an earlier JPEG save at quality {ghost} that the rest of the text "
            "carries: they were probably pasted or retyped afterwards.", 0.5))


# Qualities tried when looking for the "JPEG ghost" of an earlier save (Farid 2009):
# re-saving at the quality a region was saved at before changes it unusually little.
GHOST_QUALITIES = (50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 98)


def _box_levels(image: Image.Image, gray: np.ndarray,
                boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    """Mean luminance change inside each box for each re-save quality.

    Only horizontal bands around the boxes are re-encoded (a chat screenshot is
    mostly empty background), each cut on the 16-pixel MCU grid so that the blocks
    of the re-save coincide with the blocks of the earlier save.
    """
    levels = np.zeros((len(boxes), len(GHOST_QUALITIES)), dtype=np.float64)
    for members, (x0, y0, x1, y1) in _bands(boxes, image.size):
        crop = image.crop((x0, y0, x1, y1))
        base = gray[y0:y1, x0:x1]
        for j, q in enumerate(GHOST_QUALITIES):
            err = np.abs(base - _resaved_luma(crop, q))
            for i in members:
                bx0, by0, bx1, by1 = boxes[i]
                levels[i, j] = err[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0].mean()
    return levels + 0.05  # keeps ratios finite on perfectly flat boxes


def _bands(boxes: list[tuple[int, int, int, int]], size: tuple[int, int]
           ) -> list[tuple[list[int], tuple[int, int, int, int]]]:
    """Boxes grouped into non-overlapping, MCU-aligned horizontal bands."""
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][1])
    bands: list[tuple[list[int], list[int]]] = []
    for i in order:
        x0, y0, x1, y1 = boxes[i]
        top, bottom = y0 // 16 * 16, min(size[1], -(-y1 // 16) * 16)
        left, right = x0 // 16 * 16, min(size[0], -(-x1 // 16) * 16)
        if bands and top < bands[-1][1][3]:
            members, rect = bands[-1]
            members.append(i)
            rect[0], rect[2] = min(rect[0], left), max(rect[2], right)
            rect[3] = max(rect[3], bottom)
        else:
            bands.append(([i], [left, top, right, bottom]))
    return [(m, (r[0], r[1], r[2], r[3])) for m, r in bands]


def _resaved_luma(image: Image.Image, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    with Image.open(buf) as again:
        return np.asarray(again.convert("L"), dtype=np.float32)


def _ghost(levels: np.ndarray, final_q: int | None) -> tuple[int | None, np.ndarray]:
    """The earlier quality with the deepest dip, and each box's dip there (< 1: a dip).

    The dip is the change at quality q relative to its neighbours q-5 and q+5. The
    file's own last quality is skipped: every pixel, pasted or not, went through it,
    so an earlier save within 15 quality steps of the last one is not found.
    """
    best: tuple[float, int, np.ndarray] | None = None
    for j in range(1, len(GHOST_QUALITIES) - 1):
        q = GHOST_QUALITIES[j]
        # Near the last quality every pixel dips (measured: a single q85 save showed a
        # false "earlier save" at 95 even 10 steps away), so keep 15 steps away.
        if final_q is not None and abs(q - final_q) < 15:
            continue
        depth = levels[:, j] / ((levels[:, j - 1] + levels[:, j + 1]) / 2)
        med = float(np.median(depth))
        if best is None or med < best[0]:
            best = (med, q, depth)
    if best is None or best[0] > GHOST_MAX_DEPTH:
        return None, best[2] if best else np.ones(len(levels))
    return best[1], best[2]


def _gradient(gray: np.ndarray) -> np.ndarray:
    g = np.zeros_like(gray)
    g[:, 1:] += np.abs(np.diff(gray, axis=1))
    g[1:, :] += np.abs(np.diff(gray, axis=0))
    return g


def find_text_boxes(grad: np.ndarray, threshold: float = 60.0) -> list[tuple[int, int, int, int]]:
    """Word-like boxes (x0, y0, x1, y1) from projection profiles of strong edges.

    Rows with strong edges form text lines; within a line, columns with edges form
    words, with gaps under ~0.6 line heights bridged. Cheap (numpy only) and good
    for the horizontal text of receipts and chats; photos give few or no boxes.
    """
    h, w = grad.shape
    mask = grad > threshold
    rows = np.asarray(mask.sum(axis=1) >= 2, dtype=bool)
    boxes: list[tuple[int, int, int, int]] = []
    for y0, y1 in true_runs(rows, gap=2):
        lh = y1 - y0
        if lh < 6 or lh > max(12, h // 12):
            continue  # specks, or a photo's texture that fills every row
        cols = np.asarray(mask[y0:y1].any(axis=0), dtype=bool)
        for x0, x1 in true_runs(cols, gap=max(3, int(lh * 0.6))):
            if x1 - x0 < lh // 2 or x1 - x0 > w * 0.9:
                continue
            boxes.append((max(0, x0 - 2), max(0, y0 - 2), min(w, x1 + 2), min(h, y1 + 2)))
            if len(boxes) >= MAX_BOXES:
                return boxes
    return boxes



def _scaled(box: Box, scale: float, size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    try:
        x, y, bw, bh = (float(v) for v in box[:4])
    except (TypeError, ValueError):
        return None
    x0 = max(0, int(x * scale))
    y0 = max(0, int(y * scale))
    x1 = min(size[0], int((x + bw) * scale) + 1)
    y1 = min(size[1], int((y + bh) * scale) + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return x0, y0, x1, y1


def _unscaled(box: tuple[int, int, int, int], scale: float) -> list[int]:
    x0, y0, x1, y1 = box
    return [round(x0 / scale), round(y0 / scale), round((x1 - x0) / scale),
            round((y1 - y0) / scale)]
