"""The moderators' review queue: what needs a human, claims, decisions, the audit log.

The portal and the API's review endpoints both call these functions, so both work on
one queue under one set of rules. An item is in the queue while its check is done, its
model verdict is one of `settings.review_verdicts`, and no moderator has decided it.
A claim (table review_claims) is a lock with an expiry: while it holds, only its holder
may decide the item, so two moderators never work the same one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, Text, delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from proofcheck.config import Settings
from proofcheck.db import (
    Account,
    AuditEvent,
    BankEntry,
    Check,
    Database,
    Review,
    ReviewClaim,
    utcnow,
)

DECISIONS = ("fabricated", "authentic", "unsure")
MAX_NOTE_CHARS = 2000
# Reason codes and language codes are plain identifiers; anything else cannot match and
# must not reach a LIKE pattern.
_CODE_RE = re.compile(r"^[a-z0-9_]{1,60}$")
# The most queue rows one request looks at when filtering on JSON content in Python.
_SCAN_LIMIT = 5000


class ReviewError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ReviewError):
    status = 404
    code = "not_found"


class NotReviewable(ReviewError):
    status = 409
    code = "not_reviewable"


class InvalidDecision(ReviewError):
    status = 422
    code = "invalid"


@dataclass(frozen=True)
class Claim:
    check_id: str
    claimed_by: str
    claimed_at: dt.datetime
    expires_at: dt.datetime

    def live(self, now: dt.datetime) -> bool:
        return self.expires_at > now


class ClaimConflict(ReviewError):
    status = 409
    code = "claimed"

    def __init__(self, claim: Claim) -> None:
        super().__init__(f"{claim.claimed_by} is working on this item until "
                         f"{claim.expires_at:%H:%M} UTC.")
        self.claim = claim


@dataclass(frozen=True)
class QueueFilter:
    account: str | None = None
    kind: str | None = None
    reason: str | None = None
    language: str | None = None

    @classmethod
    def from_args(cls, args: Any) -> QueueFilter:
        """From a request's query string or form; blank values mean no filter."""

        def get(name: str) -> str | None:
            value = str(args.get(name, "") or "").strip()
            return value or None

        account = get("account")
        return cls(account=account.casefold() if account else None, kind=get("kind"),
                   reason=get("reason"), language=get("language"))

    def as_args(self) -> dict[str, str]:
        return {k: v for k, v in (("account", self.account), ("kind", self.kind),
                                  ("reason", self.reason), ("language", self.language)) if v}


@dataclass(frozen=True)
class QueueItem:
    check_id: str
    account: str | None
    kind: str | None
    verdict: str | None
    score: float | None
    reasons: list[dict[str, Any]]
    submitted_at: dt.datetime
    posted_at: dt.datetime | None
    filename: str | None
    caption: str | None
    claim: Claim | None

    def as_json(self) -> dict[str, Any]:
        from proofcheck.serialize import iso

        return {"check_id": self.check_id, "account": self.account, "kind": self.kind,
                "verdict": self.verdict, "score": self.score, "reasons": self.reasons,
                "submitted_at": iso(self.submitted_at), "posted_at": iso(self.posted_at),
                "claimed_by": self.claim.claimed_by if self.claim else None,
                "claim_expires_at": iso(self.claim.expires_at) if self.claim else None}


@dataclass(frozen=True)
class Decision:
    check_id: str
    decision: str
    note: str | None
    by: str
    at: dt.datetime
    bank_name: str | None = None


def _claim_of(row: ReviewClaim | None, now: dt.datetime) -> Claim | None:
    if row is None or row.expires_at <= now:
        return None
    return Claim(row.check_id, row.claimed_by, row.claimed_at, row.expires_at)


def _undecided() -> Any:
    return ~exists().where(Review.check_id == Check.id)


def _queue_query(settings: Settings, filters: QueueFilter) -> Select:
    query: Select = (
        select(Check, Account.name, ReviewClaim)
        .outerjoin(Account, Account.id == Check.account_id)
        .outerjoin(ReviewClaim, ReviewClaim.check_id == Check.id)
        .where(Check.status == "done", Check.verdict.in_(settings.review_verdicts),
               _undecided())
        # Most likely fabricated first; among equals the one waiting longest.
        .order_by(Check.score.desc(), Check.submitted_at, Check.id)
    )
    if filters.account:
        query = query.where(Account.name == filters.account)
    if filters.kind:
        query = query.where(Check.kind == filters.kind)
    # JSON columns are stored as text on both SQLite and PostgreSQL (type JSON, not
    # JSONB): a LIKE narrows the rows cheaply and portably, then Python checks exactly.
    if filters.reason:
        query = query.where(Check.reasons.cast(Text()).like(f'%"{_safe(filters.reason)}"%'))
    if filters.language:
        query = query.where(Check.signals.cast(Text()).like(f'%"{_safe(filters.language)}"%'))
    return query


