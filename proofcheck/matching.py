"""Pair verification: is a candidate really the same image, and what changed?

Two levels share one idea: the pair of keys that matched tells how the two images
line up (which region of one is the other's canonical region), a small search around
that alignment refines it, and a cell-by-cell comparison of the aligned images decides:

- nothing differs: `resized` (whole images match) or `cropped` (one is a part of the
  other, or the other with a border, caption bar or another phone's chrome);
- differences confined to one compact region: `edited`, with that region's box;
- differences spread over the image although the layout lines up, or several lines
  changed at the same heights in one column (another receipt's values): `template`
  (same app or bank, other content) — never a duplicate;
- otherwise `similar` when the hashes are still close, or no match.

Alignment: the matched key pair gives a first guess; an FFT cross-correlation of the
two grids over a few scales and small rotations finds the shift, and a short local
search polishes it. The verdict comes from the alignment that fits best, not from the
most favourable one.

`compare` works on signatures alone (the 1 KB thumbnail stored in them), so the
worker can verify candidates without fetching blobs. It sees layout, not small print:
two receipts of one bank that differ only in names and numbers can pass for `edited`
or even `resized` there. `pixelmatch.compare_images` repeats the comparison on pixels,
on the grids and alignments made here (`Grid`, `Alignment`, `refine`, `grid_verdict`);
which candidates of a search get which is for `candidates`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import scipy.fft
from scipy import ndimage

from proofcheck import memo
from proofcheck.blockmatch import bilinear
from proofcheck.features import MAX_SCALE, MIN_SCALE
from proofcheck.hashing import WINDOWS, Signatures
from proofcheck.index import popcount64
from proofcheck.opencv import cv2

RELATIONS = ("exact", "resized", "cropped", "edited", "template", "similar")
DUPLICATE_RELATIONS = frozenset({"exact", "resized", "cropped", "edited"})
CLEAN_COPIES = frozenset({"exact", "resized", "cropped"})

# Hamming radius for candidates (index search) and for trying a key pair as an
# alignment. Chosen on bench/duplicates.py: rotations and re-screenshots sit at 10-16.
SEARCH_RADIUS = 16
# Global keys this close mean the two images are framed alike (resized, not cropped).
FRAME_RADIUS = 10
# Key pairs tried per candidate, best first.
MAX_ALIGNMENTS = 3
# Past this distance of the best key pair, a layout-level likeness is not even similar.
SIMILAR_RADIUS = 12
# A duplicate the pixels could not check (too little texture) needs a key pair this close.
UNCHECKED_RADIUS = 10

# Cell differences are in grey levels after matching the other's brightness and
# contrast to the query's over the overlap. A cell has changed when its difference is
# above CELL_CHANGED and NOISE_FACTOR times the pair's 75th-percentile difference.
CELL_CHANGED = 6.0
NOISE_FACTOR = 4.0
# The contrast matched is at most this many times the other's, or a third of it. A
# brighter, greyer or recompressed copy keeps its contrast within 0.65-1.93 of the
# original's (bench/duplicates.py's copies of every third original, 15 transforms, on
# signatures and on pixels, 2026-12-06); matched without a bound, a near-flat picture
# (GIMP's faint "draft", 1 grey level of contrast) took a colour wheel's for its own
# shrunk 50 times, and its grey copy passed for a crop of the wheel.
MAX_GAIN = 3.0
# Same content: median cell difference at most this share of the query's contrast.
SAME_MAX_REL_ERROR = 0.16
# Same layout with other content (template): median difference below this share.
TEMPLATE_MAX_REL_ERROR = 0.3
# A change smaller than this many cells is resampling noise.
MIN_CHANGE_CELLS = 3
MIN_CHANGE_SHARE = 0.006
# An edit is one changed region covering at most this share of the overlap.
EDIT_MAX_BOX = 0.35
# Cell change threshold on unsmoothed thumbnails of a whole-image pair.
RAW_CELL_CHANGED = 5.0
# Whole-image alignment good enough to stop searching: median cell difference at most
# this share of the query's contrast.
GOOD_FIT = 0.03
# Overlap must cover this much of the smaller canonical region to be a verdict at all.
MIN_COVERAGE = 0.45


@dataclass(frozen=True)
class PairVerdict:
    """How the query relates to another image."""

    relation: str  # one of RELATIONS
    distance: int  # Hamming distance of the key pair the alignment came from
    changed_box: tuple[int, int, int, int] | None  # x, y, w, h in query pixels (edited)
    score: float  # 0..1, higher = more surely the same picture

    @property
    def is_duplicate(self) -> bool:
        return self.relation in DUPLICATE_RELATIONS


@dataclass(frozen=True)
class Alignment:
    """Maps the other's pixel coordinates to the query's: q = R(rot) diag(sx, sy) o + t."""

    sx: float
    sy: float
    tx: float
    ty: float
    flip: bool  # the other is mirrored left-right relative to the query
    distance: int
    whole: bool  # the whole images matched (global or canonical keys)
    frame: bool = False  # the global keys match too: same framing, not only content
    rot: float = 0.0  # radians

    def to_other(self, qx: np.ndarray, qy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _to_other(self, qx, qy)


def _to_other(al: Alignment, qx: np.ndarray, qy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse mapping: query pixel coordinates to the other's."""
    dx, dy = qx - al.tx, qy - al.ty
    if al.rot:
        c, s = np.cos(al.rot), np.sin(al.rot)
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    return dx / al.sx, dy / al.sy


