"""Worker start-up: an RQ worker that also runs the sweeper on its maintenance tick."""

from __future__ import annotations

import logging
from typing import Any

from rq import SimpleWorker, Worker

from proofcheck.batches import BATCH_QUEUE
from proofcheck.callbacks import WEBHOOK_QUEUE
from proofcheck.queueing import sweep_once_across_workers
from proofcheck.services import Services
from workers.tasks import use_services

log = logging.getLogger(__name__)


class SweepingMixin:
    """Runs the sweeper after RQ's own registry maintenance.

    RQ calls run_maintenance_tasks every `maintenance_interval` seconds, idle or not,
    so every worker takes part and a Redis lock makes sure only one sweeps at a time.
    """

    services: Services

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()  # type: ignore[misc]
        try:
            sweep_once_across_workers(self.services)
        except Exception:  # the sweeper must never take the worker down
            log.exception("sweeper failed; will try again on the next tick")


class IndexingMixin:
    """Catches the near-duplicate index up in the forking worker's parent before each job.

    The forking worker hands every job to a fresh child: catching up in the parent
    means each child starts with (copy-on-write) all signatures committed so far and
    reads only the few rows committed since, instead of the whole table every time.
    """

    services: Services

    def execute_job(self, job: Any, queue: Any) -> Any:
        try:
            self.services.neardup.catch_up(self.services.db)
        except Exception:  # the job's own catch-up will try again and report
            log.exception("index catch-up before job failed")
        return super().execute_job(job, queue)  # type: ignore[misc]


class ProofCheckWorker(SweepingMixin, IndexingMixin, Worker):
    pass


class ProofCheckSimpleWorker(SweepingMixin, SimpleWorker):
    """Runs jobs in its own process, keeping OCR engines and the index warm: the
    default for `proofcheck worker` (see its --fork option)."""


def make_worker(services: Services, simple: bool = False, queues: list[str] | None = None,
                **kwargs: Any) -> Worker | SimpleWorker:
    services.migrate()
    use_services(services)
    loaded = services.neardup.catch_up(services.db)
    log.info("near-duplicate index loaded: %d signatures", loaded)
    if services.settings.ocr:
        from proofcheck.text.ocr import warm_up

        warm_up()  # load the language models once, before forking work horses
    interval = services.settings.sweep_interval_s
    cls = ProofCheckSimpleWorker if simple else ProofCheckWorker
    # Single checks first: an interactive upload should not wait behind a 10,000-item
    # batch; callbacks last, they are never urgent to the minute.
    worker = cls(
        queues or [services.settings.queue_name, BATCH_QUEUE, WEBHOOK_QUEUE],
        connection=services.redis,
        maintenance_interval=interval,
        # The idle worker wakes up every (worker_ttl - 15) s; keep that near the
        # sweep interval so an idle worker still sweeps on time.
        worker_ttl=max(interval + 15, 30),
        **kwargs,
    )
    worker.services = services
    return worker
