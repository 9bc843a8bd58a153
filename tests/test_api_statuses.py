"""Every status the OpenAPI document promises for an operation is one the service really
gives: each documented (operation, status) pair is produced here by a real request."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from proofcheck import create_app, idempotency
from proofcheck.api.openapi import OPERATIONS
from proofcheck.apikeys import create_key
from tests.conftest import image_bytes, make_settings, run_worker

LIMIT = 400


@pytest.fixture
def setup(tmp_path, redis_url):
    app = create_app(make_settings(tmp_path / "d", redis_url, rate_limit=f"{LIMIT}/minute",
                                   max_upload_bytes=200_000, max_batch_items=3, ocr=False))
    yield app
    app.extensions["proofcheck"].db.dispose()


def test_every_documented_status_is_reachable(setup):
    app = setup
    services = app.extensions["proofcheck"]
    client: FlaskClient = app.test_client()
    key = {"Authorization": f"Bearer {create_key(services.db, 'all')[1]}"}
    reader = {"Authorization": f"Bearer {create_key(services.db, 'r', ['read'])[1]}"}
    submitter = {"Authorization": f"Bearer {create_key(services.db, 's', ['submit'])[1]}"}
    exhausted_row, exhausted_key = create_key(services.db, "x")
    exhausted = {"Authorization": f"Bearer {exhausted_key}"}

    def form(data: bytes = b"", **fields: object) -> dict[str, object]:
        return {"file": (io.BytesIO(data or image_bytes(seed=5)), "a.png"), **fields}

    def post_multipart(path: str, headers: dict[str, str], data: dict[str, object]):
        return client.post(path, headers=headers, data=data, content_type="multipart/form-data")

    a = post_multipart("/api/v1/checks", key, form(image_bytes(seed=1), account="x:@a"))
    b = post_multipart("/api/v1/checks", key, form(image_bytes(seed=1), account="x:@b"))
    first, second = a.get_json()["checks"][0]["id"], b.get_json()["checks"][0]["id"]
    run_worker(services)
    batch = client.post("/api/v1/batches", headers=key, json={"items": [
        {"image_base64": base64.b64encode(image_bytes(seed=2)).decode()}]}).get_json()["id"]

    def in_progress(path: str, data: Callable[[], dict[str, object]] | None = None,
                    body: dict[str, object] | None = None):
        """A retry that arrives while the first request with its key is still running."""
        with app.test_request_context(path, method="POST", headers=key,
                                      data=data() if data else None, json=body,
                                      content_type=None if body else "multipart/form-data"):
            from proofcheck.api.idempotency import request_fingerprint

            fingerprint = request_fingerprint()
        idempotency.reserve(services.db, 1, path, fingerprint)
        if body is not None:
            return client.post(path, headers={**key, "Idempotency-Key": path}, json=body)
        return post_multipart(path, {**key, "Idempotency-Key": path}, data() if data else {})

    big = b"\0" * 300_000
    review_path = f"/api/v1/review/items/{second}"
    cases: dict[tuple[str, str, int], Callable[[], object]] = {
        ("post", "/checks", 202): lambda: post_multipart("/api/v1/checks", key, form()),
        ("post", "/checks", 400): lambda: post_multipart("/api/v1/checks", key, {}),
        ("post", "/checks", 401): lambda: post_multipart("/api/v1/checks", {}, form()),
        ("post", "/checks", 403): lambda: post_multipart("/api/v1/checks", reader, form()),
        ("post", "/checks", 409): lambda: in_progress("/api/v1/checks", lambda: form(b"x" * 10)),
        ("post", "/checks", 413): lambda: post_multipart("/api/v1/checks", key, form(big)),
        ("post", "/checks", 415): lambda: client.post("/api/v1/checks", headers=key, json={}),
        ("post", "/checks", 422): lambda: post_multipart("/api/v1/checks", key,
                                                         form(kind="selfie")),
        ("get", "/checks/{check_id}", 200): lambda: client.get(f"/api/v1/checks/{first}",
                                                               headers=key),
        ("get", "/checks/{check_id}", 401): lambda: client.get(f"/api/v1/checks/{first}"),
        ("get", "/checks/{check_id}", 403): lambda: client.get(f"/api/v1/checks/{first}",
                                                               headers=submitter),
        ("get", "/checks/{check_id}", 404): lambda: client.get("/api/v1/checks/c_no",
                                                               headers=key),
        ("post", "/batches", 202): lambda: client.post("/api/v1/batches", headers=key, json={
            "items": [{"image_base64": base64.b64encode(image_bytes(seed=3)).decode()}]}),
        ("post", "/batches", 400): lambda: client.post("/api/v1/batches", headers=key,
                                                       json={"items": []}),
        ("post", "/batches", 401): lambda: client.post("/api/v1/batches", json={}),
        ("post", "/batches", 403): lambda: client.post("/api/v1/batches", headers=reader,
                                                       json={}),
        ("post", "/batches", 409): lambda: in_progress("/api/v1/batches",
                                                       body={"items": [{"filename": "q"}]}),
        ("post", "/batches", 413): lambda: client.post("/api/v1/batches", headers=key, json={
            "items": [{"image_base64": "AA=="}] * 5}),
        ("post", "/batches", 415): lambda: client.post("/api/v1/batches", headers=key,
                                                       data="x", content_type="text/plain"),
        ("post", "/batches", 422): lambda: client.post("/api/v1/batches", headers=key,
                                                       json={"items": 3}),
        ("get", "/batches/{batch_id}", 200): lambda: client.get(f"/api/v1/batches/{batch}",
                                                                headers=key),
        ("get", "/batches/{batch_id}", 401): lambda: client.get(f"/api/v1/batches/{batch}"),
        ("get", "/batches/{batch_id}", 403): lambda: client.get(f"/api/v1/batches/{batch}",
                                                                headers=submitter),
        ("get", "/batches/{batch_id}", 404): lambda: client.get("/api/v1/batches/b_no",
                                                                headers=key),
        ("get", "/accounts/{account}", 200): lambda: client.get("/api/v1/accounts/x:@a",
                                                                headers=key),
        ("get", "/accounts/{account}", 401): lambda: client.get("/api/v1/accounts/x:@a"),
        ("get", "/accounts/{account}", 403): lambda: client.get("/api/v1/accounts/x:@a",
                                                                headers=submitter),
        ("get", "/accounts/{account}", 404): lambda: client.get("/api/v1/accounts/no:@one",
                                                                headers=key),
        ("post", "/search", 200): lambda: post_multipart("/api/v1/search", key, form()),
        ("post", "/search", 400): lambda: post_multipart("/api/v1/search", key, {}),
        ("post", "/search", 401): lambda: post_multipart("/api/v1/search", {}, form()),
        ("post", "/search", 403): lambda: post_multipart("/api/v1/search", reader, form()),
        ("post", "/search", 413): lambda: post_multipart("/api/v1/search", key, form(big)),
        ("post", "/search", 415): lambda: client.post("/api/v1/search", headers=key, json={}),
        ("post", "/search", 422): lambda: post_multipart("/api/v1/search", key,
                                                         form(limit="0")),
        ("get", "/review/queue", 200): lambda: client.get("/api/v1/review/queue", headers=key),
        ("get", "/review/queue", 401): lambda: client.get("/api/v1/review/queue"),
        ("get", "/review/queue", 403): lambda: client.get("/api/v1/review/queue",
                                                          headers=reader),
        ("get", "/review/queue", 422): lambda: client.get("/api/v1/review/queue?limit=0",
                                                          headers=key),
        ("post", "/review/items/{check_id}/claim", 200): lambda: client.post(
            f"{review_path}/claim", headers=key),
        ("post", "/review/items/{check_id}/claim", 401): lambda: client.post(
            f"{review_path}/claim"),
        ("post", "/review/items/{check_id}/claim", 403): lambda: client.post(
            f"{review_path}/claim", headers=reader),
        ("post", "/review/items/{check_id}/claim", 400): lambda: client.post(
            f"{review_path}/claim", headers={**key, "Idempotency-Key": "k" * 201}),
        ("post", "/review/items/{check_id}/claim", 422): lambda: client.post(
            f"{review_path}/claim", headers={**key, "Idempotency-Key": "/api/v1/checks"}),
        ("post", "/review/items/{check_id}/claim", 404): lambda: client.post(
            "/api/v1/review/items/c_no/claim", headers=key),
        ("post", "/review/items/{check_id}/claim", 409): lambda: client.post(
            f"{review_path}/claim", headers=exhausted),
        ("post", "/review/items/{check_id}/decision", 400): lambda: client.post(
            f"{review_path}/decision", headers=key, data="no", content_type="text/plain"),
        ("post", "/review/items/{check_id}/decision", 401): lambda: client.post(
            f"{review_path}/decision", json={"decision": "authentic"}),
        ("post", "/review/items/{check_id}/decision", 403): lambda: client.post(
            f"{review_path}/decision", headers=reader, json={"decision": "authentic"}),
        ("post", "/review/items/{check_id}/decision", 404): lambda: client.post(
            "/api/v1/review/items/c_no/decision", headers=key, json={"decision": "authentic"}),
        ("post", "/review/items/{check_id}/decision", 409): lambda: client.post(
            f"{review_path}/decision", headers=exhausted, json={"decision": "authentic"}),
        ("post", "/review/items/{check_id}/decision", 422): lambda: client.post(
            f"{review_path}/decision", headers=key, json={"decision": "maybe"}),
        ("post", "/review/items/{check_id}/decision", 200): lambda: client.post(
            f"{review_path}/decision", headers=key, json={"decision": "fabricated"}),
        ("get", "/checks/{check_id}/matches/{other_id}/diff.png", 200): lambda: client.get(
            f"/api/v1/checks/{second}/matches/{first}/diff.png", headers=key),
        ("get", "/checks/{check_id}/matches/{other_id}/diff.png", 401): lambda: client.get(
            f"/api/v1/checks/{second}/matches/{first}/diff.png"),
        ("get", "/checks/{check_id}/matches/{other_id}/diff.png", 403): lambda: client.get(
            f"/api/v1/checks/{second}/matches/{first}/diff.png", headers=submitter),
        ("get", "/checks/{check_id}/matches/{other_id}/diff.png", 404): lambda: client.get(
            f"/api/v1/checks/{second}/matches/{batch}/diff.png", headers=key),
        ("get", "/openapi.json", 200): lambda: client.get("/api/v1/openapi.json"),
    }
    seen: set[tuple[str, str, int]] = set()
    for (method, path, status), call in cases.items():
        response = call()
        assert response.status_code == status, (method, path, status, response.get_data()[:300])
        seen.add((method, path, status))
    # 429 for every limited operation: one key spends its whole budget.
    for _ in range(LIMIT):
        client.get("/api/v1/checks/c_no", headers=exhausted)
    for op in OPERATIONS:
        if 429 in op.responses:
            path = op.path.replace("{check_id}", second).replace("{other_id}", first) \
                .replace("{batch_id}", batch).replace("{account}", "x:@a")
            response = client.open(f"/api/v1{path}", method=op.method.upper(),
                                   headers=exhausted)
            assert response.status_code == 429, op.path
            assert json.loads(response.data)["error"]["code"] == "rate_limited"
            seen.add((op.method, op.path, 429))
    documented = {(op.method, op.path, status) for op in OPERATIONS for status in op.responses}
    assert documented - seen == set()
    del exhausted_row