# ---------------------------------------------------------------- key alignment


def _key_regions(sig: Signatures) -> list[tuple[float, float, float, float]]:
    """The region (x, y, w, h in pixels) each key of `all_keys` hashes."""
    bx, by, bw, bh = sig.canon_box
    regions = [(0.0, 0.0, float(sig.width), float(sig.height)),
               (float(bx), float(by), float(bw), float(bh)),
               (float(bx), float(by), float(bw), float(bh))]
    for fx, fy, fw, fh in WINDOWS[:len(sig.window_hashes)]:  # older records have fewer
        regions.append((bx + fx * bw, by + fy * bh, fw * bw, fh * bh))
    return regions


def all_keys(sig: Signatures) -> np.ndarray:
    return np.array([sig.global_hash, sig.canon_hash, sig.flip_hash, *sig.window_hashes],
                    dtype=np.uint64)


# Two regions are whole copies of each other only in one shape: within this share of
# the width, or ASPECT_PIXELS (trims of tiny images differ by a pixel). A copy cut on
# one axis only has a canonical region of another shape, and matched whole the grids
# squeezed one region into the other: tests/test_matching.py's dialog cut on its width
# (12 dialogs, 18 cuts each) came out `edited` on signatures in 94 of 216 crops and
# `template` in 17, no crop in 114 (2 now); on pixels one `edited` (none now).
ASPECT_SLACK = 0.03
ASPECT_PIXELS = 2

Box = tuple[float, float, float, float]


def _same_aspect(q: Box, o: Box) -> bool:
    """Whether region `o` scaled to `q`'s height is `q`'s width, within the slack."""
    width = o[2] * q[3] / o[3]
    return abs(width - q[2]) <= max(ASPECT_SLACK * q[2], ASPECT_PIXELS)


def _alignments(query: Signatures, other: Signatures,
                stretched: bool = False) -> list[Alignment]:
    """The ways the pair's key regions line up, nearest key pair first; with
    `stretched`, only those stretching a whole region onto another of another shape
    (`stretched_verdicts`)."""
    qk, ok = all_keys(query), all_keys(other)
    dist = popcount64(qk[:, None] ^ ok[None, :]).astype(np.int64)
    # The flip key only pairs with the other's canonical key; windows never pair with
    # windows (two crops of a third image are not evidence about each other's pixels).
    allowed = np.ones_like(dist, dtype=bool)
    allowed[2, :] = False
    allowed[:, 2] = False
    allowed[3:, 3:] = False
    allowed[0, 3:] = False
    allowed[3:, 0] = False
    qflip = 2, 1
    pairs = [(int(dist[i, j]), i, j) for i, j in zip(*np.nonzero(allowed), strict=True)]
    pairs.append((int(dist[qflip]), *qflip))
    # Prefer whole-image pairs on ties: they are the simplest explanation.
    pairs.sort(key=lambda p: (p[0], p[1] > 2 or p[2] > 2))
    qr, orr = _key_regions(query), _key_regions(other)
    # Borders, caption bars and another phone's chrome change the global hash but not
    # the canonical one: content equal, framing not, which is a crop in reverse.
    frame = int(dist[0, 0]) <= FRAME_RADIUS
    out: list[Alignment] = []
    stretches: list[Alignment] = []
    for d, i, j in pairs[:MAX_ALIGNMENTS]:
        if d > SEARCH_RADIUS:
            break
        (qx, qy, qw, qh), (ox, oy, ow, oh) = qr[i], orr[j]
        sx, sy = qw / ow, qh / oh
        if i < 3 and j < 3:
            # A flip pair compares the query with the mirrored other, otherwise as usual.
            whole = Alignment(sx, sy, qx - sx * ox, qy - sy * oy, i == 2, d, True,
                              i == 2 or frame)
            # A strip a few pixels across and a page are no copy of each other.
            in_scale = min(sx, sy) >= MIN_SCALE and max(sx, sy) <= MAX_SCALE
            if _same_aspect(qr[i], orr[j]):
                if in_scale:
                    out.append(whole)
                continue
            if in_scale:
                # Whole regions of other shapes: a copy cut on one axis, which the
                # crop alignments below judge, or one squeezed into another shape (a
                # 720 x 900 stock photo posted at 720 x 720), which only this lines up.
                stretches.append(whole)
        # A crop keeps the scale of both axes equal, but a window and a crop of another
        # shape (or two whole regions of other shapes) still hash alike: try each
        # axis's scale, centres on each other.
        for s in sorted({round(sx, 3), round(sy, 3)}):
            if not MIN_SCALE <= s <= MAX_SCALE:
                continue
            tx = qx + qw / 2 - s * (ox + ow / 2)
            ty = qy + qh / 2 - s * (oy + oh / 2)
            out.append(Alignment(s, s, tx, ty, False, d, False))
    return stretches if stretched else out


