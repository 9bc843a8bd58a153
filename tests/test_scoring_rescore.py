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
