"""Pair verification on pixels: `compare_images`, and the difference heat-map.

`matching.compare` judges a pair on its signatures' 1 KB thumbnails, which see layout
but not small print. Here the same comparison runs on the images' pixels at 8x the
resolution (`matching.Grid` over the decoded image), then block by block where small
print is legible (`blockmatch`), and, when the grids find no copy or one the blocks
refute, on a keypoint alignment (`features`): that is what turns two receipts of one
bank into `template`, gives an edit a tight box, and finds rotated and tightly cropped
copies. `diff_heatmap_png` renders the evidence. Split from `matching` on 2026-12-04,
when that module had grown to 1,146 lines.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache

import numpy as np
from PIL import Image, ImageDraw

from proofcheck import blockmatch, colourcheck, features, registration
from proofcheck.blockmatch import BlockCheck, check_blocks
from proofcheck.hashing import Signatures, compute_signatures, phone_bars
from proofcheck.imaging import DecodedImage, grey
from proofcheck.index import popcount64
from proofcheck.matching import (
    CLEAN_COPIES,
    EDIT_MAX_BOX,
    UNCHECKED_RADIUS,
    Alignment,
    Comparison,
    Grid,
    PairVerdict,
    all_keys,
    changed_components,
    coarse_verdict,
    grid_verdict,
    key_score,
    refine,
    smooth,
    stretched_verdicts,
    toned_copy,
)
from proofcheck.opencv import cv2

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


def _pixel_grid(decoded: DecodedImage, sig: Signatures, cells: int) -> Grid:
    bx, by, bw, bh = sig.canon_box
    cols = max(8, round((cells * bw / bh) ** 0.5))
    rows = max(8, cells // cols)
    region = grey(decoded.image).resize(
        (cols, rows), Image.Resampling.BOX, box=(bx, by, bx + bw, by + bh)
    )
    return Grid(smooth(np.asarray(region)), (float(bx), float(by), float(bw), float(bh)))


def _pixel_verdict(
    query: DecodedImage, other: DecodedImage,
    query_sig: Signatures | None = None, other_sig: Signatures | None = None,
    coarse: tuple[PairVerdict, Comparison] | None = None,
) -> tuple[PairVerdict, Comparison | None, Grid] | None:
    """Signature-level verdict (`coarse`, when not the search's own), confirmed by
    the same comparison on 8x finer cells.

    For two images framed alike, a duplicate must survive the pixel pass: differences
    the thumbnail could not see (other names and numbers in the same receipt layout)
    turn it into `template`, one compact change into `edited`. An edit the thumbnail
    already saw gets the pixels' tighter box. Re-framed copies (crops, borders,
    re-screenshots) and non-duplicates otherwise keep the signatures' verdict.
    """
    qs = query_sig or compute_signatures(query)
    os_ = other_sig or compute_signatures(other)
    coarse = coarse or coarse_verdict(qs, os_)
    if coarse is None:
        return None
    v0, c0 = coarse
    cells = _pixel_cells(qs, os_)
    q = _pixel_grid(query, qs, cells)
    o = _pixel_grid(other, os_, cells)
    if c0.alignment.flip:
        o = o.mirrored()
    c = refine(q, o, c0.alignment, register=False, fit=c0.fit)
    # The finer grid's own verdict matters for duplicates, and for a template pair framed
    # alike that may be a small copy at half size.
    framed_template = v0.relation == "template" and c0.alignment.frame
    v = grid_verdict(c, q, PIXEL_CELL_CHANGED, PIXEL_RIM, PIXEL_MERGE) \
        if c is not None and (v0.is_duplicate or framed_template) else None
    if c is not None and v is not None and v.relation == "edited":
        # A brightened copy clips its highlights: a sky or a glow the gain and offset
        # cannot map, in smooth cells no textured block judges (bench/duplicates.py: 7
        # of 260 brightened wallpapers `edited` there). An edit a monotone tone curve
        # explains away was the clipping.
        v = toned_copy(q, o, c, PIXEL_CELL_CHANGED, c.noise(), PIXEL_RIM, PIXEL_MERGE) or v
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


def _pair_alignment(query: Image.Image, other: Image.Image) -> features.FeatureAlignment | None:
    """The similarity transform from `other` onto `query` that the pixel checks, and
    the heat-map showing them, align a pair on when the grids cannot: the keypoints'
    (`features.align`), or where neither image has corners keypoints can tell apart,
    the spectra's (`registration`). Both sides, as a copy of such a picture is one
    too: a small crop of a sparse dialog has too few corners where its original has
    plenty, and registered on another dialog of its layout it passed for a crop of it
    (tests/test_matching.py's palette editors)."""
    found = features.align(query, other)
    if found is None and features.indistinct(query) and features.indistinct(other):
        found = registration.register(query, other)
    return found


def compare_images(
    query: DecodedImage, other: DecodedImage,
    query_sig: Signatures | None = None, other_sig: Signatures | None = None,
    keypoints: features.FeatureAlignment | None = None,
) -> PairVerdict | None:
    """Like `matching.compare`, confirmed on pixels: on grids 8x finer than the
    signatures', then block by block where small print is legible. When the grids'
    alignment finds no copy, or one the blocks refute, the pair is aligned again on
    keypoints (`features`) and judged block by block there: that is what finds rotated
    and tightly cropped copies. A re-framed copy the grids call edited gets that second
    look too, and is a copy when the keypoints find it one. Pass the signatures, and
    the pair's alignment (`_pair_alignment`), if already found."""
    query_sig = query_sig or compute_signatures(query)
    other_sig = other_sig or compute_signatures(other)

    @cache  # the second look at an edit and the fallback share one alignment
    def keypoint_alignment() -> features.FeatureAlignment | None:
        return keypoints or _pair_alignment(query.image, other.image)

    def on_keypoints(distance: int | None,
                     known_edit: tuple[int, int, int, int] | None = None) -> PairVerdict | None:
        """The pair judged on its keypoint alignment; None when nothing can judge it."""
        aligned = keypoint_alignment()
        if aligned is None:
            return None
        if distance is None:
            distance = _key_distance(query_sig, other_sig)
        return _keypoint_verdict(query, other, query_sig, other_sig, aligned, distance,
                                 known_edit)

    def last_looks(verdict: PairVerdict | None) -> PairVerdict | None:
        """Where nothing found a copy: the grids' template the blocks call a copy,
        then a copy stretched onto another shape; else `verdict`."""
        return (_copy_the_grids_misjudged(query, other, query_sig, other_sig, found)
                or _stretched_copy(query, other, query_sig, other_sig) or verdict)

    found = _pixel_verdict(query, other, query_sig, other_sig)
    verdict = found[0] if found else None
    undecided = False  # a duplicate on the grids that the blocks could not judge
    if found is not None and verdict is not None and verdict.is_duplicate and found[1]:
        judged = _grids_judged_on_blocks(query, other, query_sig, other_sig, verdict, found[1])
        if judged is not None:
            if judged.is_duplicate:
                if judged.relation == "edited" and not found[1].alignment.frame:
                    # A re-framed copy resampled twice (pasted into another screen,
                    # then shrunk) can leave a block of a bubble disagreeing under the
                    # grids' alignment, which passes for an edit; keypoints line the
                    # print up, and an edit they confirm stays one.
                    second = on_keypoints(judged.distance)
                    if second is not None and second.relation in CLEAN_COPIES:
                        return second
                return judged
            # Spread disagreement, or other entries of one layout: another template, or
            # a wrong alignment (a copy cut on one axis, whose region the grids took at
            # the wrong scale: tests/test_matching.py's palette dialog).
            verdict = judged
        undecided = judged is None
    # An edit the grids boxed where the blocks could not judge them: what the keypoints'
    # blocks see under it refutes nothing (`_keypoint_verdict`).
    judged_on_keypoints = on_keypoints(
        verdict.distance if verdict is not None else None,
        verdict.changed_box if undecided and verdict is not None else None)
    if judged_on_keypoints is None:
        # Nothing more to judge with: the grids' verdict stands, but a duplicate only
        # on a close key pair. A flat or tiny picture (a draft, a 300 px pattern) has
        # too few textured blocks and keypoints to be checked, and on the grids alone
        # it passed for a crop of a dozen unrelated pictures at key distance 12-16
        # (bench/duplicates.py --show-false).
        if undecided and verdict is not None and (
                (verdict.distance > UNCHECKED_RADIUS
                 and not _keypoints_confirm(keypoint_alignment(), found, other))
                or not _overlap_has_content(found)):
            return PairVerdict("similar", verdict.distance, None, round(0.3 * verdict.score, 4))
        return last_looks(verdict)
    if judged_on_keypoints.is_duplicate or undecided:
        # An undecided duplicate the keypoint alignment refutes is a template.
        return judged_on_keypoints
    return last_looks(verdict)


# A duplicate on the grids that the blocks cannot judge (too little texture: a dark
# nebula, a smooth wallpaper) stands past UNCHECKED_RADIUS when this many keypoints
# agree on an alignment that maps the query's canonical region where the grids' does,
# within ALIGNMENTS_AGREE of the other image's size. Two unrelated pictures do not line up that way;
# screenshots of one app do, but they have the print that blocks judge. Measured on
# bench/duplicates.py's crop of MATE's dark Ubuntu wallpaper: 125 inliers, at key
# distance 16.
KEYPOINTS_CONFIRM = 48
ALIGNMENTS_AGREE = 0.02


# A duplicate on the grids alone needs something to have agreed: this share of the
# overlap's cells at least must stand CONTENT_LEVELS grey levels off its median level.
# bench/duplicates.py's 60% crop of GIMP's symmetry example, a flat light-blue square
# with two slivers of pepper at its edge, was called `cropped` of the city
# photo, the Arc wallpaper and a dialog: each overlap lay on the flat part alone (0 of
# its cells off the median), which matches any flat area. The 37 copies of all 260
# originals found on grids alone, over all 15 transforms, had 1.4% (the same crop
# against its original, where the slivers are the edit) to 97% of such cells; the
# faint draft, halved, 3.6% (2026-12-06).
CONTENT_LEVELS = 3.0
MIN_CONTENT_SHARE = 0.005


def _overlap_has_content(found: tuple[PairVerdict, Comparison | None, Grid] | None) -> bool:
    """Enough of the query's cells that the other overlaps carry content
    (MIN_CONTENT_SHARE of them off the overlap's median level by CONTENT_LEVELS)."""
    if found is None or found[1] is None:
        return True  # nothing compared on the grids: not this rule's to judge
    overlap = ~np.isnan(found[1].diff)
    if not overlap.any():
        return False
    cells = found[2].pixels[overlap]
    off_level = np.abs(cells - np.median(cells)) > CONTENT_LEVELS
    return int(np.count_nonzero(off_level)) >= MIN_CONTENT_SHARE * cells.size


def _keypoints_confirm(aligned: features.FeatureAlignment | None,
                       found: tuple[PairVerdict, Comparison | None, Grid] | None,
                       other: DecodedImage) -> bool:
    """The keypoints, KEYPOINTS_CONFIRM of them at least, map the corners of the
    query's canonical region (the grids' `found`) onto the other where the grids'
    alignment does, within ALIGNMENTS_AGREE of the other's size."""
    if aligned is None or aligned.inliers < KEYPOINTS_CONFIRM or found is None or (
            found[1] is None):
        return False
    xs, ys = blockmatch.box_corners(found[2].box)
    gx, gy = found[1].alignment.to_other(xs, ys)
    kx, ky = aligned.to_other(xs, ys)
    tolerance = ALIGNMENTS_AGREE * max(other.width, other.height)
    return float(np.hypot(gx - kx, gy - ky).max()) <= tolerance


def _copy_the_grids_misjudged(
    query: DecodedImage, other: DecodedImage, query_sig: Signatures, other_sig: Signatures,
    found: tuple[PairVerdict, Comparison | None, Grid] | None,
) -> PairVerdict | None:
    """A pair the grids called `template` whose every textured block agrees at their
    alignment but for resampling's few stray blocks (`BLOCK_NOISE`), pinned at distinct
    places: a copy whose grid cells differ by resampling alone; or one whose blocks
    agree but in one compact region: an edit of it. A smooth picture pasted small into
    another screen has grid cells that differ by more than its little contrast
    (bench/duplicates.py: MATE's Silk re-screenshotted, 48 blocks of 48 agreeing); its
    keypoints, few on such a picture, aligned it a percent off.
    Another picture of one layout differs where its content does."""
    if found is None or found[0].relation != "template" or found[1] is None:
        return None
    al = found[1].alignment
    check = check_blocks(query.image, other.image, query_sig.canon_box, other_sig.canon_box, al)
    if check is None or not check.agreement_pins_the_pair:
        return None
    framed_alike = _same_framing(al, query, other)
    distance = found[0].distance
    copy = PairVerdict("resized" if framed_alike else "cropped", distance, None,
                       round(key_score(distance), 4))
    if check.disagree_count:
        # Disagreeing in one compact region, a minority of the content, the rest
        # agreeing: an edit, which `_judge_blocks` boxes. A patch can move a picture's
        # thumbnail enough for the grids to see another picture of the layout
        # (bench/duplicates.py --limit 0: Painting-Colors' local edit, Silk's sticker;
        # no new false pair). Stray blocks within the noise the blocks allow any copy
        # leave it a copy: GIMP's softglow dialog, enlarged 2.5x into another phone's
        # screen, had 3 of 155 (`template` when any block disagreeing refuted it).
        edited = _judge_blocks(copy, check)
        if edited.relation == "template":
            return None
        copy = edited
    return _final_copy(copy, query, other, other_sig, check, al, framed_alike)


def _stretched_copy(query: DecodedImage, other: DecodedImage, query_sig: Signatures,
                    other_sig: Signatures) -> PairVerdict | None:
    """The pair as a copy stretched onto another shape, the last look where nothing
    else found a copy: at a stretching alignment (`matching.stretched_verdicts`), a
    copy on the finer grids that the blocks confirm as the grids' alignment's are."""
    for coarse in stretched_verdicts(query_sig, other_sig):
        found = _pixel_verdict(query, other, query_sig, other_sig, coarse)
        if found is None or found[1] is None or not found[0].is_duplicate:
            continue
        judged = _grids_judged_on_blocks(query, other, query_sig, other_sig, found[0],
                                         found[1])
        if judged is not None and judged.is_duplicate:
            return judged
    return None


def _grids_judged_on_blocks(query: DecodedImage, other: DecodedImage, query_sig: Signatures,
                            other_sig: Signatures, verdict: PairVerdict,
                            c: Comparison) -> PairVerdict | None:
    """A duplicate the finer grids found at `c`'s alignment, judged block by block
    (`_judge_blocks`) and as a copy (`_final_copy`): a copy, an edit, or `template`
    where the blocks refute it; None where too few blocks can judge it. An edit the
    grids boxed is known to differ: the rest is judged without it, then the blocks
    inside it (`_grid_edit_confirmed`)."""
    al = c.alignment
    full = check_blocks(query.image, other.image, query_sig.canon_box,
                        other_sig.canon_box, al)
    check = full.ignoring(verdict.changed_box) \
        if full is not None and verdict.changed_box is not None else full
    if full is None or check is None:
        return None
    judged = _judge_blocks(verdict, check)
    if judged.is_duplicate and verdict.changed_box is not None:
        judged = _grid_edit_confirmed(judged, full, c)
    if judged.is_duplicate:
        judged = _final_copy(judged, query, other, other_sig, full, al,
                             _same_framing(al, query, other))
    return judged


def _keypoint_verdict(query: DecodedImage, other: DecodedImage, query_sig: Signatures,
                      other_sig: Signatures, aligned: features.FeatureAlignment,
                      distance: int,
                      known_edit: tuple[int, int, int, int] | None = None
                      ) -> PairVerdict | None:
    """The pair judged block by block on its keypoint alignment: a copy, an edit of
    one, or `template`; None when too few blocks can be judged. A pair this refutes
    is judged again around `known_edit`, a region already known to differ, which is
    the edit's box when the rest agrees."""
    contained = _contained_share(aligned, query, other) >= MIN_CONTAINED

    @cache  # the two looks past the canonical region below share one
    def on_overlap() -> BlockCheck | None:
        """The blocks of the part of the query's screen that the other covers."""
        overlap = _overlap_box(aligned, query, other, least=0.0 if contained else 0.25)
        return None if overlap is None else check_blocks(
            query.image, other.image, overlap, other_sig.canon_box, aligned)

    check = check_blocks(query.image, other.image, query_sig.canon_box,
                         other_sig.canon_box, aligned,
                         look_closer=aligned.inliers >= KEYPOINTS_CONFIRM)
    if check is None or not check.agreement_pins_the_pair:
        # A short chat's canonical region ends under its last bubble, and a copy cut
        # below the app bar covers too little of it to judge: the original, checked
        # after the copy, found nothing (12 of 240 stolen copies of the seed-11
        # scenario's honest proof; 3 now). The part of the screen the copy covers is.
        # So is a picture pasted small into another phone's screen, however little of
        # that screen it fills, when it is most of the picture: a wide dialog
        # re-screenshotted fills an eighth, and the screen's blocks, sampled for the
        # whole of it, left three rows of it to judge (bench/duplicates.py, GIMP's
        # playback dialog). And so is a canonical region whose blocks lie along one
        # row and cannot pin the pair: a slider dialog's crop trims to a strip, its
        # middle columns uniform along each row (bench/duplicates.py --seed 3: GIMP's
        # softglow dialog cut to 60%, 61 of 239 rows, 16 blocks in one row).
        wider = on_overlap()
        if wider is not None and (check is None or wider.agreement_pins_the_pair):
            check = wider
    if check is None:
        return None
    framed_alike = _same_framing(aligned, query, other)
    relation = "resized" if framed_alike else "cropped"
    agreement = _agreement(check)
    judged = _judge_blocks(PairVerdict(relation, distance, None, agreement), check)
    if not judged.is_duplicate and known_edit is not None:
        # A flat picture's only textured blocks can be the edit's (a sticker on a
        # binary wallpaper: 5 of its 6, all disagreeing): they show the edit, not
        # another picture. Judged without them, too little left is nothing to judge.
        rest = check.ignoring(known_edit)
        if rest is None:
            return None
        agreement = _agreement(rest)
        judged = _judge_blocks(PairVerdict("edited", distance, known_edit, agreement), rest)
    if not judged.is_duplicate and framed_alike:
        widened = _edit_that_moved_the_region(query, query_sig, other_sig, aligned,
                                              distance, on_overlap)
        if widened is not None:
            judged, check = widened
    if judged.is_duplicate and not contained:
        # Two pictures that share a patch, each with more of its own around it: two
        # chats with a message in common at other places on their screens.
        return PairVerdict("template", distance, None, round(0.3 * agreement, 4))
    if not judged.is_duplicate:
        return judged
    return _final_copy(judged, query, other, other_sig, check, aligned, framed_alike)


def _edit_that_moved_the_region(query: DecodedImage, query_sig: Signatures,
                                other_sig: Signatures, aligned: features.FeatureAlignment,
                                distance: int, on_overlap: Callable[[], BlockCheck | None]
                                ) -> tuple[PairVerdict, BlockCheck] | None:
    """A pair framed alike whose canonical regions differ (one reaching past where the
    other's lies) judged on the picture both cover (`on_overlap`, its blocks): an edit
    there whose box takes in all that the two regions do not share is that edit, with
    the blocks that found it.

    A patch pasted on a picture's plain margin moves the trimmed region's edge out to
    it, and the region judged is then largely the patch: MATE's GreenTraditional logo
    and scikit-image's clock, cloned and captioned (bench/duplicates.py --seed 2), gave
    69 of 136 and 34 of 52 blocks disagreeing, the whole picture 18 of 40 and 23 of 32
    in one compact region."""
    query_box = _corners(query_sig.canon_box)
    other_box = _corners(_mapped_to_query(other_sig.canon_box, aligned))
    both = _bounding(query_box, other_box)
    shared = (max(query_box[0], other_box[0]), max(query_box[1], other_box[1]),
              min(query_box[2], other_box[2]), min(query_box[3], other_box[3]))
    tolerance = REGION_TOLERANCE * max(query.width, query.height)
    if _reaches(shared, both, tolerance):
        return None  # one region, already judged
    screen = on_overlap()
    if screen is None:
        return None
    judged = _judge_blocks(PairVerdict("resized", distance, None, _agreement(screen)), screen)
    if judged.relation != "edited" or judged.changed_box is None:
        return None
    if not _reaches(_bounding(shared, _corners(judged.changed_box)), both, tolerance):
        return None  # the regions differ beyond the edit: other content
    return judged, screen


# A pair's canonical regions are one when every edge lies within this share of the
# picture's longer side of the other's.
REGION_TOLERANCE = 0.01

Corners = tuple[float, float, float, float]  # x0, y0, x1, y1


def _corners(box: tuple[float, float, float, float]) -> Corners:
    x, y, w, h = box
    return x, y, x + w, y + h


def _bounding(a: Corners, b: Corners) -> Corners:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _reaches(inner: Corners, outer: Corners, tolerance: float) -> bool:
    """Every edge of `inner` (within `outer`) lies within `tolerance` of outer's."""
    return (inner[0] <= outer[0] + tolerance and inner[1] <= outer[1] + tolerance
            and inner[2] >= outer[2] - tolerance and inner[3] >= outer[3] - tolerance)


def _mapped_to_query(box: tuple[float, float, float, float],
                     al: features.FeatureAlignment) -> tuple[float, float, float, float]:
    """The other's `box` in the query's coordinates, under an alignment without
    rotation (a pair framed alike)."""
    x, y, w, h = box
    return al.sx * x + al.tx, al.sx * y + al.ty, al.sx * w, al.sx * h


def _agreement(check: BlockCheck) -> float:
    """Over what shows the picture, its agreeing shading included: an edit that covers
    a dark wallpaper's few textured blocks agrees everywhere else."""
    return round(1.0 - check.disagree_count / check.content_blocks, 4)


def _overlap_box(al: blockmatch.Aligned, query: DecodedImage, other: DecodedImage,
                 other_screen: bool = False, least: float = 0.25
                 ) -> tuple[float, float, float, float] | None:
    """The part of the query's screen (its phone bars cut) that the other covers under
    `al` (with `other_screen`, the other's screen, its bars cut too), as a box one cell
    (1/64) inside its edges; None when that is under `least` of the screen (by default
    a quarter: a copy must anyway cover MIN_CONTAINED of one of the two)."""
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
    if covered.mean() < least or not covered.any():
        return None
    rows, cols = np.nonzero(covered)
    cw, ch = query.width / cells, query.height / cells
    x0, y0 = (cols.min() + 1) * cw, (rows.min() + 1) * ch
    width, height = cols.max() * cw - x0, rows.max() * ch - y0
    if width <= 0 or height <= 0:
        return None  # a strip a cell or two across: nothing inside its edges
    return x0, y0, width, height


# A re-framed copy's screen, past its canonical region, shows other content when more
# than this share of its judged blocks disagree beyond one edit. bench/duplicates.py
# (all 260 originals): the nine pairs of GIMP dialogs that share a band of rows (two
# filters' Preview rows, one dialog's basic and advanced views) disagree in 16-77%;
# a re-screenshotted font grid, a true copy, in 3 stray blocks of 136 (2%).
SCREEN_OTHER_CONTENT = 0.1


def _final_copy(v: PairVerdict, query: DecodedImage, other: DecodedImage,
                other_sig: Signatures, check: BlockCheck, al: blockmatch.Aligned,
                framed_alike: bool) -> PairVerdict:
    """A duplicate the blocks confirmed, looked at in colour and, when re-framed, on
    the screen both images cover (for an edit there, or other content: a template, be
    it a copy or an edit that the blocks confirmed);
    an edit boxed along a re-framed copy's edge is its new frame (a caption bar's
    colour too)."""
    v = _new_frame_is_no_edit(v, check, framed_alike)
    v = _colour_checked(v, query, other, check, other_sig.canon_box, al)
    v = _new_frame_is_no_edit(v, check, framed_alike)
    if not v.is_duplicate or framed_alike or al.flip:
        return v
    # A re-framed pair is judged on the canonical region, which ends above a short
    # chat's last bubble: its message retyped passed for a plain copy. The screen both
    # cover, each without its phone bars (not a thief's frame, nor a navigation bar
    # one of them lacks), is looked at once more, aligned as the blocks found it: an
    # edit there is reported, and other content there (SCREEN_OTHER_CONTENT) makes
    # the pair a template. A dialog's canonical region can be a band of it: two GIMP
    # dialogs sharing their top rows were `cropped` of each other on that band alone
    # (bench/duplicates.py); aligned by the grids' rough fit instead, a chat cropped to
    # 80% disagreed along the bottom of its screen and would have been a template.
    # An edit is looked at too: a receipt's band can be the one or two rows whose
    # print reaches its middle (a long transaction id), and a crop of another receipt
    # of the bank differs there in one compact region; the screen shows the other
    # values (bench/template_pairs.py --crops: at 80%, 13 and 4 of 300 such pairs
    # `edited` on seeds 1 and 2, none now).
    box = _overlap_box(al, query, other, other_screen=True)
    if box is None or _within_one_block(box, check):
        return v  # nothing beyond what the blocks already judged
    screen = check_blocks(query.image, other.image, box, other_sig.canon_box,
                          blockmatch.FieldAligned(al, check))
    if screen is None:
        return v
    judged = _judge_blocks(v, screen)
    if judged.relation == "template" and (
            screen.disagree_count > SCREEN_OTHER_CONTENT * screen.blocks):
        return judged
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
    if v.relation not in CLEAN_COPIES:
        return v
    found = colourcheck.colour_changes(query, other, check, other_box, al)
    if found is None:
        return v
    changed, compared = found
    count = int(changed.sum())
    regions = changed_components(changed, 1, merge=1)
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


def _grid_edit_confirmed(v: PairVerdict, check: BlockCheck, c: Comparison) -> PairVerdict:
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
    regions = changed_components(check.disagreeing, 1, merge=1)
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
# blocks that show content (textured, or smoothly shaded and agreeing:
# `BlockCheck.content_blocks`) disagreeing, the agreeing rest is background and
# chrome, not the same content. Two chats of one messenger whose messages fill only
# the top of the screen differ in one compact region too (measured on the seed-11
# scenario: 0.33-1.0 of their blocks; true copies and repainted receipts 0-0.21).
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
    regions = changed_components(check.disagreeing, 1, merge=1)
    # In a pair sampled pixel for pixel a few disagreeing blocks together are an edit;
    # scattered, they are the clipping of a brightened copy. Next to an edit the grids
    # already boxed, a stray block is its fringe, not another.
    exact = check.unresampled and v.changed_box is None and len(regions) == 1
    noise = 0 if exact else max(BLOCK_NOISE, BLOCK_NOISE_SHARE * check.blocks)
    if check.disagree_count <= noise:
        return v
    if len(regions) == 1 and check.disagree_count <= EDIT_MAX_DISAGREE * check.content_blocks:
        col, row, ncols, nrows, _cells = regions[0]
        box = _union(check.cell_box(col, row, ncols, nrows), v.changed_box)
        extent = (check.cell_box(*_disagreeing_span(check, regions[0]))
                  if check.unresampled and v.changed_box is None else box)
        if (extent[2] * extent[3] <= EDIT_MAX_BOX * check.box[2] * check.box[3]
                and not _other_entries(check, row, nrows)):
            return PairVerdict("edited", v.distance, box, v.score)
    return PairVerdict("template", v.distance, None, round(0.3 * v.score, 4))


def _disagreeing_span(check: BlockCheck, region: tuple[int, int, int, int, int]
                      ) -> tuple[int, int, int, int]:
    """The span (col, row, ncols, nrows) of the blocks that disagree in `region`, a
    `changed_components` region, without its merging margin. An edit's size is judged
    on it where the pair is sampled pixel for pixel (`BlockCheck.unresampled`): there a
    block disagrees only where pixels changed, and the margin, a block on each side
    (an eighth to a sixteenth of a picture's side), only adds blocks the edit never
    touched. A tenth of a textured wallpaper repainted (a third of each side,
    straddling blocks) had margin boxes of 0.35-0.36 of the picture and came out
    `template` (bench/duplicates.py's local edits of MATE's Blinds, Stripes and
    GreenTraditional and GIMP's tool-preset editor); its disagreeing blocks spanned
    0.19-0.26. Resampled pairs keep the margin: judged on spans, GIMP's histogram
    dialogs in other modes (spans 0.22-0.32, margins 0.36-0.48) and its layer-group
    dialogs came out edits of each other. So do pairs whose grids boxed an edit too:
    that box and the blocks' region can be two changes (a chat's contact name and its
    last message: two of the seed-23 scenario's template posts, `edited` on spans).
    The box reported keeps the margin, which holds the blocks straddling the edit's
    edges."""
    col, row, ncols, nrows, _cells = region
    rows, cols = np.nonzero(check.disagreeing[row:row + nrows, col:col + ncols])
    return (col + int(cols.min()), row + int(rows.min()),
            int(np.ptp(cols)) + 1, int(np.ptp(rows)) + 1)


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


def _same_framing(al: features.FeatureAlignment | Alignment, query: DecodedImage,
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
    return int(popcount64(all_keys(query)[:, None] ^ all_keys(other)[None, :]).min())


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
        verdict = verdict or found[0]
    comparison = found[1] if found is not None else None
    grid_heat = None if comparison is None else \
        np.clip(comparison.diff / (2 * PIXEL_CELL_CHANGED), 0.0, 1.0)
    # The grids do not rotate: a tilted copy, found on keypoints (or on spectra), is
    # misaligned on them. Of the two alignments, the one under which the pair differs
    # less is shown.
    aligned = _pair_alignment(query.image, other.image)
    keypoint_heat = None if aligned is None else _keypoint_difference(
        np.asarray(base.convert("L"), np.float32), other, aligned, scale)
    if keypoint_heat is not None and _mean_heat(keypoint_heat) < _mean_heat(grid_heat):
        alpha = Image.fromarray((np.nan_to_num(keypoint_heat) * 200).astype(np.uint8), "L")
        canvas.paste(Image.new("RGB", base.size, (230, 20, 20)), (0, 0), alpha)
    elif found is not None and grid_heat is not None:
        alpha = Image.fromarray((np.nan_to_num(grid_heat) * 200).astype(np.uint8), "L")
        bx, by, bw, bh = found[2].box
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


# The keypoint-aligned heat-map compares means over cells of about this many pixels of
# the rendered canvas, as the grids' cells do, so that resampling is not heat.
HEAT_CELL_PX = 8


def _keypoint_difference(canvas: np.ndarray, other: DecodedImage,
                         aligned: features.FeatureAlignment, scale: float) -> np.ndarray:
    """0-1 per pixel of `canvas` (the query's grey pixels at `scale`): how much the
    other, mapped onto the query by `aligned`, differs there; NaN where it does not
    reach."""
    # The alignment is affine: where it sends the canvas's origin and unit steps gives
    # OpenCV its canvas-to-other matrix.
    ox, oy = aligned.to_other(np.array([0.0, 1.0, 0.0]) / scale, np.array([0.0, 0.0, 1.0]) / scale)
    to_other = np.array([[ox[1] - ox[0], ox[2] - ox[0], ox[0]],
                         [oy[1] - oy[0], oy[2] - oy[0], oy[0]]])
    size = (canvas.shape[1], canvas.shape[0])
    mapped = cv2.warpAffine(np.asarray(grey(other.image), np.float32), to_other, size,
                            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=-1.0)
    reaches = cv2.erode((mapped >= 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    cell = (HEAT_CELL_PX, HEAT_CELL_PX)
    difference = np.abs(cv2.blur(canvas, cell) - cv2.blur(np.maximum(mapped, 0.0), cell))
    return np.where(reaches, np.clip(difference / (2 * PIXEL_CELL_CHANGED), 0.0, 1.0), np.nan)


def _mean_heat(heat: np.ndarray | None) -> float:
    """The mean of a heat-map where it is defined; inf for none."""
    if heat is None or not np.isfinite(heat).any():
        return float("inf")
    return float(np.nanmean(heat))
