"""Keypoint sketches (`features.Sketch`): the strongest keypoints of a checked image,
stored with it so a search can rank its candidates before decoding any."""

from __future__ import annotations

import random
import struct

import numpy as np
import pytest
from PIL import Image, ImageDraw

from bench.build_dataset import render_chat
from proofcheck import features
from proofcheck.neardup import SKETCH_ALGORITHM
from proofcheck.resign import outdated
from tests.test_matching import (
    WORDS,
    W,
    _font,
    dec,
    faint_flecks,
    pasted_into_screen,
    price_tagged,
    receipt,
)


def test_a_copy_outscores_another_receipt_of_its_bank() -> None:
    original, stranger = receipt(80), receipt(81)
    copy = dec(original.crop((40, 560, W - 40, 1950)), "JPEG", quality=85).image
    query = features.sketch(copy)
    assert len(query.points) == features.SKETCH_KEYPOINTS + features.SKETCH_SPREAD
    mine = features.sketch_inliers(query, features.sketch(original))
    theirs = features.sketch_inliers(query, features.sketch(stranger))
    # Its bank's layout gives the stranger inliers too: the values make the difference.
    assert mine >= features.MIN_INLIERS and mine > 1.5 * theirs, (mine, theirs)


@pytest.mark.parametrize("where", [(0.5, 0.5), (1.0, 1.0), (1.0, 0.0)])
def test_a_crop_of_a_chat_ranks_its_original_above_a_chat_of_its_app(where) -> None:
    """A 60%-area crop's own strongest keypoints are not its original's strongest there
    (found at another scale): ranked by them, such crops had no inliers with their
    originals, or fewer than with other chats of the app. All the query's keypoints
    against the stored sketches put the original first."""
    original, stranger = (render_chat(seed, "blueapp").resize((738, 1600)) for seed in (5, 17))
    w, h = round(738 * 0.6**0.5), round(1600 * 0.6**0.5)
    x, y = round(where[0] * (738 - w)), round(where[1] * (1600 - h))
    query = features.query_sketch(original.crop((x, y, x + w, y + h)))
    assert len(query.points) > features.SKETCH_KEYPOINTS
    mine = features.sketch_inliers(query, features.sketch(original))
    theirs = features.sketch_inliers(query, features.sketch(stranger))
    assert mine >= features.MIN_INLIERS and mine > 1.5 * theirs, (mine, theirs)


def listed_dialog(seed: int) -> Image.Image:
    """A dialog whose print is dense in a list down its left side and a line of text
    along its top, and sparse elsewhere: one slider and three buttons."""
    rng = random.Random(seed)
    img = Image.new("RGB", (520, 380), (246, 244, 238))
    d = ImageDraw.Draw(img)
    for row in range(3):
        d.text((36, 36 + 16 * row), " ".join(rng.choice(WORDS) for _ in range(9)),
               fill=(20, 20, 20), font=_font(12))
    for row in range(17):
        d.text((36, 90 + 16 * row), f"{rng.choice(WORDS)} {rng.choice(WORDS)}",
               fill=(20, 20, 20), font=_font(12))
    d.text((180, 130), rng.choice(WORDS).title(), fill=(20, 20, 20), font=_font(14))
    slider = rng.randint(10, 130)
    d.line((250, 138, 400, 138), fill=(120, 120, 110), width=3)
    d.rectangle((250 + slider, 131, 270 + slider, 145), fill=(220, 215, 200), outline=(90, 90, 80))
    d.rectangle((420, 128, 470, 148), fill="white", outline=(120, 120, 110))
    d.text((425, 130), str(rng.randint(0, 99)), fill=(20, 20, 20), font=_font(14))
    for k, label in enumerate(("Reset", "Cancel", "OK")):
        d.rectangle((250 + 75 * k, 320, 315 + 75 * k, 345), fill=(232, 229, 220),
                    outline=(120, 120, 110))
        d.text((262 + 75 * k, 326), label, fill=(20, 20, 20), font=_font(13))
    return img


