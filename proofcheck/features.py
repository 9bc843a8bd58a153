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

import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image

from proofcheck import hamming, memo
from proofcheck.imaging import grey
from proofcheck.opencv import cv2

# Longest side the keypoints are found at: phone text is still crisp, ORB stays ~10 ms.
SIDE = 720
# ORB leaves a patch's width (its default edgeThreshold) unsearched along every edge
# and at every level of its pyramid.
ORB_EDGE = 31
# A 200 x 254 crop of a small dialog had fewer than 12 keypoints left inside that
# margin: smaller images are enlarged to this longest side first.
MIN_SIDE = 400
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
# A copy is at most this much smaller or larger than its original. RANSAC can prefer
# a fit far outside that (matches collapsing onto one spot of the query: a local
# edit's red price tag on a smooth wallpaper held 61 such "inliers", more than the
# true fit's); its matches are set aside and the rest fitted again, MAX_FITS in all.
MIN_SCALE, MAX_SCALE = 0.1, 10.0
MAX_FITS = 3
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
    responses: np.ndarray  # float32 (n,), ORB's corner score, comparable within a level
    levels: np.ndarray  # int (n,), the level of ORB's pyramid each was found at
    threshold: int  # the FAST threshold they were found at


# The query of a search is compared with many candidates in a row, and a candidate kept
# in the worker's pixel cache comes back in later searches: keep an image's keypoints
# (some 40 KB a threshold) while the image is kept.
@memo.per_object
def _found_at(_image: Image.Image) -> dict[int, _Keypoints | None]:
    """An image's keypoints found so far, by FAST threshold (filled by `_keypoints_at`)."""
    return {}


def _keypoints(image: Image.Image) -> _Keypoints | None:
    """The image's keypoints at the first of FAST_THRESHOLDS that finds
    ENOUGH_KEYPOINTS, or at the last; None when too few to align on."""
    found = None
    orb_input = cache(lambda: _orb_input(image))  # reduced once for the thresholds tried
    for threshold in FAST_THRESHOLDS:
        found = _keypoints_at(image, threshold, orb_input)
        if found is None or len(found.points) >= ENOUGH_KEYPOINTS:
            break
    return found if found is not None and len(found.points) >= MIN_INLIERS else None


OrbInput = tuple[np.ndarray, float]  # grey pixels at ORB's size, and their scale


def _keypoints_at(image: Image.Image, threshold: int,
                  orb_input: Callable[[], OrbInput | None] | None = None) -> _Keypoints | None:
    """The image's keypoints at one FAST threshold (None for a strip too thin for ORB)."""
    known = _found_at(image)
    if threshold not in known:
        prepared = orb_input() if orb_input is not None else _orb_input(image)
        known[threshold] = None if prepared is None else _detect(*prepared, threshold)
    return known[threshold]


def _at_most(image: Image.Image, found: _Keypoints, threshold: int) -> _Keypoints:
    """The image's keypoints `found` by the cascade, or found again at `threshold`
    when that is lower."""
    if found.threshold <= threshold:
        return found
    return _keypoints_at(image, threshold) or found


def _orb_input(image: Image.Image) -> OrbInput | None:
    """The image's grey pixels reduced (or enlarged) for ORB, and the factor; None for
    a strip too thin to search."""
    pixels = np.asarray(grey(image))
    longest = max(pixels.shape)
    scale = min(1.0, SIDE / longest) if longest >= MIN_SIDE else MIN_SIDE / longest
    if scale != 1.0:
        size = (max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA if scale < 1.0
                            else cv2.INTER_LINEAR)
    if min(pixels.shape) <= 2 * ORB_EDGE:
        # Nothing lies a patch's width from both edges (a banner a few rows high), and
        # ORB's pyramid shrinks such a strip to nothing, where OpenCV raises.
        return None
    return pixels, scale


def _detect(pixels: np.ndarray, scale: float, threshold: int) -> _Keypoints:
    orb = cv2.ORB.create(nfeatures=KEYPOINTS, fastThreshold=threshold)
    found, descriptors = orb.detectAndCompute(pixels, None)
    if descriptors is None:
        return _Keypoints(np.empty((0, 2), np.float32), np.empty((0, 32), np.uint8),
                          np.empty(0, np.float32), np.empty(0, np.int32), threshold)
    points = np.array([k.pt for k in found], dtype=np.float32) / scale
    return _Keypoints(points, descriptors, np.array([k.response for k in found], np.float32),
                      np.array([k.octave for k in found], np.int32), threshold)


