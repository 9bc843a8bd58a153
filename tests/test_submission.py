from __future__ import annotations

import datetime as dt

import pytest

from proofcheck.config import load_settings
from proofcheck.submission import SubmissionError, normalise_account, parse_meta, parse_time


def test_account_is_normalised_for_case_space_and_unicode_form():
    assert normalise_account("  Instagram:@Rose.Shop ") == "instagram:@rose.shop"
    decomposed = "web:caf\u0065\u0301.ir"
    assert normalise_account(decomposed) == "web:caf\u00e9.ir"
    assert normalise_account("instagram:@فروشگاه_گل") == "instagram:@فروشگاه_گل"


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-11-23T16:34:06+00:00", "2026-11-23T16:34:06+00:00"),
    ("2026-11-23T16:34:06Z", "2026-11-23T16:34:06+00:00"),
    ("2026-11-23T20:04:06+03:30", "2026-11-23T16:34:06+00:00"),
    ("2026-11-23T16:34", "2026-11-23T16:34:00+00:00"),
    ("2026-11-23", "2026-11-23T00:00:00+00:00"),
])
def test_times_are_parsed_to_utc(raw, expected):
    assert parse_time(raw, "posted_at").isoformat() == expected


def test_meta_fields_are_validated():
    meta = parse_meta({"account": "X:@A", "kind": "Receipt", "caption": " سلام ",
                       "post_id": "p1"}, 100)
    assert (meta.account, meta.kind, meta.caption, meta.post_id) == ("x:@a", "receipt", "سلام",
                                                                     "p1")
    assert parse_meta({}, 100).account is None
    with pytest.raises(SubmissionError) as info:
        parse_meta({"caption": "x" * 101}, 100)
    assert (info.value.status, info.value.field) == (422, "caption")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(SubmissionError) as info:
        parse_meta({"posted_at": "2026-01-03T00:00:00Z"}, 100, now=now)
    assert info.value.code == "posted_in_future"


def test_settings_come_from_the_environment(tmp_path):
    env = {"PROOFCHECK_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://u:p@db/pc",
           "REDIS_URL": "redis://r:6379/1", "PROOFCHECK_MAX_UPLOAD_MB": "2",
           "PROOFCHECK_REVIEW_THRESHOLD": "0.4"}
    settings = load_settings(env)
    assert settings.database_url == "postgresql+psycopg://u:p@db/pc"
    assert settings.redis_url == "redis://r:6379/1"
    assert settings.max_upload_bytes == 2 * 1024 * 1024
    assert settings.review_threshold == 0.4
    # The secret key is made once and kept, so sessions survive restarts.
    assert load_settings(env).secret_key == settings.secret_key
    defaults = load_settings({"PROOFCHECK_DATA_DIR": str(tmp_path)})
    assert defaults.database_url == f"sqlite:///{tmp_path / 'proofcheck.db'}"
    assert defaults.redis_url is None
