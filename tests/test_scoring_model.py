"""The classifier on hand-made feature rows: training, account-grouped splits, saving and
loading, and reasons."""

from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from proofcheck.pipeline import Thresholds
from proofcheck.scoring import reasons as R
from proofcheck.scoring.features import (
    FEATURE_NAMES,
    CheckRecord,
    MatchInfo,
    account_context,
    check_features,
)
from proofcheck.scoring.model import ScoringModel, default_model, load, save
from proofcheck.scoring.train import Dataset, group_splits, train, write_model

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def dataset(n_accounts: int = 20, seed: int = 0) -> Dataset:
    """Half the accounts post pictures first posted elsewhere; the rest post their own."""
    rng = random.Random(seed)
    rows, records, y, accounts, types = [], [], [], [], []
    labels, kinds = {}, {}
    for a in range(n_accounts):
        name = f"instagram:@shop{a}"
        fraud = a % 2 == 1
        labels[name], kinds[name] = int(fraud), "stolen" if fraud else "honest"
        recs = []
        n = rng.randint(1, 6)
        for i in range(n):
            when = T0 + dt.timedelta(days=rng.uniform(0, 90))
            stolen = fraud and (i == 0 or rng.random() < 0.7)
            matches = (MatchInfo("cropped", True, f"o{a}-{i}", "instagram:@victim", "v1",
                                 when - dt.timedelta(days=9)),) if stolen else ()
            recs.append((CheckRecord(f"c{a}-{i}", name, f"p{i}", when, when,
                                     caption=rng.choice(["new bags", "order shipped"]),
                                     matches=matches), stolen))
        ctx = account_context([r for r, _ in recs])
        for r, stolen in recs:
            rows.append(check_features(r, ctx))
            records.append(r)
            y.append(int(stolen))
            accounts.append(name)
            types.append("stolen" if stolen else None)
    return Dataset(rows=rows, records=records, y=np.array(y), accounts=accounts,
                   fraud_type=types, account_label=labels, account_type=kinds,
                   info={"seed": seed, "generator": "hand-made", "photo_sources": 0,
                         "accounts": n_accounts, "posts": len(rows), "fraud_posts": sum(y),
                         "account_types": {"honest": n_accounts // 2,
                                           "stolen": n_accounts // 2}})


def test_group_splits_never_share_an_account() -> None:
    data = dataset()
    splits = group_splits(data.accounts, 5, data.y)
    assert len(splits) >= 4
    seen_in_test: list[str] = []
    for train_idx, test_idx in splits:
        train_accounts = {data.accounts[i] for i in train_idx}
        test_accounts = {data.accounts[i] for i in test_idx}
        assert not train_accounts & test_accounts
        seen_in_test += sorted(test_accounts)
    assert len(seen_in_test) == len(set(seen_in_test))  # each account tested once


@lru_cache(maxsize=1)
def trained_model() -> tuple[ScoringModel, dict[str, Any]]:
    """One small model for every scoring test module (training takes seconds)."""
    return train(dataset(), Thresholds(), version="test-1")


@pytest.fixture(scope="module")
def trained() -> tuple[object, dict[str, object]]:
    return trained_model()


def test_training_separates_and_reports(trained: tuple[object, dict[str, object]]) -> None:
    report = trained[1]
    oof = report["out_of_fold"]
    assert isinstance(oof, dict)
    assert oof["image_roc_auc"] is not None and oof["image_roc_auc"] > 0.9
    assert set(report["selection_oof_roc_auc"]) == {  # type: ignore[arg-type]
        "gradient_boosting", "logistic_regression", "signed_logistic"}
    assert report["features"] == list(FEATURE_NAMES)


def test_model_round_trip(trained: tuple[object, dict[str, object]], tmp_path: Path) -> None:
    model, report = trained
    folder = write_model(model, report, tmp_path)  # type: ignore[arg-type]
    assert {p.name for p in folder.iterdir()} == {"model.joblib", "model_card.md",
                                                  "metrics.json"}
    assert "image ROC-AUC" in (folder / "model_card.md").read_text()
    again = load(folder)
    rows = dataset(seed=1).rows
    assert np.allclose(again.predict(rows), model.predict(rows))  # type: ignore[attr-defined]
    save(again, tmp_path / "copy")
    assert load(tmp_path / "copy").version == "test-1"


def test_reasons_are_coded_sorted_and_name_the_evidence(
        trained: tuple[object, dict[str, object]]) -> None:
    model, _ = trained
    data = dataset(seed=2)
    known = set(R.GROUPS) | {R.NO_EVIDENCE, "no_copy_found", "reused_by_other_account"}
    thief = data.y.tolist().index(1)
    honest = data.y.tolist().index(0)
    assert model.version == "test-1"  # type: ignore[attr-defined]
    for i in (thief, honest):
        score, reasons = model.explain(data.rows[i], data.records[i])  # type: ignore[attr-defined]
        assert 0.0 <= score <= 1.0
        assert reasons and all(r.code in known and r.message for r in reasons)
        weights = [r.weight for r in reasons]
        assert weights == sorted(weights, reverse=True)
    score, reasons = model.explain(data.rows[thief], data.records[thief])  # type: ignore[attr-defined]
    assert reasons[0].code == "stolen_from_other_account"
    assert "instagram:@victim" in reasons[0].message
    honest_score = model.explain(data.rows[honest], data.records[honest])  # type: ignore[attr-defined]
    assert honest_score[0] < score


def test_explaining_many_checks_at_once_gives_each_its_own_explanation(
        trained: tuple[object, dict[str, object]]) -> None:
    model = trained[0]
    assert isinstance(model, ScoringModel)
    data = dataset(seed=3)
    together = model.explain_many(data.rows, data.records)
    alone = [model.explain(r, c) for r, c in zip(data.rows, data.records, strict=True)]
    assert together == alone
    assert len({score for score, _ in together}) > 1  # not one answer for all


def test_a_score_no_reason_explains_stays_below_review() -> None:
    """A model trained where most posts are fraud has a high baseline; a new account's
    first post with nothing against it must not inherit it."""
    from sklearn.dummy import DummyClassifier

    from proofcheck.scoring.features import FEATURE_NAMES
    from proofcheck.scoring.model import NO_REASON_CEILING

    X = np.zeros((10, len(FEATURE_NAMES)))
    baseline = DummyClassifier(strategy="prior").fit(X, [1] * 8 + [0] * 2)
    model = ScoringModel("prior-0.8", baseline, FEATURE_NAMES,
                         reference={n: 0.0 for n in FEATURE_NAMES})
    first_post = CheckRecord("c1", "instagram:@new", "p1", T0, T0)
    values = check_features(first_post, account_context([first_post]))
    assert model.predict([values])[0] == pytest.approx(0.8)
    score, reasons = model.explain(values, first_post)
    assert score == NO_REASON_CEILING
    assert [r.code for r in reasons] == ["no_copy_found"]


def test_each_check_as_first_scored_sees_only_what_was_posted_before_it() -> None:
    from proofcheck.scoring.train import as_first_scored

    later_copy = MatchInfo("exact", False, "t1", "instagram:@thief", "t1",
                           T0 + dt.timedelta(days=5))
    first = CheckRecord("c1", "instagram:@a", "p1", T0, T0, matches=(later_copy,))
    second = CheckRecord("c2", "instagram:@a", "p2", T0 + dt.timedelta(days=9),
                         T0 + dt.timedelta(days=9))
    early = dict((rec.check_id, (rec, row)) for rec, row in as_first_scored([second, first]))
    rec1, row1 = early["c1"]
    assert rec1.matches == () and row1["dup_later_other"] == 0.0
    assert row1["acc_posts"] == pytest.approx(np.log1p(1))  # its account had one post
    _, row2 = early["c2"]
    assert row2["acc_posts"] == pytest.approx(np.log1p(2))
    assert row2["acc_original_share"] == 0.5  # by then the thief had copied c1


def test_no_model_means_no_score(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROOFCHECK_MODEL_DIR", str(tmp_path / "empty"))
    assert default_model() is None


def test_a_receipt_another_account_posted_first_reaches_review_in_any_account() -> None:
    """The model learns theft from an account's share of taken posts; one receipt taken
    by an account of 300 honest posts must still reach a moderator, a shared product
    photograph need not."""
    from sklearn.dummy import DummyClassifier

    X = np.zeros((10, len(FEATURE_NAMES)))
    honest_looking = DummyClassifier(strategy="prior").fit(X, [1] + [0] * 9)
    model = ScoringModel("prior-0.1", honest_looking, FEATURE_NAMES,
                         reference={n: 0.0 for n in FEATURE_NAMES})
    theirs = MatchInfo("resized", True, "o1", "instagram:@owner", "o1", T0)
    history = [CheckRecord(f"h{i}", "instagram:@big", f"p{i}", T0, T0) for i in range(299)]
    receipt = CheckRecord("r1", "instagram:@big", "r1", T0 + dt.timedelta(days=3),
                          T0 + dt.timedelta(days=3), matches=(theirs,),
                          signals={"ocr": {"text": "Paid 250,000", "fields": [
                              {"type": "amount", "value": "250000", "confidence": 0.9}]}})
    photo = CheckRecord("f1", "instagram:@big", "f1", receipt.posted_at, receipt.posted_at,
                        matches=(theirs,))
    ctx = account_context([*history, receipt, photo])
    rows = [check_features(receipt, ctx), check_features(photo, ctx)]
    assert rows[0]["proof_taken_earlier"] == 1.0 and rows[1]["proof_taken_earlier"] == 0.0
    (score, reasons), (photo_score, _) = model.explain_many(rows, [receipt, photo],
                                                            review_at=0.6)
    assert score == 0.6 and reasons[0].code == "stolen_from_other_account"
    assert reasons[0].message.startswith("The same picture (resized) was posted by "
                                         "instagram:@owner")
    assert photo_score < 0.6
    assert model.explain(rows[0], receipt)[0] < 0.6  # without a threshold: the model alone


def test_linear_models_do_not_extrapolate_past_their_training_accounts() -> None:
    from proofcheck.scoring.signed import ClipToTrainingRange

    clip = ClipToTrainingRange().fit(np.array([[1.0, np.nan], [3.0, 0.5], [2.0, np.nan]]))
    out = clip.transform(np.array([[6.0, 0.9], [np.nan, -1.0], [2.5, np.nan]]))
    assert np.array_equal(out, np.array([[3.0, 0.5], [np.nan, 0.5], [2.5, np.nan]]),
                          equal_nan=True)


def test_captions_are_compared_with_their_neighbours_only() -> None:
    from proofcheck.scoring.features import CAPTION_WINDOW

    posts = [CheckRecord(f"c{i}", "instagram:@a", f"p{i}", T0 + dt.timedelta(hours=i),
                         T0 + dt.timedelta(hours=i), caption=f"order {i} shipped to {i * 7}")
             for i in range(CAPTION_WINDOW + 5)]
    posts[0] = CheckRecord("c0", "instagram:@a", "p0", T0, T0, caption="same voice, dear")
    far = CheckRecord("cx", "instagram:@a", "px", T0 + dt.timedelta(days=9),
                      T0 + dt.timedelta(days=9), caption="same voice, dear")
    near = CheckRecord("cy", "instagram:@a", "py", T0, T0, caption="same voice, dear")
    ctx = account_context([posts[0], near, *posts[1:], far])
    assert check_features(near, ctx)["caption_max_similarity"] == 1.0
    assert check_features(far, ctx)["caption_max_similarity"] < 0.5  # 55 posts apart


def test_a_recycling_reason_without_a_copy_of_its_own_speaks_of_the_account() -> None:
    post = CheckRecord("c1", "instagram:@a", "p1", T0, T0)
    assert R.message("recycled_same_account", post, {"acc_recycled_share": 0.25,
                                                     "txid_repeats": 0.0}) == \
        "25% of this account's posts repeat another of its posts as a new one."
    assert "transaction id" in R.message("recycled_same_account", post,
                                         {"txid_repeats": 1.0})
