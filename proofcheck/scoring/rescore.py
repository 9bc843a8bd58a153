"""Re-scoring an account when it gets new evidence.

A check's score depends on its account's whole history and on checks of other
accounts that arrive later (a thief checked before its victim is caught only when the
victim's original arrives). So after every check, its account and every account it is
related to are re-scored: each done check gets a fresh score, verdict and reasons, and
the account its score (its worst post's), verdict and reasons.

Without a trained model the rule engine (`pipeline.assess`) judges each check on its
own matches (from both sides of the match rows) and flags, with no account context, so
only the new check and the checks it was matched with are re-run (`rescore_by_rules`),
and a check's stored result is replaced only when that changes its score.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from proofcheck import forensics, pipeline
from proofcheck.db import Account, BankEntry, Check
from proofcheck.pipeline import Reason, Thresholds
from proofcheck.scoring import reasons as R
from proofcheck.scoring.features import CheckRecord, account_context, check_features
from proofcheck.scoring.model import ScoringModel, default_model
from proofcheck.scoring.records import (
    account_records,
    matched_with,
    records_of,
    related_accounts,
)
from proofcheck.services import Services

log = logging.getLogger(__name__)


def _account_reasons(reasons_per_check: list[list[dict[str, Any]]],
                     own: list[set[str]] | None = None) -> list[dict[str, Any]]:
    """Each code once: how many posts show its evidence themselves, and the sentence and
    weight of its heaviest example among them. With a model a post can carry a reason
    only through its account's history (a thief's own photos are judged by its stolen
    ones); `own` gives each post's codes backed by its own evidence, and only those
    are counted: "1 of 2 checked posts: the same file was posted by @victim", not 2."""
    best: dict[str, dict[str, Any]] = {}
    count: Counter[str] = Counter()
    for i, reasons in enumerate(reasons_per_check):
        for r in reasons:
            if float(r.get("weight", 0)) <= 0:
                continue
            mine = own is None or r["code"] in own[i]
            count[r["code"]] += mine
            known = best.get(r["code"])
            # An example from a post with its own evidence beats a heavier account-level one.
            if known is None or (mine, r["weight"]) > (known["mine"], known["weight"]):
                best[r["code"]] = {**r, "mine": mine}
    n = len(reasons_per_check)
    out = [{"code": c, "weight": r["weight"], "count": count[c],
            "message": f"{count[c]} of {n} checked posts: {r['message']}" if count[c]
            else r["message"]}
           for c, r in best.items()]
    out.sort(key=lambda r: (-r["weight"], -r["count"], r["code"]))
    return out


def rule_score(rec: CheckRecord, thresholds: Thresholds,
               banked: dict[str, str] | None = None) -> tuple[float, list[Reason], str]:
    """The rule engine on a check's matches (of every relation) and forensic flags,
    as known now: the same evidence the pipeline scored, plus what arrived since."""
    item = pipeline.CheckInput(check_id=rec.check_id, account=rec.account, post_id=rec.post_id,
                               posted_at=rec.posted_at, submitted_at=rec.submitted_at,
                               kind=rec.kind)
    found = [pipeline.MatchFinding(check_id=m.other_check_id, account=m.other_account,
                                   post_id=m.other_post_id, posted_at=m.other_posted_at,
                                   relation=m.relation, distance=m.distance, earlier=m.earlier,
                                   bank=(banked or {}).get(m.other_check_id))
             for m in rec.matches]
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    # Exact copies first, then by post time: the first one names the earliest exact copy.
    found.sort(key=lambda m: (not m.earlier, m.relation != "exact", m.posted_at or never))
    a = pipeline.assess(item, found, thresholds, flags=forensics.all_flags(
        {k: v for k, v in rec.signals.items() if isinstance(v, dict)}))
    return a.score, a.reasons, a.model_version


def rescore_account(services: Services, account_id: int,
                    model: ScoringModel | None = None,
                    thresholds: Thresholds | None = None) -> float | None:
    """Re-score every done check of one account and the account; give its score."""
    thresholds = thresholds or services.thresholds
    model = model or default_model()
    with services.db.session() as session:
        records = account_records(session, account_id)
        if not records:
            return None
        ctx = account_context(records)
        stored = _stored(session, {rec.check_id for rec in records})
        banked = _banked(session, {m.other_check_id for rec in records for m in rec.matches})
        own: list[set[str]] | None = None  # the rule engine judges each post on its own
        if model is None:
            scored = [_store_rule_score(session, rec, stored, thresholds, banked)[0]
                      for rec in records]
        else:
            values = [check_features(rec, ctx) for rec in records]
            # A moderators' ban names the post itself (`_with_moderators_word`).
            own = [{c for c in R.GROUPS if model.evidence(c, v, post_only=True)}
                   | {"known_fabricated"} for v in values]
            explained = model.explain_many(values, records, thresholds.review)
            scored = []
            for rec, (score, reasons) in zip(records, explained, strict=True):
                if banked and any(m.other_check_id in banked for m in rec.matches):
                    score, reasons = _with_moderators_word(rec, score, reasons, thresholds,
                                                           banked)
                scored.append(_store(session, rec.check_id, (score, reasons, model.version),
                                     thresholds, stored))
        return _store_account(session, account_id, scored, thresholds, own)


def _with_moderators_word(rec: CheckRecord, score: float, reasons: list[Reason],
                          thresholds: Thresholds, banked: dict[str, str]
                          ) -> tuple[float, list[Reason]]:
    """A copy of an image moderators confirmed as fabricated is judged by that decision,
    which the model has no feature for: the rule engine's `known_fabricated` reason and
    score join the model's."""
    rule, rule_reasons, _version = rule_score(rec, thresholds, banked)
    known = [r for r in rule_reasons if r.code == "known_fabricated"]
    if not known:
        return score, reasons
    merged = known + [r for r in reasons
                      if r.code not in ("known_fabricated", R.NO_EVIDENCE, R.NO_COPY_FOUND)]
    merged.sort(key=lambda r: (-r.weight, r.code))
    return max(score, rule), merged