def align(query: Image.Image, other: Image.Image) -> FeatureAlignment | None:
    """The similarity transform that best maps `other` onto `query`, or None when too
    few keypoints agree on one."""
    q = _keypoints(query)
    o = _keypoints(other)
    if q is None or o is None:
        return None
    # Both at one FAST threshold, the lower: the cascade stops at the first that finds
    # enough corners, and an edit's sharp print or a sticker on a smooth wallpaper
    # finds them at 20 where the wallpaper itself needed 8. The copy's corners were
    # then the edit's alone, and no fit was found (bench/duplicates.py, local edits
    # of MATE's Blinds and Stripes: 401 corners at 20 against the original's 1000 at
    # 8; at 8 both, 185 inliers).
    q, o = _at_most(query, q, o.threshold), _at_most(other, o, q.threshold)
    fitted = _fit(q.points, q.descriptors, o.points, o.descriptors, max(query.size))
    if fitted is None:
        return None
    matrix, inliers = fitted
    a, b = float(matrix[0, 0]), float(matrix[1, 0])
    return FeatureAlignment(float(np.hypot(a, b)), float(np.arctan2(b, a)),
                            float(matrix[0, 2]), float(matrix[1, 2]), inliers)


# A keypoint with a twin in its own image, a descriptor this near, fails the ratio test
# against any copy: its two nearest there are itself and the twin.
TWIN_BITS = 25
# An image is one keypoints cannot align when it has fewer than ENOUGH_KEYPOINTS even
# at the lowest FAST threshold (a smooth gradient: a dozen), or when this share of its
# keypoints have twins (a checkerboard: all of its 928). Of bench/duplicates.py's 260
# originals, 14 by the first (smooth and flat wallpapers, two sparse dialogs) and
# 27 by the second (tilings, mandalas, the checkerboard, photos of sky), 30 in all;
# its rendered chats and receipts have 3-15% twinned.
TWINNED_SHARE = 0.5


@memo.per_object
def indistinct(image: Image.Image) -> bool:
    """Too few keypoints, or too many alike, for `align` to find a copy of the image:
    another alignment has to be tried (`registration`)."""
    found = _keypoints(image)
    if found is None or len(found.points) < ENOUGH_KEYPOINTS:
        return True
    distances, _rows = hamming.two_nearest(found.descriptors, found.descriptors)
    return float(np.mean(distances[:, 1] <= TWIN_BITS)) >= TWINNED_SHARE


def _fit(q_points: np.ndarray, q_descriptors: np.ndarray, o_points: np.ndarray,
         o_descriptors: np.ndarray, query_side: int) -> tuple[np.ndarray, int] | None:
    """The similarity transform (2 x 3) from the other's keypoints to the query's that
    RANSAC fits to their ratio-tested matches, and its inlier count; None under
    MIN_INLIERS, or when MAX_FITS tries find no scale a copy can have."""
    distances, rows = hamming.two_nearest(o_descriptors, q_descriptors)
    # A best match equally near as the second fails the test, so the rows kept are
    # each descriptor's one nearest, whatever the order of ties.
    good = (rows[:, 1] >= 0) & (distances[:, 0] < RATIO * distances[:, 1])
    if int(good.sum()) < MIN_INLIERS:
        return None
    src = o_points[good]
    dst = q_points[rows[good, 0]]
    tolerance = REPROJECTION_PX * query_side / SIDE
    for _ in range(MAX_FITS):
        matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                                      ransacReprojThreshold=tolerance)
        if matrix is None or inliers is None or int(inliers.sum()) < MIN_INLIERS:
            return None
        if MIN_SCALE <= float(np.hypot(matrix[0, 0], matrix[1, 0])) <= MAX_SCALE:
            return matrix, int(inliers.sum())
        # Mostly a transform that shrinks the other to a point: its "inliers" are a
        # cluster of look-alike corners in the query (one word's letters, found again
        # at every level of the pyramid), which RANSAC preferred to the true fit.
        outside = ~inliers.ravel().astype(bool)
        if int(outside.sum()) < MIN_INLIERS:
            return None
        src, dst = src[outside], dst[outside]
    return None


