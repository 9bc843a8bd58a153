"""Running the pipeline for one stored check and writing its result.

The RQ job is a thin wrapper around `process_check`. It is idempotent: a check that
is already done or failed is left as it is, and a re-run (after a crash mid-way)
replaces the partial state in one transaction.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Collection

from sqlalchemy import ColumnElement, delete, select, update

from proofcheck import pipeline
from proofcheck.db import Account, BankEntry, Check, Hash, Match, utcnow
from proofcheck.hashing import Signatures
from proofcheck.imaging import DecodedImage, ImageError, decode
from proofcheck.matching import PairVerdict
from proofcheck.metrics import record_stages
from proofcheck.neardup import ALGORITHM, SKETCH_ALGORITHM
from proofcheck.services import Services
from proofcheck.storage import BlobNotFound

log = logging.getLogger(__name__)


def _sightings(services: Services, condition: ColumnElement[bool]) -> list[pipeline.Sighting]:
    with services.db.session() as session:
        rows = session.execute(
            select(Check.id, Account.name, Check.post_id, Check.posted_at, Check.submitted_at,
                   BankEntry.name)
            .outerjoin(Account, Account.id == Check.account_id)
            .outerjoin(BankEntry, BankEntry.check_id == Check.id)
            .where(condition)
            .order_by(Check.submitted_at, Check.id)
        ).all()
    return [pipeline.Sighting(check_id=r[0], account=r[1], post_id=r[2], posted_at=r[3],
                              submitted_at=r[4], bank=r[5]) for r in rows]


def sightings_of(services: Services, sha256: str) -> list[pipeline.Sighting]:
    """Every check of the very same file."""
    return _sightings(services, Check.sha256 == sha256)


def candidate_pixels(services: Services, check_id: str) -> DecodedImage | None:
    """The stored original of a check in grey levels, as verification reads it, from
    this process's cache or decoded; None when it is gone or unreadable (a
    near-duplicate verdict then rests on the signatures alone)."""
    with services.db.session() as session:
        sha256 = session.scalar(select(Check.sha256).where(Check.id == check_id))
    if sha256 is None:
        return None
    try:
        return services.candidate_pixels.get(
            sha256, lambda: decode(services.blobs.get(sha256), services.settings.max_pixels))
    except (BlobNotFound, ImageError) as exc:
        log.warning("near-duplicate check %s: original not usable (%s)", check_id, exc)
        return None


def near_duplicates_of(services: Services, exclude: Collection[str], signature: Signatures,
                       decoded: DecodedImage | None = None, limit: int = 20,
                       ) -> list[tuple[pipeline.Sighting, PairVerdict]]:
    """Verified near duplicates among everything indexed but `exclude`, with who posted
    them; confirmed on the stored originals' pixels when the query's `decoded` image
    is given."""
    found = services.neardup.search(
        services.db, signature, limit=limit, exclude=exclude, query_image=decoded,
        load_image=lambda other: candidate_pixels(services, other))
    if not found:
        return []
    by_id = {s.check_id: s for s in _sightings(services, Check.id.in_([c for c, _ in found]))}
    return [(by_id[c], verdict) for c, verdict in found if c in by_id]


class _StageReporter:
    """Writes the current stage for the progress page, at most every `every_s` seconds:
    fast checks finish before anyone could watch, and each write is a transaction."""

    def __init__(self, services: Services, check_id: str, every_s: float = 0.5) -> None:
        self.services = services
        self.check_id = check_id
        self.every_s = every_s
        self.last = time.monotonic()

    def __call__(self, stage: str) -> None:
        now = time.monotonic()
        if now - self.last < self.every_s:
            return
        self.last = now
        with self.services.db.session() as session:
            session.execute(update(Check).where(Check.id == self.check_id)
                            .values(stage=stage, updated_at=utcnow()))


def _fail(services: Services, check_id: str, message: str) -> None:
    now = utcnow()
    with services.db.session() as session:
        session.execute(update(Check).where(Check.id == check_id).values(
            status="failed", stage=None, error=message, finished_at=now, updated_at=now))


def _start(services: Services, check_id: str) -> tuple[pipeline.CheckInput, str] | str:
    """Mark the check running; give its pipeline input and sha256, or its final status
    if it has one."""
    now = utcnow()
    with services.db.session() as session:
        row = session.execute(
            select(Check, Account.name).outerjoin(Account, Account.id == Check.account_id)
            .where(Check.id == check_id)
        ).first()
        if row is None:
            return "missing"
        check, account = row
        if check.status in ("done", "failed"):
            return check.status
        check.status = "running"
        check.stage = "starting"
        check.attempts += 1
        check.started_at = now
        check.updated_at = now
        return pipeline.CheckInput(check_id=check.id, account=account, post_id=check.post_id,
                                   posted_at=check.posted_at, submitted_at=check.submitted_at,
                                   kind=check.kind), check.sha256


def _save(services: Services, check_id: str, result: pipeline.PipelineResult) -> None:
    """Write the whole result in one transaction, replacing any earlier partial run."""
    now = utcnow()
    with services.db.session() as session:
        session.execute(delete(Match).where(Match.check_id == check_id))
        session.execute(delete(Hash).where(Hash.check_id == check_id))
        for found in result.matches:
            details = {"changed_box": list(found.changed_box) if found.changed_box else None,
                       "similarity": found.similarity}
            session.add(Match(check_id=check_id, other_check_id=found.check_id,
                              relation=found.relation, distance=found.distance,
                              earlier=found.earlier, details=details, created_at=now))
        if result.signatures is not None:
            # Committed with the result: other workers index it on their next catch-up.
            session.add(Hash(check_id=check_id, algorithm=ALGORITHM,
                             value=result.signatures.to_bytes(), created_at=now))
        if result.sketch is not None:
            session.add(Hash(check_id=check_id, algorithm=SKETCH_ALGORITHM,
                             value=result.sketch.to_bytes(), created_at=now))
        assessment = result.assessment
        session.execute(update(Check).where(Check.id == check_id).values(
            status="done", stage=None, error=None, finished_at=now, updated_at=now,
            verdict=assessment.verdict, score=assessment.score,
            reasons=[{"code": r.code, "message": r.message, "weight": r.weight}
                     for r in assessment.reasons],
            signals={**result.signals, "timings_ms": result.timings_ms},
            model_version=assessment.model_version,
            width=result.fingerprint.width, height=result.fingerprint.height,
            format=result.fingerprint.format,
        ))


def process_check(services: Services, check_id: str, rescore: bool = True) -> str:
    """Run one check to its final status; return that status. Without `rescore` the
    caller re-scores the accounts it touched (a batch does so once per chunk)."""
    started = _start(services, check_id)
    if isinstance(started, str):
        log.info("check %s: nothing to do (%s)", check_id, started)
        return started
    item, sha256 = started
    try:
        data = services.blobs.get(sha256)
        result = pipeline.run(
            data, item,
            sightings_of=lambda digest: sightings_of(services, digest),
            thresholds=services.thresholds,
            max_pixels=services.settings.max_pixels,
            on_stage=_StageReporter(services, check_id),
            near_duplicates=lambda signature, decoded, known: near_duplicates_of(
                services, known, signature, decoded),
            ocr=services.settings.ocr,
        )
    except ImageError as exc:
        _fail(services, check_id, f"{exc.code}: {exc.message}")
        return "failed"
    except BlobNotFound:
        _fail(services, check_id, "The stored original of this check is missing.")
        return "failed"
    except Exception as exc:
        # Transient (database busy, disk hiccup): keep the check running and record
        # why; the sweeper re-queues it and gives up after max_attempts.
        with services.db.session() as session:
            session.execute(update(Check).where(Check.id == check_id).values(
                error=f"{type(exc).__name__}: {exc}"[:2000]))
        log.error("check %s failed: %s", check_id, traceback.format_exc())
        raise
    _save(services, check_id, result)
    if rescore:
        _rescore(services, check_id)
    if services.settings.redis_url:
        record_stages(services.redis, result.timings_ms)
    return "done"


def _rescore(services: Services, check_id: str) -> None:
    """New evidence re-scores this check's account and every account it matches (a thief
    checked before its victim is caught when the original arrives). Never raises."""
    from proofcheck.scoring.rescore import rescore_after_check

    rescore_after_check(services, check_id)