@pytest.mark.parametrize("seed", range(3))
def test_a_sketch_adds_keypoints_where_the_strongest_are_fewest(seed: int) -> None:
    """The strongest keypoints lie where the print is densest: the dialog's sparse
    parts held 1-10 of their 9-29. The sketch adds SKETCH_SPREAD more there, and its
    strongest, which the descriptor votes file, stay what they were."""
    dialog = listed_dialog(seed)
    found = features._keypoints(dialog)
    assert found is not None and len(found.points) > 2 * features.SKETCH_KEYPOINTS
    drawn = features.sketch(dialog)
    assert len(drawn.points) == features.SKETCH_KEYPOINTS + features.SKETCH_SPREAD
    strongest = features._strongest(dialog, found, features.SKETCH_KEYPOINTS)
    assert np.array_equal(drawn.voting(), strongest.descriptors)

    def thirds(points: np.ndarray) -> np.ndarray:
        column, row = (np.minimum(3 * points[:, i] // dialog.size[i], 2) for i in (0, 1))
        return np.bincount((3 * row + column).astype(int), minlength=9)

    there, kept = thirds(found.points), thirds(drawn.points)
    assert (kept >= np.minimum(there, 20)).all(), (there, kept)
    assert not (thirds(strongest.points) >= np.minimum(there, 20)).all()  # the premise


@pytest.mark.parametrize("seed", range(4))
def test_a_crop_of_a_sparse_part_ranks_its_original_above_another_dialog(seed: int) -> None:
    """bench/duplicates.py: 60% crops of small GIMP dialogs that kept a panel with a
    slider had no inliers with their originals' sketches (17-74 with all their
    keypoints), and were never chosen for the pixel checks."""
    original, stranger = listed_dialog(seed), listed_dialog(seed + 100)
    w, h = original.size
    width, height = round(w * 0.6**0.5), round(h * 0.6**0.5)
    copy = original.crop((w - width, h - height, w, h))
    mine, theirs = (features.sketch(image) for image in (original, stranger))
    ours = features.sketch_inliers(features.query_sketch(copy, mine.threshold), mine)
    other = features.sketch_inliers(features.query_sketch(copy, theirs.threshold), theirs)
    assert ours >= features.MIN_INLIERS and ours > other, (ours, other)


def test_a_sketch_survives_storage_and_a_flat_picture_has_an_empty_one() -> None:
    drawn = features.sketch(receipt(82))
    stored = features.Sketch.from_bytes(drawn.to_bytes())
    assert stored.side == drawn.side == max(receipt(82).size)
    assert np.array_equal(stored.points, drawn.points)
    assert np.array_equal(stored.descriptors, drawn.descriptors)
    assert features.sketch_inliers(stored, drawn) >= 0.9 * len(drawn.points)

    flat = features.sketch(Image.new("RGB", (300, 500), (200, 200, 210)))
    assert len(flat.points) == 0 and flat.side == 500
    assert features.Sketch.from_bytes(flat.to_bytes()).points.shape == (0, 2)
    # It says it was looked at with every threshold, so it is no record to sketch again.
    assert features.Sketch.from_bytes(flat.to_bytes()).threshold == features.FAST_THRESHOLDS[-1]
    assert not outdated(SKETCH_ALGORITHM, flat.to_bytes())
    assert features.sketch_inliers(flat, drawn) == features.sketch_inliers(drawn, flat) == 0


@pytest.mark.parametrize("record", [
    b"",
    b"\x01\x00",
    struct.pack("<BIH", 3, 100, 0),  # another version
    struct.pack("<BIH", 2, 100, 0),  # no threshold
    struct.pack("<BIH", 1, 0, 0),  # no size
    struct.pack("<BIH", 1, 100, 3) + bytes(40 * 2),  # fewer keypoints than it says
    struct.pack("<BIH", 1, 100, 1) + np.array([np.nan, 1], "<f4").tobytes() + bytes(32),
])
def test_a_record_that_is_not_a_sketch_is_refused(record: bytes) -> None:
    with pytest.raises(ValueError):
        features.Sketch.from_bytes(record)


@pytest.mark.parametrize("scale", [0.8, 0.6, 0.45])
def test_a_copy_shown_smaller_in_another_screen_ranks_its_original_first(scale: float) -> None:
    """A sketch of the 256 strongest by response alone held 80-100% from the finest two
    levels of ORB's pyramid, which a copy pasted smaller into another screen has only at
    coarser ones: bench/duplicates.py's re-screenshotted wallpaper had no inliers with
    its original (210 with all its keypoints), this chat none at any of the three
    scales. The strongest of every level, in the share ORB found there, keep the
    original first."""
    original, stranger = (render_chat(seed, "greenapp").resize((738, 1600)) for seed in (6, 18))
    copy, _ = pasted_into_screen(original, scale, (0, 0, 0))
    query = features.query_sketch(dec(copy, "JPEG", quality=85).image)
    mine = features.sketch_inliers(query, features.sketch(original))
    theirs = features.sketch_inliers(query, features.sketch(stranger))
    assert mine >= 2 * features.MIN_INLIERS and mine > 1.5 * theirs, (mine, theirs)


@pytest.mark.parametrize("seed", [1, 6])
def test_a_sketch_saying_its_threshold_ranks_an_edit_found_at_another(seed: int) -> None:
    """The edit of a smooth wallpaper whose print ends the copy's corner search early
    (`test_matching`'s test of `features.align`) is ranked against a stored sketch with
    its keypoints at the sketch's threshold: its original stands out; with its own,
    it had no inliers with it at all (bench/duplicates.py: MATE's Spring, whose local
    edit was never chosen for the pixel checks)."""
    query, mine, theirs = (dec(picture, "JPEG", quality=90).image for picture in
                           (price_tagged(faint_flecks(seed)), faint_flecks(seed),
                            faint_flecks(seed + 1)))
    stored = features.Sketch.from_bytes(features.sketch(mine).to_bytes())
    assert features.sketch(query).threshold > stored.threshold  # the premise
    assert features.sketch_inliers(features.query_sketch(query), stored) < features.MIN_INLIERS
    stranger = features.sketch(theirs)
    ours = features.sketch_inliers(features.query_sketch(query, stored.threshold), stored)
    other = features.sketch_inliers(features.query_sketch(query, stranger.threshold), stranger)
    assert ours >= 5 * features.MIN_INLIERS and other < features.MIN_INLIERS, (ours, other)


def test_a_sketch_stored_before_it_said_its_threshold_is_still_read() -> None:
    drawn = features.sketch(receipt(83))
    assert drawn.threshold in features.FAST_THRESHOLDS
    assert features.Sketch.from_bytes(drawn.to_bytes()).threshold == drawn.threshold
    first_version = (struct.pack("<BIH", 1, drawn.side, len(drawn.points))
                     + drawn.points.astype("<f4").tobytes() + drawn.descriptors.tobytes())
    old = features.Sketch.from_bytes(first_version)
    assert old.threshold is None
    assert np.array_equal(old.points, drawn.points)
    assert np.array_equal(old.descriptors, drawn.descriptors)
    # Ranked with the query's keypoints at its own threshold, as before.
    assert features.sketch_inliers(features.query_sketch(receipt(83), old.threshold), old) \
        >= 0.9 * len(drawn.points)
