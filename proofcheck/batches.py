"""Batches: many items from one request, checked in the order given.

Items stream in (from base64 JSON, multipart parts or a zip archive) and are written
in chunks, so a 10,000-item batch never sits in memory. A batch is `receiving` until
its last item is committed, and only then queued, so a request that dies half-way
leaves a batch that says so (the sweeper marks it failed) instead of half a batch
that looks complete. One bad item becomes a failed check with its reason; it never
fails the batch. One job works through a batch in order, so each item's matches
include the batch's own earlier items.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rq import Queue
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session
from ulid import ULID

from proofcheck.archive import ArchiveError
from proofcheck.db import Batch, Check, utcnow
from proofcheck.imaging import ImageError, probe
from proofcheck.serialize import deliveries_json, iso
from proofcheck.services import Services
from proofcheck.storage import sha256_hex
from proofcheck.submission import (
    SubmissionError,
    account_id,
    new_check_id,
    parse_meta,
)

log = logging.getLogger(__name__)

BATCH_QUEUE = "batch"
RUN_BATCH = "workers.tasks.run_batch"
CHUNK = 100
ITEM_FIELDS = ("account", "post_id", "posted_at", "caption", "kind")


@dataclass(frozen=True)
class ItemInput:
    """One batch item before validation: its fields and a way to get its bytes."""

    filename: str
    fields: dict[str, str]
    load: Callable[[], bytes]  # may raise SubmissionError, ArchiveError or ImageError


def new_batch_id() -> str:
    return f"b_{ULID()}"


def item_fields(raw: dict[str, Any]) -> dict[str, str]:
    """The metadata fields of one manifest item as strings (numbers are allowed)."""
    fields: dict[str, str] = {}
    for name in ITEM_FIELDS:
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, str | int | float):
            raise SubmissionError(422, "invalid_field", f"{name} must be a string.", name)
        fields[name] = str(value)
    return fields


def _failed_row(batch_id: str, position: int, filename: str, data: bytes, error: str,
                now: dt.datetime) -> Check:
    return Check(id=new_check_id(), status="failed", stage=None, batch_id=batch_id,
                 batch_position=position, filename=filename[:300], sha256=sha256_hex(data),
                 size_bytes=len(data), submitted_at=now, updated_at=now, finished_at=now,
                 error=error)


def create_batch(services: Services, items: Iterable[ItemInput], callback_url: str | None,
                 api_key_id: int | None) -> Batch:
    """Store every item (bad ones as failed checks), then queue the batch."""
    settings = services.settings
    batch_id = new_batch_id()
    start = utcnow()
    with services.db.session() as session:
        session.add(Batch(id=batch_id, status="receiving", total=0, callback_url=callback_url,
                          api_key_id=api_key_id, created_at=start))
    position = 0
    pending: list[Check] = []

    def flush() -> None:
        with services.db.session() as session:
            session.add_all(pending)
        pending.clear()

    for item in items:
        if position >= settings.max_batch_items:
            _abandon(services, batch_id, f"more than {settings.max_batch_items} items")
            raise SubmissionError(413, "too_many_items",
                                  f"A batch holds at most {settings.max_batch_items} items.",
                                  "items")
        # Submission order is kept in submitted_at too, so "earlier" stays well defined
        # for items without a posted_at.
        now = start + dt.timedelta(microseconds=position)
        pending.append(_item_row(services, batch_id, position, item, now))
        position += 1
        if len(pending) >= CHUNK:
            flush()
    flush()
    if position == 0:
        _abandon(services, batch_id, "no items")
        raise SubmissionError(400, "no_items", "The batch has no items.", "items")
    with services.db.session() as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        batch.total = position
        batch.status = "queued"
    enqueue_batch(services, batch_id)
    return batch


def _item_row(services: Services, batch_id: str, position: int, item: ItemInput,
              now: dt.datetime) -> Check:
    settings = services.settings
    data = b""
    try:
        data = item.load()
        if len(data) > settings.max_upload_bytes:
            raise SubmissionError(413, "file_too_large", "larger than the per-file limit", "file")
        meta = parse_meta(item.fields, settings.max_caption_chars)
        header = probe(data, settings.max_pixels)
    except (SubmissionError, ArchiveError, ImageError) as exc:
        return _failed_row(batch_id, position, item.filename, data,
                           f"{exc.code}: {exc.message}", now)
    try:
        services.blobs.put(data)
    except OSError as exc:  # a full disk fails this item, not the whole request
        log.error("blob store write failed: %s", exc)
        return _failed_row(batch_id, position, item.filename, data,
                           "storage_unavailable: the image could not be stored", now)
    with services.db.session() as session:
        owner = account_id(session, meta.account) if meta.account else None
    return Check(
        id=new_check_id(), status="queued", stage="queued", account_id=owner,
        batch_id=batch_id, batch_position=position, post_id=meta.post_id,
        posted_at=meta.posted_at, caption=meta.caption, kind=meta.kind,
        filename=item.filename[:300], sha256=sha256_hex(data), size_bytes=len(data),
        format=header.format, width=header.width, height=header.height,
        submitted_at=now, updated_at=now,
    )


def _abandon(services: Services, batch_id: str, why: str) -> None:
    now = utcnow()
    with services.db.session() as session:
        session.execute(update(Check).where(Check.batch_id == batch_id, Check.status == "queued")
                        .values(status="failed", error=f"batch refused: {why}", finished_at=now))
        session.execute(update(Batch).where(Batch.id == batch_id)
                        .values(status="failed", finished_at=now))


def enqueue_batch(services: Services, batch_id: str) -> None:
    Queue(BATCH_QUEUE, connection=services.redis).enqueue_call(
        RUN_BATCH, args=(batch_id,), job_id=batch_id,
        timeout=services.settings.batch_job_timeout_s, result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600, description=f"batch {batch_id}")


def counts(session: Session, batch_id: str) -> tuple[int, int]:
    """(final, failed) item counts of a batch."""
    final, failed = session.execute(
        select(func.count(case((Check.status.in_(("done", "failed")), 1))),
               func.count(case((Check.status == "failed", 1))))
        .where(Check.batch_id == batch_id)
    ).one()
    return int(final or 0), int(failed or 0)


def batch_json(session: Session, batch: Batch) -> dict[str, Any]:
    final, failed = counts(session, batch.id)
    rows = session.execute(
        select(Check.id, Check.status, Check.verdict, Check.score, Check.filename, Check.error)
        .where(Check.batch_id == batch.id).order_by(Check.batch_position)
    ).all()
    return {
        "id": batch.id, "status": batch.status, "total": batch.total, "done": final,
        "failed": failed, "created_at": iso(batch.created_at),
        "finished_at": iso(batch.finished_at), "url": f"/api/v1/batches/{batch.id}",
        "checks": [{"id": r.id, "status": r.status,
                    "verdict": r.verdict if r.status == "done" else None,
                    "score": r.score if r.status == "done" else None,
                    "filename": r.filename, "error": r.error if r.status == "failed" else None}
                   for r in rows],
        "callbacks": deliveries_json(session, batch_id=batch.id) if batch.callback_url else [],
    }


def run_batch(services: Services, batch_id: str, process: Callable[..., str]) -> str:
    """Process a batch's unfinished items in order; resumable after any crash.

    `process(services, check_id, rescore=False)` runs each item; the accounts the items
    touched are re-scored once per chunk of `CHUNK` items, not after every item.
    """
    from proofcheck.scoring.rescore import rescore_after_checks

    with services.db.session() as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            return "missing"
        if batch.status in ("done", "failed", "receiving"):
            return batch.status
        resumed = batch.status == "running"
        batch.status = "running"
        # A crash between an item and its chunk's re-scoring: do that part again.
        finished = list(session.scalars(select(Check.id).where(
            Check.batch_id == batch_id, Check.status == "done"))) if resumed else []
    rescore_after_checks(services, finished)
    max_attempts = services.settings.max_attempts
    while True:
        with services.db.session() as session:
            todo = list(session.scalars(
                select(Check.id).where(Check.batch_id == batch_id,
                                       Check.status.in_(("queued", "running")),
                                       Check.attempts < max_attempts)
                .order_by(Check.batch_position).limit(CHUNK)))
        if not todo:
            break
        for check_id in todo:
            try:
                process(services, check_id, rescore=False)
            except Exception:  # recorded on the check; retried on the next pass
                log.exception("batch %s: check %s raised", batch_id, check_id)
        rescore_after_checks(services, todo)
    now = utcnow()
    with services.db.session() as session:
        # Items that used up their attempts inside this job end as failed, not stuck.
        session.execute(update(Check).where(
            Check.batch_id == batch_id, Check.status.in_(("queued", "running"))
        ).values(status="failed", finished_at=now, updated_at=now,
                 error=func.coalesce(Check.error, "gave up")))
        batch = session.get(Batch, batch_id)
        assert batch is not None
        batch.status = "done"
        batch.finished_at = now
        callback_url = batch.callback_url
    if callback_url:
        from proofcheck.callbacks import create_delivery

        create_delivery(services, callback_url, batch_id=batch_id)
    return "done"
