"""Re-scoring accounts with new evidence: a thief checked before the account it stole
from is caught when the original arrives, and the original's owner stays clean."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from proofcheck.db import Account, Check
from proofcheck.processing import process_check
from proofcheck.scoring.model import ScoringModel
from proofcheck.scoring.rescore import rescore_after_check
from proofcheck.services import Services
from proofcheck.submission import CheckMeta, Upload, submit
from tests.conftest import image_bytes, make_settings
from tests.test_scoring_model import trained_model

OWNER, THIEF = "instagram:@owner.shop", "instagram:@thief.shop"


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    # No Redis needed: checks are processed in this process, as a worker would.
    monkeypatch.setenv("PROOFCHECK_MODEL_DIR", str(tmp_path / "no-models"))
    services = Services(make_settings(tmp_path / "data", None))
    services.migrate()
    yield services
    services.db.dispose()


def post(services: Services, account: str, data: bytes, post_id: str,
         posted_at: dt.datetime) -> str:
    check = submit(services, [Upload(f"{post_id}.png", data)],
                   CheckMeta(account=account, post_id=post_id, posted_at=posted_at))[0]
    assert process_check(services, check.id) == "done"
    return check.id


def state(services: Services, check_id: str) -> tuple[str, list[str]]:
    with services.db.session() as session:
        check = session.get(Check, check_id)
        assert check is not None and check.verdict is not None
        return check.verdict, [r["code"] for r in check.reasons or [] if r["weight"] > 0]


def account_verdict(services: Services, name: str) -> str | None:
    with services.db.session() as session:
        return session.scalar(select(Account.verdict).where(Account.name == name))


def run_theft(services: Services, model: ScoringModel | None) -> tuple[str, str, str]:
    original = image_bytes(seed=3, text="receipt 1,250,000")
    march = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    own = post(services, OWNER, image_bytes(seed=5), "o0", march - dt.timedelta(days=20))
    # The thief's copy reaches us first: nothing is known against it yet.
    stolen = post(services, THIEF, original, "t1", march + dt.timedelta(days=12))
    rescore_after_check(services, stolen, model)
    assert state(services, stolen)[0] == "authentic"
    first = post(services, OWNER, original, "o1", march)
    rescore_after_check(services, first, model)
    return own, stolen, first


def test_rules_catch_a_thief_checked_before_its_victim(local: Services) -> None:
    own, stolen, first = run_theft(local, None)
    verdict, codes = state(local, stolen)
    assert verdict == "fabricated" and codes == ["stolen_from_other_account"]
    assert state(local, first) == ("authentic", [])
    assert state(local, own) == ("authentic", [])
    assert account_verdict(local, THIEF) == "fabricated"
    assert account_verdict(local, OWNER) == "authentic"
    from proofcheck.scoring.rescore import rescore_account

    with local.db.session() as session:  # a whole account by the rules, as it stands
        thief = session.scalar(select(Account.id).where(Account.name == THIEF))
    assert local.thresholds.verdict(rescore_account(local, thief) or 0) == "fabricated"
    with local.db.session() as session:
        report = session.scalar(select(Account.reasons).where(Account.id == thief))
    assert report[0]["message"].startswith("1 of 1 checked posts")


def test_model_rescoring_flags_the_thief_and_clears_the_owner(local: Services) -> None:
    model, _ = trained_model()
    own, stolen, first = run_theft(local, model)
    verdict, codes = state(local, stolen)
    assert verdict in ("review", "fabricated")
    assert codes[0] == "stolen_from_other_account"
    for check_id in (first, own):
        assert state(local, check_id)[0] == "authentic"
    with local.db.session() as session:
        rows = session.execute(select(Check.model_version)
                               .where(Check.id.in_([stolen, first, own]))).scalars().all()
    assert set(rows) == {model.version}
    assert account_verdict(local, OWNER) == "authentic"
    assert account_verdict(local, THIEF) in ("review", "fabricated")


def test_only_accounts_whose_facts_change_are_rescored(local: Services) -> None:
    """A picture reused by many accounts: each new later copy re-scores its own account,
    and the original's only on the first copy elsewhere, not every account of every
    copy (which made throughput fall with each check of a popular picture)."""
    from proofcheck.scoring.records import related_accounts

    picture = image_bytes(seed=8, text="transfer 3,000,000")
    march = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)

    def arrive(account: str, post_id: str, days: int) -> set[str]:
        """Post, and name the accounts its arrival re-scores."""
        check_id = post(local, account, picture, post_id, march + dt.timedelta(days=days))
        with local.db.session() as session:
            ids = related_accounts(session, check_id)
            return set(session.scalars(select(Account.name).where(Account.id.in_(ids))))

    assert arrive(OWNER, "o1", 0) == {OWNER}  # nothing else known yet
    # A copy flips "copied by others" only for earlier copies that had no later copy
    # elsewhere yet: the owner once, then each copier once (by the next copier).
    assert arrive("instagram:@copier0", "c0", 1) == {"instagram:@copier0", OWNER}
    assert arrive("instagram:@copier1", "c1", 2) == {"instagram:@copier1",
                                                     "instagram:@copier0"}
    assert arrive("instagram:@copier2", "c2", 3) == {"instagram:@copier2",
                                                     "instagram:@copier1"}
    # A copy posted before all of them makes every one of them a later copy.
    assert arrive("instagram:@earliest", "e1", -5) == {
        "instagram:@earliest", OWNER, "instagram:@copier0", "instagram:@copier1",
        "instagram:@copier2"}
    assert account_verdict(local, "instagram:@earliest") == "authentic"
    assert account_verdict(local, OWNER) == "fabricated"  # not the first after all


def test_checks_rescored_together_count_each_reason_where_its_evidence_is(
        local: Services) -> None:
    """Checks processed without re-scoring (as a batch's chunk) and re-scored together
    end where one-by-one re-scoring ends: every check under the model, the thief flagged
    with the stolen reason counted on its one stolen post, the owner clean."""
    from proofcheck.scoring.rescore import rescore_after_checks

    model, _ = trained_model()
    original = image_bytes(seed=3, text="receipt 1,250,000")
    march = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    ids = []
    for account, data, post_id, days in ((OWNER, original, "o1", 0),
                                         (THIEF, original, "t1", 12),
                                         (THIEF, image_bytes(seed=5), "t2", 13)):
        check = submit(local, [Upload(f"{post_id}.png", data)],
                       CheckMeta(account=account, post_id=post_id,
                                 posted_at=march + dt.timedelta(days=days)))[0]
        assert process_check(local, check.id, rescore=False) == "done"
        ids.append(check.id)
    with local.db.session() as session:  # not re-scored yet: the pipeline's own score
        assert session.scalar(select(Account.reasons).where(Account.name == THIEF)) is None
    rescore_after_checks(local, ids, model)
    with local.db.session() as session:
        versions = set(session.scalars(select(Check.model_version).where(Check.id.in_(ids))))
        report = session.scalar(select(Account.reasons).where(Account.name == THIEF))
    assert versions == {model.version}
    assert report[0]["code"] == "stolen_from_other_account"
    assert report[0]["message"].startswith("1 of 2 checked posts: The same"), report
    assert account_verdict(local, THIEF) in ("review", "fabricated")
    assert account_verdict(local, OWNER) == "authentic"


def test_an_account_report_counts_a_reason_only_on_posts_with_their_own_evidence() -> None:
    """The model lends a thief's own photo its account's stolen reason; the report must
    not read "2 of 2 posts: the same file was posted by @victim"."""
    from proofcheck.scoring.rescore import _account_reasons

    model, _ = trained_model()
    history_only = {"acc_first_seen_elsewhere": 0.5, "dup_earlier_other": 0.0}
    assert model.evidence("stolen_from_other_account", history_only)
    assert not model.evidence("stolen_from_other_account", history_only, post_only=True)
    assert model.evidence("stolen_from_other_account", {**history_only,
                          "dup_earlier_other": 1.0}, post_only=True)

    def stolen(message: str, weight: float) -> list[dict[str, object]]:
        return [{"code": "stolen_from_other_account", "message": message, "weight": weight}]

    per_post = [stolen("The same file was posted by @victim.", 0.4),
                stolen("50% of this account's posts were first posted by others.", 0.6)]
    report = _account_reasons(per_post, [{"stolen_from_other_account"}, set()])
    assert report == [{"code": "stolen_from_other_account", "weight": 0.4, "count": 1,
                       "message": "1 of 2 checked posts: The same file was posted by "
                                  "@victim."}]
    only_history = _account_reasons(per_post[1:], [set()])
    assert only_history[0]["count"] == 0
    assert only_history[0]["message"].startswith("50% of this account's posts")
