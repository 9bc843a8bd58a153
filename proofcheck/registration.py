"""Alignment of two images by their spectra, where keypoints cannot align them.

`features.align` needs corners it can tell apart. A smooth gradient wallpaper has a
dozen at most, a flat two-tone one two dozen; a checkerboard has hundreds, all alike,
so Lowe's ratio test keeps none of their matches. Their rotated or cropped copies went
unfound (bench/duplicates.py: rotate_5 missed exactly those three originals on every
draw). Phase correlation needs no corners: the Fourier-Mellin method reads rotation and
scale off the log-polar image of the pair's magnitude spectra, which a shift leaves
alone, and then the shift off the pair brought to one rotation and scale. A lattice's
copy comes out a whole number of periods off, which matches it as well.

As with keypoints the transform is a hypothesis, for `blockmatch` to confirm.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PIL import Image

from proofcheck import memo
from proofcheck.features import MAX_SCALE, MIN_SCALE, FeatureAlignment
from proofcheck.imaging import grey
from proofcheck.opencv import cv2

# Longest side of the larger image of a pair once both are reduced alike: a 5-degree
# turn comes out within a few tenths of a degree, its inner points 0.3-0.7% of the side
# off (blocks search +-4%), and a pair costs 7 ms on average (bench/duplicates.py).
SIDE = 128
# Rows of the log-polar image over a full turn: a row is half a degree.
ANGLE_ROWS = 720
# Blur, in reduced pixels, whose removal leaves the edges hypotheses are told apart by.
DETAIL_SIGMA = 2.0
# A hypothesis must lay the other over this share of the query at least to be judged.
MIN_OVERLAP = 0.1
# The best hypothesis must lay the pair's edges this alike, or nothing is found. Over
# the copies of bench/duplicates.py's 30 originals `features.indistinct` calls so, ten
# transforms each, that are indistinct too, and 6 strangers a copy (draw 1): copies
# 178 of 221 at 0.6 and over (not re-screenshots: shrunk into another phone, their
# scale is not read), strangers none of 1,274 over 0.52. Below it, a wrong alignment
# let the blocks call a wallpaper's crop an edit of another (0.02), and refute a
# re-screenshot the grids had found (0.01).
MIN_EDGES_ALIKE = 0.6


def _reduced_size(image: Image.Image, scale: float) -> tuple[int, int]:
    """(width, height) of the image reduced by `scale`."""
    return max(1, round(image.width * scale)), max(1, round(image.height * scale))


def _reduced(image: Image.Image, scale: float) -> np.ndarray:
    """The image's grey levels reduced by `scale`, as floats."""
    pixels = cv2.resize(np.asarray(grey(image)), _reduced_size(image, scale),
                        interpolation=cv2.INTER_AREA)
    return pixels.astype(np.float32)


def _corner(shape: tuple[int, ...], side: int) -> tuple[int, int]:
    """(left, top) of pixels of `shape` (rows, columns) centred on a side x side canvas."""
    return (side - shape[1]) // 2, (side - shape[0]) // 2


def _placed(pixels: np.ndarray, side: int) -> tuple[np.ndarray, np.ndarray]:
    """`pixels` centred on a side x side canvas, and where they lie on it."""
    h, w = pixels.shape
    canvas = np.zeros((side, side), np.float32)
    inside = np.zeros((side, side), np.uint8)
    left, top = _corner(pixels.shape, side)
    canvas[top:top + h, left:left + w] = pixels
    inside[top:top + h, left:left + w] = 1
    return canvas, inside


def _windowed(pixels: np.ndarray, side: int) -> np.ndarray:
    """`pixels` less their mean, faded to nothing at their edges (whose cut would fill
    the spectrum with its own lines), centred on a side x side canvas."""
    h, w = pixels.shape
    window = cv2.createHanningWindow((w, h), cv2.CV_32F)
    return _placed((pixels - pixels.mean()) * window, side)[0]


def _log_polar_spectrum(canvas: np.ndarray) -> np.ndarray:
    """The canvas's magnitude spectrum, high-passed, in log-polar coordinates: rows by
    angle (ANGLE_ROWS a turn), columns by log radius. A shift leaves it as it is; a
    turn or a zoom of the picture shifts it along its rows or columns."""
    side = canvas.shape[0]
    magnitude = np.abs(np.fft.fftshift(np.fft.fft2(canvas))).astype(np.float32)
    # Low frequencies carry the window and the picture's overall shading, alike in
    # any two pictures; a high-pass keeps the edges that tell a rotation.
    freq = np.fft.fftshift(np.fft.fftfreq(side)).astype(np.float32)
    cos = np.cos(np.pi * freq)
    product = np.outer(cos, cos)
    highpass = (1.0 - product) * (2.0 - product)
    spectrum = np.log1p(magnitude * highpass)
    centre = (side / 2.0, side / 2.0)
    return cv2.warpPolar(spectrum, (side, ANGLE_ROWS), centre, side / 2.0,
                         cv2.INTER_LINEAR + cv2.WARP_POLAR_LOG)


def _detail(pixels: np.ndarray) -> np.ndarray:
    """`pixels` less their blur: the edges, which a smooth picture's shading would
    otherwise outweigh (turned 5 degrees, or at twice its size, a gradient still
    correlates with itself at 0.9)."""
    return pixels - cv2.GaussianBlur(pixels, (0, 0), DETAIL_SIGMA)


