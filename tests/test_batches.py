"""Batches in all three forms, archive safety, signed callbacks and idempotency."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import zipfile

import pytest
from flask import Flask

from proofcheck import create_app
from proofcheck.apikeys import create_key
from proofcheck.db import ApiKey
from tests.conftest import callback_app, image_bytes, make_settings, run_worker
from tests.receiver import receiver


@pytest.fixture
def app(tmp_path, redis_url):
    # The SSRF test builds its own app, without private callback destinations. OCR is
    # off: reading the text of a thousand images would take most of the suite's time.
    app = callback_app(tmp_path / "data", redis_url)
    yield app
    app.extensions["proofcheck"].db.dispose()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def get_batch(client, auth, url: str) -> dict:
    response = client.get(url, headers=auth)
    assert response.status_code == 200
    return response.get_json()


def test_json_batch_in_order_with_bad_items_reported_per_item(client, auth, services):
    receipt = image_bytes(seed=71)
    body = {"items": [
        {"image_base64": b64(receipt), "filename": "r1.png", "account": "instagram:@a",
         "post_id": "1"},
        {"image_base64": "not base64!!", "filename": "broken.png"},
        {"image_base64": b64(b"plain text"), "filename": "notes.txt"},
        {"image_base64": b64(receipt), "filename": "r1-again.png", "account": "instagram:@b",
         "post_id": "9", "kind": "receipt"},
        {"filename": "missing.png"},
        "not an object",
    ]}
    response = client.post("/api/v1/batches", json=body, headers=auth)
    assert response.status_code == 202, response.get_json()
    created = response.get_json()
    assert created["id"].startswith("b_") and created["total"] == 6
    assert created["status"] == "queued"

    run_worker(services)
    batch = get_batch(client, auth, created["url"])
    assert batch["status"] == "done"
    assert (batch["total"], batch["done"], batch["failed"]) == (6, 6, 4)
    names = [c["filename"] for c in batch["checks"]]
    assert names == ["r1.png", "broken.png", "notes.txt", "r1-again.png", "missing.png", ""]
    errors = {c["filename"]: c["error"] for c in batch["checks"] if c["status"] == "failed"}
    assert errors["broken.png"].startswith("invalid_base64")
    assert errors["notes.txt"].startswith("not_an_image")
    assert errors["missing.png"].startswith("missing_image")
    # The later copy from another account matches the batch's own earlier item.
    later = client.get(f"/api/v1/checks/{batch['checks'][3]['id']}", headers=auth).get_json()
    assert later["verdict"] == "fabricated"
    assert later["matches"][0]["check_id"] == batch["checks"][0]["id"]


def test_multipart_batch_with_manifest(client, auth, services):
    manifest = {"items": [{"filename": "a.png", "account": "web:shop.example"},
                          {"filename": "b.jpg", "post_id": "p2"},
                          {"filename": "not-sent.png"}]}
    form = {"manifest": json.dumps(manifest),
            "files": [(io.BytesIO(image_bytes(seed=72)), "a.png"),
                      (io.BytesIO(image_bytes("JPEG", seed=73)), "b.jpg")]}
    response = client.post("/api/v1/batches", data=form, headers=auth,
                           content_type="multipart/form-data")
    assert response.status_code == 202, response.get_json()
    run_worker(services)
    batch = get_batch(client, auth, response.get_json()["url"])
    assert [c["status"] for c in batch["checks"]] == ["done", "done", "failed"]
    assert batch["checks"][2]["error"].startswith("missing_file")


def make_zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def post_archive(client, auth, data: bytes, **headers: str):
    return client.post("/api/v1/batches", data={"archive": (io.BytesIO(data), "batch.zip")},
                       headers={**auth, **headers}, content_type="multipart/form-data")


def test_archive_batch_refuses_traversal_and_bombs_per_item(client, auth, services):
    bomb = b"\0" * 5_000_000  # deflates ~1000:1
    manifest = {"items": [{"filename": "ok.png", "account": "instagram:@z"},
                          {"filename": "../../etc/passwd"},
                          {"filename": "bomb.png"},
                          {"filename": "absent.png"}]}
    data = make_zip({"manifest.json": json.dumps(manifest).encode(),
                     "ok.png": image_bytes(seed=74), "bomb.png": bomb,
                     "../../etc/passwd": b"root:x:0:0"}, zipfile.ZIP_DEFLATED)
    response = post_archive(client, auth, data)
    assert response.status_code == 202, response.get_json()
    run_worker(services)
    batch = get_batch(client, auth, response.get_json()["url"])
    status = {c["filename"]: (c["status"], (c["error"] or "").split(":")[0])
              for c in batch["checks"]}
    assert status == {"ok.png": ("done", ""), "../../etc/passwd": ("failed", "unsafe_path"),
                      "bomb.png": ("failed", "compression_ratio"),
                      "absent.png": ("failed", "missing_file")}


@pytest.mark.parametrize(("entries", "code", "status"), [
    ({"x.png": b"1"}, "manifest_missing", 422),
    ({"manifest.json": b"{not json"}, "invalid_manifest", 422),
    ({"manifest.json": b"[]"}, "invalid_manifest", 422),
])
def test_bad_archives_are_refused_whole(client, auth, entries, code, status):
    response = post_archive(client, auth, make_zip(entries))
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_not_a_zip_and_too_many_entries(app, client, auth, services):
    response = post_archive(client, auth, b"PK\x03\x04 not really")
    assert response.get_json()["error"]["code"] == "invalid_archive"
    services.settings = services.settings.with_overrides({"max_batch_items": 3})
    entries = {f"{i}.png": b"x" for i in range(5)} | {"manifest.json": b'{"items": []}'}
    response = post_archive(client, auth, make_zip(entries))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "archive_too_many_entries"


def test_batch_callback_arrives_signed(client, auth, services, api_key):
    with receiver() as hook:
        body = {"items": [{"image_base64": b64(image_bytes(seed=75)), "filename": "a.png"}],
                "callback_url": hook.url}
        created = client.post("/api/v1/batches", json=body, headers=auth).get_json()
        run_worker(services)  # the batch, then its callback on the webhooks queue
        [(headers, payload)] = hook.received
    with services.db.session() as session:
        secret = session.query(ApiKey.webhook_secret).scalar()
    expected = "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    assert headers["x-proofcheck-signature"] == expected  # header names are case-blind
    sent = json.loads(payload)
    assert sent["id"] == created["id"] and sent["status"] == "done"
    batch = get_batch(client, auth, created["url"])
    assert batch["callbacks"][0]["status"] == "delivered"


def test_check_callback_is_retried_until_the_receiver_recovers(client, auth, services):
    with receiver(statuses=[500, 503]) as hook:
        response = client.post("/api/v1/checks", headers=auth, content_type="multipart/form-data",
                               data={"file": (io.BytesIO(image_bytes(seed=76)), "a.png"),
                                     "callback_url": hook.url})
        check_url = response.get_json()["checks"][0]["url"]
        run_worker(services)
        assert len(hook.received) == 3
    check = client.get(check_url, headers=auth).get_json()
    assert check["callbacks"] == [{**check["callbacks"][0], "status": "delivered",
                                   "attempts": 3, "last_status_code": 200}]
    assert json.loads(hook.received[-1][1])["id"] == check["id"]


def test_callback_that_never_succeeds_ends_failed(client, auth, services):
    with receiver(statuses=[500] * 10) as hook:
        created = client.post("/api/v1/batches", headers=auth, json={
            "items": [{"image_base64": b64(image_bytes(seed=77))}], "callback_url": hook.url})
        run_worker(services)
        assert len(hook.received) == 4  # the first try and three retries
    [delivery] = get_batch(client, auth, created.get_json()["url"])["callbacks"]
    assert delivery == {**delivery, "status": "failed", "attempts": 4,
                        "last_status_code": 500, "delivered_at": None}



def test_a_receiver_that_never_answers_does_not_hold_the_worker(client, auth, services):
    services.settings = services.settings.with_overrides({"callback_timeout_s": 0.5})
    with receiver(hang=True) as hook:
        hung = client.post("/api/v1/checks", headers=auth, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(image_bytes(seed=78)), "a.png"),
                                 "callback_url": hook.url}).get_json()["checks"][0]
        run_worker(services)  # burst mode returns only once every attempt has timed out
        assert len(hook.received) == 4
        later = client.post("/api/v1/checks", headers=auth, content_type="multipart/form-data",
                            data={"file": (io.BytesIO(image_bytes(seed=79)), "b.png")})
        run_worker(services)  # the worker is free for the next check
    check = client.get(hung["url"], headers=auth).get_json()
    assert check["status"] == "done"
    assert check["callbacks"] == [{**check["callbacks"][0], "status": "failed", "attempts": 4,
                                   "last_status_code": None}]
    assert "timed out" in check["callbacks"][0]["last_error"]
    assert client.get(later.get_json()["checks"][0]["url"],
                      headers=auth).get_json()["status"] == "done"


def test_private_callback_destinations_are_refused(tmp_path, redis_url):
    app: Flask = create_app(make_settings(tmp_path / "d", redis_url))
    services = app.extensions["proofcheck"]
    auth = {"Authorization": f"Bearer {create_key(services.db, 'x')[1]}"}
    client = app.test_client()
    for url in ("http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                "http://[::1]/x", "http://user:pw@example.com/x", "http://localhost/x"):
        response = client.post("/api/v1/batches", headers=auth, json={
            "items": [{"image_base64": b64(image_bytes())}], "callback_url": url})
        assert response.status_code == 422, url
        assert response.get_json()["error"]["field"] == "callback_url"
        single = client.post("/api/v1/checks", headers=auth, content_type="multipart/form-data",
                             data={"file": (io.BytesIO(image_bytes()), "a.png"),
                                   "callback_url": url})
        assert single.status_code == 422, url


def test_idempotency_key_replays_and_refuses_a_different_body(client, auth, services):
    def send(seed: int, key: str):
        return client.post("/api/v1/checks", headers={**auth, "Idempotency-Key": key},
                           content_type="multipart/form-data",
                           data={"file": (io.BytesIO(image_bytes(seed=seed)), "a.png"),
                                 "account": "x:@y"})

    first = send(78, "k-1")
    again = send(78, "k-1")
    assert first.status_code == again.status_code == 202
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = send(79, "k-1")
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert send(79, "k-2").get_json() != first.get_json()

    body = {"items": [{"image_base64": b64(image_bytes(seed=80))}]}
    one = client.post("/api/v1/batches", json=body, headers={**auth, "Idempotency-Key": "b"})
    two = client.post("/api/v1/batches", json=body, headers={**auth, "Idempotency-Key": "b"})
    assert one.get_json()["id"] == two.get_json()["id"]
    from sqlalchemy import func, select

    from proofcheck.db import Batch, Check

    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 1
        assert session.scalar(select(func.count()).select_from(Check)) == 3


@pytest.mark.slow
def test_thousand_image_zip_batch_reaches_done_with_a_signed_callback(client, auth, services):
    entries = {f"img{i:04d}.png": image_bytes(size=(64, 96), seed=i) for i in range(1000)}
    manifest = {"items": [{"filename": name, "account": f"instagram:@shop{i % 7}"}
                          for i, name in enumerate(entries)]}
    with receiver() as hook:
        manifest["callback_url"] = hook.url
        data = make_zip({"manifest.json": json.dumps(manifest).encode(), **entries},
                        zipfile.ZIP_DEFLATED)
        response = post_archive(client, auth, data)
        assert response.status_code == 202
        run_worker(services)
        assert len(hook.received) == 1
    batch = get_batch(client, auth, response.get_json()["url"])
    assert (batch["status"], batch["total"], batch["done"], batch["failed"]) == \
        ("done", 1000, 1000, 0)
    assert all(c["verdict"] is not None for c in batch["checks"])
    assert json.loads(hook.received[0][1])["done"] == 1000


def test_idempotency_key_works_on_every_post(client, auth, services):
    data = image_bytes(seed=88)
    created = client.post("/api/v1/checks", headers=auth, content_type="multipart/form-data",
                          data={"file": (io.BytesIO(data), "a.png"), "account": "x:@q"})
    check_id = created.get_json()["checks"][0]["id"]
    run_worker(services)
    cases = {  # each makes the request's arguments afresh (a file object is read once)
        "/api/v1/search": lambda: {"content_type": "multipart/form-data",
                                   "data": {"file": (io.BytesIO(data), "q.png")}},
        f"/api/v1/review/items/{check_id}/claim": dict,
        f"/api/v1/review/items/{check_id}/decision": lambda: {"json": {"decision": "authentic"}},
    }
    for path, arguments in cases.items():
        headers = {**auth, "Idempotency-Key": path}
        first = client.post(path, headers=headers, **arguments())
        again = client.post(path, headers=headers, **arguments())
        assert first.status_code == 200, (path, first.get_json())
        assert again.headers.get("Idempotent-Replayed") == "true", path
        assert again.get_json() == first.get_json(), path


def test_a_batch_resumed_after_a_crash_rescores_what_it_had_finished(client, auth, services):
    """Items are re-scored once per chunk; a worker killed between an item and its
    chunk's re-scoring leaves accounts unsummarised, and the resumed job mends them."""
    from sqlalchemy import select, update

    from proofcheck.batches import run_batch
    from proofcheck.db import Account, Batch, Check
    from proofcheck.processing import process_check

    body = {"items": [{"image_base64": b64(image_bytes(seed=90 + i)), "filename": f"{i}.png",
                       "account": "instagram:@resumed", "post_id": str(i)} for i in range(3)]}
    created = client.post("/api/v1/batches", json=body, headers=auth).get_json()
    run_worker(services)
    with services.db.session() as session:
        summary = session.execute(select(Account.score, Account.verdict, Account.reasons)
                                  .where(Account.name == "instagram:@resumed")).one()
        assert summary.score is not None
        # As the crash left it: items done, the account never re-scored, the job running.
        session.execute(update(Account).where(Account.name == "instagram:@resumed")
                        .values(score=None, verdict=None, reasons=None))
        session.execute(update(Batch).where(Batch.id == created["id"])
                        .values(status="running", finished_at=None))
        versions = dict(session.execute(select(Check.id, Check.model_version)
                                        .where(Check.batch_id == created["id"])).all())
    assert run_batch(services, created["id"], process_check) == "done"
    with services.db.session() as session:
        mended = session.execute(select(Account.score, Account.verdict, Account.reasons)
                                 .where(Account.name == "instagram:@resumed")).one()
        again = dict(session.execute(select(Check.id, Check.model_version)
                                     .where(Check.batch_id == created["id"])).all())
    assert tuple(mended) == tuple(summary)
    assert again == versions
