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
or even `resized` there. `compare_images` repeats the comparison on pixels at 8x the
resolution; for images framed alike it turns such pairs into `template`, and it gives
edits a tight box. Which candidates of a search get which is for `candidates`.
`diff_heatmap_png` renders the evidence.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import scipy.fft
from PIL import Image, ImageDraw
from scipy import ndimage

from proofcheck import blockmatch, colourcheck, features, memo
from proofcheck.blockmatch import BlockCheck, bilinear, check_blocks
from proofcheck.hashing import WINDOWS, Signatures, compute_signatures, phone_bars
from proofcheck.imaging import DecodedImage, grey
from proofcheck.index import popcount64

RELATIONS = ("exact", "resized", "cropped", "edited", "template", "similar")
DUPLICATE_RELATIONS = frozenset({"exact", "resized", "cropped", "edited"})

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
class _Alignment:
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


def _to_other(al: _Alignment, qx: np.ndarray, qy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse mapping: query pixel coordinates to the other's."""
    dx, dy = qx - al.tx, qy - al.ty
    if al.rot:
        c, s = np.cos(al.rot), np.sin(al.rot)
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    return dx / al.sx, dy / al.sy


# ---------------------------------------------------------------- key alignment


def _key_regions(sig: Signatures) -> list[tuple[float, float, float, float]]:
    """The region (x, y, w, h in pixels) each key of `_all_keys` hashes."""
    bx, by, bw, bh = sig.canon_box
    regions = [(0.0, 0.0, float(sig.width), float(sig.height)),
               (float(bx), float(by), float(bw), float(bh)),
               (float(bx), float(by), float(bw), float(bh))]
    for fx, fy, fw, fh in WINDOWS[:len(sig.window_hashes)]:  # older records have fewer
        regions.append((bx + fx * bw, by + fy * bh, fw * bw, fh * bh))
    return regions


def _all_keys(sig: Signatures) -> np.ndarray:
    return np.array([sig.global_hash, sig.canon_hash, sig.flip_hash, *sig.window_hashes],
                    dtype=np.uint64)


def _alignments(query: Signatures, other: Signatures) -> list[_Alignment]:
    qk, ok = _all_keys(query), _all_keys(other)
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
    out: list[_Alignment] = []
    for d, i, j in pairs[:MAX_ALIGNMENTS]:
        if d > SEARCH_RADIUS:
            break
        (qx, qy, qw, qh), (ox, oy, ow, oh) = qr[i], orr[j]
        sx, sy = qw / ow, qh / oh
        whole = i < 3 and j < 3
        if whole:
            # A flip pair compares the query with the mirrored other, otherwise as usual.
            out.append(_Alignment(sx, sy, qx - sx * ox, qy - sy * oy, i == 2, d, True,
                                  i == 2 or frame))
            continue
        # A crop keeps the scale of both axes equal, but a window and a crop of another
        # shape still hash alike: try each axis's scale, centres on each other.
        for s in sorted({round(sx, 3), round(sy, 3)}):
            tx = qx + qw / 2 - s * (ox + ow / 2)
            ty = qy + qh / 2 - s * (oy + oh / 2)
            out.append(_Alignment(s, s, tx, ty, False, d, False))
    return out


# ------------------------------------------------------------ aligned comparison


@dataclass(frozen=True)
class _Grid:
    """A grey image of a canonical region: `pixels` covers `box` of the full image."""

    pixels: np.ndarray  # float32, rows x cols
    box: tuple[float, float, float, float]
    raw: np.ndarray | None = None  # the same before smoothing, where kept

    def unsmoothed(self) -> _Grid:
        return _Grid(self.raw, self.box) if self.raw is not None else self

    def mirrored(self) -> _Grid:
        raw = self.raw[:, ::-1].copy() if self.raw is not None else None
        return _Grid(self.pixels[:, ::-1].copy(), self.box, raw)


# Grids are smoothed before comparison: two grids of one picture sampled at different
# phases or scales differ by aliasing of text-sized detail, which smoothing removes
# while a repainted region several cells wide survives it.
GRID_BLUR = 0.8


def _smooth(pixels: np.ndarray) -> np.ndarray:
    return ndimage.gaussian_filter(pixels.astype(np.float32), GRID_BLUR, mode="nearest")


def _sig_grid(sig: Signatures) -> _Grid:
    bx, by, bw, bh = sig.canon_box
    thumb = sig.thumb_array().astype(np.float32)
    return _Grid(_smooth(thumb), (float(bx), float(by), float(bw), float(bh)), thumb)


def _sample(grid: _Grid, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear samples of `grid` at image coordinates; second value marks valid ones."""
    bx, by, bw, bh = grid.box
    rows, cols = grid.pixels.shape
    u = (xs - bx) / bw * cols - 0.5
    v = (ys - by) / bh * rows - 0.5
    valid = (u >= -0.5) & (u <= cols - 0.5) & (v >= -0.5) & (v <= rows - 0.5)
    return bilinear(grid.pixels, u, v), valid


@dataclass(frozen=True)
class _Comparison:
    diff: np.ndarray  # per query cell, grey levels; NaN outside the overlap
    error: float  # mean diff over the overlap
    coverage_query: float  # share of the query's canonical region the other covers
    coverage_other: float  # share of the other's canonical region inside the query's
    alignment: _Alignment


@lru_cache(maxsize=64)
def _cell_centres(box: tuple[float, float, float, float], rows: int,
                  cols: int) -> tuple[np.ndarray, np.ndarray]:
    bx, by, bw, bh = box
    xs = bx + (np.arange(cols, dtype=np.float32) + 0.5) * bw / cols
    ys = by + (np.arange(rows, dtype=np.float32) + 0.5) * bh / rows
    gx, gy = np.meshgrid(xs, ys)
    return gx, gy


def _compare_aligned(q: _Grid, o: _Grid, al: _Alignment) -> _Comparison | None:
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
        o = _Grid(ndimage.gaussian_filter(o.pixels, 0.5 * np.sqrt(1 / ratio**2 - 1),
                                          mode="nearest"), o.box)
    other, valid = _sample(o, ox, oy)
    n = int(valid.sum())
    if n < 16:
        return None
    a = qpix[valid]
    b = other[valid]
    # Brightness/contrast changes and grayscale conversion are not edits.
    sa, sb = float(a.std()), float(b.std())
    b = (b - b.mean()) * (sa / sb if sb > 1e-3 and sa > 1e-3 else 1.0) + a.mean()
    diff = np.full(q.pixels.shape, np.nan, dtype=np.float32)
    diff[valid] = np.abs(a - b)
    obw, obh = o.box[2], o.box[3]
    cov_q = n / valid.size
    cov_o = min(1.0, n * (bw / cols) * (bh / rows) / abs(al.sx * al.sy) / (obw * obh))
    return _Comparison(diff, float(np.nanmean(diff)), cov_q, cov_o, al)


def _refine(q: _Grid, o: _Grid, al: _Alignment, register: bool = True) -> _Comparison | None:
    """Best comparison over small shifts and scale changes around `al`.

    Window keys place a crop only to within half a grid step (~5% of a side), which
    on a text screenshot is the difference between rows lining up or not.
    """
    rows, cols = q.pixels.shape
    cell_x, cell_y = q.box[2] / cols, q.box[3] / rows
    best = _compare_aligned(q, o, al)
    if best is not None and _fits_well(best, q):
        return best  # a resized or recompressed copy: the keys aligned it already
    if register:
        found = _register(q, o, al)
        if found is not None and (best is None or found.error < best.error):
            best = found

    def shifted(base: _Alignment, dx: float, dy: float, ds: float,
                dr: float = 0.0) -> _Alignment:
        # Scale and rotate about the query's centre so they do not also shift.
        cx, cy = q.box[0] + q.box[2] / 2, q.box[1] + q.box[3] / 2
        s = 1.0 + ds
        ux, uy = (base.tx - cx) * s, (base.ty - cy) * s
        c, sn = np.cos(dr), np.sin(dr)
        return _Alignment(base.sx * s, base.sy * s, c * ux - sn * uy + cx + dx,
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


def _fits_well(c: _Comparison, q: _Grid) -> bool:
    """Nearly every cell agrees: no search can improve the alignment meaningfully."""
    if c.coverage_query < 0.9 or c.coverage_other < 0.9:
        return False
    return float(np.nanmedian(c.diff)) <= GOOD_FIT * max(8.0, float(q.pixels.std()))


def _scales(al: _Alignment) -> list[tuple[float, float]]:
    """(sx, sy) to try: around the key pair's for whole images, a range for crops."""
    if al.whole:
        return [(al.sx * f, al.sy * f) for f in (0.96, 1.0, 1.04)]
    lo, hi = min(al.sx, al.sy) * 0.92, max(al.sx, al.sy) * 1.08
    n = max(2, int(np.ceil(np.log(hi / lo) / np.log(1.04))) + 1)
    return [(v, v) for v in np.geomspace(lo, hi, n)]


def _register(q: _Grid, o: _Grid, al: _Alignment) -> _Comparison | None:
    """Best alignment over scales, with the shift found by FFT cross-correlation.

    The key pair only says which regions look alike; a crop's real offset and scale
    can be far from its window's (a full-width crop against a square-fraction window).
    """
    rows, cols = q.pixels.shape
    cell_x, cell_y = q.box[2] / cols, q.box[3] / rows
    qz = q.pixels - q.pixels.mean()
    fq = scipy.fft.rfft2
    best: _Comparison | None = None
    # Scales only, no rotations: -6/-3/+3/+6 degrees made registration a third of a
    # search's CPU, and on the worker's path tilted copies are aligned on keypoints
    # (bench/duplicates.py harness without them, 2026-12-02: rotate_5 recall 114 -> 116
    # of 120, CPU per transform 87 -> 65 s); only signatures-only verdicts lose them.
    # The refinement still tries a degree either side.
    for sx, sy in _scales(al):
        trial = _Alignment(sx, sy, 0.0, 0.0, al.flip, al.distance, al.whole, al.frame, 0.0)
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
        shape = (rows + oh, cols + ow)
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
        cand_al = _Alignment(sx, sy, q.box[0] + dx * cell_x - minx,
                             q.box[1] + dy * cell_y - miny, al.flip, al.distance, al.whole,
                             al.frame, 0.0)
        cand = _compare_aligned(q, o, cand_al)
        if cand is not None and (best is None or cand.error < best.error):
            best = cand
    return best


def _components(changed: np.ndarray, min_cells: int,
                merge: int = 1) -> list[tuple[int, int, int, int, int]]:
    """Changed regions as (col, row, ncols, nrows, cells), lone noisy cells dropped.

    Cells one apart are merged (a repainted number is several nearby cells); a single
    changed cell with no changed neighbour is JPEG or resampling noise. The box includes
    the merging margin, and `EDIT_MAX_BOX` was set against such boxes: boxed by their
    cells alone, receipts of one bank and two GIMP dialogs passed for edits of each
    other (bench/duplicates.py, 2026-12-02).
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
    return out


def _verdict(c: _Comparison, q: _Grid, cell_min: float, rim: int = 1,
             merge: int = 1) -> PairVerdict | None:
    al = c.alignment
    if min(c.coverage_query, c.coverage_other) < MIN_COVERAGE:
        return None
    valid = ~np.isnan(c.diff)
    d = c.diff[valid]
    qpix = q.pixels[valid]
    contrast = max(8.0, float(qpix.std()))
    score_base = max(0.0, 1.0 - al.distance / 32.0)
    # The pair's own noise floor (resampling, JPEG, residual misalignment) sets how
    # big a cell difference must be to count as a change.
    # Crops carry more resampling noise than whole-image pairs.
    factor = NOISE_FACTOR if al.whole else 1.5 * NOISE_FACTOR
    threshold = max(cell_min, factor * float(np.percentile(d, 75)))
    # Cells on the rim of the overlap straddle an image edge after resampling.
    inner = ndimage.binary_erosion(valid, iterations=rim)
    changed = np.zeros(valid.shape, dtype=bool)
    changed[inner] = c.diff[inner] > threshold
    comps = _components(changed, max(MIN_CHANGE_CELLS, round(MIN_CHANGE_SHARE * d.size)),
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


def _best_verdict(q: _Grid, o: _Grid, alignments: list[_Alignment],
                  cell_changed: float) -> tuple[PairVerdict, _Comparison] | None:
    """Verdict from the alignment that explains the pair best (lowest median difference).

    Taking the most favourable verdict instead would let a wrong alignment, whose
    differences happen to bunch up, call a template pair `edited`.
    """
    best: _Comparison | None = None
    best_err = np.inf
    for al in alignments:
        src = o.mirrored() if al.flip else o
        c = _refine(q, src, al)
        if c is None or min(c.coverage_query, c.coverage_other) < MIN_COVERAGE:
            continue
        # A whole-image alignment is the simpler explanation: a window alignment must
        # fit clearly better to be preferred (else a template pair, identical but for
        # a few values, would pass for a crop of itself).
        if al.whole and _fits_well(c, q):
            # Aligned cell for cell: compare unsmoothed, where a few changed words
            # of small print still show (JPEG q30 moves a thumbnail cell by ~2 grey
            # levels, a different name or number by 5 to 40).
            raw = _compare_aligned(q.unsmoothed(), src.unsmoothed(), c.alignment)
            if raw is not None:
                v = _verdict(raw, q, max(cell_changed, RAW_CELL_CHANGED))
                return (v, raw) if v is not None else None
            best = c
            break
        err = float(np.nanmedian(c.diff))
        if not al.whole:
            err = 1.5 * err + 0.5
        if err < best_err - 1e-6:
            best, best_err = c, err
    if best is None:
        return None
    v = _verdict(best, q, cell_changed)
    return (v, best) if v is not None else None


def compare(query: Signatures, other: Signatures) -> PairVerdict | None:
    """Verdict on a candidate from signatures alone, or None when it is no match."""
    found = _coarse(query, other)
    return found[0] if found else None


# The search asks for a candidate's coarse verdict, then confirms it on pixels, which
# starts from the same comparison.
@memo.by_identity(4)
def _coarse(query: Signatures, other: Signatures) -> tuple[PairVerdict, _Comparison] | None:
    return _best_verdict(_sig_grid(query), _sig_grid(other), _alignments(query, other),
                         CELL_CHANGED)


# ------------------------------------------------------------------ on pixels

# Pixel-level grids: canonical region at this many cells (8x the signature thumbnail).
PIXEL_GRID_CELLS = 8192
# Finer cells carry more text contrast, so the same edit shows a larger difference and
# JPEG noise too; the threshold is higher accordingly.
PIXEL_CELL_CHANGED = 10.0
# Cells this close to the overlap's edge are not judged: a re-framed copy's edge rows
# (a status bar cut at a slightly different height) differ without any edit.
PIXEL_RIM = 3
# Changes this many cells apart are one region: the words of one repainted amount
# (~50 px apart), not the separate lines of a different receipt (~150 px apart).
PIXEL_MERGE = 3


# A cell spans at least this many pixels (each way) of the smaller image of a pair: a
# copy at half size (a 300 px dialog as 150 px) has its detail blurred over a couple of
# the original's pixels, and cells finer than that compare the resampling, not the
# content (all 5 small dialogs of bench/duplicates.py's resize_50 failures: `template`
# at key distance 0-2).
PIXEL_CELL_MIN_PX = 3


def _pixel_cells(*sigs: Signatures) -> int:
    smallest = min(s.canon_box[2] * s.canon_box[3] for s in sigs)
    return max(64, min(PIXEL_GRID_CELLS, smallest // PIXEL_CELL_MIN_PX**2))


def _pixel_grid(decoded: DecodedImage, sig: Signatures, cells: int) -> _Grid:
    bx, by, bw, bh = sig.canon_box
    cols = max(8, round((cells * bw / bh) ** 0.5))
    rows = max(8, cells // cols)
    region = grey(decoded.image).resize(
        (cols, rows), Image.Resampling.BOX, box=(bx, by, bx + bw, by + bh)
    )
    return _Grid(_smooth(np.asarray(region)), (float(bx), float(by), float(bw), float(bh)))


def _pixel_verdict(
    query: DecodedImage, other: DecodedImage,
    query_sig: Signatures | None = None, other_sig: Signatures | None = None,
) -> tuple[PairVerdict, _Comparison | None, _Grid] | None:
    """Signature-level verdict, confirmed by the same comparison on 8x finer cells.

    For two images framed alike, a duplicate must survive the pixel pass: differences
    the thumbnail could not see (other names and numbers in the same receipt layout)
    turn it into `template`, one compact change into `edited`. An edit the thumbnail
    already saw gets the pixels' tighter box. Re-framed copies (crops, borders,
    re-screenshots) and non-duplicates otherwise keep the signatures' verdict.
    """
    qs = query_sig or compute_signatures(query)
    os_ = other_sig or compute_signatures(other)
    coarse = _coarse(qs, os_)
    if coarse is None:
        return None
    v0, c0 = coarse
    cells = _pixel_cells(qs, os_)
    q = _pixel_grid(query, qs, cells)
    o = _pixel_grid(other, os_, cells)
    if c0.alignment.flip:
        o = o.mirrored()
    c = _refine(q, o, c0.alignment, register=False)
    # The finer grid's own verdict matters for duplicates, and for a template pair framed
    # alike that may be a small copy at half size.
    framed_template = v0.relation == "template" and c0.alignment.frame
    v = _verdict(c, q, PIXEL_CELL_CHANGED, PIXEL_RIM, PIXEL_MERGE) \
        if c is not None and (v0.is_duplicate or framed_template) else None
    if not v0.is_duplicate:
        if framed_template and v is not None and v.relation == "resized":
            # Framed alike and identical on the finer grid: the thumbnails' difference
            # was their own resampling (a dialog under 330 px and its half-size copy,
            # thumbnails from 150 and 300 px). The blocks still check it.
            return PairVerdict("resized", v0.distance, None, v.score), c, q
        return v0, c, q
    if v is None or not v.is_duplicate:
        if c0.alignment.frame:
            # Same framing, same layout, other small print: a template pair.
            return PairVerdict("template", v0.distance, None, round(0.3 * v0.score, 4)), c, q
        # Crops and re-framed copies carry resampling noise at this resolution that a
        # template check would mistake for content; the signatures' verdict stands.
        return v0, c, q
    if v.relation == "edited" and (c0.alignment.frame or v0.relation == "edited"):
        return PairVerdict("edited", v0.distance, v.changed_box, v0.score), c, q
    if c0.alignment.frame:
        return PairVerdict(v.relation, v0.distance, None, v0.score), c, q
    # A re-framed copy's rescaled pixels are noisier than its thumbnail: an edit only
    # the pixel pass sees there is more likely resampling than paint.
    return v0, c, q


def compare_images(
    query: DecodedImage, other: DecodedImage,
    query_sig: Signatures | None = None, other_sig: Signatures | None = None,
    keypoints: features.FeatureAlignment | None = None,
) -> PairVerdict | None:
    """Like `compare`, confirmed on pixels: on grids 8x finer than the signatures', then
    block by block where small print is legible. When the grids' alignment finds no
    copy, or one the blocks refute, the pair is aligned again on keypoints
    (`features`) and judged block by block there: that is what finds rotated and
    tightly cropped copies. A re-framed copy the grids call edited gets that second
    look too, and is a copy when the keypoints find it one. Pass the signatures, and
    the pair's keypoint alignment (`features.align`), if already found."""
    query_sig = query_sig or compute_signatures(query)
    other_sig = other_sig or compute_signatures(other)

    @cache  # the second look at an edit and the fallback share one alignment
    def keypoint_alignment() -> features.FeatureAlignment | None:
        return keypoints or features.align(query.image, other.image)

    def on_keypoints(distance: int | None) -> PairVerdict | None:
        """The pair judged on its keypoint alignment; None when nothing can judge it."""
        aligned = keypoint_alignment()
        if aligned is None:
            return None
        if distance is None:
            distance = _key_distance(query_sig, other_sig)
        return _keypoint_verdict(query, other, query_sig, other_sig, aligned, distance)

    found = _pixel_verdict(query, other, query_sig, other_sig)
    verdict = found[0] if found else None
    undecided = False  # a duplicate on the grids that the blocks could not judge
    if found is not None and verdict is not None and verdict.is_duplicate and found[1]:
        grid_al = found[1].alignment
        full = check_blocks(query.image, other.image, query_sig.canon_box,
                            other_sig.canon_box, grid_al)
        # An edit the grids boxed is known to differ: the rest is judged without it.
        check = full.ignoring(verdict.changed_box) \
            if full is not None and verdict.changed_box is not None else full
        if full is not None and check is not None:
            judged = _judge_blocks(verdict, check)
            if judged.is_duplicate:
                if verdict.changed_box is not None:
                    judged = _grid_edit_confirmed(judged, full, found[1])
                judged = _final_copy(judged, query, other, other_sig, full, grid_al,
                                     _same_framing(grid_al, query, other))
                if judged.relation == "edited" and not grid_al.frame:
                    # A re-framed copy resampled twice (pasted into another screen,
                    # then shrunk) can leave a block of a bubble disagreeing under the
                    # grids' alignment, which passes for an edit; keypoints line the
                    # print up, and an edit they confirm stays one.
                    second = on_keypoints(judged.distance)
                    if second is not None and second.relation in ("resized", "cropped"):
                        return second
                return judged
            verdict = judged  # spread disagreement: another template, or a wrong alignment
        undecided = check is None
    judged_on_keypoints = on_keypoints(verdict.distance if verdict is not None else None)
    if judged_on_keypoints is None:
        # Nothing more to judge with: the grids' verdict stands, but a duplicate only
        # on a close key pair. A flat or tiny picture (a draft, a 300 px pattern) has
        # too few textured blocks and keypoints to be checked, and on the grids alone
        # it passed for a crop of a dozen unrelated pictures at key distance 12-16
        # (bench/duplicates.py --show-false).
        if undecided and verdict is not None and verdict.distance > UNCHECKED_RADIUS:
            return PairVerdict("similar", verdict.distance, None, round(0.3 * verdict.score, 4))
        return verdict
    if judged_on_keypoints.is_duplicate or undecided:
        # An undecided duplicate the keypoint alignment refutes is a template.
        return judged_on_keypoints
    return verdict


def _keypoint_verdict(query: DecodedImage, other: DecodedImage, query_sig: Signatures,
                      other_sig: Signatures, aligned: features.FeatureAlignment,
                      distance: int) -> PairVerdict | None:
    """The pair judged block by block on its keypoint alignment: a copy, an edit of
    one, or `template`; None when too few blocks can be judged."""
    check = check_blocks(query.image, other.image, query_sig.canon_box,
                         other_sig.canon_box, aligned)
    if check is None:
        # A short chat's canonical region ends under its last bubble, and a copy cut
        # below the app bar covers too little of it to judge: the original, checked
        # after the copy, found nothing (12 of 240 stolen copies of the seed-11
        # scenario's honest proof; 3 now). The part of the screen the copy covers is.
        overlap = _overlap_box(aligned, query, other)
        if overlap is not None:
            check = check_blocks(query.image, other.image, overlap, other_sig.canon_box,
                                 aligned)
    if check is None:
        return None
    agreement = 1.0 - check.disagree_count / check.blocks
    framed_alike = _same_framing(aligned, query, other)
    relation = "resized" if framed_alike else "cropped"
    judged = _judge_blocks(PairVerdict(relation, distance, None, round(agreement, 4)), check)
    if judged.is_duplicate and _contained_share(aligned, query, other) < MIN_CONTAINED:
        # Two pictures that share a patch, each with more of its own around it: two
        # chats with a message in common at other places on their screens.
        return PairVerdict("template", distance, None, round(0.3 * agreement, 4))
    if not judged.is_duplicate:
        return judged
    return _final_copy(judged, query, other, other_sig, check, aligned, framed_alike)


def _overlap_box(al: blockmatch.Aligned, query: DecodedImage, other: DecodedImage,
                 other_screen: bool = False) -> tuple[float, float, float, float] | None:
    """The part of the query's screen (its phone bars cut) that the other covers under
    `al` (with `other_screen`, the other's screen, its bars cut too), as a box one cell
    (1/64) inside its edges; None when that is under a quarter of the screen (a copy
    must anyway cover MIN_CONTAINED of one of the two)."""
    cells = 64
    xs, ys = np.meshgrid((np.arange(cells) + 0.5) * query.width / cells,
                         (np.arange(cells) + 0.5) * query.height / cells)
    ox, oy = al.to_other(xs, ys)
    covered = (ox >= 0) & (ox < other.width) & (oy >= 0) & (oy < other.height)
    top, bottom = phone_bars(query.width, query.height)
    covered &= (ys >= top) & (ys < query.height - bottom)
    if other_screen:
        other_top, other_bottom = phone_bars(other.width, other.height)
        covered &= (oy >= other_top) & (oy < other.height - other_bottom)
    if covered.mean() < 0.25:
        return None
    rows, cols = np.nonzero(covered)
    cw, ch = query.width / cells, query.height / cells
    x0, y0 = (cols.min() + 1) * cw, (rows.min() + 1) * ch
    return x0, y0, cols.max() * cw - x0, rows.max() * ch - y0


def _final_copy(v: PairVerdict, query: DecodedImage, other: DecodedImage,
                other_sig: Signatures, check: BlockCheck, al: blockmatch.Aligned,
                framed_alike: bool) -> PairVerdict:
    """A duplicate the blocks confirmed, looked at in colour and, when re-framed, on
    the screen both images cover; an edit boxed along a re-framed copy's edge is its
    new frame (a caption bar's colour too)."""
    v = _new_frame_is_no_edit(v, check, framed_alike)
    v = _colour_checked(v, query, other, check, other_sig.canon_box, al)
    v = _new_frame_is_no_edit(v, check, framed_alike)
    if v.relation not in ("resized", "cropped") or framed_alike or al.flip:
        return v
    # A re-framed pair is judged on the canonical region, which ends above a short
    # chat's last bubble: its message retyped passed for a plain copy. The screen both
    # cover, each without its phone bars (not a thief's frame, nor a navigation bar
    # one of them lacks), is looked at once more for an edit.
    box = _overlap_box(al, query, other, other_screen=True)
    if box is None or _within_one_block(box, check):
        return v  # nothing beyond what the blocks already judged
    screen = check_blocks(query.image, other.image, box, other_sig.canon_box, al)
    if screen is None:
        return v
    judged = _judge_blocks(v, screen)
    if judged.relation != "edited":
        return v
    return _new_frame_is_no_edit(judged, screen, framed_alike)


def _within_one_block(box: tuple[float, float, float, float], check: BlockCheck) -> bool:
    """`box` reaches less than a block beyond the region `check` judged, on every side."""
    x, y, w, h = box
    gx, gy, gw, gh = check.box
    rows, cols = check.judged.shape
    bw, bh = gw / cols, gh / rows
    return (x >= gx - bw and y >= gy - bh
            and x + w <= gx + gw + bw and y + h <= gy + gh + bh)


# A re-framed copy's frame (a caption bar or another phone's chrome over the cut edge
# of a stolen screenshot) covers what the original shows there, in a band across the
# whole picture at its top or bottom edge: an edit boxed over this share of the judged
# blocks' width, within FRAME_BAND_EDGE of their top or bottom, is that frame. An
# amount or a name repainted spans a column, not the picture. Not for pairs framed
# alike, whose edges are the same screen's. Measured on 120 copies of twenty Polish
# banks' receipts, cut under the header, captioned, and pasted into another screen or
# not: 75 called `edited` before, none after (`_same_framing`). Leaving such
# bands' block rows unjudged before the verdict did nothing more there, and let 8 pairs
# of other accounts' chats of the seed-11 scenario pass for copies (their contact names
# and first bubbles).
FRAME_BAND_WIDTH = 0.9
FRAME_BAND_EDGE = 0.05


def _new_frame_is_no_edit(v: PairVerdict, check: BlockCheck, framed_alike: bool) -> PairVerdict:
    """An edit of a re-framed copy boxed as a band across what the blocks judged, at
    its top or bottom edge, is the copy's new frame: the copy, cropped. (An amount
    repainted just under a cut header joins that band and is lost with it.)"""
    if v.relation != "edited" or v.changed_box is None or framed_alike:
        return v
    rows, cols = np.nonzero(check.judged)
    jx, jy, jw, jh = check.cell_box(int(cols.min()), int(rows.min()),
                                     int(cols.max() - cols.min() + 1),
                                     int(rows.max() - rows.min() + 1))
    x, y, w, h = v.changed_box
    across = min(x + w, jx + jw) - max(x, jx) >= FRAME_BAND_WIDTH * jw
    at_edge = y <= jy + FRAME_BAND_EDGE * jh or y + h >= jy + jh - FRAME_BAND_EDGE * jh
    if across and at_edge:
        return PairVerdict("cropped", v.distance, None, v.score)
    return v


# A copy is one picture within the other, cropped or framed: the overlap covers most
# of one of the two. (The grids ask both to be covered, MIN_COVERAGE; keypoints find
# tighter crops.)
MIN_CONTAINED = 0.5


def _contained_share(al: features.FeatureAlignment, query: DecodedImage,
                     other: DecodedImage) -> float:
    """The larger of the query's and the other's shares that overlap under `al`."""
    xs, ys = np.meshgrid((np.arange(32) + 0.5) * query.width / 32,
                         (np.arange(32) + 0.5) * query.height / 32)
    ox, oy = al.to_other(xs, ys)
    query_share = float(np.mean((ox >= 0) & (ox < other.width) & (oy >= 0) & (oy < other.height)))
    # Areas scale by sx squared from the other to the query.
    other_share = query_share * query.width * query.height / (
        al.sx * al.sx * other.width * other.height)
    return max(query_share, min(1.0, other_share))


# Colour changed in a single block can be JPEG's chroma subsampling at a saturated edge.
MIN_COLOUR_BLOCKS = 2


def _colour_checked(v: PairVerdict, query: DecodedImage, other: DecodedImage,
                    check: BlockCheck, other_box: tuple[float, float, float, float],
                    al: blockmatch.Aligned) -> PairVerdict:
    """A copy the grey levels found unedited, looked at in colour (`colourcheck`): a
    compact minority of blocks whose colour changed is an edit, boxed as the blocks'."""
    if v.relation not in ("resized", "cropped"):
        return v
    found = colourcheck.colour_changes(query, other, check, other_box, al)
    if found is None:
        return v
    changed, compared = found
    count = int(changed.sum())
    regions = _components(changed, 1, merge=1)
    if count < MIN_COLOUR_BLOCKS or len(regions) != 1 or count > EDIT_MAX_DISAGREE * compared:
        return v
    box = check.cell_box(*regions[0][:4])
    if box[2] * box[3] > EDIT_MAX_BOX * check.box[2] * check.box[3]:
        return v
    return PairVerdict("edited", v.distance, box, v.score)


# The grids call an edit on cells of a few pixels, where JPEG's blocking and resampling
# are as large as small print: of 780 plain copies (bench/duplicates.py, 40 images x
# 13 transforms), 63 were called `edited`, nearly all with no block disagreeing. An edit
# whose box holds this many judged blocks, none disagreeing, was not one: 63 -> 13,
# while stickers (56 of 60) and local edits (108 of 120) called edited stay as they were.
EDIT_REFUTING_BLOCKS = 2


def _grid_edit_confirmed(v: PairVerdict, check: BlockCheck, c: _Comparison) -> PairVerdict:
    """`v`, an edit the grids boxed, judged on the blocks inside its box too (`check`
    holds them all): all of them agreeing make it the copy, unedited; other entries of
    the layout (`_other_entries`, a receipt's values boxed as one edit) make it a
    template."""
    if v.relation != "edited" or v.changed_box is None:
        return v
    judged, disagreeing = check.inside(v.changed_box)
    if judged < EDIT_REFUTING_BLOCKS:
        return v
    copy = PairVerdict("resized" if c.alignment.frame else "cropped", v.distance, None, v.score)
    if not disagreeing:
        return copy
    # What the grids boxed may be another receipt's values in one column.
    regions = _components(check.disagreeing, 1, merge=1)
    if len(regions) == 1 and _other_entries(check, regions[0][1], regions[0][3]):
        return PairVerdict("template", v.distance, None, round(0.3 * v.score, 4))
    return v


# Disagreeing blocks a resampled copy may show without an edit (a cut-off line at the
# rim, a status-bar clock): this many, or this share of the blocks judged. A pair
# sampled pixel for pixel (`BlockCheck.unresampled`) shows none: over 40 images x 15
# transforms of bench/duplicates.py, 15 resampled copies had 1-2 stray blocks, the
# same-size ones (JPEG, WebP, grayscale) none. There a repainted amount, payer or date,
# one or two blocks, is an edit: bench/template_pairs.py 35/75 -> 65/75 called edited.
# A brightened copy's clipped highlights disagree in 2-3 scattered blocks of a chat.
BLOCK_NOISE = 2
BLOCK_NOISE_SHARE = 0.02
# An edit changes a minority of what is on the screen: beyond this share of the
# textured blocks disagreeing, the agreeing rest is background and chrome, not the
# same content. Two chats of one messenger whose messages fill only the top of the
# screen differ in one compact region too (measured on the seed-11 scenario: 0.33-1.0
# of their blocks; true copies and repainted receipts 0-0.21).
EDIT_MAX_DISAGREE = 0.4


def _judge_blocks(v: PairVerdict, check: BlockCheck) -> PairVerdict:
    """A duplicate verdict checked where small print is legible (`blockmatch`).

    Blocks that disagree beyond noise and outside a known edit either form one compact
    region holding a minority of the content, which makes the pair `edited` there, or
    are spread over the image or most of its content: the same layout with other
    content, a `template` pair, whatever the grids said.
    """
    if not check.agreement_pins_the_pair:
        return PairVerdict("template", v.distance, None, round(0.3 * v.score, 4))
    regions = _components(check.disagreeing, 1, merge=1)
    # In a pair sampled pixel for pixel a few disagreeing blocks together are an edit;
    # scattered, they are the clipping of a brightened copy. Next to an edit the grids
    # already boxed, a stray block is its fringe, not another.
    exact = check.unresampled and v.changed_box is None and len(regions) == 1
    noise = 0 if exact else max(BLOCK_NOISE, BLOCK_NOISE_SHARE * check.blocks)
    if check.disagree_count <= noise:
        return v
    if len(regions) == 1 and check.disagree_count <= EDIT_MAX_DISAGREE * check.blocks:
        col, row, ncols, nrows, _cells = regions[0]
        box = _union(check.cell_box(col, row, ncols, nrows), v.changed_box)
        if (box[2] * box[3] <= EDIT_MAX_BOX * check.box[2] * check.box[3]
                and not _other_entries(check, row, nrows)):
            return PairVerdict("edited", v.distance, box, v.score)
    return PairVerdict("template", v.distance, None, round(0.3 * v.score, 4))


# Two receipts of one template differ in every value (amount, date, time, id, names):
# lines of text at the same heights in both, all in the values' column, which is one
# compact region. An edit changes one or two of them; a pasted patch puts its print
# where the original had none. Measured with `proofcheck synth` scenarios, candidate
# pairs of receipts called `edited`: seed 11, 308 before this rule, of which 245 differ
# in 3-6 lines whose heights agree (row correlation 0.84-0.99), and 63 after; seed 12
# (held out) 101 -> 64, the rest differing in 1-2 lines. Siblings of one edited
# receipt differ in 1-2 lines. bench/template_pairs.py (seeds 1, 2): such regions
# correlate at 0.84 or more. bench/duplicates.py's local edits differ in 3-5 lines in
# 11 of 120 regions, at heights that do not agree (-0.1 to 0.38), or at 0.71-0.76: a
# patch of the same picture's rows; still 108/120 called edited.
TEMPLATE_LINES = 3
SAME_LAYOUT = 0.8


def _other_entries(check: BlockCheck, row: int, nrows: int) -> bool:
    """The disagreeing block rows [row, row + nrows) are other entries in the same
    layout (another receipt's values), not an edit."""
    return (check.changed_lines(row, nrows) >= TEMPLATE_LINES
            and check.same_line_layout(row, nrows) >= SAME_LAYOUT)


def _same_framing(al: features.FeatureAlignment | _Alignment, query: DecodedImage,
                  other: DecodedImage) -> bool:
    """The other, mapped by `al` (the keypoints' or the grids'), covers the query edge
    to edge: a resized copy. For the grids' alignment this is stricter than the global
    keys' `frame` flag: a receipt cut under its header and captioned over the cut keeps
    its global hash within FRAME_RADIUS of the original's (with the flag, 6 of 120 such
    caption copies stayed `edited`). Both sides are held to one scale, `sx`, on
    purpose: a grid alignment of whole images stretches the other to the query's
    aspect (`sy` differs when a caption bar made it taller), which is no same framing."""
    tolerance = 0.02
    return (abs(al.rot) < np.radians(0.5)
            and abs(al.tx) <= tolerance * query.width and abs(al.ty) <= tolerance * query.height
            and abs(al.sx * other.width - query.width) <= tolerance * query.width
            and abs(al.sx * other.height - query.height) <= tolerance * query.height)


def _key_distance(query: Signatures, other: Signatures) -> int:
    return int(popcount64(_all_keys(query)[:, None] ^ _all_keys(other)[None, :]).min())


def _union(box: tuple[int, int, int, int],
           other: tuple[int, int, int, int] | None) -> tuple[int, int, int, int]:
    if other is None:
        return box
    x0, y0 = min(box[0], other[0]), min(box[1], other[1])
    x1 = max(box[0] + box[2], other[0] + other[2])
    y1 = max(box[1] + box[3], other[1] + other[3])
    return x0, y0, x1 - x0, y1 - y0


def diff_heatmap_png(query: DecodedImage, other: DecodedImage,
                     verdict: PairVerdict | None = None) -> bytes:
    """PNG: the query dimmed, with the aligned difference in red and the changed box."""
    found = _pixel_verdict(query, other)
    base = grey(query.image).convert("RGB")
    scale = min(1.0, 1200 / max(base.size))
    base = base.resize((max(1, round(base.width * scale)), max(1, round(base.height * scale))))
    canvas = Image.blend(base, Image.new("RGB", base.size, (255, 255, 255)), 0.5)
    if found is not None:
        v, comparison, q = found
        verdict = verdict or v
    if found is not None and comparison is not None:
        c = comparison
        heat = np.nan_to_num(c.diff, nan=0.0)
        heat = np.clip(heat / (2 * PIXEL_CELL_CHANGED), 0.0, 1.0)
        alpha = Image.fromarray((heat * 200).astype(np.uint8), "L")
        bx, by, bw, bh = q.box
        size = (max(1, round(bw * scale)), max(1, round(bh * scale)))
        red = Image.new("RGB", size, (230, 20, 20))
        canvas.paste(red, (round(bx * scale), round(by * scale)), alpha.resize(size))
    draw = ImageDraw.Draw(canvas)
    if verdict is not None and verdict.changed_box is not None:
        x, y, w, h = verdict.changed_box
        draw.rectangle(
            (x * scale, y * scale, (x + w) * scale, (y + h) * scale), outline=(0, 90, 255),
            width=max(2, round(4 * scale * 2)),
        )
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()