# A search's candidates are ranked before any is decoded: by the RANSAC inliers of their
# strongest keypoints, stored with each check (`Sketch`), against all of the query's
# (`query_sketch`). On bench/duplicates.py copies the original's score stands out among
# 64 candidates with the 256 strongest (originals 37-177 inliers, the best stranger
# 6-127, mostly under 20); storing all 1000 would cost four times the storage. A pair
# costs 0.45 ms with the query's 1000 keypoints, 0.17 ms with its 256 strongest.
SKETCH_KEYPOINTS = 256
# Then SKETCH_SPREAD more, from the parts of the picture (SKETCH_PARTS x SKETCH_PARTS)
# those hold fewest: a 60% crop of a small GIMP dialog that kept a sparse panel (one
# slider, a spin box) had no inliers at all with its original's 256, whose corners lay
# in the tab row it cut off (17-74 with all its keypoints). bench/duplicates.py's
# copies (seeds 1 / 2), originals with more inliers than every other candidate of
# their pool: 60% crops 236 / 230 -> 244 / 242 (+128: 247 / 246), crops to 80%,
# captions and re-screenshots 1 / 1 more. All 256 spread over the parts ranked crops as
# well but fed the descriptor votes (`votes.py`) less distinct corners: in
# bench/crowded.py's index, captioned chats 60 -> 55 of 60 reached the pool; the votes
# file the first SKETCH_KEYPOINTS only (`Sketch.voting`), as before.
SKETCH_SPREAD = 64
SKETCH_PARTS = 3


@dataclass(frozen=True)
class Sketch:
    """An image's strongest keypoints, enough to tell whether another image shows it."""

    side: int  # the image's longest side, which sets RANSAC's tolerance
    points: np.ndarray  # float32 (n, 2), full-resolution pixel coordinates
    descriptors: np.ndarray  # uint8 (n, 32), ORB
    # The FAST threshold they were found at; None in records written before
    # 2026-12-06, which did not say.
    threshold: int | None = None

    _HEADER = struct.Struct("<BIH")  # version, side, keypoints
    _THRESHOLD = struct.Struct("<B")  # after the header, from version 2 on
    _VERSION = 2

    def voting(self, strongest: int = SKETCH_KEYPOINTS) -> np.ndarray:
        """The descriptors the votes file: the `strongest` first, which a sketch made
        with that many strongest holds before its spread (`_strongest`)."""
        return self.descriptors[:strongest]

    def to_bytes(self) -> bytes:
        head = self._HEADER.pack(self._VERSION, self.side, len(self.points))
        return (head + self._THRESHOLD.pack(self.threshold or 0)
                + self.points.astype("<f4").tobytes()
                + self.descriptors.astype(np.uint8).tobytes())

    @classmethod
    def from_bytes(cls, data: bytes) -> Sketch:
        """A stored sketch; ValueError for a record that is not one."""
        head = cls._HEADER
        if len(data) < head.size:
            raise ValueError("keypoint sketch record too short")
        version, side, n = head.unpack_from(data)
        if version not in (1, cls._VERSION) or side < 1:
            raise ValueError(f"not a keypoint sketch record (version {version}, side {side})")
        start = head.size + (cls._THRESHOLD.size if version >= 2 else 0)
        if len(data) != start + n * (8 + 32):
            raise ValueError(f"keypoint sketch record of {len(data)} bytes for {n} keypoints")
        threshold = cls._THRESHOLD.unpack_from(data, head.size)[0] if version >= 2 else 0
        points = np.frombuffer(data, "<f4", 2 * n, start).reshape(n, 2)
        if not np.isfinite(points).all():
            raise ValueError("keypoint sketch record with non-finite coordinates")
        descriptors = np.frombuffer(data, np.uint8, 32 * n, start + 8 * n).reshape(n, 32)
        return cls(side, points.astype(np.float32), descriptors, threshold or None)


