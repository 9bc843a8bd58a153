"""The consistency report for one account: everything checked for it, in one view."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from proofcheck.db import Account, Check, Match
from proofcheck.matching import DUPLICATE_RELATIONS
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
               Match.relation.in_(sorted(DUPLICATE_RELATIONS)))
        .group_by(other_account.name)
        .order_by(func.count(func.distinct(Check.id)).desc(), other_account.name)
    ).all()
    return [{"account": name, "count": int(count)} for name, count in rows]


def account_report(session: Session, name: str) -> dict[str, Any] | None:
    """The account as re-scored after its latest check (`scoring.rescore_account` keeps
    Account.score/verdict/reasons), with where its images came from and went."""
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        return None
    total, done, first, last = session.execute(
        select(func.count(), func.count(case((Check.status == "done", 1))),
               func.min(Check.submitted_at), func.max(Check.submitted_at))
        .where(Check.account_id == account.id)
    ).one()
    return {
        "account": account.name,
        "checks": int(total),
        "done": int(done),
        "score": account.score,
        "verdict": account.verdict if account.score is not None else None,
        "reasons": account.reasons or [],
        "stolen_from": _counted(session, account.id, earlier=True),
        "reused_by": _counted(session, account.id, earlier=False),
        "first_check_at": iso(first),
        "last_check_at": iso(last),
    }
