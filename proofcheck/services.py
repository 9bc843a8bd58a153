"""The long-lived things one process needs: settings, database, blob store, Redis.

The web app and the worker each build one `Services` at start and pass it (or the
slice a function needs) down; nothing is a module-level global, so tests can run
several isolated instances in one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property

from redis import Redis
from rq import Queue

from proofcheck.config import Settings
from proofcheck.db import Database, migrate
from proofcheck.neardup import NearDuplicateIndex
from proofcheck.pipeline import Thresholds
from proofcheck.pixelcache import PixelCache
from proofcheck.storage import BlobStore


class RedisNotConfigured(RuntimeError):
    pass


@dataclass
class Services:
    settings: Settings
    db: Database = field(init=False)
    blobs: BlobStore = field(init=False)

    def __post_init__(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.settings.database_url, self.settings.sqlite_busy_timeout_ms)
        self.blobs = BlobStore(self.settings.blob_dir)
        # A forked RQ work horse must not reuse the parent's pooled connections:
        # two processes on one socket corrupt each other's conversations.
        os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        self.db.engine.dispose(close=False)

    @cached_property
    def redis(self) -> Redis:
        if not self.settings.redis_url:
            raise RedisNotConfigured("REDIS_URL is not set (`proofcheck serve` starts one)")
        return Redis.from_url(self.settings.redis_url, socket_timeout=10,
                              socket_connect_timeout=5, health_check_interval=30)

    @cached_property
    def queue(self) -> Queue:
        return Queue(self.settings.queue_name, connection=self.redis,
                     default_timeout=self.settings.job_timeout_s)

    @cached_property
    def neardup(self) -> NearDuplicateIndex:
        """This process's near-duplicate index (loaded on first use, then caught up)."""
        return NearDuplicateIndex()

    @cached_property
    def candidate_pixels(self) -> PixelCache:
        """Decoded near-duplicate candidates this process keeps between searches."""
        return PixelCache(self.settings.pixel_cache_bytes)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(review=self.settings.review_threshold,
                          fabricated=self.settings.fabricated_threshold)

    def migrate(self) -> None:
        migrate(self.db)
