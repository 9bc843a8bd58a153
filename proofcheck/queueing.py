"""RQ wiring: putting checks on the queue, and the sweeper that puts back lost ones.

A job's id is its check's id, so queueing a check twice replaces the job instead of
running it twice, and the sweeper can ask Redis about a check's job by its id.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from redis.exceptions import LockError
from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import Job, JobStatus
from sqlalchemy import select

from proofcheck.db import Batch, Check, utcnow
from proofcheck.services import Services

log = logging.getLogger(__name__)

RUN_CHECK = "workers.tasks.run_check"
# Redis still holds these jobs and a worker will get to them: leave them alone.
WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.CREATED,
           JobStatus.READY_TO_ENQUEUE, JobStatus.RATE_LIMITED}
SWEEP_LOCK = "proofcheck:sweep-lock"


def enqueue_check(services: Services, check_id: str) -> Job:
    return services.queue.enqueue_call(
        RUN_CHECK,
        args=(check_id,),
        job_id=check_id,
        timeout=services.settings.job_timeout_s,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        description=f"check {check_id}",
    )


def job_status(services: Services, check_id: str) -> JobStatus | None:
    try:
        return Job.fetch(check_id, connection=services.redis).get_status(refresh=False)
    except NoSuchJobError:
        return None


def delete_job(services: Services, job_id: str) -> None:
    """Delete a job Redis may hold, before queueing its work again.

    A worker killed mid-job leaves the job's list of executions naming one whose record
    expires a minute before the name does (RQ 3.0): in that minute `Job.delete` raises
    ValueError, which had stopped the sweep and left that check and the ones after it
    marked queued but not queued until a sweep after that minute (the tests' sweeps
    failed outright). Names without a record are dropped, and the delete tried again.
    """
    try:
        job = Job.fetch(job_id, connection=services.redis)
    except NoSuchJobError:
        return
    try:
        job.delete()
        return
    except ValueError:
        registry = job.execution_registry
        for execution_id in registry.get_execution_ids():
            if not services.redis.exists(Execution(execution_id, job_id, services.redis).key):
                services.redis.zrem(registry.key, execution_id)
    job.delete()


@dataclass
class SweepReport:
    examined: int = 0
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    left_waiting: int = 0


def sweep(services: Services, now: dt.datetime | None = None, limit: int = 1000) -> SweepReport:
    """Re-queue checks stuck in queued/running whose job Redis no longer runs.

    A check is stuck when it has not moved for `stuck_after_s`. Its job may have
    vanished (Redis restarted empty), failed (an exception), or died with its worker
    (kill -9). A job that is still waiting in Redis is left alone; one still "started"
    is trusted until the job timeout has passed too. After `max_attempts` the check
    is marked failed with the last error, so a poison file cannot loop for ever.
    """
    settings = services.settings
    now = now or utcnow()
    cutoff = now - dt.timedelta(seconds=settings.stuck_after_s)
    running_cutoff = cutoff - dt.timedelta(seconds=settings.job_timeout_s)
    report = SweepReport()
    with services.db.session() as session:
        stuck = session.scalars(
            select(Check)
            .where(Check.status.in_(("queued", "running")), Check.updated_at < cutoff)
            .order_by(Check.updated_at)
            .limit(limit)
        ).all()
        for check in stuck:
            if check.batch_id is not None:
                continue  # batch items move with their batch's job (see below)
            report.examined += 1
            status = job_status(services, check.id)
            if status in WAITING:
                report.left_waiting += 1
                continue
            if status == JobStatus.STARTED and check.updated_at >= running_cutoff:
                report.left_waiting += 1
                continue
            if check.attempts >= settings.max_attempts:
                check.status = "failed"
                check.stage = None
                check.finished_at = now
                check.error = (f"Gave up after {check.attempts} attempts"
                               + (f"; last error: {check.error}" if check.error else "."))
                report.failed.append(check.id)
            else:
                check.status = "queued"
                check.stage = "queued"
                report.requeued.append(check.id)
            check.updated_at = now
    # Commit before queueing, as on upload: a job never names an uncommitted state.
    for check_id in report.requeued:
        delete_job(services, check_id)
        enqueue_check(services, check_id)
    for check_id in report.failed:
        from proofcheck.callbacks import notify_check

        notify_check(services, check_id)
    _sweep_batches(services, now, report)
    if report.requeued or report.failed:
        log.info("sweeper: requeued %d, failed %d, of %d stuck", len(report.requeued),
                 len(report.failed), report.examined)
    return report


def _sweep_batches(services: Services, now: dt.datetime, report: SweepReport) -> None:
    """Re-queue batches whose job is gone; fail batches whose upload never finished."""
    from proofcheck.batches import _abandon, enqueue_batch

    abandoned_before = now - dt.timedelta(hours=1)
    with services.db.session() as session:
        active = session.execute(select(Batch.id, Batch.status, Batch.created_at).where(
            Batch.status.in_(("receiving", "queued", "running")))).all()
    for batch_id, status, created_at in active:
        if status == "receiving":
            if created_at < abandoned_before:
                _abandon(services, batch_id, "the upload was interrupted")
                report.failed.append(batch_id)
            continue
        job = job_status(services, batch_id)
        if job in WAITING or job == JobStatus.STARTED:
            continue
        delete_job(services, batch_id)
        enqueue_batch(services, batch_id)
        report.requeued.append(batch_id)


def sweep_once_across_workers(services: Services) -> SweepReport | None:
    """Run the sweep unless another worker holds the lock (many workers, one sweep)."""
    lock = services.redis.lock(SWEEP_LOCK, timeout=max(30, services.settings.sweep_interval_s),
                               blocking=False)
    if not lock.acquire(blocking=False):
        return None
    try:
        return sweep(services)
    finally:
        try:
            lock.release()
        except LockError:  # expired mid-sweep: harmless, the next sweep is idempotent
            log.debug("sweep lock already expired")


def collect_orphan_blobs(services: Services, grace_s: float = 3600) -> list[str]:
    """Delete stored originals that no check names, once older than `grace_s`.

    Orphans come from an upload whose rows failed to commit after its file was written;
    the grace period covers a concurrent upload of the same bytes still in flight.
    """
    removed = []
    for digest in services.blobs.iter_digests(older_than_s=grace_s):
        with services.db.session() as session:
            if session.scalar(select(Check.id).where(Check.sha256 == digest).limit(1)):
                continue
        services.blobs.delete(digest)
        removed.append(digest)
    return removed
