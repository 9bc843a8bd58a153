"""Reading `CheckRecord`s from the database for one account.

A match row is written by whichever check was processed second, so a check's
relations are the rows that name it on either side: a thief checked before its victim
learns of the victim only from the victim's row (with `earlier` seen from the other
side, hence flipped).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from proofcheck.db import Account, Check, Match
from proofcheck.scoring.features import (
    CheckRecord,
    MatchInfo,
    TextSummary,
    agreement,
    text_summary,
)


def account_records(session: Session, account_id: int) -> list[CheckRecord]:
    """Every done check of the account, oldest first."""
    return _records(session, Check.account_id == account_id)


def records_of(session: Session, check_ids: Collection[str]) -> list[CheckRecord]:
    """The given checks, those that are done and belong to an account."""
    return _records(session, Check.id.in_(sorted(check_ids)))


def _records(session: Session, condition: ColumnElement[bool]) -> list[CheckRecord]:
    rows = session.execute(
        select(Check.id, Account.name, Check.post_id, Check.posted_at, Check.submitted_at,
               Check.caption, Check.kind, Check.signals)
        .join(Account, Account.id == Check.account_id)
        .where(condition, Check.status == "done")
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
                   other_account.name, other.post_id, other.posted_at)
            .join(other, other.id == that_col)
            .outerjoin(other_account, other_account.id == other.account_id)
            .where(this_col.in_(mine))
        ).all()
        theirs = _summaries(session, {row[1] for row in rows})
        for this, that, relation, earlier, distance, acc, post_id, posted_at in rows:
            if that in found[this] or that == this:
                continue  # the check's own row wins over the other side's
            same_text, same_id, same_fields = agreement(texts.get(this), theirs.get(that))
            found[this][that] = MatchInfo(
                relation=relation, earlier=bool(earlier) if direct else not earlier,
                other_check_id=that, other_account=acc, other_post_id=post_id,
                other_posted_at=posted_at, distance=int(distance or 0),
                same_text=same_text, same_id=same_id, same_fields=same_fields)
    return {cid: list(m.values()) for cid, m in found.items()}


# Text summaries of done checks, whose OCR output never changes again: re-scoring an
# account would otherwise fetch and parse the signals of every match's other side each
# time (bench/load.py: 28% of a worker's time at ~50 checks per account, growing with
# the account). A summary is 0.6-1.2 KiB (bench/worker_memory.py).
_SUMMARY_CACHE_SIZE = 20_000
_summary_cache: OrderedDict[str, TextSummary | None] = OrderedDict()
_summary_lock = threading.Lock()


def forget_summary(check_id: str) -> None:
    """Drop a check's cached summary after its signals were rewritten once done (only
    the scenario backfill does that)."""
    with _summary_lock:
        _summary_cache.pop(check_id, None)


def _summaries(session: Session, check_ids: set[str]) -> dict[str, TextSummary | None]:
    """`text_summary` of each check's signals, from the cache where possible."""
    out: dict[str, TextSummary | None] = {}
    with _summary_lock:
        for cid in check_ids:
            if cid in _summary_cache:
                _summary_cache.move_to_end(cid)
                out[cid] = _summary_cache[cid]
    missing = sorted(check_ids - out.keys())
    for start in range(0, len(missing), 500):  # bounded IN lists
        rows = session.execute(select(Check.id, Check.status, Check.signals)
                               .where(Check.id.in_(missing[start:start + 500]))).all()
        for cid, status, signals in rows:
            out[cid] = text_summary(signals or {})
            if status == "done":
                with _summary_lock:
                    _summary_cache[cid] = out[cid]
                    while len(_summary_cache) > _SUMMARY_CACHE_SIZE:
                        _summary_cache.popitem(last=False)
    return out


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


def matched_with(session: Session, check_id: str) -> set[str]:
    """Every check on the other side of a match row naming this one."""
    out: set[str] = set()
    for this_col, that_col in ((Match.check_id, Match.other_check_id),
                               (Match.other_check_id, Match.check_id)):
        out.update(session.scalars(select(that_col).where(this_col == check_id)).all())
    out.discard(check_id)
    return out


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
