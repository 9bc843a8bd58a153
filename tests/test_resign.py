"""Signatures recomputed from the stored originals (`proofcheck resign`): rows of an older
version, or without the straightened keys, are replaced, and what they hid is found."""

from __future__ import annotations

import struct
from dataclasses import replace

import numpy as np
from PIL import Image
from sqlalchemy import delete, select, update

from proofcheck import features, processing
from proofcheck.db import Check, Hash
from proofcheck.features import Sketch
from proofcheck.hashing import Signatures, file_signatures
from proofcheck.imaging import decode
from proofcheck.neardup import ALGORITHM, SKETCH_ALGORITHM
from proofcheck.resign import outdated, resign
from tests.conftest import image_bytes, run_worker
from tests.test_api import post_check
from tests.test_matching import chat
from tests.test_near_duplicates import jpeg


def rows(services) -> dict[str, tuple[int, str, bytes]]:
    """Each check's signature row."""
    with services.db.session() as session:
        return {r.check_id: (r.id, r.algorithm, r.value) for r in session.scalars(
            select(Hash).where(Hash.algorithm != SKETCH_ALGORITHM))}


def sketched(services) -> set[str]:
    with services.db.session() as session:
        return set(session.scalars(select(Hash.check_id)
                                   .where(Hash.algorithm == SKETCH_ALGORITHM)))


def test_outdated_rows_are_signed_again_and_a_tilted_copy_is_found_again(client, auth,
                                                                        services):
    """A database from before the straightened keys and the version bump: the tilted
    copy's row has no straightened keys, another row is of an older version (the index
    does not read it), a third check's original is gone. `resign` replaces the first
    two and reports the third, and a running worker catches up on the new rows: the
    straight original checked afterwards finds the tilted copy."""
    tilted = chat(84).rotate(5, resample=Image.Resampling.BILINEAR, fillcolor="white")
    ids = [post_check(client, auth, data, name=f"{k}.jpg", account=f"instagram:@shop{k}",
                      posted_at="2026-03-01T10:00:00Z").get_json()["checks"][0]["id"]
           for k, data in enumerate((jpeg(tilted), image_bytes(seed=85),
                                     image_bytes(seed=86)))]
    run_worker(services)
    tilted_id, old_version, gone = ids
    before = rows(services)
    as_stored = Signatures.from_bytes(before[tilted_id][2])
    assert as_stored.straightened_hashes  # the worker stores them since 2026-12-03
    with services.db.session() as session:
        session.execute(update(Hash).where(Hash.check_id == tilted_id,
                                           Hash.algorithm == ALGORITHM).values(
            value=replace(as_stored, straightened_hashes=None).to_bytes()))
        session.execute(update(Hash).where(Hash.check_id.in_([old_version, gone]),
                                           Hash.algorithm == ALGORITHM)
                        .values(algorithm="sig-v0", value=b"\x00older"))
        # ...and from before keypoint sketches.
        session.execute(delete(Hash).where(Hash.algorithm == SKETCH_ALGORITHM))
        sha256 = session.scalar(select(Check.sha256).where(Check.id == gone))
    services.blobs.delete(sha256)
    del services.neardup  # a worker started on that database: only one row is current
    assert services.neardup.catch_up(services.db) == 1
    assert [outdated(alg, value) for _id, alg, value in rows(services).values()] == [True] * 3

    report = resign(services)

    assert report.examined == 3 and sorted(report.resigned) == sorted([tilted_id, old_version])
    assert list(report.failed) == [gone]
    after = rows(services)
    for check_id in (tilted_id, old_version):
        row_id, algorithm, value = after[check_id]
        assert algorithm == ALGORITHM and not outdated(algorithm, value)
        assert row_id > max(r[0] for r in before.values())  # new rows: workers catch up
    assert Signatures.from_bytes(after[tilted_id][2]) == as_stored
    assert after[gone][1] == "sig-v0"  # kept as it was: nothing to sign it from
    assert sketched(services) == {tilted_id, old_version}
    assert resign(services).resigned == []  # nothing left to do

    # That worker, still running, catches up on the new rows and searches with them.
    data = jpeg(chat(84))
    decoded = decode(data, services.settings.max_pixels)
    found = processing.near_duplicates_of(
        services, set(), file_signatures(data, services.settings.max_pixels, decoded), decoded)
    assert len(services.neardup) == 3  # the old row, and the two new ones
    [verdict] = [v for sighting, v in found if sighting.check_id == tilted_id]
    assert verdict.relation in ("cropped", "resized")


