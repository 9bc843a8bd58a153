"""Prometheus metrics, read at scrape time from the shared state (database, Redis).

Workers are many processes on many machines and RQ forks a short-lived process per
job, so in-process counters would be lost; stage latencies are instead accumulated
as histogram buckets in Redis (a few HINCRBY per check) and everything else is
counted from the database and the queues when /metrics is scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker
from sqlalchemy import func, select

from proofcheck.db import Check, Hash
from proofcheck.neardup import ALGORITHM
from proofcheck.services import Services

log = logging.getLogger(__name__)

BUCKETS_MS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
STAGE_KEY = "proofcheck:metrics:stage:"
QUEUES = ("checks", "batch", "webhooks")


def record_stages(redis: Redis, timings_ms: Mapping[str, float]) -> None:
    """Add one check's stage timings to the shared histograms."""
    pipe = redis.pipeline(transaction=False)
    for stage, ms in timings_ms.items():
        key = STAGE_KEY + stage
        bucket = next((str(b) for b in BUCKETS_MS if ms <= b), "+Inf")
        pipe.hincrby(key, bucket, 1)
        pipe.hincrbyfloat(key, "sum", ms / 1000.0)
    try:
        pipe.execute()
    except RedisError as exc:  # metrics must never fail a check
        log.debug("could not record stage timings: %s", exc)


class ProofCheckCollector(Collector):
    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        yield from self._checks()
        yield from self._queues()

    def _checks(self) -> Iterator[Metric]:
        checks = GaugeMetricFamily("proofcheck_checks", "Checks by status and verdict",
                                   labels=["status", "verdict"])
        with self.services.db.session() as session:
            rows = session.execute(select(Check.status, Check.verdict, func.count())
                                   .group_by(Check.status, Check.verdict)).all()
            hashes = session.scalar(select(func.count()).select_from(Hash)
                                   .where(Hash.algorithm == ALGORITHM)) or 0
        for status, verdict, count in rows:
            checks.add_metric([status, verdict or ""], count)
        yield checks
        index = GaugeMetricFamily("proofcheck_index_signatures",
                                  "Signatures in the near-duplicate index (database rows)")
        index.add_metric([], hashes)
        yield index

    def _queues(self) -> Iterator[Metric]:
        try:
            redis = self.services.redis
            depth = GaugeMetricFamily("proofcheck_queue_depth", "Jobs waiting per RQ queue",
                                      labels=["queue"])
            failed = GaugeMetricFamily("proofcheck_queue_failed_jobs",
                                       "Jobs in the failed registry per RQ queue",
                                       labels=["queue"])
            for name in QUEUES:
                queue = Queue(name, connection=redis)
                depth.add_metric([name], queue.count)
                failed.add_metric([name], queue.failed_job_registry.count)
            workers = GaugeMetricFamily("proofcheck_workers", "RQ workers alive")
            workers.add_metric([], Worker.count(connection=redis))
            yield depth
            yield failed
            yield workers
            yield from self._stages(redis)
        except RedisError as exc:
            log.warning("metrics: Redis unavailable (%s)", exc)

    def _stages(self, redis: Redis) -> Iterator[Metric]:
        histogram = HistogramMetricFamily("proofcheck_stage_seconds",
                                          "Pipeline stage latency", labels=["stage"])
        for key in sorted(redis.scan_iter(STAGE_KEY + "*")):
            stage = key.decode().removeprefix(STAGE_KEY)
            values = {k.decode(): v for k, v in redis.hgetall(key).items()}
            cumulative, buckets = 0, []
            for bound in (*map(str, BUCKETS_MS), "+Inf"):
                cumulative += int(values.get(bound, 0))
                le = bound if bound == "+Inf" else str(float(bound) / 1000.0)
                buckets.append((le, cumulative))
            histogram.add_metric([stage], buckets, float(values.get("sum", 0)))
        yield histogram


def registry_for(services: Services) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProofCheckCollector(services))
    return registry