# ------------------------------------------------------------ aligned comparison


@dataclass(frozen=True)
class Grid:
    """A grey image of a canonical region: `pixels` covers `box` of the full image."""

    pixels: np.ndarray  # float32, rows x cols
    box: tuple[float, float, float, float]
    raw: np.ndarray | None = None  # the same before smoothing, where kept

    def unsmoothed(self) -> Grid:
        return Grid(self.raw, self.box) if self.raw is not None else self

    def mirrored(self) -> Grid:
        raw = self.raw[:, ::-1].copy() if self.raw is not None else None
        return Grid(self.pixels[:, ::-1].copy(), self.box, raw)


# Grids are smoothed before comparison: two grids of one picture sampled at different
# phases or scales differ by aliasing of text-sized detail, which smoothing removes
# while a repainted region several cells wide survives it.
GRID_BLUR = 0.8


def smooth(pixels: np.ndarray) -> np.ndarray:
    return ndimage.gaussian_filter(pixels.astype(np.float32), GRID_BLUR, mode="nearest")


def _sig_grid(sig: Signatures) -> Grid:
    bx, by, bw, bh = sig.canon_box
    thumb = sig.thumb_array().astype(np.float32)
    return Grid(smooth(thumb), (float(bx), float(by), float(bw), float(bh)), thumb)


