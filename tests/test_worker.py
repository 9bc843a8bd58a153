"""Workers and the sweeper against a real Redis: nothing is lost, nothing runs twice."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import time

import pytest
from redis import Redis
from rq import Worker
from rq.job import Job, JobStatus
from sqlalchemy import func, select, update

from proofcheck import create_app
from proofcheck.db import Check, Match, utcnow
from proofcheck.processing import process_check
from proofcheck.queueing import job_status, sweep
from proofcheck.redis_server import free_port
from proofcheck.services import Services
from tests.conftest import image_bytes, make_settings, run_worker
from workers.runner import make_worker


def submit(client, auth, data: bytes, **fields: str) -> str:
    response = client.post("/api/v1/checks", data={"file": (io.BytesIO(data), "a.png"), **fields},
                           headers=auth, content_type="multipart/form-data")
    assert response.status_code == 202
    check_id: str = response.get_json()["checks"][0]["id"]
    return check_id


def status_of(services: Services, check_id: str) -> Check:
    with services.db.session() as session:
        check = session.get(Check, check_id)
        assert check is not None
        return check


def age(services: Services, check_id: str, seconds: int) -> None:
    with services.db.session() as session:
        session.execute(update(Check).where(Check.id == check_id).values(
            updated_at=utcnow() - dt.timedelta(seconds=seconds)))


def test_forking_worker_runs_a_check(client, auth, services):
    check_id = submit(client, auth, image_bytes(seed=31))
    worker = make_worker(services)  # the production class: forks a work horse per job
    assert isinstance(worker, Worker)
    worker.work(burst=True, with_scheduler=False)
    assert status_of(services, check_id).status == "done"


def test_sweeper_requeues_a_check_whose_job_vanished(client, auth, services):
    check_id = submit(client, auth, image_bytes(seed=32))
    Redis.from_url(services.settings.redis_url).flushall()  # Redis restarted empty
    assert job_status(services, check_id) is None

    report = sweep(services)
    assert report.requeued == []  # not stuck yet: it was queued a moment ago

    age(services, check_id, services.settings.stuck_after_s + 5)
    report = sweep(services)
    assert report.requeued == [check_id]
    assert job_status(services, check_id) is not None
    run_worker(services)
    assert status_of(services, check_id).status == "done"


def test_sweeper_leaves_waiting_jobs_alone(client, auth, services):
    check_id = submit(client, auth, image_bytes(seed=33))
    age(services, check_id, services.settings.stuck_after_s + 5)
    report = sweep(services)
    assert report.requeued == [] and report.left_waiting == 1


def test_sweeper_recovers_a_check_left_running_by_a_dead_worker(client, auth, services):
    check_id = submit(client, auth, image_bytes(seed=34))
    with services.db.session() as session:  # the state a kill -9 mid-job leaves behind
        session.execute(update(Check).where(Check.id == check_id).values(
            status="running", attempts=1))
    Redis.from_url(services.settings.redis_url).flushall()
    age(services, check_id, services.settings.stuck_after_s + 5)
    assert sweep(services).requeued == [check_id]
    run_worker(services)
    check = status_of(services, check_id)
    assert (check.status, check.attempts) == ("done", 2)


def test_sweeper_gets_past_a_job_naming_an_execution_whose_record_expired(client, auth,
                                                                        services):
    """A worker killed mid-job leaves its job naming an execution whose record expires a
    minute before the name does (RQ 3.0), and deleting such a job raises: the sweep
    still requeues that check, and the checks after it."""
    redis = Redis.from_url(services.settings.redis_url)
    settings = services.settings
    first, second = (submit(client, auth, image_bytes(seed=seed)) for seed in (37, 38))
    for check_id, older in ((first, 10), (second, 0)):  # the sweep meets `first` first
        Job.fetch(check_id, connection=redis).set_status(JobStatus.STARTED)
        with services.db.session() as session:
            session.execute(update(Check).where(Check.id == check_id).values(
                status="running", attempts=1))
        age(services, check_id, settings.stuck_after_s + settings.job_timeout_s + 5 + older)
    job = Job.fetch(first, connection=redis)
    redis.zadd(job.execution_registry.key, {"expired": time.time() + 60})
    with pytest.raises(ValueError, match="not found"):
        job.get_executions()  # what Job.delete reads first

    assert sweep(services).requeued == [first, second]
    assert job_status(services, first) == job_status(services, second) == JobStatus.QUEUED
    run_worker(services)
    assert [status_of(services, c).status for c in (first, second)] == ["done", "done"]


def test_transient_failure_is_retried_then_given_up(client, auth, services):
    data = image_bytes(seed=35)
    check_id = submit(client, auth, data)
    blob = services.blobs.path(status_of(services, check_id).sha256)
    blob.unlink()
    blob.mkdir()  # reading the original now fails with an OSError, as a broken disk would

    run_worker(services)
    check = status_of(services, check_id)
    assert check.status == "running" and "IsADirectoryError" in (check.error or "")

    settings = services.settings
    for attempt in range(2, settings.max_attempts + 1):
        age(services, check_id, settings.stuck_after_s + 5)
        assert sweep(services).requeued == [check_id]
        run_worker(services)
        assert status_of(services, check_id).attempts == attempt
    age(services, check_id, settings.stuck_after_s + 5)
    report = sweep(services)
    assert report.failed == [check_id]
    check = status_of(services, check_id)
    assert check.status == "failed"
    assert check.error.startswith(f"Gave up after {settings.max_attempts} attempts")

    # The disk recovers; a fresh upload of the same file works (content-addressed).
    shutil.rmtree(blob)
    again = submit(client, auth, data)
    run_worker(services)
    assert status_of(services, again).status == "done"


def test_running_a_check_twice_gives_one_result(client, auth, services):
    data = image_bytes(seed=36)
    submit(client, auth, data, account="instagram:@first")
    second = submit(client, auth, data, account="instagram:@second")
    run_worker(services)
    assert process_check(services, second) == "done"  # already final: left alone
    with services.db.session() as session:
        session.execute(update(Check).where(Check.id == second).values(status="running"))
    assert process_check(services, second) == "done"  # a re-run after a crash mid-way
    with services.db.session() as session:
        matches = session.scalar(select(func.count()).select_from(Match)
                                 .where(Match.check_id == second))
    assert matches == 1
    assert process_check(services, "c_does_not_exist") == "missing"


def test_upload_while_redis_is_down_is_kept_and_swept_later(tmp_path, redis_url):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    settings = make_settings(tmp_path / "data", dead_redis)
    app = create_app(settings)
    services: Services = app.extensions["proofcheck"]
    from proofcheck.apikeys import create_key

    key = create_key(services.db, "t")[1]
    client = app.test_client()
    check_id = submit(client, {"Authorization": f"Bearer {key}"}, image_bytes(seed=37))
    assert status_of(services, check_id).status == "queued"

    # Redis is back (the real one): the sweeper queues what the outage missed.
    live = Services(make_settings(tmp_path / "data", redis_url))
    age(live, check_id, live.settings.stuck_after_s + 5)
    assert sweep(live).requeued == [check_id]
    run_worker(live)
    assert status_of(live, check_id).status == "done"
