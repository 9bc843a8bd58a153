"""Hostile and malformed uploads through the real API and a real worker: each gets a
4xx or becomes a check that ends done or failed; never a 5xx, never a stuck check."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from proofcheck.config import Settings
from proofcheck.db import Check
from tests.conftest import make_settings, run_worker
from tests.hostile import corpus


@pytest.fixture
def settings(tmp_path: Path, redis_url: str) -> Settings:
    """Every entry of the corpus must reach the service: under the default rate limit
    (120 a minute) the last hundred were answered 429 and never checked."""
    return make_settings(tmp_path / "data", redis_url, rate_limit="100000/minute")


def test_hostile_corpus_never_breaks_the_service(client, auth, services):
    entries = list(corpus())
    assert len(entries) >= 200
    accepted: dict[str, str] = {}
    valid = {name for name, _data, expectation in entries if expectation == "done"}
    for name, data, expectation in entries:
        response = client.post("/api/v1/checks", headers=auth, content_type="multipart/form-data",
                               data={"file": (io.BytesIO(data), name)})
        assert response.status_code < 500, (name, response.get_json())
        assert response.status_code != 429, name  # judged on its content, not the rate
        if expectation == "refuse":
            assert 400 <= response.status_code < 500, name
            assert response.get_json()["error"]["code"], name
        if response.status_code == 202:
            accepted[response.get_json()["checks"][0]["id"]] = name
    run_worker(services)
    with services.db.session() as session:
        rows = session.execute(select(Check.id, Check.status, Check.error)).all()
    states = {row.id: row.status for row in rows}
    assert set(states) == set(accepted)  # nothing half-written for refused uploads
    stuck = {accepted[i]: s for i, s in states.items() if s not in ("done", "failed")}
    assert stuck == {}
    assert {accepted[i]: s for i, s in states.items() if accepted[i] in valid} \
        == dict.fromkeys(valid, "done")  # valid pictures, however odd, are checked


def test_huge_form_fields_are_refused_cleanly(client, auth, services):
    from tests.conftest import image_bytes

    for field, size in (("caption", 2_000_000), ("account", 100_000), ("post_id", 10_000)):
        response = client.post("/api/v1/checks", headers=auth,
                               content_type="multipart/form-data",
                               data={"file": (io.BytesIO(image_bytes()), "a.png"),
                                     field: "x" * size})
        assert response.status_code in (413, 422), field
        assert response.get_json()["error"]["code"]
    with services.db.session() as session:
        assert session.scalars(select(Check.id)).all() == []