def _sample(grid: Grid, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear samples of `grid` at image coordinates; second value marks valid ones."""
    bx, by, bw, bh = grid.box
    rows, cols = grid.pixels.shape
    u = (xs - bx) / bw * cols - 0.5
    v = (ys - by) / bh * rows - 0.5
    valid = (u >= -0.5) & (u <= cols - 0.5) & (v >= -0.5) & (v <= rows - 0.5)
    return bilinear(grid.pixels, u, v), valid


Fit = Literal["linear", "trimmed", "tone"]


@dataclass(frozen=True)
class Comparison:
    diff: np.ndarray  # per query cell, grey levels; NaN outside the overlap
    error: float  # mean diff over the overlap
    coverage_query: float  # share of the query's canonical region the other covers
    coverage_other: float  # share of the other's canonical region inside the query's
    alignment: Alignment
    fit: Fit = "linear"  # how the other's grey levels were mapped (`_compare_aligned`)

    def noise(self) -> float:
        """The pair's difference noise (resampling, JPEG, residual misalignment): the
        75th percentile of its cells' differences over the overlap."""
        return float(np.percentile(self.diff[~np.isnan(self.diff)], 75))


@lru_cache(maxsize=64)
def _cell_centres(box: tuple[float, float, float, float], rows: int,
                  cols: int) -> tuple[np.ndarray, np.ndarray]:
    bx, by, bw, bh = box
    xs = bx + (np.arange(cols, dtype=np.float32) + 0.5) * bw / cols
    ys = by + (np.arange(rows, dtype=np.float32) + 0.5) * bh / rows
    gx, gy = np.meshgrid(xs, ys)
    return gx, gy


def _compare_aligned(q: Grid, o: Grid, al: Alignment, fit: Fit = "linear") -> Comparison | None:
    """The cells of `q` against `o` sampled at `al`, the other's grey levels mapped onto
    the query's by `fit`: a gain and offset from the means and deviations ("linear"),
    the same refit on the cells that fit best (`_trimmed_gain`), or `tone_curve`."""
    rows, cols = q.pixels.shape
    _, _, bw, bh = q.box
    gx, gy = _cell_centres(q.box, rows, cols)
    ox, oy = _to_other(al, gx, gy)
    # Compare at the coarser of the two resolutions: a fine grid against a coarse one
    # differs by detail that only one of them resolves.
    ratio = (abs(al.sx) * o.box[2] / o.pixels.shape[1]) / (bw / cols)
    qpix = q.pixels
    if ratio > 1.1:
        qpix = ndimage.gaussian_filter(qpix, 0.5 * np.sqrt(ratio * ratio - 1), mode="nearest")
    elif ratio < 0.9:
        o = Grid(ndimage.gaussian_filter(o.pixels, 0.5 * np.sqrt(1 / ratio**2 - 1),
                                          mode="nearest"), o.box)
    other, valid = _sample(o, ox, oy)
    n = int(np.count_nonzero(valid))
    if n < 16:
        return None
    a = qpix[valid]
    b = other[valid]
    # Brightness/contrast changes and grayscale conversion are not edits. A refinement
    # compares some 40 alignments of one pair and a search some 600 in all: OpenCV's
    # mean and deviation in one pass, not numpy's four, made this 1.5x faster
    # (the same errors to 3e-5 grey levels, on 3,602 comparisons of six searches).
    if fit == "tone":
        differences = np.abs(a - tone_curve(b, a)(b))
    else:
        mean_a, std_a = (float(v[0, 0]) for v in cv2.meanStdDev(a))
        mean_b, std_b = (float(v[0, 0]) for v in cv2.meanStdDev(b))
        gain = std_a / std_b if std_b > 1e-3 and std_a > 1e-3 else 1.0
        gain = min(max(gain, 1.0 / MAX_GAIN), MAX_GAIN)
        offset = mean_a - gain * mean_b
        if fit == "trimmed":
            gain, offset = _trimmed_gain(a, b, gain, offset)
        differences = np.abs(a - (b * gain + offset))
    diff = np.full(q.pixels.shape, np.nan, dtype=np.float32)
    diff[valid] = differences
    obw, obh = o.box[2], o.box[3]
    cov_q = n / valid.size
    cov_o = min(1.0, n * (bw / cols) * (bh / rows) / abs(al.sx * al.sy) / (obw * obh))
    return Comparison(diff, float(differences.mean()), cov_q, cov_o, al, fit)


# A trimmed fit keeps this share of the cells, those the last fit explains best, and
# refits that many times.
TRIM_KEEP = 0.75
TRIM_ROUNDS = 3


def _trimmed_gain(a: np.ndarray, b: np.ndarray, gain: float,
                  offset: float) -> tuple[float, float]:
    """The gain and offset mapping `b` onto `a`, refit by least squares on the
    TRIM_KEEP share of the cells that the last fit (from `gain`, `offset`) explains
    best. A local edit over a tenth of a picture of two tones (a light patch on MATE's
    dark city photo, bench/duplicates.py) moves the means and deviations enough to
    leave every cell 20-30 grey levels off; the edit's cells are the ones this drops."""
    for _ in range(TRIM_ROUNDS):
        residual = np.abs(a - (b * gain + offset))
        kept = residual <= np.percentile(residual, 100.0 * TRIM_KEEP)
        ak, bk = a[kept], b[kept]
        spread = float(bk.var())
        if spread < 1e-6:
            break
        gain = float(np.mean((bk - bk.mean()) * (ak - ak.mean()))) / spread
        gain = min(max(gain, 1.0 / MAX_GAIN), MAX_GAIN)
        offset = float(ak.mean()) - gain * float(bk.mean())
    return gain, offset


# The tone curve reads the median in each of this many bands of the other's grey
# levels, over bands holding this many cells at least (a fine grid has thousands).
TONE_BANDS = 32
TONE_BAND_MIN = 4


def tone_curve(b: np.ndarray, a: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The monotone map of grey levels `b` onto `a` (paired samples): through the median
    of `a` in each band of `b`'s levels, made non-decreasing. Brightening clips a
    picture's highlights to white, which no gain and offset explain and this does; a
    local edit is a minority in every band, which the medians do not follow."""
    edges = np.linspace(float(b.min()), float(b.max()) + 1e-3, TONE_BANDS + 1)
    band = np.digitize(b, edges) - 1
    levels, targets = [], []
    for k in range(TONE_BANDS):
        inside = band == k
        if np.count_nonzero(inside) >= TONE_BAND_MIN:
            levels.append(float(np.median(b[inside])))
            targets.append(float(np.median(a[inside])))
    if not levels:
        return lambda x: x
    curve = np.maximum.accumulate(np.array(targets))
    return lambda x: np.interp(x, levels, curve).astype(np.float32)


def toned_copy(q: Grid, o: Grid, c: Comparison, cell_min: float, noise: float,
               rim: int = 1, merge: int = 1) -> PairVerdict | None:
    """The clean copy `c`'s pair is once the other's grey levels are mapped onto the
    query's by `tone_curve` (what a brightened copy's clipped highlights need), or
    None. `noise` is a first comparison's (`Comparison.noise`): the better fit is no
    reason to count smaller differences as changes."""
    toned = _compare_aligned(q, o, c.alignment, fit="tone")
    v = grid_verdict(toned, q, cell_min, rim, merge, noise) if toned is not None else None
    return v if v is not None and v.relation in CLEAN_COPIES else None


def refine(q: Grid, o: Grid, al: Alignment, register: bool = True,
           fit: Fit = "linear") -> Comparison | None:
    """Best comparison over small shifts and scale changes around `al`: `al` itself
    when it fits well with the grey levels mapped by `fit`.

    Window keys place a crop only to within half a grid step (~5% of a side), which
    on a text screenshot is the difference between rows lining up or not.
    """
    rows, cols = q.pixels.shape
    cell_x, cell_y = q.box[2] / cols, q.box[3] / rows
    best = _compare_aligned(q, o, al, fit)
    if best is not None and _fits_well(best, q):
        return best  # a resized or recompressed copy: the keys aligned it already
    if register:
        found = _register(q, o, al)
        if found is not None and (best is None or found.error < best.error):
            best = found

    def shifted(base: Alignment, dx: float, dy: float, ds: float,
                dr: float = 0.0) -> Alignment:
        # Scale and rotate about the query's centre so they do not also shift.
        cx, cy = q.box[0] + q.box[2] / 2, q.box[1] + q.box[3] / 2
        s = 1.0 + ds
        ux, uy = (base.tx - cx) * s, (base.ty - cy) * s
        c, sn = np.cos(dr), np.sin(dr)
        return Alignment(base.sx * s, base.sy * s, c * ux - sn * uy + cx + dx,
                          sn * ux + c * uy + cy + dy, base.flip, base.distance, base.whole,
                          base.frame, base.rot + dr)

    # Shifts first, then scale at the best shift: a coordinate descent, 11 comparisons.
    passes = ((0.35, 1, 0.015),) if register else ((1.0, 2, 0.04), (0.35, 1, 0.015))
    for step, span, scale_step in passes:
        centre = best.alignment if best else al
        moves = [(ix * step * cell_x, iy * step * cell_y, 0.0)
                 for iy in range(-span, span + 1) for ix in range(-span, span + 1)]
        one_degree = float(np.radians(1.0))
        stages = (
            [(dx, dy, ds, 0.0) for dx, dy, ds in moves],
            [(0.0, 0.0, -scale_step, 0.0), (0.0, 0.0, scale_step, 0.0)],
            [(0.0, 0.0, 0.0, -one_degree), (0.0, 0.0, 0.0, one_degree)],
        )
        for stage in stages:
            for dx, dy, ds, dr in stage:
                cand = _compare_aligned(q, o, shifted(centre, dx, dy, ds, dr))
                if cand and cand.coverage_query > 0.3 and (
                    best is None or cand.error < best.error - 0.05
                ):
                    best = cand
            centre = best.alignment if best else al
    return best


def _fits_well(c: Comparison, q: Grid) -> bool:
    """Nearly every cell agrees: no search can improve the alignment meaningfully."""
    if c.coverage_query < 0.9 or c.coverage_other < 0.9:
        return False
    return float(np.nanmedian(c.diff)) <= GOOD_FIT * max(8.0, float(q.pixels.std()))


def _scales(al: Alignment) -> list[tuple[float, float]]:
    """(sx, sy) to try: around the key pair's for whole images, a range for crops."""
    if al.whole:
        return [(al.sx * f, al.sy * f) for f in (0.96, 1.0, 1.04)]
    lo, hi = min(al.sx, al.sy) * 0.92, max(al.sx, al.sy) * 1.08
    n = max(2, int(np.ceil(np.log(hi / lo) / np.log(1.04))) + 1)
    return [(v, v) for v in np.geomspace(lo, hi, n)]


def _fft_length(extent: int) -> int:
    """A length for the correlation's FFT along an axis of that extent (the query's
    and the other's together): any length past it holds every shift once, and FFTs of
    5-smooth lengths are several times faster than of most others."""
    return scipy.fft.next_fast_len(extent, real=True)


def _register(q: Grid, o: Grid, al: Alignment) -> Comparison | None:
    """Best alignment over scales, with the shift found by FFT cross-correlation.

    The key pair only says which regions look alike; a crop's real offset and scale
    can be far from its window's (a full-width crop against a square-fraction window).
    """
    rows, cols = q.pixels.shape
    cell_x, cell_y = q.box[2] / cols, q.box[3] / rows
    qz = q.pixels - q.pixels.mean()
    fq = scipy.fft.rfft2
    best: Comparison | None = None
    # Scales only, no rotations: -6/-3/+3/+6 degrees made registration a third of a
    # search's CPU, and on the worker's path tilted copies are aligned on keypoints
    # (bench/duplicates.py harness without them, 2026-12-02: rotate_5 recall 114 -> 116
    # of 120, CPU per transform 87 -> 65 s); only signatures-only verdicts lose them.
    # The refinement still tries a degree either side.
    for sx, sy in _scales(al):
        trial = Alignment(sx, sy, 0.0, 0.0, al.flip, al.distance, al.whole, al.frame, 0.0)
        # The other's canonical region mapped with t = 0, rasterised on the query's cells.
        bx, by, bw, bh = o.box
        minx, miny = min(sx * bx, sx * (bx + bw)), min(sy * by, sy * (by + bh))
        ow = round(abs(sx) * bw / cell_x)
        oh = round(abs(sy) * bh / cell_y)
        if not (4 <= ow <= 4 * cols and 4 <= oh <= 4 * rows):
            continue
        gx, gy = _cell_centres((minx, miny, ow * cell_x, oh * cell_y), oh, ow)
        vals, valid = _sample(o, *_to_other(trial, gx, gy))
        if valid.sum() < 16:
            continue
        oz = np.where(valid, vals - vals[valid].mean(), 0.0)
        shape = (_fft_length(rows + oh), _fft_length(cols + ow))
        corr = scipy.fft.irfft2(fq(qz, shape) * np.conj(fq(oz, shape)), shape)
        overlap = scipy.fft.irfft2(
            fq(np.ones_like(qz), shape) * np.conj(fq(valid.astype(np.float32), shape)), shape
        )
        min_cells = MIN_COVERAGE * min(rows * cols, int(valid.sum()))
        score = np.where(overlap >= min_cells, corr / np.maximum(overlap, 1.0), -np.inf)
        iy, ix = (int(v) for v in np.unravel_index(int(np.argmax(score)), shape))
        if not np.isfinite(score[iy, ix]):
            continue
        # Circular shifts: past the query's extent they are negative offsets.
        dy = iy - shape[0] if iy > rows else iy
        dx = ix - shape[1] if ix > cols else ix
        cand_al = Alignment(sx, sy, q.box[0] + dx * cell_x - minx,
                             q.box[1] + dy * cell_y - miny, al.flip, al.distance, al.whole,
                             al.frame, 0.0)
        cand = _compare_aligned(q, o, cand_al)
        if cand is not None and (best is None or cand.error < best.error):
            best = cand
    return best


def changed_components(changed: np.ndarray, min_cells: int,
                merge: int = 1) -> list[tuple[int, int, int, int, int]]:
    """Changed regions as (col, row, ncols, nrows, cells), lone noisy cells dropped.

    Cells one apart are merged (a repainted number is several nearby cells); a single
    changed cell with no changed neighbour is JPEG or resampling noise. The box includes
    the merging margin, and `EDIT_MAX_BOX` was set against such boxes: boxed by their
    cells alone, receipts of one bank and two GIMP dialogs passed for edits of each
    other (bench/duplicates.py, 2026-12-02). Regions whose boxes overlap are one: a
    pasted patch is one rectangle, and where its content happens to match what it
    covers (a blank margin, a line of the same grey) its changed cells fall apart into
    pieces that interlock (bench/duplicates.py --seed 3: an undo-history dialog's 10%
    edit in two such pieces of blocks was a template).
    """
    labels, _count = ndimage.label(ndimage.binary_dilation(changed, iterations=merge))
    out = []
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        cells = int((changed[sl] & (labels[sl] == i)).sum())
        if cells < min_cells:
            continue
        rows, cols = sl
        out.append((cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start,
                    cells))
    return _overlaps_merged(out)


def _overlaps_merged(regions: list[tuple[int, int, int, int, int]]
                     ) -> list[tuple[int, int, int, int, int]]:
    """Regions (col, row, ncols, nrows, cells) whose boxes overlap, however they chain,
    merged into one box."""
    merged = list(regions)
    changed = True
    while changed:
        changed = False
        for i, j in itertools.combinations(range(len(merged)), 2):
            a, b = merged[i], merged[j]
            if (a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
                    and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]):
                col, row = min(a[0], b[0]), min(a[1], b[1])
                merged[i] = (col, row, max(a[0] + a[2], b[0] + b[2]) - col,
                             max(a[1] + a[3], b[1] + b[3]) - row, a[4] + b[4])
                del merged[j]
                changed = True
                break
    return merged


