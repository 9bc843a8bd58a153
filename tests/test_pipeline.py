"""The pipeline's rules, on plain data: who posted a file first decides the verdict."""

from __future__ import annotations

import datetime as dt

import pytest

from proofcheck import pipeline
from proofcheck.imaging import ImageError
from tests.conftest import image_bytes

T = pipeline.Thresholds(review=0.5, fabricated=0.8)
DAY = dt.timedelta(days=1)
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def item(account: str | None = "instagram:@me", post_id: str | None = "p2",
         posted_at: dt.datetime | None = NOW, check_id: str = "c_2") -> pipeline.CheckInput:
    return pipeline.CheckInput(check_id=check_id, account=account, post_id=post_id,
                               posted_at=posted_at, submitted_at=NOW)


def seen(account: str | None, post_id: str | None, posted_at: dt.datetime | None,
         check_id: str = "c_1", submitted_at: dt.datetime = NOW - DAY) -> pipeline.Sighting:
    return pipeline.Sighting(check_id=check_id, account=account, post_id=post_id,
                             posted_at=posted_at, submitted_at=submitted_at)


def verdict_for(me: pipeline.CheckInput, *sightings: pipeline.Sighting) -> pipeline.Assessment:
    return pipeline.assess(me, pipeline.exact_matches(me, sightings), T)


def test_nothing_found_is_authentic_with_a_reason():
    result = verdict_for(item())
    assert result.verdict == "authentic"
    assert [r.code for r in result.reasons] == ["no_copy_found"]
    assert result.score == pytest.approx(pipeline.BASE_SCORE)


def test_earlier_post_by_another_account_is_fabricated():
    result = verdict_for(item(), seen("instagram:@other", "p9", NOW - 10 * DAY))
    assert result.verdict == "fabricated"
    assert result.reasons[0].code == "stolen_from_other_account"
    assert "instagram:@other (post p9) on 13 November 2026" in result.reasons[0].message


def test_later_post_by_another_account_makes_this_the_original():
    result = verdict_for(item(), seen("instagram:@thief", "p1", NOW + DAY))
    assert result.verdict == "authentic"
    assert {r.code for r in result.reasons} == {"reused_by_other_account"}


def test_post_time_beats_submission_order():
    # The thief's copy reached us first, but its post is later than ours.
    thief = seen("instagram:@thief", "x", NOW + 2 * DAY, submitted_at=NOW - 5 * DAY)
    result = verdict_for(item(), thief)
    assert result.verdict == "authentic"


def test_without_post_times_first_submission_is_earlier():
    me = item(posted_at=None)
    result = verdict_for(me, seen("instagram:@other", None, None, submitted_at=NOW - DAY))
    assert result.verdict == "fabricated"
    assert "first checked on 22 November 2026" in result.reasons[0].message


def test_same_account_other_post_is_recycling_for_review():
    result = verdict_for(item(), seen("instagram:@me", "p1", NOW - 3 * DAY))
    assert result.verdict == "review"
    assert result.reasons[0].code == "recycled_same_account"


def test_same_account_same_post_is_a_harmless_resubmission():
    result = verdict_for(item(), seen("instagram:@me", "p2", NOW))
    assert result.verdict == "authentic"
    assert result.reasons[0].code == "resubmitted"


def test_unknown_account_cannot_say_who_owns_it():
    result = verdict_for(item(account=None), seen("instagram:@x", "p1", NOW - DAY))
    assert result.verdict == "review"
    assert result.reasons[0].code == "reused_file"


def test_reasons_are_sorted_by_weight_and_thresholds_apply():
    me = item()
    result = verdict_for(me, seen("instagram:@me", "p1", NOW - DAY, "c_a"),
                         seen("instagram:@other", "p7", NOW - 2 * DAY, "c_b"))
    weights = [r.weight for r in result.reasons]
    assert weights == sorted(weights, reverse=True)
    assert result.score > 0.9
    strict = pipeline.Thresholds(review=0.99, fabricated=0.999)
    assert pipeline.assess(me, pipeline.exact_matches(me, []), strict).verdict == "authentic"


def test_run_decodes_fingerprints_and_reports_stages():
    data = image_bytes(size=(120, 80))
    stages: list[str] = []
    result = pipeline.run(data, item(), lambda sha: [], T, max_pixels=10**7,
                          on_stage=stages.append)
    assert stages == ["decoding", "hashing", "matching", "reading text", "forensics", "scoring"]
    assert (result.fingerprint.width, result.fingerprint.height) == (120, 80)
    assert result.fingerprint.size_bytes == len(data)
    assert set(result.timings_ms) == {"decode", "hash", "match", "ocr", "forensics", "score"}
    assert set(result.signals) >= {"exif", "jpeg", "ela", "c2pa", "screenshot"}
    assert result.signatures is not None and result.signatures.width == 120


def test_run_raises_image_error_for_garbage():
    with pytest.raises(ImageError):
        pipeline.run(b"nope", item(), lambda sha: [], T, max_pixels=10**7)


def test_a_check_never_matches_itself():
    me = item()
    assert pipeline.exact_matches(me, [seen("instagram:@me", "p2", NOW, check_id="c_2")]) == []