def test_a_search_skips_a_row_replaced_since_it_was_indexed(client, auth, services):
    """A worker indexed a check's row, which was then replaced (`resign`, a check run
    again): the gone row is skipped, the new one found."""
    data = image_bytes(seed=87, text="Paid 4,100 KSh")
    first = post_check(client, auth, data, name="a.png",
                       account="instagram:@a").get_json()["checks"][0]["id"]
    run_worker(services)
    index = services.neardup
    assert index.catch_up(services.db) == 1
    assert resign(services, everything=True).resigned == [first]
    index._cache.clear()  # the old row's signature no longer at hand either
    copy = image_bytes(seed=87, text="Paid 4,100 KSh", fmt="JPEG")
    decoded = decode(copy, services.settings.max_pixels)
    found = processing.near_duplicates_of(
        services, set(), file_signatures(copy, services.settings.max_pixels, decoded), decoded)
    assert len(index) == 2
    assert [(sighting.check_id, v.relation) for sighting, v in found] == [(first, "resized")]


def test_a_check_stored_before_keypoint_sketches_is_given_one(client, auth, services):
    """A current signature without a keypoint sketch (checked before sketches were
    stored) is signed again, once: afterwards the check has both rows."""
    data = image_bytes(seed=88, text="Sent 12,000")
    check_id = post_check(client, auth, data, name="s.png",
                          account="instagram:@s").get_json()["checks"][0]["id"]
    run_worker(services)
    with services.db.session() as session:
        session.execute(delete(Hash).where(Hash.algorithm == SKETCH_ALGORITHM))
    signature = rows(services)[check_id]
    assert not outdated(signature[1], signature[2])

    assert resign(services).resigned == [check_id]
    assert sketched(services) == {check_id}
    assert Signatures.from_bytes(rows(services)[check_id][2]) == Signatures.from_bytes(
        signature[2])
    assert resign(services).resigned == []


def test_a_sketch_that_does_not_say_its_threshold_is_sketched_again(client, auth, services):
    """A keypoint sketch stored before sketches said which FAST threshold found them
    (a version 1 record) is outdated: `resign` gives the check a new one that says."""
    data = image_bytes(seed=89, text="Sent 9,500")
    check_id = post_check(client, auth, data, name="t.png",
                          account="instagram:@t").get_json()["checks"][0]["id"]
    run_worker(services)
    with services.db.session() as session:
        stored = Sketch.from_bytes(session.scalars(select(Hash.value).where(
            Hash.check_id == check_id, Hash.algorithm == SKETCH_ALGORITHM)).one())
        assert stored.threshold in features.FAST_THRESHOLDS
        first_version = struct.pack("<BIH", 1, stored.side, len(stored.points)) \
            + stored.points.astype("<f4").tobytes() + stored.descriptors.tobytes()
        session.execute(update(Hash).where(Hash.check_id == check_id,
                                           Hash.algorithm == SKETCH_ALGORITHM)
                        .values(value=first_version))
    assert outdated(SKETCH_ALGORITHM, first_version)
    assert Sketch.from_bytes(first_version).threshold is None

    assert resign(services).resigned == [check_id]
    with services.db.session() as session:
        again = Sketch.from_bytes(session.scalars(select(Hash.value).where(
            Hash.check_id == check_id, Hash.algorithm == SKETCH_ALGORITHM)).one())
    assert again.threshold == stored.threshold
    assert np.array_equal(again.descriptors, stored.descriptors)
    assert resign(services).resigned == []