def sketch(image: Image.Image) -> Sketch:
    """The image's SKETCH_KEYPOINTS strongest keypoints, of every level of ORB's
    pyramid in the share found there, and SKETCH_SPREAD more where those are fewest;
    none when it has too few to align on (a flat picture), which is stored as such.
    Sketches stored before 2026-12-05 hold the strongest by response alone, and
    before 2026-12-07 no more than the strongest: still read, and ranked as they
    were."""
    return _strongest(image, _keypoints(image), SKETCH_KEYPOINTS, SKETCH_SPREAD)


def query_sketch(image: Image.Image, threshold: int | None = None) -> Sketch:
    """All of a query's keypoints, to rank stored sketches against; to rank one
    found at a lower FAST `threshold` than the query's own, found at that threshold
    too (see `align`). A crop keeps only part of its original, and the original's
    strongest keypoints there are not the crop's strongest: found at another scale
    (both are reduced to one longest side), their corner scores order them
    differently. Against the crop's own 256 strongest, originals of 60%-area crops had
    no inliers at all, behind strangers' 12-31."""
    found = _keypoints(image)
    if found is not None and threshold is not None:
        found = _at_most(image, found, threshold)
    return _strongest(image, found, KEYPOINTS)


def _strongest(image: Image.Image, found: _Keypoints | None, count: int,
               spread: int = 0) -> Sketch:
    """The `count` strongest of `found`, then `spread` more where those are fewest."""
    if found is None:
        # Every threshold tried, too few found: what it says is that it was looked at.
        return Sketch(max(image.size), np.empty((0, 2), np.float32), np.empty((0, 32), np.uint8),
                      FAST_THRESHOLDS[-1])
    # The strongest of every level of the pyramid in the share ORB found there. By
    # response alone 80-100% came from the finest two levels, which a copy shown
    # smaller (pasted into another screen) has only at coarser ones: against such
    # sketches 225 of 258 re-screenshotted originals of bench/duplicates.py --limit 0
    # had more inliers than every other candidate in their pool, 250 now (with crops,
    # captions, rotations and stickers 1,232 -> 1,252 of 1,295; bench/pool_ranking.py).
    by_level = np.lexsort((-found.responses, found.levels))
    levels = found.levels[by_level]
    by_share = by_level[np.argsort(_rank_within(levels) / np.bincount(levels)[levels],
                                   kind="stable")]
    strongest, rest = by_share[:count], by_share[count:]
    if spread and len(rest):
        # The strongest lie where the print is densest (a dialog's tab row): the rest go
        # to the parts of the picture they left thinnest, each part's best first.
        held = np.bincount(_part_of(found.points[strongest], image.size),
                           minlength=SKETCH_PARTS**2)
        part = _part_of(found.points[rest], image.size)
        fill = rest[np.argsort(held[part] + _rank_within(part), kind="stable")[:spread]]
        strongest = np.concatenate([strongest, fill])
    return Sketch(max(image.size), found.points[strongest], found.descriptors[strongest],
                  found.threshold)


def _part_of(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Which of SKETCH_PARTS x SKETCH_PARTS equal parts of an image `size` each point is in."""
    column = np.minimum((points[:, 0] * SKETCH_PARTS / size[0]).astype(int), SKETCH_PARTS - 1)
    row = np.minimum((points[:, 1] * SKETCH_PARTS / size[1]).astype(int), SKETCH_PARTS - 1)
    return row * SKETCH_PARTS + column


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """Each entry's place among the earlier entries of its group (0 for the first)."""
    order = np.argsort(groups, kind="stable")
    ordered = groups[order]
    rank = np.empty(len(groups), int)
    rank[order] = np.arange(len(groups)) - np.searchsorted(ordered, ordered)
    return rank


def sketch_inliers(query: Sketch, other: Sketch) -> int:
    """How many of the other's sketched keypoints one similarity transform maps onto the
    query's (0 under MIN_INLIERS): a copy's score, for ranking candidates."""
    if min(len(query.points), len(other.points)) < MIN_INLIERS:
        return 0
    fitted = _fit(query.points, query.descriptors, other.points, other.descriptors, query.side)
    return 0 if fitted is None else fitted[1]