def key_score(distance: int) -> float:
    """The part of a duplicate's score its best key pair gives: 1 at distance 0, 0 at 32."""
    return max(0.0, 1.0 - distance / 32.0)


def grid_verdict(c: Comparison, q: Grid, cell_min: float, rim: int = 1,
                 merge: int = 1, noise: float | None = None) -> PairVerdict | None:
    """The relation `c` shows; `noise`, when given, is the pair's difference noise in
    place of `c`'s own (`Comparison.noise`)."""
    al = c.alignment
    if min(c.coverage_query, c.coverage_other) < MIN_COVERAGE:
        return None
    valid = ~np.isnan(c.diff)
    d = c.diff[valid]
    qpix = q.pixels[valid]
    contrast = max(8.0, float(qpix.std()))
    score_base = key_score(al.distance)
    # The pair's own noise floor (resampling, JPEG, residual misalignment) sets how
    # big a cell difference must be to count as a change.
    # Crops carry more resampling noise than whole-image pairs.
    factor = NOISE_FACTOR if al.whole else 1.5 * NOISE_FACTOR
    threshold = max(cell_min, factor * (c.noise() if noise is None else noise))
    # Cells on the rim of the overlap straddle an image edge after resampling.
    inner = ndimage.binary_erosion(valid, iterations=rim)
    changed = np.zeros(valid.shape, dtype=bool)
    changed[inner] = c.diff[inner] > threshold
    comps = changed_components(changed, max(MIN_CHANGE_CELLS, round(MIN_CHANGE_SHARE * d.size)),
                        merge)
    rel_err = float(np.median(d)) / contrast
    same_content = rel_err <= SAME_MAX_REL_ERROR
    if same_content and not comps:
        same_size = c.coverage_query > 0.9 and c.coverage_other > 0.9
        relation = "resized" if al.frame and same_size else "cropped"
        score = 0.5 * score_base + 0.5 * max(0.0, 1.0 - rel_err / SAME_MAX_REL_ERROR)
        return PairVerdict(relation, al.distance, None, round(score, 4))
    if same_content and len(comps) == 1:
        x, y, w, h, _cells = comps[0]
        if w * h <= EDIT_MAX_BOX * valid.sum():
            rows, cols = q.pixels.shape
            bx, by, bw, bh = q.box
            pixel_box = (
                round(bx + x * bw / cols), round(by + y * bh / rows),
                max(1, round(w * bw / cols)), max(1, round(h * bh / rows)),
            )
            score = 0.5 * score_base + 0.5 * max(0.0, 1.0 - rel_err / SAME_MAX_REL_ERROR)
            return PairVerdict("edited", al.distance, pixel_box, round(score, 4))
    if al.distance <= SIMILAR_RADIUS:
        relation = "template" if al.whole and rel_err <= TEMPLATE_MAX_REL_ERROR else "similar"
        return PairVerdict(relation, al.distance, None, round(0.3 * score_base, 4))
    return None


