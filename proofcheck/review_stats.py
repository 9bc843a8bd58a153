"""Figures for the review dashboard: queue depth, decisions per day, model agreement."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select

from proofcheck import plots
from proofcheck.config import Settings
from proofcheck.db import Check, Database, Review, ReviewClaim, utcnow
from proofcheck.review import DECISIONS

MODEL_VERDICTS = ("authentic", "review", "fabricated")


@dataclass
class Dashboard:
    depth: int = 0
    claimed: int = 0
    depth_by_verdict: dict[str, int] = field(default_factory=dict)
    decided_total: int = 0
    # model verdict -> moderator decision -> count (latest decision per check)
    matrix: dict[str, dict[str, int]] = field(default_factory=dict)
    agreement: float | None = None  # share of clear-cut items where both said the same
    agreement_base: int = 0
    decisions_chart: plots.Chart = field(default_factory=plots.Chart)
    depth_chart: plots.Chart = field(default_factory=plots.Chart)
    days: int = 30


def _day(value: dt.datetime) -> dt.date:
    return value.astimezone(dt.UTC).date()


def build(db: Database, settings: Settings, days: int = 30,
          now: dt.datetime | None = None) -> Dashboard:
    now = now or utcnow()
    out = Dashboard(days=days)
    first_day = _day(now) - dt.timedelta(days=days - 1)
    calendar = [first_day + dt.timedelta(days=i) for i in range(days)]
    with db.session() as session:
        reviews = session.execute(select(Review.check_id, Review.decision, Review.created_at)
                                  .order_by(Review.created_at, Review.id)).all()
        first_decided: dict[str, dt.datetime] = {}
        latest: dict[str, str] = {}
        per_day: Counter[tuple[dt.date, str]] = Counter()
        for check_id, decision, at in reviews:
            first_decided.setdefault(check_id, at)
            latest[check_id] = decision
            per_day[(_day(at), decision)] += 1
        entered = session.execute(
            select(Check.id, Check.verdict, Check.finished_at)
            .where(Check.status == "done", Check.verdict.in_(settings.review_verdicts))).all()
        verdicts = {r[0]: r[1] for r in session.execute(
            select(Check.id, Check.verdict).where(Check.id.in_(list(latest))))}
        claimed = session.scalar(select(func.count()).select_from(ReviewClaim)
                                 .where(ReviewClaim.expires_at > now)) or 0

    waiting = [(cid, verdict) for cid, verdict, _ in entered if cid not in first_decided]
    out.depth = len(waiting)
    out.claimed = min(claimed, out.depth)
    out.depth_by_verdict = dict(Counter(verdict or "" for _, verdict in waiting))
    out.decided_total = len(latest)

    out.matrix = {v: dict.fromkeys(DECISIONS, 0) for v in MODEL_VERDICTS}
    for check_id, decision in latest.items():
        verdict = verdicts.get(check_id)
        if verdict in out.matrix:
            out.matrix[verdict][decision] += 1
    clear = [(verdicts.get(c), d) for c, d in latest.items()
             if verdicts.get(c) in ("authentic", "fabricated") and d in ("authentic",
                                                                           "fabricated")]
    out.agreement_base = len(clear)
    if clear:
        out.agreement = sum(1 for v, d in clear if v == d) / len(clear)

    series: dict[str, Sequence[int]] = {
        f"bar-{d}": [per_day[(day, d)] for day in calendar] for d in DECISIONS}
    out.decisions_chart = plots.stacked_bars(calendar, series)
    # Depth at the end of each day: items that had entered by then, not yet decided.
    depth = []
    for day in calendar:
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)
        depth.append(sum(1 for cid, _, finished in entered
                         if finished is not None and finished < end
                         and (cid not in first_decided or first_decided[cid] >= end)))
    out.depth_chart = plots.line(calendar, depth)
    return out