def _safe(code: str) -> str:
    return code if _CODE_RE.match(code) else "\x00no-such-code"


def _exact(check: Check, filters: QueueFilter) -> bool:
    if filters.reason and filters.reason not in {r.get("code") for r in check.reasons or []}:
        return False
    if filters.language:
        ocr = (check.signals or {}).get("ocr")
        languages = ocr.get("languages") if isinstance(ocr, dict) else None
        if not isinstance(languages, list) or filters.language not in languages:
            return False
    return True


def queue(db: Database, settings: Settings, filters: QueueFilter = QueueFilter(),
          limit: int = 50, now: dt.datetime | None = None) -> list[QueueItem]:
    """The queue, most urgent first: highest score, then the oldest submission."""
    now = now or utcnow()
    needs_python = bool(filters.reason or filters.language)
    query = _queue_query(settings, filters).limit(_SCAN_LIMIT if needs_python else limit)
    items: list[QueueItem] = []
    with db.session() as session:
        for check, account, claim in session.execute(query):
            if needs_python and not _exact(check, filters):
                continue
            items.append(QueueItem(
                check_id=check.id, account=account, kind=check.kind, verdict=check.verdict,
                score=check.score, reasons=list(check.reasons or []),
                submitted_at=check.submitted_at, posted_at=check.posted_at,
                filename=check.filename, caption=check.caption, claim=_claim_of(claim, now)))
            if len(items) >= limit:
                break
    return items


def queue_ids(db: Database, settings: Settings, filters: QueueFilter = QueueFilter(),
              limit: int = 1000) -> list[str]:
    return [item.check_id for item in queue(db, settings, filters, limit)]


def neighbours(db: Database, settings: Settings, check_id: str,
               filters: QueueFilter = QueueFilter()) -> tuple[str | None, str | None]:
    """The queue items before and after `check_id` (for j/k), or the first if it is gone."""
    ids = queue_ids(db, settings, filters)
    if check_id not in ids:
        return None, (ids[0] if ids else None)
    at = ids.index(check_id)
    return (ids[at - 1] if at > 0 else None), (ids[at + 1] if at + 1 < len(ids) else None)


def _audit(session: Session, actor: str, action: str, check_id: str | None,
           details: dict[str, Any]) -> None:
    session.add(AuditEvent(actor=actor, action=action, subject=check_id, details=details))


def _load_check(session: Session, check_id: str) -> Check:
    check = session.get(Check, check_id)
    if check is None:
        raise NotFound(f"No check with id {check_id}.")
    if check.status != "done":
        raise NotReviewable(f"Check {check_id} is {check.status}; only finished checks "
                            "can be reviewed.")
    return check


def _claim_json(claim: Claim | None) -> dict[str, Any] | None:
    if claim is None:
        return None
    return {"claimed_by": claim.claimed_by, "expires_at": claim.expires_at.isoformat()}


def _take(session: Session, check_id: str, actor: str, now: dt.datetime,
          ttl: dt.timedelta) -> tuple[Claim, Claim | None]:
    """Take or renew the claim atomically; give the new claim and the one it replaced.

    The conditional UPDATE only succeeds for the holder or over an expired claim, and a
    second INSERT for one check breaks the primary key, so of two moderators racing for
    one item exactly one wins, whatever the database.
    """
    row = session.get(ReviewClaim, check_id)
    before = _claim_of(row, now)
    if before is not None and before.claimed_by != actor:
        raise ClaimConflict(before)
    new = Claim(check_id, actor, now, now + ttl)
    if row is None:
        session.add(ReviewClaim(check_id=check_id, claimed_by=actor, claimed_at=now,
                                expires_at=new.expires_at))
        session.flush()
    else:
        result = session.execute(
            update(ReviewClaim)
            .where(ReviewClaim.check_id == check_id,
                   or_(ReviewClaim.claimed_by == actor, ReviewClaim.expires_at <= now))
            .values(claimed_by=actor, claimed_at=now, expires_at=new.expires_at)
            .execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 1) != 1:
            session.expire_all()
            taken = _claim_of(session.get(ReviewClaim, check_id), now)
            raise ClaimConflict(taken or Claim(check_id, "another moderator", now, now))
    previous = before or (Claim(row.check_id, row.claimed_by, row.claimed_at, row.expires_at)
                          if row is not None else None)
    return new, previous