def _best_verdict(q: Grid, o: Grid, alignments: list[Alignment],
                  cell_changed: float) -> tuple[PairVerdict, Comparison] | None:
    """Verdict from the alignment that explains the pair best (lowest median difference).

    Taking the most favourable verdict instead would let a wrong alignment, whose
    differences happen to bunch up, call a template pair `edited`. A pair that is no
    clean copy at any of them gets one more look, for a large edit (`_large_edit`).
    """
    best: Comparison | None = None
    best_err = np.inf
    unfit: list[tuple[Alignment, Grid]] = []  # whole-image alignments that fit badly
    for al in alignments:
        src = o.mirrored() if al.flip else o
        c = refine(q, src, al)
        fits = c is not None and _fits_well(c, q)
        if al.whole and c is not None and not fits:
            unfit.append((al, src))
        if c is None or min(c.coverage_query, c.coverage_other) < MIN_COVERAGE:
            continue
        # A whole-image alignment is the simpler explanation: a window alignment must
        # fit clearly better to be preferred (else a template pair, identical but for
        # a few values, would pass for a crop of itself).
        if al.whole and fits:
            # Aligned cell for cell: compare unsmoothed, where a few changed words
            # of small print still show (JPEG q30 moves a thumbnail cell by ~2 grey
            # levels, a different name or number by 5 to 40).
            raw = _compare_aligned(q.unsmoothed(), src.unsmoothed(), c.alignment, c.fit)
            if raw is not None:
                v = grid_verdict(raw, q, max(cell_changed, RAW_CELL_CHANGED))
                return (v, raw) if v is not None else None
            best = c
            break
        err = float(np.nanmedian(c.diff))
        if not al.whole:
            err = 1.5 * err + 0.5
        if err < best_err - 1e-6:
            best, best_err = c, err
    v = grid_verdict(best, q, cell_changed) if best is not None else None
    if v is None or v.relation not in CLEAN_COPIES:
        for al, src in unfit:
            edit = _large_edit(q, src, al, cell_changed)
            if edit is not None:
                return edit
    return (v, best) if v is not None and best is not None else None


