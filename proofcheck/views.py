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
  line up best at another angle), its keys de-rotated; only searched: the upright
  view verifies what it finds, on keypoints, which do not mind rotation.

Only queries get views. A stored tilted image found by a straight query is not
covered (its keys would have to be stored straightened too).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image

from proofcheck.hashing import Signatures, compute_signatures, index_keys
from proofcheck.imaging import DecodedImage
from proofcheck.index import popcount64

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
    straightened: Signatures | None = None

    def search_keys(self) -> tuple[list[int], list[int]]:
        """Every view's index keys and the view each belongs to, for one search
        (`HammingIndex.search_many`): an item near any view is found."""
        keys: list[int] = []
        views: list[int] = []
        signatures = (self.upright.signature,
                      self.mirrored.signature if self.mirrored else None, self.straightened)
        for number, sig in enumerate(s for s in signatures if s is not None):
            view_keys = index_keys(sig)
            keys += view_keys
            views += [number] * len(view_keys)
        return keys, views

    def view_for(self, other: Signatures) -> View:
        """The view to verify `other` with: the mirrored one when it is nearer `other`
        over all its keys than the upright and straightened ones (a flipped copy), else
        the upright one, which also verifies tilted copies (on keypoints)."""
        if self.mirrored is None:
            return self.upright
        upright = min(_nearness(sig, other) for sig in (self.upright.signature,
                                                         self.straightened) if sig)
        if _nearness(self.mirrored.signature, other) < upright:
            return self.mirrored
        return self.upright


def _all_keys(sig: Signatures) -> np.ndarray:
    # Without the flip key: it would make the upright view as near a flipped copy as
    # the mirrored view is.
    return np.array([sig.global_hash, sig.canon_hash, *sig.window_hashes], dtype=np.uint64)


def _nearness(query: Signatures, other: Signatures) -> int:
    """Sum over the query's keys of the distance to the other's nearest key."""
    dist = popcount64(_all_keys(query)[:, None] ^ _all_keys(other)[None, :])
    return int(dist.min(axis=1).sum())


def query_views(signature: Signatures, decoded: DecodedImage | None) -> QueryViews:
    """The views of a query (only the upright one without its pixels)."""
    upright = View(signature, decoded)
    if decoded is None:
        return QueryViews(upright)
    mirror = _transformed(decoded, decoded.image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    mirrored = View(compute_signatures(mirror), mirror, mirrored=True)
    angle = skew_degrees(decoded.image)
    straightened = None
    if angle:
        turned = decoded.image.rotate(-angle, resample=Image.Resampling.BILINEAR)
        straightened = compute_signatures(_transformed(decoded, turned))
    return QueryViews(upright, mirrored, straightened)


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