def _correlation(query: tuple[np.ndarray, np.ndarray], other: tuple[np.ndarray, np.ndarray],
                 matrix: np.ndarray) -> float:
    """Correlation of the query's detail with the other's mapped by `matrix` (canvas to
    canvas), where both lie (each `_placed`); -1 where they overlap on less than
    MIN_OVERLAP of the query."""
    (q_canvas, q_inside), (o_canvas, o_inside) = query, other
    side = q_canvas.shape[0]
    mapped = cv2.warpAffine(o_canvas, matrix, (side, side), flags=cv2.INTER_LINEAR)
    # Nearest, and shrunk by a pixel: the interpolated rim mixes in the blank canvas.
    mapped_inside = cv2.erode(cv2.warpAffine(o_inside, matrix, (side, side),
                                             flags=cv2.INTER_NEAREST), np.ones((3, 3), np.uint8))
    both = (q_inside & mapped_inside).astype(bool)
    if np.count_nonzero(both) < MIN_OVERLAP * np.count_nonzero(q_inside):
        return -1.0
    a, b = q_canvas[both], mapped[both]
    a, b = a - a.mean(), b - b.mean()
    spread = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / spread if spread > 0 else -1.0


class _Prepared(NamedTuple):
    """One image of a pair reduced and laid on the pair's canvas, ready to register."""

    reduced: np.ndarray  # grey levels at the pair's common scale
    windowed: np.ndarray  # `_windowed` on the canvas
    spectrum: np.ndarray  # `_log_polar_spectrum` of that
    detail: tuple[np.ndarray, np.ndarray]  # `_detail`, `_placed` on the canvas


# A search registers its query against each of its candidates in turn, mostly at one
# scale and canvas (the larger image's longest side reduced to SIDE): prepare it once.
@memo.by_identity(4)
def _prepared(image: Image.Image, scale: float, side: int) -> _Prepared:
    reduced = _reduced(image, scale)
    windowed = _windowed(reduced, side)
    return _Prepared(reduced, windowed, _log_polar_spectrum(windowed),
                     _placed(_detail(reduced), side))


def register(query: Image.Image, other: Image.Image) -> FeatureAlignment | None:
    """The similarity transform that maps `other` onto `query`, as `features.align`
    gives it but with no inliers to show; None when either image is blank (nothing
    to correlate) or no way of laying one on the other makes their edges
    MIN_EDGES_ALIKE alike. Three hypotheses are shifted into place by phase
    correlation: the spectra's rotation and scale, the same turned half round (a
    spectrum cannot tell them apart), and none at all, the commonest copy; the one
    whose edges then correlate best wins. (A lattice's log-polar spectrum is mostly
    its window's: a checkerboard's 60% crop read as 0.84 of its size, turned 174
    degrees.)"""
    scale = min(1.0, SIDE / max(query.width, query.height, other.width, other.height))
    shapes = [_reduced_size(image, scale) for image in (query, other)]
    if min(min(shape) for shape in shapes) < 2:
        return None
    side = 2 * max(max(shape) for shape in shapes)  # room for any shift of one in the other
    q, o = _prepared(query, scale, side), _prepared(other, scale, side)
    if q.reduced.std() == 0 or o.reduced.std() == 0:
        return None
    (dx, dy), _ = cv2.phaseCorrelate(o.spectrum, q.spectrum)
    # `warpPolar`'s log scale. A flat spectrum can put the peak far off the canvas;
    # clipped, such a zoom is still out of MIN_SCALE..MAX_SCALE, and exp cannot overflow.
    zoom = float(np.exp(np.clip(-dx * np.log(side / 2.0) / side, -10.0, 10.0)))
    angle = dy * 360.0 / ANGLE_ROWS
    best: tuple[float, np.ndarray] = (-1.0, np.zeros((2, 3)))
    for turn, size in ((angle, zoom), (angle + 180.0, zoom), (0.0, 1.0)):
        if not MIN_SCALE <= size <= MAX_SCALE:
            continue
        # the other's canvas turned and zoomed about its centre, then shifted onto the
        # query's: query canvas point = matrix @ (other canvas point, 1)
        matrix = cv2.getRotationMatrix2D((side / 2.0, side / 2.0), -turn, size)
        (sx, sy), _response = cv2.phaseCorrelate(
            cv2.warpAffine(o.windowed, matrix, (side, side)), q.windowed)
        matrix[:, 2] += np.array([sx, sy])
        # The peak's strength does not tell them apart: a smooth picture correlates
        # about as well 5 degrees off. How alike the overlapping edges are does.
        alike = _correlation(q.detail, o.detail, matrix)
        if alike > best[0]:
            best = (alike, matrix)
    if best[0] < MIN_EDGES_ALIKE:
        return None
    matrix = best[1]
    # Canvas to pixel coordinates: canvas = pixel * scale + the image's offset.
    q_offset = np.array(_corner(q.reduced.shape, side), np.float64)
    o_offset = np.array(_corner(o.reduced.shape, side), np.float64)
    linear = matrix[:, :2]
    shift = (linear @ o_offset + matrix[:, 2] - q_offset) / scale
    a, b = float(linear[0, 0]), float(linear[1, 0])
    return FeatureAlignment(float(np.hypot(a, b)), float(np.arctan2(b, a)),
                            float(shift[0]), float(shift[1]), 0)
