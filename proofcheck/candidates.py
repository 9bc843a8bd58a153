"""From index candidates to verdicts: which candidates of a search are verified how.

`matching.compare` says whether two images are copies on their signatures,
`pixelmatch.compare_images` on their pixels. This module decides, per search, which
candidates get which: every one on signatures, and with the query's pixels at hand the
RANK_POOL nearest are ranked and PIXEL_CHECKS of them (the nearest by keys, then by
the inliers of their stored keypoint sketches against all the query's keypoints)
decoded and confirmed on pixels, and with which view of the query (`views`: mirrored,
or either side turned upright when tilted). Split from `matching` on 2026-12-04: its
pool sizes are measured on their own (bench/worker_search.py --compare pool, --compare
sketches) and it is the one part the worker's search loop (`neardup`) calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from proofcheck import features
from proofcheck.hashing import Signatures
from proofcheck.imaging import DecodedImage
from proofcheck.index import HammingIndex
from proofcheck.matching import SEARCH_RADIUS, PairVerdict, compare
from proofcheck.pixelmatch import compare_images
from proofcheck.views import (
    QueryViews,
    View,
    mirror_box,
    query_views,
    straightened,
    turned_nearness,
    unturned_box,
)

T = TypeVar("T")

# On pixels, per query: every candidate is checked, nearest first: duplicates the
# signatures found are confirmed, and the others get a second look aligned on keypoints
# (rotations, tight crops, stickers). Only two of them did until 2026-12-02: a rotated
# or stickered copy is often not among the two nearest (bench/duplicates.py: rotate_5
# and sticker recall +0.04 each for 20-30% more CPU per query).
PIXEL_CHECKS = 8
# Which candidates get those checks. Keys see layout, not small print: a crop of one
# bank's receipt is as near, key for key, to that bank's other receipts, and on
# bench/duplicates.py 13 crops and captioned copies ranked 9th to 12th behind them.
# Keypoints see the small print: among the 24 nearest by keys, the original had
# 1.4-3.7x the RANSAC inliers of the best stranger in 7 of 8 such copies. So the
# KEY_FIRST nearest by keys are checked, as before, and the rest of the PIXEL_CHECKS
# are the others of the pool with the most inliers; the remaining ones are dropped.
# Full bench/duplicates.py: mean recall 0.968 -> 0.975 (crop_60 and caption_bar 0.950
# and 0.958 -> 0.983), hard negatives still 0.
KEY_FIRST = 4
# The pool was 16 while ranking it meant decoding every member and aligning all its
# keypoints (a pool of 24 cost +24% CPU per search for one rotated copy). Ranked on
# stored sketches (`features.Sketch`) nothing is decoded but the PIXEL_CHECKS chosen,
# and a copy whose keys sit at the radius's edge, behind dozens of strangers (an
# edited chat 39th, a re-screenshotted wallpaper 34th), is reached. 128 since
# 2026-12-06: where an app has a hundred screenshots indexed, 60% crops of its receipts
# sat 70th to 135th by keys (bench/crowded.py, below).
RANK_POOL = 128
# Of the pool's places, up to VOTED go to the images the query's keypoint descriptors
# vote for most (`votes.DescriptorVotes`) that keys did not bring. Where an app has a
# hundred screenshots indexed, its strangers are nearer by keys to a re-screenshot or a
# captioned copy than its original is (status and app bars): bench/crowded.py, 660
# screenshots of six apps and banks, originals found 353 of 420 copies with a pool by
# keys, 404 with 16 places voted (re-screenshots 30 -> 56 of 60); one other screenshot
# called a duplicate by keys, none with votes. The originals still lost sat 17th to
# 211th by votes (captioned copies 17th to 75th); a pool of 128 with 64 places voted
# found 409 of 420 among 1,260 screenshots (401 with 64 and 16), none called falsely,
# and the same copies of all 260 originals of bench/duplicates.py, for 2-3% more CPU a
# search (bench/worker_search.py --compare pool-size).
VOTED = 64
# Candidates stored before sketches were (or whose sketch is unreadable) are ranked as
# before, on their decoded pixels, among the nearest UNSKETCHED_POOL only.
UNSKETCHED_POOL = 16


def pool_of(by_keys: list[T], voted: list[T], size: int = RANK_POOL) -> list[T]:
    """The pool of a search, `size` at most: the nearest by keys and the most voted
    (each list distinct, best first), keys first. Voted ones keys already brought take
    no place of their own, so keys keep every place the votes do not need. Every member
    must be within the pool: a candidate past it is judged on signatures alone, which
    call some 30% of same-app strangers duplicates."""
    pool = list(by_keys[:size - min(len(voted), VOTED, size)])
    extra = [item for item in voted[:VOTED] if item not in pool]
    for item in by_keys[len(pool):]:
        if len(pool) + len(extra) >= size:
            break
        if item in extra:
            extra.remove(item)
        pool.append(item)
    return pool + extra[:size - len(pool)]


def verify_candidates(
    query: QueryViews | Signatures, candidates: list[tuple[int, Signatures]],
    load_image: Callable[[int], DecodedImage | None] | None = None,
    load_sketch: Callable[[int], features.Sketch | None] | None = None,
    voted: Sequence[int] = (),
) -> list[tuple[int, PairVerdict]]:
    """Verdicts on index candidates (closest first), best first. Each candidate is
    compared with the query's view nearest it (`views`: a flipped copy with the mirrored
    query, whose changed boxes are mapped back; the upright query too when that finds
    no copy). With the query's pixels in its views and `load_image` (a candidate's
    decoded image, or None when it is gone), the PIXEL_CHECKS candidates chosen as
    described above are confirmed on pixels and the others of the pool dropped;
    `load_sketch` gives a candidate's stored keypoint sketch, or None; `voted`, the
    candidates the query's keypoint descriptors vote for, most first. Candidates beyond
    the pool, or whose image is gone, rest on the signatures."""
    views = query if isinstance(query, QueryViews) else QueryViews(View(query, None))
    images = None
    if views.upright.image is not None and load_image is not None:
        images = _pixel_candidates(views.upright.image, candidates[:RANK_POOL], load_image,
                                   load_sketch or (lambda _item: None), voted)
    out: list[tuple[int, PairVerdict]] = []
    for position, (item_id, other_sig) in enumerate(candidates):
        if images is not None and position < RANK_POOL and item_id not in images:
            continue  # a pool member not chosen for the pixel checks
        other = images.get(item_id) if images is not None else None
        view = views.view_for(other_sig)
        verdict = _judge(view, other_sig, other)
        if view.mirrored and (verdict is None or not verdict.is_duplicate):
            verdict = _judge(views.upright, other_sig, other) or verdict
        if (verdict is None or not verdict.is_duplicate) and other is not None:
            verdict = _judge_straightened(views.upright, other_sig, other) or verdict
        if verdict is not None:
            out.append((item_id, verdict))
    out.sort(key=lambda iv: _rank(iv[1]))
    return out


def _pixel_candidates(query: DecodedImage, pool: list[tuple[int, Signatures]],
                      load_image: Callable[[int], DecodedImage | None],
                      load_sketch: Callable[[int], features.Sketch | None],
                      voted: Sequence[int] = (),
                      ) -> dict[int, DecodedImage | None]:
    """The candidates of `pool` (nearest by keys first) that get the pixel checks, with
    their images: the KEY_FIRST nearest, then the most sketch inliers (alike, the most
    `voted` first, then the nearest by keys); None for those whose image is gone, which
    are judged on signatures as before. Only the chosen are decoded, and unsketched
    candidates ranked on their pixels; images are let go as soon as they fall out of
    the running, so no more than PIXEL_CHECKS + 1 are held."""
    chosen: dict[int, DecodedImage | None] = {}
    by_keys = len(pool) if len(pool) <= PIXEL_CHECKS else KEY_FIRST  # small pools: all
    # The query's keypoints at each stored sketch's FAST threshold (`features.align`),
    # found when the first such is ranked.
    query_sketches: dict[int | None, features.Sketch] = {}
    vote_rank = {item: rank for rank, item in enumerate(voted)}
    # -inliers, vote rank, position, item, its image when it had to be decoded to be ranked
    running: list[tuple[int, int, int, int, DecodedImage | None]] = []
    for position, (item, _sig) in enumerate(pool):
        if by_keys > 0:
            image = load_image(item)
            chosen[item] = image
            by_keys -= image is not None
            continue
        image = None
        other_sketch = load_sketch(item)
        if other_sketch is None:
            if position >= UNSKETCHED_POOL:
                continue
            image = load_image(item)
            if image is None:
                chosen[item] = None
                continue
            other_sketch = features.sketch(image.image)
        threshold = other_sketch.threshold
        if threshold not in query_sketches:
            query_sketches[threshold] = features.query_sketch(query.image, threshold)
        inliers = features.sketch_inliers(query_sketches[threshold], other_sketch)
        running.append((-inliers, vote_rank.get(item, len(vote_rank)), position, item, image))
        # Alike in sketch inliers (mostly none at all: a 60% crop of a sparse dialog or
        # of a smooth wallpaper keeps too few of its original's 256 strongest corners),
        # the most voted go first, then the nearest by keys, which already had the
        # KEY_FIRST places. bench/duplicates.py, seven re-framing and editing transforms
        # of all 260 originals, against keys alone: seed 1 the same copies found, 3
        # fewer false pairs (MATE's Flow rotated no longer `edited` of a GIMP dialog);
        # seed 2 one copy more (Flow's and two GIMP dialogs' crops found, two lost), 1
        # false pair fewer.
        running.sort(key=lambda entry: entry[:3])
        del running[PIXEL_CHECKS - KEY_FIRST:]
    for _rank, _votes, _position, item, image in running:
        chosen[item] = image if image is not None else load_image(item)
    return chosen


def _judge(view: View, other_sig: Signatures, other: DecodedImage | None) -> PairVerdict | None:
    """One candidate against one view of the query: on signatures, then on pixels when
    both images are at hand; boxes in the upright query's coordinates."""
    verdict = compare(view.signature, other_sig)
    if view.image is not None and other is not None:
        confirmed = compare_images(view.image, other, view.signature, other_sig)
        if confirmed is None and verdict is not None and verdict.is_duplicate:
            # The thumbnails' duplicate finds no support in the pixels.
            confirmed = PairVerdict("similar", verdict.distance, None,
                                    round(0.3 * verdict.score, 4))
        verdict = confirmed if confirmed is not None else verdict
    if verdict is not None and view.mirrored:
        verdict = replace(verdict, changed_box=mirror_box(verdict.changed_box,
                                                          view.signature.width))
    return verdict


