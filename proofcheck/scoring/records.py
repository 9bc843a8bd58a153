"""Reading `CheckRecord`s from the database for one account.

A match row is written by whichever check was processed second, so a check's
relations are the rows that name it on either side: a thief checked before its victim
learns of the victim only from the victim's row (with `earlier` seen from the other
side, hence flipped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from proofcheck.db import Account, Check, Match
from proofcheck.scoring.features import CheckRecord, MatchInfo, agreement, text_summary


def account_records(session: Session, account_id: int) -> list[CheckRecord]:
    rows = session.execute(
        select(Check.id, Account.name, Check.post_id, Check.posted_at, Check.submitted_at,
               Check.caption, Check.kind, Check.signals)
        .join(Account, Account.id == Check.account_id)
        .where(Check.account_id == account_id, Check.status == "done")
        .order_by(Check.submitted_at, Check.id)
    ).all()
    ids = [r[0] for r in rows]
    matches = relations(session, ids, {r[0]: r[7] or {} for r in rows})
    return [CheckRecord(check_id=r[0], account=r[1], post_id=r[2], posted_at=r[3],
                        submitted_at=r[4], caption=r[5], kind=r[6],
                        matches=tuple(matches.get(r[0], ())), signals=r[7] or {})
            for r in rows]


def relations(session: Session, check_ids: Sequence[str],
              signals: Mapping[str, Mapping[str, Any]] | None = None
              ) -> dict[str, list[MatchInfo]]:
    """Every relation of the given checks, from both sides of the match rows; `signals`
    of the given checks (when the caller has them) let the text confirm a copy."""
    if not check_ids:
        return {}
    texts = {cid: text_summary(sig) for cid, sig in (signals or {}).items()}
    mine = set(check_ids)
    other = aliased(Check)
    other_account = aliased(Account)
    found: dict[str, dict[str, MatchInfo]] = {cid: {} for cid in check_ids}
    for direct in (True, False):
        this_col = Match.check_id if direct else Match.other_check_id
        that_col = Match.other_check_id if direct else Match.check_id
        rows = session.execute(
            select(this_col, that_col, Match.relation, Match.earlier, Match.distance,
                   other_account.name, other.post_id, other.posted_at, other.signals)
            .join(other, other.id == that_col)
            .outerjoin(other_account, other_account.id == other.account_id)
            .where(this_col.in_(mine))
        ).all()
        for this, that, relation, earlier, distance, acc, post_id, posted_at, sig in rows:
            if that in found[this] or that == this:
                continue  # the check's own row wins over the other side's
            same_text, same_id, contained = agreement(texts.get(this),
                                                      text_summary(sig or {}))
            found[this][that] = MatchInfo(
                relation=relation, earlier=bool(earlier) if direct else not earlier,
                other_check_id=that, other_account=acc, other_post_id=post_id,
                other_posted_at=posted_at, distance=int(distance or 0),
                same_text=same_text, same_id=same_id, text_contained=contained)
    return {cid: list(m.values()) for cid, m in found.items()}


# Relations that change who posted a picture first; a shared layout ("template",
# "similar") across accounts says little about either, and re-scoring every account
# of a popular bank's customers after each check would not scale.
COPY_RELATIONS = ("exact", "resized", "cropped", "edited")


def related_accounts(session: Session, check_id: str) -> set[int]:
    """The accounts whose scores a check's arrival can change: its own; the account of
    every copy posted after it (that one was not first after all); and the account of
    an earlier copy only when this is the first later copy of it on another account
    (its "copied by others" facts flip now, and no further copy changes them).

    Re-scoring the account of every copy instead made each check of a picture reused
    by 20 accounts re-score all 20, and throughput fell with every check
    (bench/load.py: from 1.2 to 0.6 checks/s over 4,800 checks)."""
    own = session.scalar(select(Check.account_id).where(Check.id == check_id))
    ids = {own}
    for other_id, other_account, other_earlier in _copies(session, check_id):
        if other_account is None or other_account == own:
            continue
        if not other_earlier or _later_copies_elsewhere(session, other_id, other_account) <= 1:
            ids.add(other_account)
    return {i for i in ids if i is not None}


def _copies(session: Session, check_id: str) -> list[tuple[str, int | None, bool]]:
    """(other check, its account, whether it was posted earlier) for every copy."""
    other = aliased(Check)
    out: list[tuple[str, int | None, bool]] = []
    for direct in (True, False):
        this_col, that_col = ((Match.check_id, Match.other_check_id) if direct
                              else (Match.other_check_id, Match.check_id))
        rows = session.execute(
            select(that_col, other.account_id, Match.earlier)
            .join(other, other.id == that_col)
            .where(this_col == check_id, Match.relation.in_(COPY_RELATIONS))
        ).all()
        # A row's `earlier` says whether its other_check_id came first.
        out += [(that, account, bool(earlier) if direct else not earlier)
                for that, account, earlier in rows]
    return out


def _later_copies_elsewhere(session: Session, check_id: str, account_id: int) -> int:
    """Copies of a check posted after it by other accounts."""
    other = aliased(Check)
    total = 0
    for direct in (True, False):
        this_col, that_col = ((Match.check_id, Match.other_check_id) if direct
                              else (Match.other_check_id, Match.check_id))
        later = Match.earlier.is_(False) if direct else Match.earlier.is_(True)
        total += session.scalar(
            select(func.count()).select_from(Match).join(other, other.id == that_col)
            .where(this_col == check_id, later, Match.relation.in_(COPY_RELATIONS),
                   other.account_id != account_id)) or 0
    return total
