"""Idempotency-Key: the same key with the same request gives the same answer, once.

A key is reserved *before* the work is done (a row with status 0), so two concurrent
retries cannot both create checks: the second one sees the reservation and gets 409.
When the work ends, the answer is stored and replayed for every later retry. A
request that failed on our side (5xx) releases its key so the client can retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from proofcheck.db import Database, IdempotencyRecord

IN_PROGRESS = 0
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: dict[str, Any]


class IdempotencyConflict(Exception):
    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def reserve(db: Database, api_key_id: int, key: str, request_hash: str) -> Replay | None:
    """Reserve `key` for this request; return the stored answer if it already ran."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise IdempotencyConflict("invalid_idempotency_key",
                                  f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
                                  400)
    try:
        with db.session() as session:
            session.add(IdempotencyRecord(api_key_id=api_key_id, key=key,
                                          request_hash=request_hash, status_code=IN_PROGRESS,
                                          body={}))
        return None
    except IntegrityError:
        pass
    with db.session() as session:
        record = session.scalars(select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key)).one()
        if record.request_hash != request_hash:
            raise IdempotencyConflict(
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request.", 422)
        if record.status_code == IN_PROGRESS:
            raise IdempotencyConflict(
                "idempotency_in_progress",
                "A request with this Idempotency-Key is still being processed.", 409)
        return Replay(status_code=record.status_code, body=record.body)


def complete(db: Database, api_key_id: int, key: str, status_code: int,
             body: dict[str, Any]) -> None:
    with db.session() as session:
        session.execute(update(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
        ).values(status_code=status_code, body=body))


def release(db: Database, api_key_id: int, key: str) -> None:
    with db.session() as session:
        session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key,
            IdempotencyRecord.status_code == IN_PROGRESS))
