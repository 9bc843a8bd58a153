"""Fine verification of a near-duplicate verdict: block matching at near-full resolution.

`matching` aligns a pair on coarse grids; that alignment is good to a few percent of
scale and a degree of rotation, enough to see layout but not small print. Two chats of
one messenger or two receipts of one bank share their layout, so at that level a crop
of one passes for a crop of the other. Here the pair is looked at where text is legible:

1. the query's canonical region is sampled ~270 samples wide, and the other image on
   the same grid through the coarse alignment, each low-passed for its own scale;
2. every textured 16x16 block of the query is matched (normalised cross-correlation,
   by FFT) against the other within +-12 samples;
3. a displacement field linear in position (the coarse alignment's residual scale,
   shear and rotation) is fitted to the confident block matches, trimming outliers;
4. a block agrees when it matches at the field's prediction (+-1 sample);
5. a block blank in the query where the other has print disagrees too;
6. along the disagreeing blocks, sample row by sample row: how much the pair differs
   and where each has print, which tells one changed line from several (`BlockCheck`).

A real copy agrees almost everywhere; its disagreeing blocks, if any, bunch where it
was edited. A same-template pair disagrees wherever its content differs: names,
amounts, messages, spread over the image. The caller turns that into a relation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image
from scipy import ndimage

from proofcheck import memo
from proofcheck.hashing import phone_bars
from proofcheck.imaging import grey
from proofcheck.opencv import cv2

# Samples across the query's canonical region (a 1080 px wide screenshot: 4 px each).
WIDTH = 270
# A region with too few textured blocks at WIDTH is looked at again this many samples
# across, when it is that wide: a night sky's stars, a dark wallpaper's grain are a
# pixel or two, blurred away at WIDTH. bench/duplicates.py: the dark Ubuntu wallpaper
# captioned, 332 keypoints aligning it exactly, had no block to judge at 270 or 540
# samples; at 1080, 30 textured blocks, all agreeing. It costs: a 12-megapixel flat
# picture took 0.5-2.5 s more per pair, so only a caller that has other evidence of one
# picture (many keypoints aligning it) asks for it.
CLOSER_WIDTH = 1080
BLOCK = 16
# A region much wider than tall is sampled finer than WIDTH across, up to
# CLOSER_WIDTH, so that it still has this many rows of blocks: at 270 samples a 741 x
# 224 dialog was three rows, one once the rim is left out, and its rotated,
# brightened and bordered copies had too few blocks to judge (bench/duplicates.py
# --limit 0: GIMP's playback dialog; MATE's Spring, whose canonical region is its
# bright band, resized and bordered). Phone screenshots are taller than wide and
# sampled as before.
MIN_BLOCK_ROWS = 8
# A region under MIN_BLOCK_ROWS blocks on a side, sampled pixel for pixel, keeps too
# few blocks inside its rim to judge: skimage's 102 px retina picture had 9, and none
# of its crops, tilted or stickered copies (one with 80 keypoints aligning it) could
# be checked. When nothing could be judged such a region is looked at again enlarged
# to MIN_BLOCK_ROWS blocks, at most this much. Only then, and only when what agrees
# there pins the pair (`BlockCheck.agreement_pins_the_pair`): enlarged at once, two
# half-size copies of 200 px GIMP dialogs became `template`, and one, whose canonical
# region is a band one row of blocks high, did even when enlarged only after nothing
# was judged (bench/duplicates.py).
MAX_ENLARGEMENT = 2.0
SEARCH = 12
# A block needs this much contrast (grey levels, std) to say anything about content.
# A faint picture with fewer than MIN_BLOCKS such blocks (a watermark whose letters are
# 10 grey levels deep, bench/duplicates.py's "draft", missed in 7 of 15 transforms) is
# judged on its blocks of FAINT_BLOCK_STD whose match is one distinct peak.
MIN_BLOCK_STD = 8.0
FAINT_BLOCK_STD = 3.0
# A photograph is mostly shading too smooth for a block to match at one place: sky,
# skin, a wallpaper's gradients. Such a block (SMOOTH_MIN_STD up to MIN_BLOCK_STD) still
# shows the same picture when its shading is the other's at the fitted shift within
# SMOOTH_AGREE grey levels (mean absolute difference, means aside), and counts as
# content that agrees when an edit is told from another picture of one layout
# (`BlockCheck.content_blocks`). A chat's or a dialog's background is flat, below
# SMOOTH_MIN_STD, and counts as nothing, as before. Measured on bench/duplicates.py's
# local edits of wallpapers that came out `template` (their edit covers most of their
# few textured blocks: 43-57%): smooth blocks that agree differ by 0.01-0.1 grey levels,
# those under the pasted patch by up to 6. The difference must also be under
# SMOOTH_SHARE of the block's own shading (its mean absolute deviation): the faintest
# shading is within SMOOTH_AGREE of a flat area, and a wallpaper's water "agreed" with
# a bank receipt's flat header in 9 blocks, which passed a sticker on the wallpaper
# for a crop of the receipt (bench/duplicates.py with a pool of 128; 2026-12-06).
SMOOTH_MIN_STD = 1.5
SMOOTH_AGREE = 1.5
SMOOTH_SHARE = 0.5
# Correlation of a block with its match: confident enough to fit the field with, and
# enough to agree at the field's prediction. Measured on bench/duplicates.py at the
# alignment that fits best: blocks of true copies (JPEG, resizes, crops, rotations,
# borders, re-screenshots) fall below 0.8 in at most 0.6% of cases (caption bars 2.6%,
# all of those below 0.6 too), blocks of two receipts of one bank in 29% (15% below
# 0.6): other digits of the same font and length, blurred, correlate at 0.6-0.8.
FIT_NCC = 0.7
AGREE_NCC = 0.8
# A pair sampled pixel for pixel and equally exposed (`BlockCheck.unresampled`) has no
# resampling blur to forgive: there a block agrees only at 0.9. A date with one or two
# of its digits repainted correlates at 0.8-0.9. bench/template_pairs.py one-field
# repaints called edited 65 -> 73 of 75 (0.93: 75); over 60 images x 7 same-size
# transforms of bench/duplicates.py, one WebP copy more called edited (a colormap
# dialog, 4 blocks), JPEG q30/q70 and grayscale copies unchanged. Brightened copies
# differ in mean grey by more than EXPOSURE_TOLERANCE and keep the usual threshold.
EXACT_AGREE_NCC = 0.9
EXPOSURE_TOLERANCE = 4.0
# A pasted patch is no change of exposure, though it moves the mean: the-mouse's 10%
# edit (a bright face and red print over a dark wallpaper) moved it 4.5 grey levels,
# and the pair, judged as exposed differently, only over its canonical region (16 x 7
# blocks, its dark margins trimmed), where the edit's box was 0.48 of the grid:
# `template`. Grids agreeing within EXPOSURE_TOLERANCE at the median and in all but
# this share of their samples (`matching.EDIT_MAX_BOX`) are equally exposed too; the
# GIMP fonts dialog brightened by 30% differs in 41% of its samples.
EDIT_SHARE = 0.35
# Exposure differing, a sample within CLIPPED of white or black is clipped, and one
# grid clips more than the other when this much more of it is (`_clipped_alike`).
# Both are then clipped at the grey level of the same rank, CLIP_MARGIN past the share
# that clipped: sampled grids average light print with the white around it, so the
# rank lands a little off in the grid that did not clip. A brightened chat's light
# timestamps on white bubbles kept their lightest greys in the original and lost them
# in the copy: 3 of 142 blocks disagreed (bench/duplicates.py's chat_blueapp_007).
CLIPPED = 4.0
MORE_CLIPPED = 0.05
CLIP_MARGIN = 0.03
# A match is distinct when nothing more than two samples away comes this close to it.
PEAK_MARGIN = 0.1
MIN_BLOCKS = 6
# A same-size pair aligned edge to edge within this share of the width (a recompressed
# forward, another chat of the app, a keypoint alignment a pixel off the identity) has
# no frame whose edge the screen's rows could straddle.
FRAMED_ALIKE = 0.02
# A sample row differs when its mean absolute grey difference exceeds this; differing
# rows closer than LINE_GAP samples belong to one line. A 1080 px screenshot is sampled
# every 4 px: a receipt's lines of text are 8-10 samples tall and 10-14 apart.
LINE_DIFFERENCE = 10.0
LINE_GAP = 3
# Images under ~540 px wide are sampled pixel for pixel, where JPEG's 8x8 blocking and
# resampling are as large as their small print: a blur of at least a pixel compares
# content, not compression.
MIN_SIGMA = 1.0
# `Image.info` key of a picture turned upright (`views.straightened`), whose corners
# are the rotation's fill, not the picture.
TURNED = "proofcheck.turned"
# The blocks' correlations are computed in single precision: twice as fast as double,
# and the same to under 1e-4 of a block's (the blocks are zero-mean, so the windows'
# mean adds nothing but rounding); 72 block checks of six worker searches gave every
# field of their results equal (2026-12-06).
CORRELATION_DTYPE = np.float32


class Aligned(Protocol):
    """The coarse alignment: query pixel coordinates to the other's."""

    @property
    def sx(self) -> float: ...

    @property
    def flip(self) -> bool: ...

    def to_other(self, qx: np.ndarray, qy: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class BlockCheck:
    disagreeing: np.ndarray  # bool, rows x cols of the block grid
    # bool, the same grid: which blocks were judged: textured in the query, or blank
    # there but not in the other
    judged: np.ndarray
    box: tuple[float, float, float, float]  # the query's region the grid covers (x, y, w, h)
    # Per sample row of the grid, over the disagreeing blocks (the other taken at each
    # block's predicted shift): the largest mean absolute grey difference along the row,
    # and the query's and the other's largest contrast (std) along it.
    row_difference: np.ndarray
    row_contrast: np.ndarray  # 2 x sample rows: the query's, then the other's
    # Both images sampled pixel for pixel (the same size, the alignment the identity) and
    # equally exposed: no resampling noise, so blocks agree at EXACT_AGREE_NCC and a
    # compact group of disagreeing blocks is a change however small.
    unresampled: bool
    # Both equally bright on average (`_same_exposure`): no clipping of one but not the
    # other, whose light colours then went white.
    same_exposure: bool
    # The fitted displacement field: where the other's print was found, as a shift
    # (down, right) in samples from where the coarse alignment put it, (3, 2): at block
    # (0, 0), then its change per block row and per block column; zero where the
    # coarse alignment stood. `shift` is it per block.
    displacement: np.ndarray
    # Per block of the grid: its best match is one distinct peak (`_distinct_peak`). A
    # block across a straight line or a repeated pattern matches along it as well.
    distinct: np.ndarray
    # Per block of the grid: too smooth to be judged, yet shaded, and shaded as the
    # other at the fitted shift (SMOOTH_MIN_STD).
    smooth_agreeing: np.ndarray

    @property
    def shift(self) -> np.ndarray:
        """Per block of the grid, where the other's print was found: (rows, cols, 2)
        shifts (down, right) in samples, the displacement field's within the search."""
        return _block_shifts(self.displacement, *self.judged.shape)

    @property
    def disagree_count(self) -> int:
        return int(self.disagreeing.sum())

    @property
    def agreeing_shading(self) -> np.ndarray:
        """`smooth_agreeing` where there is a picture's worth of it (MIN_BLOCKS), else
        none: a colour dialog's gradient (110 blocks in bench/duplicates.py's crop of
        it), a dark wallpaper's nebula (11-30), not the two to four blocks of a
        background gradient that a chat and a receipt of the seed-11 scenario share."""
        if int(self.smooth_agreeing.sum()) >= MIN_BLOCKS:
            return self.smooth_agreeing
        return np.zeros_like(self.smooth_agreeing)

    @property
    def blocks(self) -> int:
        """How many blocks were judged."""
        return int(self.judged.sum())

    @property
    def content_blocks(self) -> int:
        """Blocks judged, and the shading that agrees: what shows the picture."""
        return self.blocks + int(self.agreeing_shading.sum())

    @property
    def agreement_pins_the_pair(self) -> bool:
        """What agrees shows the same picture, not only the same frame: two blocks
        matching at one distinct place, or agreeing blocks over two block rows and two
        columns. Blocks along one line (the lower edge of an app bar) agree in any two
        screenshots of the app, and at any offset along the line; the shading that
        agrees (`agreeing_shading`) counts among them: a colour dialog's gradient
        under its one row of buttons."""
        agreeing = self.judged & ~self.disagreeing
        if int((agreeing & self.distinct).sum()) >= 2:
            return True
        agreeing = agreeing | self.agreeing_shading
        return int(agreeing.any(axis=1).sum()) >= 2 and int(agreeing.any(axis=0).sum()) >= 2

    def changed_lines(self, row: int, nrows: int) -> int:
        """Separate horizontal bands that differ in block rows [row, row + nrows): the
        lines of text an edit of that span changed. A band is 2+ sample rows above
        LINE_DIFFERENCE; bands closer than LINE_GAP rows are one."""
        changed = self.row_difference[row * BLOCK:(row + nrows) * BLOCK] > LINE_DIFFERENCE
        edges = np.flatnonzero(np.diff(np.concatenate(([0], changed.astype(np.int8), [0]))))
        bands: list[list[int]] = []
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            if bands and start - bands[-1][1] < LINE_GAP:
                bands[-1][1] = stop
            else:
                bands.append([int(start), int(stop)])
        return sum(1 for start, stop in bands if stop - start >= 2)

    def same_line_layout(self, row: int, nrows: int) -> float:
        """Correlation of where the query and the other have print, row by row, in block
        rows [row, row + nrows): near 1 when both hold lines at the same heights."""
        q, o = self.row_contrast[:, row * BLOCK:(row + nrows) * BLOCK]
        if q.std() < 1e-6 or o.std() < 1e-6:
            return 0.0
        return float(np.corrcoef(q, o)[0, 1])

    def _within(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """Grid cells whose centre lies in `box` (query pixels)."""
        x, y, w, h = box
        gx, gy, gw, gh = self.box
        rows, cols = self.judged.shape
        cx = gx + (np.arange(cols) + 0.5) * gw / cols
        cy = gy + (np.arange(rows) + 0.5) * gh / rows
        return ((cy >= y) & (cy < y + h))[:, None] & ((cx >= x) & (cx < x + w))[None, :]

    def inside(self, box: tuple[int, int, int, int]) -> tuple[int, int]:
        """Judged blocks whose centre lies in `box` (query pixels), and how many of
        them disagree."""
        within = self._within(box)
        return int((self.judged & within).sum()), int((self.disagreeing & within).sum())

    def ignoring(self, box: tuple[int, int, int, int]) -> BlockCheck | None:
        """This check with the blocks in `box`, a region already known to differ (an
        edit the grids boxed), left unjudged; None when too little remains to show the
        picture: under MIN_BLOCKS blocks, the agreeing shading counted as in
        `content_blocks`. An edit can cover enough of a smooth wallpaper's few textured
        blocks to leave fewer outside (bench/duplicates.py --limit 0: Fossa's covers 3 of
        its 8, and 53 blocks of shading agree around it); left undecided, that pair came
        out `template`."""
        outside = ~self._within(box)
        rest = replace(self, judged=self.judged & outside,
                       disagreeing=self.disagreeing & outside,
                       smooth_agreeing=self.smooth_agreeing & outside)
        return rest if rest.content_blocks >= MIN_BLOCKS else None

    def cell_box(self, col: int, row: int, ncols: int, nrows: int) -> tuple[int, int, int, int]:
        """A span of grid cells as a box in query pixels."""
        x, y, w, h = self.box
        rows, cols = self.judged.shape
        return (round(x + col * w / cols), round(y + row * h / rows),
                max(1, round(ncols * w / cols)), max(1, round(nrows * h / rows)))


@dataclass(frozen=True)
class FieldAligned:
    """A coarse alignment corrected by the displacement field a block check fitted
    (`BlockCheck.displacement`), extrapolated past the blocks that placed it: the other's
    point for a query point is the coarse alignment's for that point moved by the
    field there. A grid alignment 3% off in scale lines a chat's canonical region up
    within the blocks' search, but not the screen below it."""

    base: Aligned
    check: BlockCheck

    @property
    def sx(self) -> float:
        return self.base.sx

    @property
    def flip(self) -> bool:
        return self.base.flip

    def to_other(self, qx: np.ndarray, qy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gx, gy, gw, _gh = self.check.box
        step = gw / (self.check.judged.shape[1] * BLOCK)  # query pixels a sample
        row = (qy - gy) / (BLOCK * step) - 0.5  # in blocks, 0 at the first's centre
        col = (qx - gx) / (BLOCK * step) - 0.5
        down, right = _field_at(self.check.displacement, row, col)
        return self.base.to_other(qx + right * step, qy + down * step)


def _low_passed(image: Image.Image, step: float) -> tuple[np.ndarray, int]:
    """Grey pixels blurred for sampling every `step` pixels; reduced by an integer
    factor first (box filter), which makes the blur cheap on a 2.5 MP screenshot. The
    factor is the nearest to half the step: a 1080 px screenshot's canonical region,
    sampled every 3.7 px, is reduced by 2 (it was blurred at full size, on four times
    the pixels)."""
    factor = max(1, round(step / 2))
    # Blur widths a hundredth of a pixel apart are one: the query's pixels are reused
    # for every candidate, a candidate's for its second alignment.
    return _blurred(image, factor, round(max(MIN_SIGMA, 0.5 * step) / factor, 2)), factor


@memo.by_identity(4)
def _blurred(image: Image.Image, factor: int, sigma: float) -> np.ndarray:
    reduced = grey(image)
    if factor > 1:
        reduced = reduced.reduce(factor)
    pixels = np.asarray(reduced, dtype=np.float32)
    # OpenCV's separable blur: the same result as scipy's to 1e-4 grey levels, 8x faster.
    return cv2.GaussianBlur(pixels, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def bilinear(pixels: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear samples of `pixels` at column `u`, row `v` (float32), edges replicated.

    OpenCV's remap: scipy's `map_coordinates(order=1, mode="nearest")` and the clamped
    numpy interpolation used before to 2e-3 grey levels, 5x faster or more. Blocks and
    grids take some twenty thousand samplings per check between them."""
    return cv2.remap(np.ascontiguousarray(pixels, dtype=np.float32), u.astype(np.float32),
                     v.astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _sample(pixels: np.ndarray, factor: int, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Bilinear samples at full-resolution pixel coordinates of a reduced image (pixel
    j of the reduced image covers [j * factor, (j + 1) * factor), centred half-way)."""
    return bilinear(pixels, xs / factor - 0.5, ys / factor - 0.5).astype(np.float64)


def to_other_image(al: Aligned, other_box: tuple[float, float, float, float],
                   qx: np.ndarray, qy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Query pixel coordinates to the other image's, through `al`."""
    ox, oy = al.to_other(qx, qy)
    if al.flip:  # the alignment is to the other mirrored inside its canonical region
        ox = 2 * other_box[0] + other_box[2] - ox
    return ox, oy


def _views(query: Image.Image, other: Image.Image, box: tuple[float, float, float, float],
           other_box: tuple[float, float, float, float], al: Aligned, width: int,
           finest: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """The query's region and the other mapped onto the same sample grid (padded by
    SEARCH), each low-passed for its own sampling step, at least `finest` pixels;
    masks of where each is inside its image."""
    bx, by, bw, bh = box
    step = max(finest, bw / CLOSER_WIDTH, min(bw / width, bh / (MIN_BLOCK_ROWS * BLOCK)))
    cols, rows = int(bw / step), int(bh / step)
    xs = bx + (np.arange(-SEARCH, cols + SEARCH) + 0.5) * step
    ys = by + (np.arange(-SEARCH, rows + SEARCH) + 0.5) * step
    gx, gy = np.meshgrid(xs, ys)
    ox, oy = to_other_image(al, other_box, gx, gy)
    q_pixels, q_factor = _low_passed(query, step)
    o_pixels, o_factor = _low_passed(other, step / max(abs(al.sx), 1e-6))
    q = _sample(q_pixels, q_factor, gx, gy)
    o = _sample(o_pixels, o_factor, ox, oy)
    q_in = (gx >= 0) & (gx < query.width) & (gy >= 0) & (gy < query.height)
    o_in = (ox >= 0) & (ox < other.width) & (oy >= 0) & (oy < other.height)
    return q, o, q_in, o_in, step


def _box_sums(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of the values and of their squares over every size x size window, indexed
    by its top-left corner. OpenCV's integral images: 5x faster than numpy's cumsum
    twice, the same to 1e-12 relative."""
    sums, squares = cv2.integral2(np.ascontiguousarray(values, dtype=np.float64),
                                  sdepth=cv2.CV_64F, sqdepth=cv2.CV_64F)
    return _window_totals(sums, size), _window_totals(squares, size)


def _window_totals(integral: np.ndarray, size: int) -> np.ndarray:
    """Totals over every size x size window, indexed by its top-left corner, from an
    integral image (OpenCV's: one row and column of zeros first)."""
    return (integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size]
            + integral[:-size, :-size])


class _Sampled(NamedTuple):
    q: np.ndarray
    o: np.ndarray
    q_in: np.ndarray
    o_in: np.ndarray
    step: float
    rows: int
    cols: int
    same_exposure: bool
    box: tuple[float, float, float, float]  # the query's region sampled


def _sampled(query: Image.Image, other: Image.Image, box: tuple[float, float, float, float],
             other_box: tuple[float, float, float, float], al: Aligned,
             width: int, finest: float) -> _Sampled | None:
    """`_views` of the region, the size of its block grid, and whether the two are
    equally exposed over it; None when the grid would be under 2 x 2 blocks."""
    if box[2] <= 0 or box[3] <= 0:
        return None  # an empty region has no sample grid to map
    q, o, q_in, o_in, step = _views(query, other, box, other_box, al, width, finest)
    rows = (q.shape[0] - 2 * SEARCH) // BLOCK
    cols = (q.shape[1] - 2 * SEARCH) // BLOCK
    if rows < 2 or cols < 2:
        return None
    inner = (slice(SEARCH, SEARCH + rows * BLOCK), slice(SEARCH, SEARCH + cols * BLOCK))
    return _Sampled(q, o, q_in, o_in, step, rows, cols, _same_exposure(q[inner], o[inner]), box)


def _screen_rows(image: Image.Image, box: tuple[float, float, float, float]
                 ) -> tuple[float, float, float, float]:
    """`box`'s columns over every row of the image but a phone's status and
    navigation bars."""
    x, _y, w, _h = box
    top, bottom = phone_bars(image.width, image.height)
    return x, top, w, image.height - top - bottom


def check_blocks(query: Image.Image, other: Image.Image,
                 box: tuple[float, float, float, float],
                 other_box: tuple[float, float, float, float], al: Aligned,
                 look_closer: bool = False) -> BlockCheck | None:
    """Block agreement of a pair of images under a coarse alignment. None when the
    region has too few textured blocks to judge (a flat image, a tiny overlap), unless
    it is judged enlarged (MAX_ENLARGEMENT) or, with `look_closer`, every block agrees
    at CLOSER_WIDTH."""
    found = _check_at(query, other, box, other_box, al, WIDTH)
    side = min(box[2], box[3]) / (MIN_BLOCK_ROWS * BLOCK)
    if found is None and side < 1.0:
        enlarged = _check_at(query, other, box, other_box, al, WIDTH,
                             finest=max(side, 1.0 / MAX_ENLARGEMENT))
        if enlarged is not None and enlarged.agreement_pins_the_pair:
            found = enlarged
    if found is None and look_closer and box[2] >= CLOSER_WIDTH:
        closer = _check_at(query, other, box, other_box, al, CLOSER_WIDTH)
        # At that scale a faint picture's compression noise disagrees as an edit would
        # (the same wallpaper's JPEG q30 copy, found before on its grids, became
        # `template`): only agreement is taken from it.
        if closer is not None and not closer.disagreeing.any():
            found = closer
    return found


def _check_at(query: Image.Image, other: Image.Image, box: tuple[float, float, float, float],
              other_box: tuple[float, float, float, float], al: Aligned,
              width: int, finest: float = 1.0) -> BlockCheck | None:
    """`check_blocks` with the query's region sampled `width` samples across, and
    samples no closer than `finest` pixels."""
    # The canonical region's rows end where the image's middle columns go blank: above
    # a short chat's last bubble at the side, below its contact's name. In a pair
    # aligned edge to edge and equally exposed every row of the screen but the phone's
    # bars is judged. Elsewhere the canonical region is: a re-screenshot's frame covers
    # the original's bars and bottom rows, and would pass for an edit there; so would
    # a brightened copy's clipped app bars.
    drift = _corner_drift(query, other, box, al)
    unresampled = drift <= 0.5
    sampled = _sampled(query, other, _screen_rows(query, box), other_box, al, width, finest) \
        if drift <= FRAMED_ALIKE * query.width else None
    if sampled is None or not sampled.same_exposure:
        sampled = _sampled(query, other, box, other_box, al, width, finest)
    if sampled is None:
        return None
    q, o, q_in, o_in, step, rows, cols, same_exposure, box = sampled
    exact = unresampled and same_exposure
    span = BLOCK + 2 * SEARCH
    top = np.arange(rows) * BLOCK  # window top-left in the padded grid
    left = np.arange(cols) * BLOCK
    inner = (slice(SEARCH, SEARCH + rows * BLOCK), slice(SEARCH, SEARCH + cols * BLOCK))
    if not same_exposure:
        q, o = _clipped_alike(q, o, q_in & o_in)
    qb = q[inner].reshape(rows, BLOCK, cols, BLOCK).transpose(0, 2, 1, 3)
    q_std = qb.std(axis=(2, 3))
    inside = q_in[inner].reshape(rows, BLOCK, cols, BLOCK).all(axis=(1, 3))
    # A block is matched over a search window around it, which at the image's own
    # edge reaches past the other image. Sampled pixel for pixel, a block needs no
    # search: one there is judged at the shifts that keep it inside the other (masked
    # below). MATE's Arc wallpaper, a white shape whose outline runs along the
    # picture's edges, had only its local edit's 7 blocks judged, all disagreeing.
    # Not where a side was turned upright: its edge is the rotation's fill.
    own_edges = exact and TURNED not in query.info and TURNED not in other.info
    inside &= (_all_inside(o_in, top + SEARCH, left + SEARCH, BLOCK) if own_edges
               else _all_inside(o_in, top, left, span))
    # Blocks on the rim of the overlap straddle a frame's edge (a border, another
    # phone's bezel, the cut of a crop) by a few pixels: they differ without any edit.
    # Sampled pixel for pixel, nothing straddles: the region's own edge is judged (a
    # chat's contact name lies on it, under the status bar).
    inner_blocks = ndimage.binary_erosion(inside, border_value=1 if exact else 0)
    judged = (q_std >= MIN_BLOCK_STD) & inner_blocks
    faint = int(judged.sum()) < MIN_BLOCKS
    if faint:
        judged = (q_std >= FAINT_BLOCK_STD) & inner_blocks
    n = int(judged.sum())
    if n < MIN_BLOCKS:
        return None
    r_idx, c_idx = np.nonzero(judged)
    a = qb[r_idx, c_idx]
    a = (a - a.mean(axis=(1, 2), keepdims=True)) / q_std[r_idx, c_idx][:, None, None]
    win = sliding_window_view(o, (span, span))[top[r_idx], left[c_idx]]
    # Cross-correlation of each block with its window at every shift, by FFT.
    fa = scipy.fft.rfft2(a.astype(CORRELATION_DTYPE), s=(span, span))
    corr = scipy.fft.irfft2(scipy.fft.rfft2(win.astype(CORRELATION_DTYPE)) * np.conj(fa),
                            s=(span, span))
    shifts = 2 * SEARCH + 1
    corr = corr[:, :shifts, :shifts]  # [k, dy + SEARCH, dx + SEARCH]
    sums, squares = _box_sums(o, BLOCK)
    ys = top[r_idx][:, None, None] + np.arange(shifts)[None, :, None]
    xs = left[c_idx][:, None, None] + np.arange(shifts)[None, None, :]
    std = _window_std(sums, squares, ys, xs)
    ncc = np.where(std > 1.0, corr / (BLOCK * BLOCK * np.maximum(std, 1e-6)), -1.0)
    if own_edges:  # shifts that put the block past the other's edge match nothing
        outside = _window_totals(cv2.integral((~o_in).view(np.uint8)), BLOCK)
        ncc = np.where(outside[ys, xs] == 0, ncc, -1.0)
    if faint:
        # Of a faint picture's blocks only those whose best match stands out say
        # anything: smooth shading matches itself shifted, and other shading, at
        # many places.
        peak = ncc.reshape(n, -1).argmax(axis=1)
        standing_out = _distinct_peak(ncc, peak // shifts, peak % shifts)
        if int(standing_out.sum()) < MIN_BLOCKS:
            return None
        judged[r_idx[~standing_out], c_idx[~standing_out]] = False
        r_idx, c_idx, ncc = r_idx[standing_out], c_idx[standing_out], ncc[standing_out]
        n = int(standing_out.sum())

    flat = ncc.reshape(n, -1)
    best = flat.argmax(axis=1)
    best_ncc = flat.max(axis=1)
    disp = np.column_stack([best // shifts, best % shifts]).astype(np.float64) - SEARCH
    design = np.column_stack([np.ones(n), r_idx, c_idx]).astype(np.float64)
    # Only blocks whose match is one distinct peak place the field: a block across a
    # straight line or a repeated pattern matches as well a few samples along it, and
    # such blocks (a dialog's frames, a table's rules) can outvote the rest.
    distinct = _distinct_peak(ncc, best // shifts, best % shifts)
    pool = (best_ncc >= FIT_NCC) & distinct
    use = pool
    disagreeing = np.zeros((rows, cols), dtype=bool)
    threshold = EXACT_AGREE_NCC if exact else AGREE_NCC
    agree = _agree_at(ncc, np.full((n, 2), float(SEARCH)), threshold)  # the coarse alignment
    fitted = np.zeros((3, 2))
    if use.sum() >= 4:
        for _ in range(5):
            coef = np.linalg.lstsq(design[use], disp[use], rcond=None)[0]
            residual = np.abs(design @ coef - disp).max(axis=1)
            kept = pool & (residual <= 1.5)
            if kept.sum() < 4 or (kept == use).all():
                break
            use = kept
        on_field = _agree_at(ncc, design @ coef + SEARCH, threshold)
        # Of the two hypotheses, the one that explains more blocks: the field, unless
        # too few distinct blocks misled it and the coarse alignment was right.
        if on_field.sum() >= agree.sum():
            agree = on_field
            fitted = coef
    disagreeing[r_idx[~agree], c_idx[~agree]] = True
    at = np.rint(_block_shifts(fitted, rows, cols)).astype(int) + SEARCH  # window indices
    difference, contrast = _row_profiles(qb[r_idx, c_idx], o, top[r_idx], left[c_idx],
                                         at[r_idx, c_idx], ~agree, r_idx, rows)
    if not faint:
        # Only the query's textured blocks were matched: where it is blank and the
        # other has print (a message painted over, another chat's bubble) the two
        # differ all the same.
        theirs = _window_std(sums, squares, top[:, None] + at[..., 0], left[None, :] + at[..., 1])
        printed = (q_std < FAINT_BLOCK_STD) & inner_blocks & (theirs >= MIN_BLOCK_STD)
        judged |= printed
        disagreeing |= printed
    distinct_grid = np.zeros((rows, cols), dtype=bool)
    distinct_grid[r_idx, c_idx] = distinct
    smooth = _smooth_agreeing(qb, q_std, o, top, left, at, inner_blocks & ~judged)
    return BlockCheck(disagreeing, judged, _grid_box(box, step, rows, cols), difference,
                      contrast, exact, same_exposure, fitted, distinct_grid, smooth)


def _field_at(field: np.ndarray, row: np.ndarray, col: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """A displacement field (`BlockCheck.displacement`) at block positions (row, col),
    fractional or past the grid: the shift (down, right) in samples there."""
    at, per_row, per_col = field
    return (at[0] + row * per_row[0] + col * per_col[0],
            at[1] + row * per_row[1] + col * per_col[1])


def _block_shifts(field: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The field at each block of a rows x cols grid, within the blocks' search:
    (rows, cols, 2)."""
    row, col = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    return np.clip(np.stack(_field_at(field, row, col), axis=-1), -SEARCH, SEARCH)


def _smooth_agreeing(qb: np.ndarray, q_std: np.ndarray, o: np.ndarray, top: np.ndarray,
                     left: np.ndarray, at: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """`BlockCheck.smooth_agreeing` among `candidates`: shaded blocks of the query
    whose shading, its mean aside, is the other's at `at` (window indices)."""
    out = np.zeros(q_std.shape, dtype=bool)
    r_idx, c_idx = np.nonzero(candidates & (q_std >= SMOOTH_MIN_STD) & (q_std < MIN_BLOCK_STD))
    if len(r_idx) == 0:
        return out
    mine = qb[r_idx, c_idx]
    theirs = sliding_window_view(o, (BLOCK, BLOCK))[top[r_idx] + at[r_idx, c_idx, 0],
                                                    left[c_idx] + at[r_idx, c_idx, 1]]
    mine = mine - mine.mean(axis=(1, 2), keepdims=True)
    difference = np.abs(mine - (theirs - theirs.mean(axis=(1, 2), keepdims=True))).mean(axis=(1, 2))
    shading = np.abs(mine).mean(axis=(1, 2))
    out[r_idx, c_idx] = (difference <= SMOOTH_AGREE) & (difference <= SMOOTH_SHARE * shading)
    return out


def box_corners(box: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The x and the y coordinates of a box's four corners (x, y, w, h)."""
    x, y, w, h = box
    return np.array([x, x + w, x, x + w]), np.array([y, y, y + h, y + h])


def _corner_drift(query: Image.Image, other: Image.Image,
                  box: tuple[float, float, float, float], al: Aligned) -> float:
    """How far (pixels) the alignment moves the region's corners, in an image of the
    same size, unmirrored; infinite otherwise. Within half a pixel the pair is
    sampled pixel for pixel (`BlockCheck.unresampled`, if equally exposed)."""
    if query.size != other.size or al.flip:
        return float("inf")
    xs, ys = box_corners(box)
    ox, oy = al.to_other(xs, ys)
    return float(max(np.abs(ox - xs).max(), np.abs(oy - ys).max()))


def _same_exposure(q: np.ndarray, o: np.ndarray) -> bool:
    """The two sample grids are equally bright on average, or but for a minority of
    their samples (a local edit's share, EDIT_SHARE): no brightness or contrast change,
    whose clipped highlights decorrelate blocks without an edit."""
    if abs(float(q.mean()) - float(o.mean())) <= EXPOSURE_TOLERANCE:
        return True
    differ = np.abs(q - o) > EXPOSURE_TOLERANCE
    return bool(abs(float(np.median(q - o))) <= EXPOSURE_TOLERANCE
                and float(differ.mean()) <= EDIT_SHARE)


def _clipped_alike(q: np.ndarray, o: np.ndarray,
                   both: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two sample grids with the same highlights and shadows clipped. A brightened
    copy's light greys all went to white, its bubbles' edges and faint timestamps with
    them, while the original still has them; correlation is blind to a change of
    brightness, not to clipping. Where one grid has clearly more samples at white (or
    black) than the other, both are clipped at their grey levels of one rank, a little
    past the share that clipped: no alignment is needed, and the grey levels in
    between are left as they are (a sticker changes them, and is no change of
    exposure)."""
    if int(both.sum()) < BLOCK * BLOCK:  # an alignment that leaves no overlap
        return q, o
    qv, ov = q[both], o[both]
    for high in (True, False):
        q_share, o_share = _share_clipped(qv, high), _share_clipped(ov, high)
        if abs(q_share - o_share) < MORE_CLIPPED:
            continue
        share = min(max(q_share, o_share) + CLIP_MARGIN, 1.0)
        q = _clipped_at_rank(q, qv, share, high)
        o = _clipped_at_rank(o, ov, share, high)
    return q, o


def _share_clipped(values: np.ndarray, high: bool) -> float:
    """The share of `values` at white (`high`) or at black."""
    return float(np.mean(values >= 255 - CLIPPED if high else values <= CLIPPED))


def _clipped_at_rank(grid: np.ndarray, values: np.ndarray, share: float,
                     high: bool) -> np.ndarray:
    """`grid` clipped at the grey level beyond which `share` of its `values` lie."""
    if high:
        return np.minimum(grid, np.percentile(values, 100.0 * (1.0 - share)))
    return np.maximum(grid, np.percentile(values, 100.0 * share))


def _row_profiles(blocks: np.ndarray, o: np.ndarray, top: np.ndarray, left: np.ndarray,
                  shift: np.ndarray, which: np.ndarray, block_row: np.ndarray,
                  rows: int) -> tuple[np.ndarray, np.ndarray]:
    """`BlockCheck.row_difference` and `row_contrast` over the blocks `which`, each
    compared with the other's samples at its shift (window indices)."""
    difference = np.zeros(rows * BLOCK)
    contrast = np.zeros((2, rows * BLOCK))
    for k in np.flatnonzero(which):
        y, x = top[k] + shift[k, 0], left[k] + shift[k, 1]
        theirs = o[y:y + BLOCK, x:x + BLOCK]
        band = slice(block_row[k] * BLOCK, (block_row[k] + 1) * BLOCK)
        difference[band] = np.maximum(difference[band],
                                      np.abs(blocks[k] - theirs).mean(axis=1))
        contrast[0, band] = np.maximum(contrast[0, band], blocks[k].std(axis=1))
        contrast[1, band] = np.maximum(contrast[1, band], theirs.std(axis=1))
    return difference, contrast


def _all_inside(inside: np.ndarray, top: np.ndarray, left: np.ndarray,
                size: int) -> np.ndarray:
    """Per (top, left) pair of the grid: the size x size window there is inside
    throughout. Counted on an integral image of the outside: a fifth of the time of
    testing each window's pixels."""
    outside = _window_totals(cv2.integral((~inside).view(np.uint8)), size)
    return outside[np.ix_(top, left)] == 0


def _window_std(sums: np.ndarray, squares: np.ndarray, ys: np.ndarray,
                xs: np.ndarray) -> np.ndarray:
    """Contrast (std) of the BLOCK x BLOCK windows with top-left corners (ys, xs), from
    `_box_sums`."""
    mean = sums[ys, xs] / (BLOCK * BLOCK)
    return np.sqrt(np.maximum(squares[ys, xs] / (BLOCK * BLOCK) - mean * mean, 0.0))


def _distinct_peak(ncc: np.ndarray, peak_y: np.ndarray, peak_x: np.ndarray) -> np.ndarray:
    """Per block: its best match stands PEAK_MARGIN above every shift more than
    two samples away from it."""
    grid = np.arange(ncc.shape[1])
    far_y = np.abs(grid[None, :] - peak_y[:, None]) > 2
    far_x = np.abs(grid[None, :] - peak_x[:, None]) > 2
    far = far_y[:, :, None] | far_x[:, None, :]
    runner_up = np.where(far, ncc, -1.0).reshape(len(ncc), -1).max(axis=1)
    return ncc.reshape(len(ncc), -1).max(axis=1) - runner_up >= PEAK_MARGIN


def _agree_at(ncc: np.ndarray, predicted: np.ndarray, threshold: float) -> np.ndarray:
    """Per block: it matches within a sample of `predicted` (shift-axis indices)."""
    grid = np.arange(ncc.shape[1])
    near_y = np.abs(grid[None, :] - predicted[:, :1]) <= 1.01
    near_x = np.abs(grid[None, :] - predicted[:, 1:]) <= 1.01
    near = near_y[:, :, None] & near_x[:, None, :]
    return np.where(near, ncc, -1.0).reshape(len(ncc), -1).max(axis=1) >= threshold


def _grid_box(box: tuple[float, float, float, float], step: float, rows: int,
              cols: int) -> tuple[float, float, float, float]:
    return (box[0], box[1], cols * BLOCK * step, rows * BLOCK * step)