def _holder(db: Database, check_id: str, now: dt.datetime) -> Claim | None:
    with db.session() as session:
        return _claim_of(session.get(ReviewClaim, check_id), now)


def claim(db: Database, settings: Settings, check_id: str, actor: str,
          now: dt.datetime | None = None) -> Claim:
    """Claim an undecided item for `actor` (or renew their claim). ClaimConflict if taken."""
    now = now or utcnow()
    try:
        with db.session() as session:
            check = _load_check(session, check_id)
            if _decision_row(session, check.id) is not None:
                raise NotReviewable(f"Check {check_id} has already been decided.")
            new, previous = _take(session, check_id, actor, now,
                                  dt.timedelta(seconds=settings.claim_ttl_s))
            _audit(session, actor, "claim", check_id, {
                "expires_at": new.expires_at.isoformat(),
                "previous": {"claim": _claim_json(previous)}})
            return new
    except IntegrityError:
        raise ClaimConflict(_holder(db, check_id, now) or Claim(
            check_id, "another moderator", now, now)) from None


def release(db: Database, check_id: str, actor: str, now: dt.datetime | None = None) -> bool:
    """Give up one's own claim (skip an item); False when one held none."""
    now = now or utcnow()
    with db.session() as session:
        row = session.get(ReviewClaim, check_id)
        held = _claim_of(row, now)
        if held is None or held.claimed_by != actor:
            return False
        session.execute(delete(ReviewClaim).where(ReviewClaim.check_id == check_id))
        _audit(session, actor, "release", check_id, {"previous": {"claim": _claim_json(held)}})
        return True


def _decision_row(session: Session, check_id: str) -> Review | None:
    return session.scalar(select(Review).where(Review.check_id == check_id)
                          .order_by(Review.created_at.desc(), Review.id.desc()).limit(1))


def review_json(row: Review | None) -> dict[str, Any] | None:
    """The `review` field of a check in the API."""
    if row is None:
        return None
    return {"decision": row.decision, "note": row.note, "by": row.by,
            "at": row.created_at.isoformat(timespec="seconds")}


def latest_review(session: Session, check_id: str) -> dict[str, Any] | None:
    return review_json(_decision_row(session, check_id))


def _bank_name(entry_id: int, account: str | None) -> str:
    return f"known fabricated #{entry_id}" + (f" ({account})" if account else "")


def _update_bank(session: Session, check: Check, account: str | None, decision: str,
                 actor: str, now: dt.datetime) -> str | None:
    """Confirmed fabrications join the bank; a reversed decision takes the image out."""
    entry = session.scalar(select(BankEntry).where(BankEntry.check_id == check.id))
    if decision == "fabricated":
        if entry is None:
            entry = BankEntry(check_id=check.id, sha256=check.sha256, name="", added_by=actor,
                              created_at=now)
            session.add(entry)
            session.flush()  # the name carries the entry's own id
            entry.name = _bank_name(entry.id, account)
            _audit(session, actor, "bank_add", check.id, {"name": entry.name})
        return entry.name
    if entry is not None:
        _audit(session, actor, "bank_remove", check.id, {"name": entry.name})
        session.delete(entry)
    return None


def _validate(decision: str, note: str | None) -> str | None:
    if decision not in DECISIONS:
        raise InvalidDecision(f"decision must be one of {', '.join(DECISIONS)}", "decision")
    # NUL cannot be stored in PostgreSQL text; nothing legitimate needs it in a note.
    note = (note or "").replace("\x00", "").strip() or None
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise InvalidDecision(f"the note is longer than {MAX_NOTE_CHARS} characters", "note")
    return note


