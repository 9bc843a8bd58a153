"""The same service on a real PostgreSQL server (started by the tests) instead of SQLite."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from proofcheck import create_app
from proofcheck.apikeys import create_key
from proofcheck.db import Check
from proofcheck.migrations import current_revision, head_revision
from proofcheck.queueing import sweep
from tests.conftest import image_bytes, make_settings, run_worker
from tests.postgres_server import PostgresServer, available
from tests.test_worker import age, status_of, submit
from workers.runner import make_worker

pytestmark = pytest.mark.postgres

if not available():  # the README's test command installs it; say so loudly if it did not
    pytest.fail("PostgreSQL binaries (Debian package postgresql) are not installed",
                pytrace=False)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    # Not under pytest's tmp folder: that one is private to root, and the server
    # runs as the postgres user.
    workdir = Path(tempfile.mkdtemp(prefix="proofcheck-pg-"))
    server = PostgresServer(workdir).start()
    yield server
    server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    engine = create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return postgres.url


def test_migrations_create_every_table(pg_url, tmp_path, redis_url):
    app = create_app(make_settings(tmp_path, redis_url, database_url=pg_url))
    engine = app.extensions["proofcheck"].db.engine
    tables = set(inspect(engine).get_table_names())
    assert {"checks", "accounts", "hashes", "matches", "batches", "api_keys", "users",
            "reviews", "audit_events"} <= tables
    assert current_revision(engine) == head_revision()


def test_checks_flow_end_to_end_on_postgres(pg_url, tmp_path, redis_url):
    app = create_app(make_settings(tmp_path, redis_url, database_url=pg_url))
    services = app.extensions["proofcheck"]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {create_key(services.db, 'pg')[1]}"}
    data = image_bytes(seed=61)
    first = submit(client, auth, data, account="instagram:@owner",
                   posted_at="2026-01-02T03:04:05+03:30")
    second = submit(client, auth, data, account="instagram:@copy")
    run_worker(services)
    body = client.get(f"/api/v1/checks/{second}", headers=auth).get_json()
    assert body["verdict"] == "fabricated"
    assert body["matches"][0]["check_id"] == first
    assert client.get(f"/api/v1/checks/{first}", headers=auth).get_json()["posted_at"] == \
        "2026-01-01T23:34:05+00:00"

    # The sweeper's time arithmetic works against PostgreSQL timestamps too.
    third = submit(client, auth, image_bytes(seed=62))
    from redis import Redis

    Redis.from_url(redis_url).flushall()
    age(services, third, services.settings.stuck_after_s + 5)
    assert sweep(services).requeued == [third]
    run_worker(services)
    assert status_of(services, third).status == "done"


def test_stopped_postgres_answers_503_loses_nothing_and_recovers(postgres, pg_url, tmp_path,
                                                                 redis_url):
    """Last in this file: it stops the module's server (and starts it again)."""
    app = create_app(make_settings(tmp_path, redis_url, database_url=pg_url))
    services = app.extensions["proofcheck"]
    client = app.test_client()
    auth = {"Authorization": f"Bearer {create_key(services.db, 'pg')[1]}"}
    waiting = submit(client, auth, image_bytes(seed=71))  # queued before the outage
    worker = make_worker(services, simple=True)  # started (and migrated) before it too
    postgres.stop()
    try:
        response = client.post("/api/v1/checks", headers=auth,
                               content_type="multipart/form-data",
                               data={"file": (io.BytesIO(image_bytes(seed=72)), "b.png")})
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "unavailable"
        assert client.get("/readyz").status_code == 503
        # The running worker takes the queued job, which cannot store anything: the
        # job fails, the worker carries on.
        worker.work(burst=True, with_scheduler=False)
    finally:
        postgres.resume()
    # Nothing half-written: the refused upload left no row, the waiting check is intact.
    assert client.get(f"/api/v1/checks/{waiting}", headers=auth).get_json()["status"] in (
        "queued", "running")
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Check)) == 1
    # Once back, the sweeper re-queues what the outage stopped and it finishes.
    age(services, waiting, services.settings.stuck_after_s + 5)
    sweep(services)
    run_worker(services)
    assert status_of(services, waiting).status == "done"
    assert submit(client, auth, image_bytes(seed=72))  # uploads work again