def _large_edit(q: Grid, o: Grid, al: Alignment,
                cell_changed: float) -> tuple[PairVerdict, Comparison] | None:
    """The pair, no clean copy to the search, as a copy at the whole-image alignment
    `al` with an edit large enough to have moved the plain fit's means and deviations:
    `al` fits well with the grey levels mapped by the trimmed fit (`_trimmed_gain`),
    the unsmoothed cells then show a duplicate, and no monotone tone curve explains
    its change away. Only then: two chats of one messenger fit well that way too
    (their chrome and background), and their `template` is the search's to find
    (bench/scenario_pairs.py: 364 pairs of the seed-23 scenario lost it when this
    fit's other verdicts were taken); and a brightened copy's clipped title bar is
    such a change too (bench/duplicates.py: GIMP's palette-sort dialog was `edited`),
    which the tone curve explains, at the plain fit's noise, as the pixel pass does."""
    trimmed = _compare_aligned(q, o, al, fit="trimmed")
    if trimmed is None or not _fits_well(trimmed, q):
        return None
    q_raw, o_raw = q.unsmoothed(), o.unsmoothed()
    raw = _compare_aligned(q_raw, o_raw, al, fit="trimmed")
    plain = _compare_aligned(q_raw, o_raw, al)
    if raw is None or plain is None:
        return None
    cell_min = max(cell_changed, RAW_CELL_CHANGED)
    v = grid_verdict(raw, q, cell_min)
    if v is None or not v.is_duplicate or toned_copy(q_raw, o_raw, raw, cell_min,
                                                     plain.noise()) is not None:
        return None
    return v, raw