def _decide_in(session: Session, settings: Settings, check_id: str, actor: str,
               decision: str, note: str | None, now: dt.datetime) -> Decision:
    check = _load_check(session, check_id)
    account = session.scalar(select(Account.name).where(Account.id == check.account_id))
    earlier = _decision_row(session, check_id)
    _, held = _take(session, check_id, actor, now, dt.timedelta(seconds=settings.claim_ttl_s))
    session.add(Review(check_id=check_id, decision=decision, note=note, by=actor,
                       created_at=now))
    # The item is finished: its claim goes, so it neither blocks nor lingers.
    session.execute(delete(ReviewClaim).where(ReviewClaim.check_id == check_id))
    bank = _update_bank(session, check, account, decision, actor, now)
    _audit(session, actor, "decide", check_id, {
        "decision": decision, "note": note, "bank": bank,
        "previous": {"verdict": check.verdict, "score": check.score,
                     "review": review_json(earlier),
                     "claim": _claim_json(held if held and held.live(now) else None)}})
    return Decision(check_id, decision, note, actor, now, bank)


def decide(db: Database, settings: Settings, check_id: str, actor: str, decision: str,
           note: str | None = None, now: dt.datetime | None = None) -> Decision:
    """Record a moderator's decision. Claims the item on the way (ClaimConflict if another
    moderator holds it); deciding an item again replaces the decision, both audited."""
    note = _validate(decision, note)
    now = now or utcnow()
    try:
        with db.session() as session:
            return _decide_in(session, settings, check_id, actor, decision, note, now)
    except IntegrityError:
        raise ClaimConflict(_holder(db, check_id, now) or Claim(
            check_id, "another moderator", now, now)) from None


@dataclass(frozen=True)
class AccountDecision:
    decided: list[str]
    skipped: list[Claim]  # items another moderator holds


def decide_account(db: Database, settings: Settings, account: str, actor: str,
                   decision: str, note: str | None = None,
                   now: dt.datetime | None = None) -> AccountDecision:
    """Decide every queue item of one account at once, except those others hold."""
    note = _validate(decision, note)
    now = now or utcnow()
    decided: list[str] = []
    skipped: list[Claim] = []
    items = queue(db, settings, QueueFilter(account=account.strip().casefold()),
                  limit=_SCAN_LIMIT, now=now)
    for item in items:
        try:
            decide(db, settings, item.check_id, actor, decision, note, now)
            decided.append(item.check_id)
        except ClaimConflict as exc:
            skipped.append(exc.claim)
        except NotReviewable:  # decided by someone else meanwhile
            continue
    if decided:
        with db.session() as session:
            _audit(session, actor, "decide_account", None, {
                "account": account, "decision": decision, "note": note,
                "checks": decided, "skipped": [c.check_id for c in skipped]})
    return AccountDecision(decided, skipped)


def claim_next(db: Database, settings: Settings, actor: str,
               filters: QueueFilter = QueueFilter(), after: str | None = None) -> str | None:
    """Claim the next free item after `after` in queue order (wrapping round); its id."""
    items = queue(db, settings, filters, limit=1000)
    if after is not None:
        order = [i.check_id for i in items]
        if after in order:
            at = order.index(after)
            items = items[at + 1:] + items[:at]
    for item in items:
        if item.claim is not None and item.claim.claimed_by != actor:
            continue
        try:
            claim(db, settings, item.check_id, actor)
        except (ClaimConflict, NotReviewable):
            continue  # taken or decided between our read and our claim
        return item.check_id
    return None


def current_claim(db: Database, check_id: str, now: dt.datetime | None = None) -> Claim | None:
    return _holder(db, check_id, now or utcnow())


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    subject: str | None
    details: dict[str, Any]


def audit_log(db: Database, check_id: str | None = None, limit: int = 100,
              actions: Iterable[str] | None = None) -> list[AuditEntry]:
    """Audit events, newest first; of one check when `check_id` is given."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if check_id is not None:
        query = query.where(AuditEvent.subject == check_id)
    if actions is not None:
        query = query.where(AuditEvent.action.in_(list(actions)))
    with db.session() as session:
        return [AuditEntry(e.id, e.at, e.actor, e.action, e.subject, e.details or {})
                for e in session.scalars(query)]


def review_labels(db: Database) -> dict[str, str]:
    """Each decided check's latest decision, for `proofcheck train --include-reviews`:
    `fabricated` and `authentic` are labels; `unsure` is left out."""
    labels: dict[str, str] = {}
    with db.session() as session:
        rows = session.execute(select(Review.check_id, Review.decision)
                               .order_by(Review.created_at, Review.id))
        for check_id, decision in rows:
            labels[check_id] = decision
    return {k: v for k, v in labels.items() if v in ("fabricated", "authentic")}