def _judge_straightened(upright: View, other_sig: Signatures,
                        other: DecodedImage) -> PairVerdict | None:
    """A copy found only once the tilted side of the pair is turned upright: the
    first duplicate verdict of that, or None. Keypoints align most tilted copies as
    they are, but a picture of a few flat shapes (a wallpaper of three polygons, a
    pale square) has too few corners, and its grids and blocks do not search
    rotations. Which side is tilted is known from the keys each was stored with; a
    picture whose own edges slant (those polygons) reads as tilted too, by another
    angle than its tilted copy, so each tilted side is tried turned, alone and with
    the other turned, where its straightened keys bring the pair nearer than it is."""
    if upright.image is None:
        return None
    query, query_sig = upright.image, upright.signature
    as_it_is = turned_nearness(query_sig, False, other_sig, False)
    for query_turned, other_turned in ((False, True), (True, False), (True, True)):
        if turned_nearness(query_sig, query_turned, other_sig, other_turned) >= as_it_is:
            continue  # also where that side has no straightened keys (no tilt)
        left = straightened(query) if query_turned else (query, query_sig, 0.0)
        right = straightened(other) if other_turned else (other, other_sig, 0.0)
        if left is None or right is None:
            continue
        verdict = compare_images(left[0], right[0], left[1], right[1])
        if verdict is not None and verdict.is_duplicate:
            return replace(verdict, changed_box=unturned_box(
                verdict.changed_box, left[2], query.width, query.height))
    return None


