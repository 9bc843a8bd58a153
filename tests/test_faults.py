"""Faults injected into real processes: workers killed with SIGKILL mid-job, Redis
restarted empty. Every check must still reach done exactly once."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from redis import Redis
from sqlalchemy import func, select

from proofcheck import create_app
from proofcheck.apikeys import create_key
from proofcheck.db import Check, Match
from proofcheck.queueing import sweep
from proofcheck.redis_server import RedisServer
from tests.conftest import make_settings, run_worker

pytestmark = pytest.mark.slow


def big_png(seed: int, size: tuple[int, int] = (3000, 4000)) -> bytes:
    """A 12-megapixel PNG: slow enough to decode that a kill lands mid-job, yet small
    on disk (a repeating byte pattern, different per seed)."""
    pattern = bytes((seed * 7 + i) % 251 for i in range(256))
    image = Image.frombytes("RGB", size, pattern * (size[0] * size[1] * 3 // 256))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def statuses(services) -> dict[str, str]:
    with services.db.session() as session:
        return dict(session.execute(select(Check.id, Check.status)).all())


def start_worker(data_dir: Path, redis_url: str, env_extra: dict[str, str]
                 ) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PROOFCHECK_DATA_DIR": str(data_dir), "REDIS_URL": redis_url,
           "DATABASE_URL": f"sqlite:///{data_dir / 'test.db'}", **env_extra}
    return subprocess.Popen([sys.executable, "-m", "proofcheck", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def test_workers_killed_mid_job_lose_nothing_and_run_nothing_twice(tmp_path, redis_url):
    settings = make_settings(tmp_path / "data", redis_url, stuck_after_s=1, job_timeout_s=4,
                             max_attempts=10)
    app = create_app(settings)
    services = app.extensions["proofcheck"]
    auth = {"Authorization": f"Bearer {create_key(services.db, 'k')[1]}"}
    client = app.test_client()
    images = [big_png(seed) for seed in range(4)]
    images.append(images[0])  # one exact duplicate, so matches exist and are countable
    for number, data in enumerate(images):
        response = client.post("/api/v1/checks", headers=auth,
                               content_type="multipart/form-data",
                               data={"file": (io.BytesIO(data), "big.png"),
                                     "account": f"instagram:@k{number}"})
        assert response.status_code == 202
    env = {"PROOFCHECK_STUCK_AFTER": "1", "PROOFCHECK_JOB_TIMEOUT": "4",
           "PROOFCHECK_MAX_ATTEMPTS": "10"}
    kills = 0
    for _ in range(3):  # start a worker, wait until it is mid-job, SIGKILL it
        worker = start_worker(settings.data_dir, redis_url, env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "running" not in statuses(services).values():
            time.sleep(0.02)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        kills += "running" in statuses(services).values()
    assert kills >= 1, "no kill landed mid-job"

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and set(statuses(services).values()) != {"done"}:
        sweep(services)
        run_worker(services)
        time.sleep(0.5)
    assert set(statuses(services).values()) == {"done"}
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Check)) == len(images)
        pairs = session.execute(select(Match.check_id, Match.other_check_id)).all()
        exact = session.execute(select(Match.check_id, Match.other_check_id)
                                .where(Match.relation == "exact")).all()
    assert len(pairs) == len(set(pairs))  # re-runs replaced their matches, never added twice
    assert len(exact) == 2  # the duplicate pair, once in each direction


def test_redis_restarted_empty_while_checks_wait(tmp_path):
    server = RedisServer(tmp_path / "redis", persist=False).start()
    try:
        settings = make_settings(tmp_path / "data", server.url, stuck_after_s=1)
        app = create_app(settings)
        services = app.extensions["proofcheck"]
        auth = {"Authorization": f"Bearer {create_key(services.db, 'k')[1]}"}
        client = app.test_client()
        from tests.conftest import image_bytes

        ids = []
        for seed in range(5):
            response = client.post("/api/v1/checks", headers=auth,
                                   content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(image_bytes(seed=seed)), "a.png")})
            ids.append(response.get_json()["checks"][0]["id"])
        server.stop()  # Redis dies with five jobs queued...
        assert client.get("/readyz").status_code == 503
        down = client.post("/api/v1/checks", headers=auth, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(image_bytes(seed=9)), "b.png")})
        assert down.status_code == 202  # ...uploads are still kept, to be queued later
        ids.append(down.get_json()["checks"][0]["id"])
        server.start()  # ...and comes back empty
        assert Redis.from_url(server.url).dbsize() == 0
        time.sleep(1.1)
        report = sweep(services)
        assert sorted(report.requeued) == sorted(ids)
        run_worker(services)
        assert set(statuses(services).values()) == {"done"}
    finally:
        server.stop()



def fill_route(rule: str, values: dict[str, str]) -> str:
    """A GET route with its <converter:name> parts replaced by real ids."""
    import re

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: values[m.group(1)], rule)


def test_no_page_or_api_call_fails_with_500_while_redis_is_down(tmp_path):
    """Every GET route of the portal, review queue, admin, ops and API, logged in as an
    admin and with an API key, while Redis is stopped: none fails, only readiness says
    503, and Redis is used again once it is back, with no restart of the app."""
    from tests.conftest import image_bytes, login, make_user

    server = RedisServer(tmp_path / "redis", persist=False).start()
    try:
        app = create_app(make_settings(tmp_path / "data", server.url, ocr=False))
        services = app.extensions["proofcheck"]
        auth = {"Authorization": f"Bearer {create_key(services.db, 'k')[1]}"}
        client = app.test_client()
        assert login(client, make_user(services, "ada", "admin")).status_code == 303
        ids = [client.post("/api/v1/checks", headers=auth, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(image_bytes(seed=s)), "a.png"),
                                 "account": "ig:@shop"}).get_json()["checks"][0]["id"]
               for s in (1, 2)]
        run_worker(services)
        values = {"check_id": ids[0], "other_id": ids[1], "batch_id": "b-none",
                  "account": "ig:@shop", "filename": "app.css"}
        routes = [fill_route(rule.rule, values) for rule in app.url_map.iter_rules()
                  if "GET" in (rule.methods or ())]
        assert len(routes) >= 20

        server.stop()
        answers = {route: client.get(route, headers=auth).status_code for route in routes}
        # Only readiness says 503; everything else reads from the database (uploads are
        # kept and queued by the sweeper later; limits and metrics fail open).
        assert {route for route, status in answers.items() if status >= 500} == {"/readyz"}
        assert answers["/readyz"] == 503
        assert answers[f"/api/v1/checks/{ids[0]}"] == 200  # reads need only the database
        assert answers[f"/checks/{ids[0]}"] == 200
        searched = client.post("/api/v1/search", headers=auth, content_type="multipart/form-data",
                               data={"file": (io.BytesIO(image_bytes(seed=1)), "q.png")})
        assert searched.status_code in (200, 503)

        server.start()  # recovers with no restart of the app (no worker runs here, so
        ready = client.get("/readyz").get_json()  # readiness itself stays 503)
        assert ready["checks"]["redis"] == "ok" and ready["checks"]["database"] == "ok"
        assert client.get("/metrics").status_code == 200
        again = client.post("/api/v1/checks", headers=auth, content_type="multipart/form-data",
                            data={"file": (io.BytesIO(image_bytes(seed=5)), "c.png")})
        assert again.status_code == 202 and services.queue.count == 1
    finally:
        server.stop()


def test_locked_database_answers_503_and_writes_nothing(tmp_path, redis_url):
    import sqlite3

    settings = make_settings(tmp_path / "data", redis_url, sqlite_busy_timeout_ms=200)
    app = create_app(settings)
    services = app.extensions["proofcheck"]
    key = create_key(services.db, "k")[1]
    client = app.test_client()
    from tests.conftest import image_bytes

    locker = sqlite3.connect(str(settings.data_dir / "test.db"))
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        response = client.post("/api/v1/checks", headers={"Authorization": f"Bearer {key}"},
                               content_type="multipart/form-data",
                               data={"file": (io.BytesIO(image_bytes(seed=3)), "a.png")})
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "unavailable"
        assert response.headers["Retry-After"]
    finally:
        locker.rollback()
        locker.close()
    assert statuses(services) == {}
    response = client.post("/api/v1/checks", headers={"Authorization": f"Bearer {key}"},
                           content_type="multipart/form-data",
                           data={"file": (io.BytesIO(image_bytes(seed=3)), "a.png")})
    assert response.status_code == 202  # recovers by itself once the lock is gone


def test_full_disk_gives_a_clear_error_and_no_partial_file(client, auth, services,
                                                          monkeypatch):
    from tests.conftest import blob_files, image_bytes

    # An injected ENOSPC on the blob store's writes, as on a full disk.
    monkeypatch.setattr("os.fdopen", lambda fd, mode: _FailingFile(fd))
    response = client.post("/api/v1/checks", headers=auth, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(image_bytes(seed=4)), "a.png")})
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "storage_unavailable"
    assert blob_files(services) == [] and statuses(services) == {}


class _FailingFile:
    """A file object whose writes fail with ENOSPC, as on a full disk."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self) -> _FailingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def write(self, data: bytes) -> int:
        raise OSError(28, "No space left on device")


def test_gc_removes_only_unreferenced_old_blobs(client, auth, services):
    from proofcheck.queueing import collect_orphan_blobs
    from tests.conftest import image_bytes

    kept = image_bytes(seed=5)
    client.post("/api/v1/checks", headers=auth, content_type="multipart/form-data",
                data={"file": (io.BytesIO(kept), "a.png")})
    orphan = services.blobs.put(b"left by an upload whose rows failed")
    assert collect_orphan_blobs(services, grace_s=3600) == []  # too young to judge
    assert collect_orphan_blobs(services, grace_s=0) == [orphan]
    assert not services.blobs.exists(orphan)
    from proofcheck.storage import sha256_hex

    assert services.blobs.exists(sha256_hex(kept))