def stretched_verdicts(query: Signatures, other: Signatures
                       ) -> list[tuple[PairVerdict, Comparison]]:
    """The pair's verdicts at the alignments that stretch one whole region onto the
    other's shape, for the pixel checks' last look (`pixelmatch._stretched_copy`). Not
    the search's: a copy cut on one axis, matched whole, passes for an edit of its own
    squeezed labels (tests/test_matching.py's dialog cut on its width), so its crop
    alignments judge it; but a stock photo squeezed into a square is lined up by
    nothing else (bench/scenario_pairs.py: two shops' posts of one, `template`)."""
    q, o = _sig_grid(query), _sig_grid(other)
    out = []
    # The global, canonical and flip keys of a picture without borders share a region.
    for al in dict.fromkeys(_alignments(query, other, stretched=True)):
        c = refine(q, o.mirrored() if al.flip else o, al)
        v = grid_verdict(c, q, CELL_CHANGED) if c is not None else None
        # What the finer grids can confirm: a copy, or a template framed alike whose
        # thumbnails differ by their own resampling (`pixelmatch._pixel_verdict`).
        if c is not None and v is not None and (
                v.is_duplicate or (v.relation == "template" and al.frame)):
            out.append((v, c))
    return out


def compare(query: Signatures, other: Signatures) -> PairVerdict | None:
    """Verdict on a candidate from signatures alone, or None when it is no match."""
    found = coarse_verdict(query, other)
    return found[0] if found else None


# The search asks for a candidate's coarse verdict, then confirms it on pixels, which
# starts from the same comparison.
@memo.by_identity(4)
def coarse_verdict(query: Signatures, other: Signatures) -> tuple[PairVerdict, Comparison] | None:
    return _best_verdict(_sig_grid(query), _sig_grid(other), _alignments(query, other),
                         CELL_CHANGED)
