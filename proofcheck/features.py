"""Alignment of two images from local features: ORB keypoints, matched and fitted with
RANSAC to a similarity transform (scale, rotation, shift).

The coarse alignment in `matching` comes from which hash windows agree, refined on
small grids; it is good for borders, caption bars and straight crops, but a rotated,
tightly cropped or re-shot copy can leave it off by 20% of scale, and then nothing
downstream can confirm the copy. Keypoints do not care about framing. The transform
found here is only a hypothesis: two screenshots of one app share enough layout to
align well, so `blockmatch` still has to find the same small print at that alignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from proofcheck import memo
from proofcheck.imaging import grey

# Longest side the keypoints are found at: phone text is still crisp, ORB stays ~10 ms.
SIDE = 720
# Matching is quadratic in the keypoints: at 2000 knnMatch took 12 ms a pair, 16% of a
# search's CPU. Full bench/duplicates.py, 2000 -> 1000: recall at <= 0.1% / 0.01% FMR
# 0.971 / 0.896 -> 0.972 / 0.897, hard negatives 0 both, CPU per query 448 -> 372 ms.
# (While blocks agreed at NCC 0.6, 1000 let one test's pair of receipts of one layout
# pass for an edit: fewer keypoints shifted their alignment.)
KEYPOINTS = 1000
# FAST corner thresholds, tried in turn until ENOUGH_KEYPOINTS are found: at OpenCV's
# default of 20 a smooth painting or a storm sky has 0-30 corners at 720 px (too few
# to align on); lower thresholds find hundreds there and are only paid for such images.
FAST_THRESHOLDS = (20, 8, 3)
ENOUGH_KEYPOINTS = 300
RATIO = 0.8  # Lowe's ratio test on the two nearest descriptors
MIN_INLIERS = 12
REPROJECTION_PX = 4.0  # RANSAC tolerance, in pixels of the reduced images


@dataclass(frozen=True)
class FeatureAlignment:
    """q = R(rot) * sx * o + (tx, ty): the other's pixel coordinates to the query's."""

    sx: float
    rot: float
    tx: float
    ty: float
    inliers: int
    flip: bool = False

    def to_other(self, qx: np.ndarray, qy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dx, dy = qx - self.tx, qy - self.ty
        c, s = np.cos(self.rot), np.sin(self.rot)
        return (c * dx + s * dy) / self.sx, (-s * dx + c * dy) / self.sx


@dataclass(frozen=True)
class _Keypoints:
    points: np.ndarray  # float32 (n, 2), full-resolution pixel coordinates
    descriptors: np.ndarray


# The query of a search is compared with many candidates in a row, and a candidate kept
# in the worker's pixel cache comes back in later searches: keep an image's keypoints
# (some 40 KB) while the image is kept.
@memo.per_object
def _keypoints(image: Image.Image) -> _Keypoints | None:
    pixels = np.asarray(grey(image))
    scale = min(1.0, SIDE / max(pixels.shape))
    if scale < 1.0:
        size = (max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
    for threshold in FAST_THRESHOLDS:
        orb = cv2.ORB.create(nfeatures=KEYPOINTS, fastThreshold=threshold)
        found, descriptors = orb.detectAndCompute(pixels, None)
        if descriptors is not None and len(found) >= ENOUGH_KEYPOINTS:
            break
    if descriptors is None or len(found) < MIN_INLIERS:
        return None
    points = np.array([k.pt for k in found], dtype=np.float32) / scale
    return _Keypoints(points, descriptors)


def align(query: Image.Image, other: Image.Image) -> FeatureAlignment | None:
    """The similarity transform that best maps `other` onto `query`, or None when too
    few keypoints agree on one."""
    q = _keypoints(query)
    o = _keypoints(other)
    if q is None or o is None:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(o.descriptors, q.descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None
    src = o.points[[m.queryIdx for m in good]]
    dst = q.points[[m.trainIdx for m in good]]
    tolerance = REPROJECTION_PX * max(query.size) / SIDE
    matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                                  ransacReprojThreshold=tolerance)
    if matrix is None or inliers is None or int(inliers.sum()) < MIN_INLIERS:
        return None
    a, b = float(matrix[0, 0]), float(matrix[1, 0])
    scale = float(np.hypot(a, b))
    if not 0.1 <= scale <= 10.0:
        return None
    return FeatureAlignment(scale, float(np.arctan2(b, a)), float(matrix[0, 2]),
                            float(matrix[1, 2]), int(inliers.sum()))
