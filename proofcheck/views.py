"""The query of a search, seen as uploaded, mirrored and straightened.

Stored images are indexed as uploaded. A copy may have been flipped left-right (a
common dodge of reverse-image search) or photographed or pasted at a tilt. Neither
survives hashing: every window key of a flipped receipt lands elsewhere, so the
original ranks behind other receipts of its bank that share its blank margins, and a
5-degree tilt moves most keys by 8-16 bits. So the query is searched three ways:

- *upright*: as uploaded;
- *mirrored*: flipped left-right, searched and verified as a query of its own
  (keypoint descriptors are not mirror-invariant, so only the mirrored pixels can be
  verified against a flipped original); its changed boxes are mapped back;
- *straightened*: when the image has a clear tilt (text rows and interface lines
  line up best at another angle), its keys de-rotated. The upright view verifies what
  they find, on keypoints, which do not mind rotation; where those find no copy (a
  picture of a few flat shapes has too few corners), the pair is judged once more
  with its tilted side turned upright (`straightened`, `candidates`).

The straightened keys travel in the image's `Signatures` (`with_straightened`) and are
stored and indexed with it, so a tilted image checked first is found by its straight
original checked later. The mirrored view needs no such thing: a mirror is its own
inverse, so the later image's mirrored view finds the earlier flipped one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from proofcheck import memo
from proofcheck.blockmatch import TURNED
from proofcheck.hashing import Signatures, compute_signatures, file_signatures, own_keys
from proofcheck.imaging import DecodedImage
from proofcheck.index import popcount64
from proofcheck.opencv import cv2

# Skew search: angles tried (degrees) on a small edge image, then a half-degree either
# side of the best. Tilts past 8 degrees are not near copies any more but photos of one.
SKEW_LONG_SIDE = 256
SKEW_ANGLES = np.arange(-8.0, 8.01, 1.0)
# A tilt is clear when the best angle's row profile is this much sharper than at zero.
# Measured with this code on bench/duplicates.py's 120 originals: none of them gets a
# tilt; of their 5-degree copies 94 are measured within half a degree, 16 not at all,
# 10 further off (at 384 px and half-degree steps 109 were found, for twice the 4.8 ms
# per image; the keypoint check finds most of the rest anyway).
SKEW_MIN_GAIN = 1.2
SKEW_MIN_DEGREES = 1.0


@dataclass(frozen=True)
class View:
    """One way of looking at the query: its signatures and, when at hand, its pixels."""

    signature: Signatures
    image: DecodedImage | None
    mirrored: bool = False


@dataclass(frozen=True)
class QueryViews:
    """Every view of one query; only the upright one when its pixels are not at hand."""

    upright: View
    mirrored: View | None = None

    def search_keys(self) -> tuple[list[int], list[int]]:
        """Every view's index keys and the view each belongs to, for one search
        (`HammingIndex.search_many`): an item near any view is found."""
        upright = self.upright.signature
        per_view = (own_keys(upright), own_keys(self.mirrored.signature) if self.mirrored
                    else [], list(dict.fromkeys(upright.straightened_hashes or ())))
        keys: list[int] = []
        views: list[int] = []
        for number, view_keys in enumerate(k for k in per_view if k):
            keys += view_keys
            views += [number] * len(view_keys)
        return keys, views

    def view_for(self, other: Signatures) -> View:
        """The view to verify `other` with: the mirrored one when it is nearer `other`
        over all its keys than the upright and straightened ones (a flipped copy), else
        the upright one, which also verifies tilted copies (on keypoints)."""
        if self.mirrored is None:
            return self.upright
        theirs = np.concatenate([_all_keys(other), _straightened_keys(other)])
        upright = min(_nearness(mine, theirs) for mine in (
            _all_keys(self.upright.signature), _straightened_keys(self.upright.signature))
            if len(mine))
        if _nearness(_all_keys(self.mirrored.signature), theirs) < upright:
            return self.mirrored
        return self.upright


# Without the flip keys: they would make the upright view as near a flipped copy as
# the mirrored view is.
def _all_keys(sig: Signatures) -> np.ndarray:
    return np.array([sig.global_hash, sig.canon_hash, *sig.window_hashes], dtype=np.uint64)


def _straightened_keys(sig: Signatures) -> np.ndarray:
    turned = sig.straightened_hashes or ()
    return np.array([*turned[:2], *turned[3:]], dtype=np.uint64)


def turned_nearness(query: Signatures, query_turned: bool, other: Signatures,
                    other_turned: bool) -> float:
    """How near the query's keys are to the other's, per key, with either side's keys
    as straightened (`with_straightened`) or as it is; inf when a side asked for
    straightened keys has none."""
    mine = _straightened_keys(query) if query_turned else _all_keys(query)
    theirs = _straightened_keys(other) if other_turned else _all_keys(other)
    if not len(mine) or not len(theirs):
        return float("inf")
    return _nearness(mine, theirs) / len(mine)


def _nearness(mine: np.ndarray, theirs: np.ndarray) -> int:
    """Sum over `mine` of the distance to the nearest of `theirs`."""
    return int(popcount64(mine[:, None] ^ theirs[None, :]).min(axis=1).sum())


def query_views(signature: Signatures, decoded: DecodedImage | None) -> QueryViews:
    """The views of a query (only the upright one without its pixels)."""
    if decoded is None:
        return QueryViews(View(signature, None))
    mirror = _transformed(decoded, decoded.image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    mirrored = View(compute_signatures(mirror), mirror, mirrored=True)
    return QueryViews(View(with_straightened(signature, decoded), decoded), mirrored)


# The query's tilt is measured and turned once for its straightened keys and again
# for the pixel checks of its candidates (`candidates`), and a candidate stored tilted
# is turned where one is checked: two entries hold the query and the candidate.
@memo.by_identity(2)
def straightened(decoded: DecodedImage) -> tuple[DecodedImage, Signatures, float] | None:
    """The image turned upright, its signatures, and the angle it was turned by
    (`skew_degrees`); None without a clear tilt. Its colour plane is not turned with
    it: none is kept."""
    angle = skew_degrees(decoded.image)
    if not angle:
        return None
    image = decoded.image.rotate(-angle, resample=Image.Resampling.BILINEAR)
    image.info[TURNED] = angle
    turned = replace(_transformed(decoded, image), chroma=None)
    return turned, compute_signatures(turned), angle


def with_straightened(signature: Signatures, decoded: DecodedImage) -> Signatures:
    """`signature` with the keys of `decoded` straightened when it has a clear tilt
    (none when it has not); as it was when they are there already."""
    if signature.straightened_hashes is not None:
        return signature
    turned = straightened(decoded)
    if turned is None:
        return replace(signature, straightened_hashes=())
    sig = turned[1]
    return replace(signature, straightened_hashes=(
        sig.global_hash, sig.canon_hash, sig.flip_hash, *sig.window_hashes))


def unturned_box(box: tuple[int, int, int, int] | None, angle: float, width: int,
                 height: int) -> tuple[int, int, int, int] | None:
    """A box found in an image turned by `-angle` (`straightened`), as the box around
    it in the image as uploaded, `width` x `height`, clipped to it."""
    if box is None:
        return None
    x, y, w, h = box
    corners = np.array([(x, y, 1), (x + w, y, 1), (x, y + h, 1), (x + w, y + h, 1)], float)
    # Turning back by `angle`, counter-clockwise about the centre as PIL and OpenCV do.
    xs, ys = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0) @ corners.T
    x0, y0 = max(0, int(np.floor(xs.min()))), max(0, int(np.floor(ys.min())))
    x1, y1 = min(width, int(np.ceil(xs.max()))), min(height, int(np.ceil(ys.max())))
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def stored_signatures(data: bytes, max_pixels: int, decoded: DecodedImage) -> Signatures:
    """The signatures an image is stored and indexed with: those of its file (one
    decode path for index and query, `file_signatures`), with its straightened keys."""
    return with_straightened(file_signatures(data, max_pixels, decoded), decoded)


def _transformed(decoded: DecodedImage, image: Image.Image) -> DecodedImage:
    return replace(decoded, image=image, width=image.width, height=image.height)


def skew_degrees(image: Image.Image) -> float:
    """The tilt of the image's rows in degrees (counter-clockwise), or 0.0 when none is
    clear: the angle at which horizontal edges (text rows, interface lines) add up to
    the sharpest row profile."""
    small = image.convert("L")
    scale = SKEW_LONG_SIDE / max(small.size)
    if scale < 1.0:
        small = small.resize((max(1, round(small.width * scale)),
                              max(1, round(small.height * scale))), Image.Resampling.BOX)
    grey = np.asarray(small, dtype=np.float32)
    edges = np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))
    h, w = edges.shape
    if min(h, w) < 16:
        return 0.0

    def sharpness(angle: float) -> float:
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), float(angle), 1.0)
        rows = cv2.warpAffine(edges, turn, (w, h), flags=cv2.INTER_LINEAR).sum(axis=1)
        return float((rows.astype(np.float64) ** 2).sum())

    scores = [sharpness(a) for a in SKEW_ANGLES]
    flat = scores[int(np.argmin(np.abs(SKEW_ANGLES)))]  # the profile at zero, scored above
    best = float(SKEW_ANGLES[int(np.argmax(scores))])
    best_score = max(scores)
    for a in (best - 0.5, best + 0.5):
        s = sharpness(a)
        if s > best_score:
            best, best_score = a, s
    if flat <= 0 or best_score < SKEW_MIN_GAIN * flat or abs(best) < SKEW_MIN_DEGREES:
        return 0.0
    # The row profile is sharpest with the image turned by `best`: its rows are tilted
    # by the opposite angle.
    return -best


def mirror_box(box: tuple[int, int, int, int] | None,
               width: int) -> tuple[int, int, int, int] | None:
    """A box in the mirrored image, in the upright image's coordinates."""
    if box is None:
        return None
    x, y, w, h = box
    return width - x - w, y, w, h