def _banked(session: Session, check_ids: set[str]) -> dict[str, str]:
    if not check_ids:
        return {}
    return dict(session.execute(select(BankEntry.check_id, BankEntry.name)
                                .where(BankEntry.check_id.in_(check_ids))).all())


Stored = dict[str, tuple[float | None, list[dict[str, Any]], int | None, str | None]]


def _store(session: Session, check_id: str, result: tuple[float, list[Reason], str],
           thresholds: Thresholds, stored: Stored | None = None
           ) -> tuple[float, list[dict[str, Any]]]:
    """Write a check's score, verdict and reasons; with `stored`, only when they differ
    from it (most of an account's checks do not change when one more arrives)."""
    score, reasons, version = result
    as_json = [{"code": r.code, "message": r.message, "weight": r.weight} for r in reasons]
    if stored is not None:
        old_score, old_reasons, _account, old_version = stored[check_id]
        if old_score is not None and abs(float(old_score) - score) < 1e-6 and \
                old_reasons == as_json and old_version == version:
            return score, as_json
    session.execute(update(Check).where(Check.id == check_id).values(
        score=score, verdict=thresholds.verdict(score), reasons=as_json,
        model_version=version))
    return score, as_json


def _stored(session: Session, check_ids: set[str]) -> Stored:
    """Each check's stored score, reasons, account and model version, in one query."""
    return {cid: (score, list(reasons or []), account, version)
            for cid, score, reasons, account, version in session.execute(
                select(Check.id, Check.score, Check.reasons, Check.account_id,
                       Check.model_version).where(Check.id.in_(sorted(check_ids)))).all()}


def _store_rule_score(session: Session, rec: CheckRecord, stored: Stored,
                      thresholds: Thresholds, banked: dict[str, str]
                      ) -> tuple[tuple[float, list[dict[str, Any]]], bool]:
    """The rule engine's score as known now, and whether it changed; stored only when
    it did (the pipeline's own wording stays otherwise)."""
    score, reasons, _account, _version = stored[rec.check_id]
    result = rule_score(rec, thresholds, banked)
    if score is not None and abs(float(score) - result[0]) < 1e-6:
        return (float(score), reasons), False
    return _store(session, rec.check_id, result, thresholds), True


def _store_account(session: Session, account_id: int,
                   scored: list[tuple[float, list[dict[str, Any]]]],
                   thresholds: Thresholds, own: list[set[str]] | None = None) -> float:
    """The account's score is its worst post's; its reasons those of all its posts."""
    top = max(s for s, _ in scored)
    session.execute(update(Account).where(Account.id == account_id).values(
        score=round(top, 4), verdict=thresholds.verdict(top),
        reasons=_account_reasons([r for _, r in scored], own)))
    return top


def rescore_by_rules(services: Services, check_id: str) -> None:
    """Without a model: the rule engine judges a check on its own matches and flags,
    so a new check can change only itself and the checks it was matched with. Those
    are re-scored, and summarised from the stored scores are the new check's account and
    each account whose check's score changed: work in proportion to the check's matches,
    not to its accounts' sizes (re-scoring every check of every related account made
    each check cost more than the one before; a popular template's 20 other accounts
    rarely change at all)."""
    thresholds = services.thresholds
    with services.db.session() as session:
        touched = {check_id} | matched_with(session, check_id)
        records = records_of(session, touched)
        banked = _banked(session, {m.other_check_id for rec in records for m in rec.matches})
        stored = _stored(session, touched)
        accounts = {stored[check_id][2]} if check_id in stored else set()
        for rec in records:
            if _store_rule_score(session, rec, stored, thresholds, banked)[1]:
                accounts.add(stored[rec.check_id][2])
        for account_id in sorted(a for a in accounts if a is not None):
            scored = [(float(score), list(reasons or [])) for score, reasons in session.execute(
                select(Check.score, Check.reasons).where(
                    Check.account_id == account_id, Check.status == "done",
                    Check.score.is_not(None))).all()]
            if scored:
                _store_account(session, account_id, scored, thresholds)


def rescore_after_check(services: Services, check_id: str,
                        model: ScoringModel | None = None) -> None:
    """Re-score the check's account and every account related to it by a match."""
    rescore_after_checks(services, [check_id], model)


def rescore_after_checks(services: Services, check_ids: list[str],
                         model: ScoringModel | None = None) -> None:
    """Re-score after several new checks at once: each related account once, not once
    per check (a batch of one account's history would otherwise re-score the account
    after each of its posts: quadratic with a model).

    Never raises: the checks themselves are already stored, a failed re-score is logged
    and repaired by the account's next check.
    """
    if services.settings.extra.get("rescore") is False or not check_ids:
        return  # a bulk run that scores everything at the end (proofcheck train)
    try:
        model = model or default_model()
        if model is None:
            for check_id in check_ids:
                rescore_by_rules(services, check_id)
            return
        with services.db.session() as session:
            accounts = set().union(*(related_accounts(session, c) for c in check_ids))
        for account_id in sorted(accounts):
            rescore_account(services, account_id, model)
    except Exception:
        log.exception("re-scoring after checks %s failed", ", ".join(check_ids[:5]))
