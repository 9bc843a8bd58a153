"""Accounts, search and rate limits."""

from __future__ import annotations

import io

import pytest

from proofcheck import create_app
from proofcheck.apikeys import create_key
from tests.conftest import image_bytes, make_settings, run_worker
from tests.test_api import post_check


def test_account_report_names_where_images_came_from_and_went(client, auth, services):
    own, stolen = image_bytes(seed=81), image_bytes(seed=82)
    post_check(client, auth, stolen, account="instagram:@victim", post_id="v1",
               posted_at="2026-01-01T00:00:00Z")
    post_check(client, auth, stolen, account="instagram:@Thief", post_id="t1",
               posted_at="2026-02-01T00:00:00Z")
    post_check(client, auth, own, account="instagram:@thief", post_id="t2",
               posted_at="2026-02-02T00:00:00Z")
    run_worker(services)

    thief = client.get("/api/v1/accounts/INSTAGRAM:@thief", headers=auth)
    assert thief.status_code == 200
    report = thief.get_json()
    assert (report["account"], report["checks"], report["verdict"]) == \
        ("instagram:@thief", 2, "fabricated")
    assert report["stolen_from"] == [{"account": "instagram:@victim", "count": 1}]
    assert report["reused_by"] == []
    assert report["reasons"][0]["code"] == "stolen_from_other_account"
    assert report["reasons"][0]["message"].startswith("1 of 2 checked posts")

    victim = client.get("/api/v1/accounts/instagram:@victim", headers=auth).get_json()
    assert victim["verdict"] == "authentic"
    assert victim["reused_by"] == [{"account": "instagram:@thief", "count": 1}]
    assert client.get("/api/v1/accounts/nobody:@x", headers=auth).status_code == 404


def test_search_finds_checked_copies_and_stores_nothing(client, auth, services):
    data = image_bytes(seed=83)
    post_check(client, auth, data, account="web:a.example")
    run_worker(services)
    form = {"file": (io.BytesIO(data), "q.png"), "limit": "5"}
    found = client.post("/api/v1/search", data=form, headers=auth,
                        content_type="multipart/form-data")
    assert found.status_code == 200
    body = found.get_json()
    assert [m["account"] for m in body["matches"]] == ["web:a.example"]
    assert body["took_ms"] >= 0
    from tests.test_api import check_count

    assert check_count(services) == 1
    nothing = client.post("/api/v1/search", headers=auth, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(image_bytes(seed=84)), "q.png")})
    assert nothing.get_json()["matches"] == []
    bad = client.post("/api/v1/search", headers=auth, content_type="multipart/form-data",
                      data={"file": (io.BytesIO(data), "q.png"), "limit": "0"})
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "limit"


@pytest.fixture
def limited_app(tmp_path, redis_url):
    app = create_app(make_settings(tmp_path / "d", redis_url, rate_limit="3/minute"))
    yield app
    app.extensions["proofcheck"].db.dispose()


def test_rate_limit_is_per_key_with_retry_after(limited_app):
    services = limited_app.extensions["proofcheck"]
    client = limited_app.test_client()
    one = {"Authorization": f"Bearer {create_key(services.db, 'one')[1]}"}
    two = {"Authorization": f"Bearer {create_key(services.db, 'two')[1]}"}
    answers = [client.get("/api/v1/checks/c_x", headers=one).status_code for _ in range(4)]
    assert answers == [404, 404, 404, 429]
    limited = client.get("/api/v1/checks/c_x", headers=one)
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    assert client.get("/api/v1/checks/c_x", headers=two).status_code == 404  # its own budget
    assert client.get("/healthz").status_code == 200  # operations are never limited


def test_metrics_count_checks_queues_and_stage_latency(client, auth, services):
    from redis import Redis

    Redis.from_url(services.settings.redis_url).flushall()
    for seed in (85, 86):
        post_check(client, auth, image_bytes(seed=seed))
    before = client.get("/metrics").get_data(as_text=True)
    assert 'proofcheck_queue_depth{queue="checks"} 2.0' in before
    assert 'proofcheck_checks{status="queued",verdict=""} 2.0' in before
    run_worker(services)
    response = client.get("/metrics")
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    assert 'proofcheck_checks{status="done",verdict="authentic"} 2.0' in text
    assert 'proofcheck_queue_depth{queue="checks"} 0.0' in text
    assert 'proofcheck_stage_seconds_count{stage="decode"} 2.0' in text
    assert 'proofcheck_stage_seconds_bucket{le="+Inf",stage="match"} 2.0' in text
    assert "proofcheck_index_signatures" in text
