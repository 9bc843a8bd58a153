"""The JSON shapes of API.md, built in one place for the API and the portal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from proofcheck.db import Account, Check, Delivery, Match
from proofcheck.matching import DUPLICATE_RELATIONS
from proofcheck.review import latest_review


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def account_name(session: Session, account_id: int | None) -> str | None:
    if account_id is None:
        return None
    return session.scalar(select(Account.name).where(Account.id == account_id))


def earliest_sighting_json(session: Session, check: Check) -> dict[str, Any]:
    """Where this image was first seen, as far as we know: the earliest of this check
    and every check holding the same picture (exact, resized, cropped or edited),
    by post time, else arrival; `relation` is "self" when it is this check."""
    other = aliased(Check)
    sightings = [(check, "self", account_name(session, check.account_id))]
    # A match row is written by whichever check was processed second: read both sides.
    for this_col, that_col in ((Match.check_id, Match.other_check_id),
                               (Match.other_check_id, Match.check_id)):
        rows = session.execute(
            select(other, Match.relation, Account.name)
            .join(Match, that_col == other.id)
            .outerjoin(Account, Account.id == other.account_id)
            .where(this_col == check.id, Match.relation.in_(DUPLICATE_RELATIONS))
        ).all()
        sightings += [(row[0], row[1], row[2]) for row in rows]

    def seen(entry: tuple[Check, str, str | None]) -> tuple[dt.datetime, dt.datetime, str]:
        c = entry[0]
        return (c.posted_at or c.submitted_at, c.submitted_at, c.id)

    first, relation, account = min(sightings, key=seen)
    return {"check_id": first.id, "account": account, "post_id": first.post_id,
            "seen_at": iso(first.posted_at or first.submitted_at), "relation": relation}


def matches_json(session: Session, check_id: str) -> list[dict[str, Any]]:
    other = aliased(Check)
    rows = session.execute(
        select(Match, other, Account.name)
        .join(other, other.id == Match.other_check_id)
        .outerjoin(Account, Account.id == other.account_id)
        .where(Match.check_id == check_id)
        .order_by(Match.earlier.desc(), Match.distance, other.submitted_at)
    ).all()
    return [
        {
            "check_id": other_check.id,
            "account": name,
            "post_id": other_check.post_id,
            "posted_at": iso(other_check.posted_at),
            "submitted_at": iso(other_check.submitted_at),
            "relation": match.relation,
            "distance": int(match.distance),
            "earlier": bool(match.earlier),
            "changed_box": (match.details or {}).get("changed_box"),
            "similarity": (match.details or {}).get("similarity"),
            "diff_url": f"/api/v1/checks/{check_id}/matches/{other_check.id}/diff.png",
        }
        for match, other_check, name in rows
    ]


def deliveries_json(session: Session, check_id: str | None = None,
                    batch_id: str | None = None) -> list[dict[str, Any]]:
    """Callback delivery attempts, so an integrator can see why one did not arrive."""
    query = select(Delivery).order_by(Delivery.id)
    query = (query.where(Delivery.check_id == check_id) if check_id is not None
             else query.where(Delivery.batch_id == batch_id))
    return [{"url": d.url, "status": d.status, "attempts": d.attempts,
             "last_status_code": d.last_status_code, "last_error": d.last_error,
             "delivered_at": iso(d.delivered_at)} for d in session.scalars(query)]


def check_json(session: Session, check: Check) -> dict[str, Any]:
    done = check.status == "done"
    return {
        "id": check.id,
        "status": check.status,
        "stage": check.stage,
        "account": account_name(session, check.account_id),
        "post_id": check.post_id,
        "posted_at": iso(check.posted_at),
        "caption": check.caption,
        "kind": check.kind,
        "filename": check.filename,
        "sha256": check.sha256,
        "size_bytes": check.size_bytes,
        "format": check.format,
        "width": check.width,
        "height": check.height,
        "batch_id": check.batch_id,
        "submitted_at": iso(check.submitted_at),
        "started_at": iso(check.started_at),
        "finished_at": iso(check.finished_at),
        "attempts": check.attempts,
        "verdict": check.verdict if done else None,
        "score": check.score if done else None,
        "reasons": (check.reasons or []) if done else None,
        "matches": matches_json(session, check.id) if done else None,
        "earliest_sighting": earliest_sighting_json(session, check) if done else None,
        "signals": check.signals or {},
        "model_version": check.model_version,
        "error": check.error if check.status == "failed" else None,
        # A moderator's latest decision (API.md, Review), null until one decides.
        "review": latest_review(session, check.id),
        "url": f"/api/v1/checks/{check.id}",
        "callbacks": deliveries_json(session, check_id=check.id) if check.callback_url else [],
    }
