"""Colour edits that grey levels cannot see.

Verification (`matching`, `pixelmatch`, `blockmatch`) compares grey levels: red print
on a grey of the same luminance is invisible to it, and a copy with a price painted in
red on a grey picture passed for a plain resize (bench/duplicates.py: 3 of 120 local
edits called `resized` with no block disagreeing). Once a pair is known
to be one picture and its alignment found, this compares the colour of every block
of the aligned pair, textured or flat; `pixelmatch` calls a compact minority of blocks
whose colour changed an edit there.

Saturation scales colour about grey, and a grey copy scales it to nothing: the pair's
gain is measured first, and a block changed when it differs from the other's colour
times that gain. A brightened copy clips light colours to white, so a pair whose
exposure differs is not compared.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from proofcheck import memo
from proofcheck.blockmatch import BLOCK, Aligned, BlockCheck, to_other_image
from proofcheck.imaging import DecodedImage
from proofcheck.opencv import cv2

# Colour is kept and compared at a quarter of the resolution in each direction: a
# block of a 1080 px screenshot spans 64 px, 16 of these samples.
CHROMA_FACTOR = 4
# Block-mean chroma, (Cb, Cr) less grey's (128, 128), 0-181 long. A block changed
# colour when it differs by COLOUR_CHANGE from the other's scaled by the pair's gain:
# red print over a fifth of a grey block moves it ~25, JPEG's noise a few.
COLOUR_CHANGE = 15.0
# Blocks this colourful in the other measure the gain (1.6 for a copy saturated by 60%,
# 0 for a grey copy): the median of their projections, an edit being a minority.
COLOURED = 15.0
MIN_COLOURED = 3
# A query with no colour anywhere, only chroma noise this far from grey at most, is a
# greyscale copy: nothing in it can be a colour edit. Compared anyway, a grey copy of a
# picture with colour in under MIN_COLOURED blocks measured no gain, and those blocks
# passed for an edit (bench/duplicates.py: 2 of 260 greyscale copies `edited`). The
# other way round, colour in a spot of a grey picture stays one: paint.
GREY_CHROMA = 3


def chroma_plane(image: Image.Image) -> np.ndarray | None:
    """The colour of an RGB image: (Cb, Cr) as uint8, reduced by CHROMA_FACTOR (an
    image under 64 px on a side is kept whole); None for a grey image."""
    if image.mode != "RGB":
        return None
    if min(image.size) >= 16 * CHROMA_FACTOR:
        image = image.reduce(CHROMA_FACTOR)  # YCbCr is linear in RGB: mean, then convert
    return np.ascontiguousarray(np.asarray(image.convert("YCbCr"))[..., 1:])


def colour_of(decoded: DecodedImage) -> np.ndarray | None:
    """`chroma_plane` of a decoded image, or the one kept with its grey pixels."""
    return decoded.chroma if decoded.chroma is not None else _remembered_plane(decoded.image)


# The query is compared with each of its candidates: its colour is found once. (Not
# for the pixel cache, which would keep the RGB image alive: as `imaging.grey`.)
@memo.by_identity(4)
def _remembered_plane(image: Image.Image) -> np.ndarray | None:
    return chroma_plane(image)


def _block_chroma(plane: np.ndarray, size: tuple[int, int], xs: np.ndarray,
                  ys: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Mean (Cb - 128, Cr - 128) per block of the sample grid (`xs`, `ys`: image pixels)."""
    fx, fy = size[0] / plane.shape[1], size[1] / plane.shape[0]
    u = (xs / fx - 0.5).astype(np.float32)
    v = (ys / fy - 0.5).astype(np.float32)
    samples = cv2.remap(plane.astype(np.float32), u, v, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE) - 128.0
    return samples.reshape(rows, BLOCK, cols, BLOCK, 2).mean(axis=(1, 3))


def colour_changes(query: DecodedImage, other: DecodedImage, check: BlockCheck,
                   other_box: tuple[float, float, float, float], al: Aligned
                   ) -> tuple[np.ndarray, int] | None:
    """The blocks of `check`'s grid whose colour changed between a pair aligned by
    `al`, beyond the gain of the whole pair, and how many blocks were compared (every
    block inside both images, textured or flat); None with no colour to compare (a
    grey image on either side, or a query in RGB without colour: a greyscale copy),
    no block to compare, or a change of exposure (a brightened copy's light colours
    clip to white, and lose their colour)."""
    q_plane, o_plane = colour_of(query), colour_of(other)
    if q_plane is None or o_plane is None or not check.same_exposure or _grey(q_plane):
        return None
    rows, cols = check.judged.shape
    bx, by, bw, _bh = check.box
    step = bw / (cols * BLOCK)
    gx, gy = np.meshgrid(bx + (np.arange(cols * BLOCK) + 0.5) * step,
                         by + (np.arange(rows * BLOCK) + 0.5) * step)
    # The other where the blocks found its print: the coarse alignment is a few
    # samples off on a crop, enough to put a coloured button on the background.
    shift = np.repeat(np.repeat(check.shift, BLOCK, axis=0), BLOCK, axis=1) * step
    ox, oy = to_other_image(al, other_box, gx + shift[..., 1], gy + shift[..., 0])
    (qw, qh), (ow, oh) = query.image.size, other.image.size
    inside = ((gx >= 0) & (gx < qw) & (gy >= 0) & (gy < qh)
              & (ox >= 0) & (ox < ow) & (oy >= 0) & (oy < oh))
    # Whole blocks inside both, and off the overlap's rim (as `check_blocks`).
    inside = ndimage.binary_erosion(
        inside.reshape(rows, BLOCK, cols, BLOCK).all(axis=(1, 3)), border_value=0)
    if not inside.any():
        return None
    q = _block_chroma(q_plane, (qw, qh), gx, gy, rows, cols)
    o = _block_chroma(o_plane, (ow, oh), ox, oy, rows, cols)
    changed = inside & (np.hypot(*np.moveaxis(q - _gain(q, o, inside) * o, -1, 0))
                        >= COLOUR_CHANGE)
    return changed, int(inside.sum())


def _grey(plane: np.ndarray) -> bool:
    return int(np.abs(plane.astype(np.int16) - 128).max()) <= GREY_CHROMA


def _gain(q: np.ndarray, o: np.ndarray, inside: np.ndarray) -> float:
    """How much the query's colour is the other's scaled: the median projection of its
    block colours on the other's, over the other's colourful blocks (1 without them)."""
    coloured = inside & (np.hypot(o[..., 0], o[..., 1]) >= COLOURED)
    if int(coloured.sum()) < MIN_COLOURED:
        return 1.0
    qc, oc = q[coloured], o[coloured]
    return float(np.median((qc * oc).sum(axis=1) / (oc * oc).sum(axis=1)))