def find_matches(
    query_sig: Signatures,
    index: HammingIndex,
    load_signatures: Callable[[int], Signatures],
    limit: int = 20,
    exclude: int | None = None,
    query_image: DecodedImage | None = None,
    load_image: Callable[[int], DecodedImage | None] | None = None,
    load_sketch: Callable[[int], features.Sketch | None] | None = None,
) -> list[tuple[int, PairVerdict]]:
    """Search the index with every key of the query's views, verify each candidate,
    keep matches.

    Returns (item_id, verdict): duplicates first (by score), then template/similar
    ones, at most `limit`. `exclude` skips one item id (the query's own row). With
    `query_image` and `load_image`, verdicts are confirmed on pixels
    (`verify_candidates`), which is what tells two receipts of one bank apart when only
    their small print differs; without them verdicts rest on the 1 KB thumbnails.
    """
    views = query_views(query_sig, query_image)
    keys, key_views = views.search_keys()
    candidates = [item_id for item_id, _ in
                  index.search_many(keys, SEARCH_RADIUS, limit * 5, key_views)
                  if item_id != exclude]
    found = verify_candidates(views, [(i, load_signatures(i)) for i in candidates],
                              load_image, load_sketch)
    return found[:limit]


def _rank(v: PairVerdict) -> tuple[int, float]:
    """Sort key of verdicts, best first: copies before templates, then by score."""
    order = {"exact": 0, "resized": 1, "cropped": 1, "edited": 2, "template": 3, "similar": 4}
    return order[v.relation], -v.score
