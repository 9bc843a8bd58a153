"""The consistency report for one account: everything checked for it, in one view.

Until the trained classifier lands, the account's score is its worst check's score (one
stolen receipt is enough to distrust a page) and its reasons are its checks' reasons
counted across posts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from proofcheck.db import Account, Check, Match
from proofcheck.pipeline import DUPLICATE, Thresholds
from proofcheck.serialize import iso


def _counted(session: Session, account_id: int, earlier: bool) -> list[dict[str, Any]]:
    """Other accounts this one's images came from (earlier) or went to (later)."""
    other = aliased(Check)
    other_account = aliased(Account)
    rows = session.execute(
        select(other_account.name, func.count(func.distinct(Check.id)))
        .select_from(Match)
        .join(Check, Check.id == Match.check_id)
        .join(other, other.id == Match.other_check_id)
        .join(other_account, other_account.id == other.account_id)
        .where(Check.account_id == account_id, other.account_id != account_id,
               Match.earlier.is_(earlier), Check.status == "done",
               Match.relation.in_(sorted(DUPLICATE)))
        .group_by(other_account.name)
        .order_by(func.count(func.distinct(Check.id)).desc(), other_account.name)
    ).all()
    return [{"account": name, "count": int(count)} for name, count in rows]


def account_report(session: Session, name: str, thresholds: Thresholds) -> dict[str, Any] | None:
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        return None
    checks = session.execute(
        select(Check.status, Check.score, Check.reasons, Check.submitted_at)
        .where(Check.account_id == account.id)
    ).all()
    done = [c for c in checks if c.status == "done" and c.score is not None]
    score = max((c.score for c in done), default=None)
    tally: Counter[str] = Counter()
    example: dict[str, dict[str, Any]] = {}
    weights: dict[str, float] = defaultdict(float)
    for check in done:
        for reason in check.reasons or []:
            code = reason["code"]
            tally[code] += 1
            weights[code] = max(weights[code], float(reason["weight"]))
            example.setdefault(code, reason)
    reasons = [
        {"code": code, "count": count, "weight": weights[code],
         "message": f"{count} of {len(done)} checked posts: {example[code]['message']}"}
        for code, count in tally.items() if weights[code] > 0
    ]
    reasons.sort(key=lambda r: (r["weight"], r["count"]), reverse=True)
    times = [c.submitted_at for c in checks]
    return {
        "account": account.name,
        "checks": len(checks),
        "done": len(done),
        "score": score,
        "verdict": thresholds.verdict(score) if score is not None else None,
        "reasons": reasons,
        "stolen_from": _counted(session, account.id, earlier=True),
        "reused_by": _counted(session, account.id, earlier=False),
        "first_check_at": iso(min(times)) if times else None,
        "last_check_at": iso(max(times)) if times else None,
    }
