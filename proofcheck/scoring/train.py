"""`proofcheck train` and `proofcheck evaluate`: fitting and measuring the classifier.

Training runs the scenario through the real pipeline (`corpus.run_scenario`), builds
one feature row per check, and compares two scikit-learn pipelines (gradient boosting
and logistic regression) by out-of-fold ROC-AUC with folds grouped by account, so no
account is ever on both sides of a split. The better one is calibrated
(`CalibratedClassifierCV`, its folds grouped by account too) and fitted on every
account; the reported metrics are the out-of-fold ones of that whole procedure.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import platform
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from proofcheck.db import Account
from proofcheck.pipeline import Reason, Thresholds
from proofcheck.scoring import reasons as R
from proofcheck.scoring.corpus import run_scenario, work_services
from proofcheck.scoring.features import (
    DIRECTION,
    FEATURE_NAMES,
    FEATURES,
    CheckRecord,
    account_context,
    check_features,
    matrix,
)
from proofcheck.scoring.model import ScoringModel, one_thread, save
from proofcheck.scoring.records import account_records
from proofcheck.scoring.rescore import rule_score
from proofcheck.scoring.signed import ClipToTrainingRange, SignedLogisticRegression
from proofcheck.scoring.synth import FRAUD_TYPES, load_scenario
from proofcheck.services import Services

SEED = 7
MISSING = -9.0


@dataclass
class Dataset:
    rows: list[dict[str, float]]
    records: list[CheckRecord]
    y: np.ndarray
    accounts: list[str]
    fraud_type: list[str | None]
    account_label: dict[str, int]
    account_type: dict[str, str]
    info: dict[str, Any] = field(default_factory=dict)
    # Rows of a check as the service first scored it (`as_first_scored`); the others are
    # as it stands once the whole scenario is in.
    first_scored: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.first_scored:
            self.first_scored = [False] * len(self.rows)

    def merged(self, other: Dataset) -> Dataset:
        return Dataset(rows=self.rows + other.rows, records=self.records + other.records,
                       y=np.concatenate([self.y, other.y]),
                       accounts=self.accounts + other.accounts,
                       fraud_type=self.fraud_type + other.fraud_type,
                       account_label={**self.account_label, **other.account_label},
                       account_type={**self.account_type, **other.account_type},
                       info={**self.info, "reviewed_checks": len(other.rows)},
                       first_scored=self.first_scored + other.first_scored)

    def rows_where(self, first_scored: bool) -> list[int]:
        return [i for i, f in enumerate(self.first_scored) if f == first_scored]

    def subset(self, keep: list[int]) -> Dataset:
        return Dataset(rows=[self.rows[i] for i in keep],
                       records=[self.records[i] for i in keep], y=self.y[keep],
                       accounts=[self.accounts[i] for i in keep],
                       fraud_type=[self.fraud_type[i] for i in keep],
                       account_label=self.account_label, account_type=self.account_type,
                       info=self.info, first_scored=[self.first_scored[i] for i in keep])

    def matrix(self, names: Sequence[str] = FEATURE_NAMES) -> np.ndarray:
        return matrix(self.rows, names)


def as_first_scored(records: Sequence[CheckRecord]
                    ) -> list[tuple[CheckRecord, dict[str, float]]]:
    """Each check with its features as the service first scored it: its account's
    history up to its post and only the matches with posts made by then. Final states
    alone never show a model a new account's first post, which is what the service
    sees most."""
    ordered = sorted(records, key=lambda r: r.when)
    out = []
    for i, rec in enumerate(ordered):
        now = rec.when
        history = [replace(r, matches=tuple(
            m for m in r.matches if m.other_posted_at is None or m.other_posted_at <= now))
            for r in ordered[:i + 1]]
        out.append((history[-1], check_features(history[-1], account_context(history))))
    return out


def build_dataset(folder: Path, ocr: bool = True,
                  progress: Callable[[int, int], None] | None = None,
                  process: bool = True) -> Dataset:
    manifest = load_scenario(folder)
    if process:
        services, _ = run_scenario(folder, ocr=ocr, progress=progress)
    else:  # whatever has been processed so far (inspecting a run in progress)
        services = work_services(folder)
    post_of = {(p["account"].casefold(), p["post_id"]): p for p in manifest["posts"]}
    acc_type = {a["name"].casefold(): a["type"] for a in manifest["accounts"]}
    rows, records, y, accounts, types = [], [], [], [], []
    first_scored: list[bool] = []
    with services.db.session() as session:
        for account_id, name in session.execute(select(Account.id, Account.name)
                                                .order_by(Account.name)).all():
            recs = account_records(session, account_id)
            ctx = account_context(recs)
            final = [(rec, check_features(rec, ctx), False) for rec in recs]
            early = [(rec, row, True) for rec, row in as_first_scored(recs)]
            for rec, row, first in final + early:
                post = post_of.get((name, rec.post_id))
                if post is None:
                    continue
                rows.append(row)
                records.append(rec)
                y.append(int(post["label"]))
                accounts.append(name)
                types.append(post["fraud_type"])
                first_scored.append(first)
    services.db.dispose()
    return Dataset(rows=rows, records=records, y=np.array(y), accounts=accounts,
                   fraud_type=types, first_scored=first_scored,
                   account_label={a: int(t != "honest") for a, t in acc_type.items()},
                   account_type=acc_type,
                   info={"folder": str(folder), "seed": manifest["seed"],
                         "generator": manifest["generator"],
                         "photo_sources": len(manifest["photo_sources"]),
                         "accounts": len(acc_type),
                         "posts": first_scored.count(False),
                         "fraud_posts": sum(v for v, f in zip(y, first_scored, strict=True)
                                            if not f),
                         "account_types": {t: sum(v == t for v in acc_type.values())
                                           for t in ("honest", *FRAUD_TYPES)}})


def review_dataset(services: Services) -> Dataset:
    """Checks a moderator decided (fabricated or authentic), with their features as the
    service's database has them now."""
    from proofcheck.db import Check
    from proofcheck.review import review_labels

    labels = review_labels(services.db)
    rows, records, y, accounts = [], [], [], []
    with services.db.session() as session:
        account_ids = set(session.scalars(select(Check.account_id)
                                          .where(Check.id.in_(list(labels)))).all())
        for account_id in sorted(a for a in account_ids if a is not None):
            name = session.scalar(select(Account.name).where(Account.id == account_id))
            recs = account_records(session, account_id)
            ctx = account_context(recs)
            for rec in recs:
                if rec.check_id in labels:
                    rows.append(check_features(rec, ctx))
                    records.append(rec)
                    y.append(int(labels[rec.check_id] == "fabricated"))
                    accounts.append(f"reviewed:{name}")
    acc_label: dict[str, int] = {}
    for a, label in zip(accounts, y, strict=True):
        acc_label[a] = max(acc_label.get(a, 0), label)
    return Dataset(rows=rows, records=records, y=np.array(y, dtype=int), accounts=accounts,
                   fraud_type=[None] * len(rows), account_label=acc_label,
                   account_type={a: "reviewed" for a in acc_label})


def candidates() -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    return {
        # Missing values (no OCR, no status bar) become a value no feature takes, so
        # trees give them a branch of their own (the estimator's native NaN handling
        # fails on a column that is missing throughout, e.g. a scenario without OCR).
        "gradient_boosting": Pipeline([
            ("missing", FunctionTransformer(np.nan_to_num, kw_args={"nan": MISSING})),
            ("model", HistGradientBoostingClassifier(
            max_iter=150, learning_rate=0.08, max_leaf_nodes=12, min_samples_leaf=8,
            l2_regularization=1.0, random_state=SEED,
            monotonic_cst=[DIRECTION.get(n, 0) for n in FEATURE_NAMES]))]),
        "logistic_regression": Pipeline([
            ("clip", ClipToTrainingRange()),
            ("impute", SimpleImputer(strategy="median", add_indicator=True,
                                     keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(C=0.5, max_iter=3000))]),
        "signed_logistic": Pipeline([
            ("clip", ClipToTrainingRange()),
            ("impute", SimpleImputer(strategy="median", add_indicator=True,
                                     keep_empty_features=True)),
            ("scale", StandardScaler()),
            ("model", SignedLogisticRegression(
                directions=tuple(DIRECTION.get(n, 0) for n in FEATURE_NAMES), C=0.5))]),
    }


def group_splits(groups: Sequence[str], n: int, y: np.ndarray) -> list[tuple[np.ndarray,
                                                                              np.ndarray]]:
    """Account-grouped folds; every fold's training part holds both classes."""
    from sklearn.model_selection import GroupKFold

    k = min(n, len(set(groups)))
    splits = list(GroupKFold(n_splits=k).split(np.zeros(len(groups)), y, groups))
    return [(a, b) for a, b in splits if len(set(y[a])) == 2]


def calibrated(estimator: Any, X: np.ndarray, y: np.ndarray, groups: Sequence[str]) -> Any:
    from sklearn.base import clone
    from sklearn.calibration import CalibratedClassifierCV

    splits = group_splits(groups, 4, y)
    # Isotonic needs many positives per fold to be monotone and smooth; sigmoid otherwise.
    method = "isotonic" if min(int(y.sum()), int(len(y) - y.sum())) >= 400 else "sigmoid"
    model = CalibratedClassifierCV(clone(estimator), method=method, cv=splits)
    model.fit(X, y)
    return model


def reference_values(X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """What an honest post typically shows, feature by feature (median of honest rows)."""
    honest = X[y == 0] if (y == 0).any() else X
    out = {}
    for j, name in enumerate(FEATURE_NAMES):
        col = honest[:, j]
        col = col[~np.isnan(col)]
        out[name] = float(np.median(col)) if len(col) else float("nan")
    return out


def _top_code(reasons: Sequence[Reason]) -> str | None:
    return reasons[0].code if reasons and reasons[0].weight > 0 else None


def out_of_fold(data: Dataset, estimator: Any, calibrate: bool,
                review_at: float | None = None) -> tuple[np.ndarray, list[str | None]]:
    """Scores (and top reason codes when calibrated) from models that never saw the
    account."""
    from sklearn.base import clone

    X, y = data.matrix(), data.y
    p = np.full(len(y), np.nan)
    top: list[str | None] = [None] * len(y)
    groups = np.array(data.accounts)
    for train, test in group_splits(data.accounts, 5, y):
        if calibrate:
            fitted = calibrated(estimator, X[train], y[train], list(groups[train]))
            sm = ScoringModel("oof", fitted, FEATURE_NAMES, reference_values(X[train], y[train]))
            explained = sm.explain_many([data.rows[i] for i in test],
                                        [data.records[i] for i in test], review_at)
            for i, (score, reasons) in zip(test, explained, strict=True):
                p[i] = score
                top[i] = _top_code(reasons)
        else:
            fitted = clone(estimator).fit(X[train], y[train])
            p[test] = fitted.predict_proba(X[test])[:, 1]
    return p, top


def metrics(data: Dataset, p: np.ndarray, top: Sequence[str | None],
            thresholds: Thresholds) -> dict[str, Any]:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    ok = ~np.isnan(p)
    y, pp = data.y[ok], p[ok]
    types = [t for t, k in zip(data.fraud_type, ok, strict=True) if k]
    tops = [t for t, k in zip(top, ok, strict=True) if k]
    accs = [a for a, k in zip(data.accounts, ok, strict=True) if k]
    acc_score: dict[str, float] = defaultdict(float)
    for a, s in zip(accs, pp, strict=True):
        acc_score[a] = max(acc_score[a], float(s))
    acc_names = sorted(acc_score)
    acc_y = np.array([data.account_label.get(a, 0) for a in acc_names])
    acc_p = np.array([acc_score[a] for a in acc_names])

    def at(th: float, truth: np.ndarray, score: np.ndarray) -> dict[str, float]:
        flagged = score >= th
        tp = int((flagged & (truth == 1)).sum())
        return {"threshold": th,
                "precision": round(tp / max(1, int(flagged.sum())), 4),
                "recall": round(tp / max(1, int((truth == 1).sum())), 4)}

    per_type: dict[str, dict[str, Any]] = {}
    for t in FRAUD_TYPES:
        idx = [i for i, v in enumerate(types) if v == t]
        if not idx:
            continue
        flagged = [i for i in idx if pp[i] >= thresholds.review]
        named = [i for i in flagged if R.FRAUD_TYPE_OF.get(str(tops[i])) == t]
        per_type[t] = {"posts": len(idx),
                       "recall_at_review": round(len(flagged) / len(idx), 4),
                       "top_reason_names_type": round(len(named) / max(1, len(flagged)), 4)}
    flagged_fraud = [i for i, t in enumerate(types) if t and pp[i] >= thresholds.review]
    named_all = [i for i in flagged_fraud if R.FRAUD_TYPE_OF.get(str(tops[i])) == types[i]]
    honest = y == 0

    def auc(truth: np.ndarray, score: np.ndarray) -> float | None:
        return round(float(roc_auc_score(truth, score)), 4) if len(set(truth)) == 2 else None

    return {
        "posts": len(y), "fraud_posts": int(y.sum()),
        "accounts": len(acc_names), "fraud_accounts": int(acc_y.sum()),
        "image_roc_auc": auc(y, pp),
        "account_roc_auc": auc(acc_y, acc_p),
        "brier": round(float(brier_score_loss(y, pp)), 4),
        "image_at_review": at(thresholds.review, y, pp),
        "image_at_fabricated": at(thresholds.fabricated, y, pp),
        "account_at_review": at(thresholds.review, acc_y, acc_p),
        "account_at_fabricated": at(thresholds.fabricated, acc_y, acc_p),
        "honest_posts_called_fabricated": round(
            float((pp[honest] >= thresholds.fabricated).mean()) if honest.any() else 0.0, 4),
        "honest_posts_called_review_or_worse": round(
            float((pp[honest] >= thresholds.review).mean()) if honest.any() else 0.0, 4),
        "honest_accounts_flagged_review": int(((acc_p >= thresholds.review) & (acc_y == 0)).sum()),
        "per_fraud_type": per_type,
        "top_reason_accuracy": round(len(named_all) / max(1, len(flagged_fraud)), 4)
        if flagged_fraud else None,
    }


def report(data: Dataset, p: np.ndarray, top: Sequence[str | None],
           thresholds: Thresholds) -> dict[str, Any]:
    """`metrics` of the checks as they stand at the end and, under `first_scored`, of
    each check as the service first scored it."""
    out: dict[str, Any] = {}
    for first in (False, True):
        keep = data.rows_where(first)
        if keep:
            m = metrics(data.subset(keep), p[keep], [top[i] for i in keep], thresholds)
            out.update({"first_scored": m} if first else m)
    return out


def train(data: Dataset, thresholds: Thresholds, version: str | None = None
          ) -> tuple[ScoringModel, dict[str, Any]]:
    with one_thread():
        return _train(data, thresholds, version)


def _train(data: Dataset, thresholds: Thresholds, version: str | None
           ) -> tuple[ScoringModel, dict[str, Any]]:
    from sklearn.metrics import roc_auc_score

    if len(set(data.y)) < 2 or len(set(data.accounts)) < 4:
        raise ValueError("the scenario needs honest and fraudulent posts in at least 4 accounts")
    X, y = data.matrix(), data.y
    selection: dict[str, float] = {}
    for name, est in candidates().items():
        p, _ = out_of_fold(data, est, calibrate=False)
        ok = ~np.isnan(p)
        selection[name] = round(float(roc_auc_score(y[ok], p[ok])), 4)
    chosen = max(selection, key=lambda k: selection[k])
    estimator = candidates()[chosen]
    p, top = out_of_fold(data, estimator, calibrate=True, review_at=thresholds.review)
    measured = report(data, p, top, thresholds)
    final = calibrated(estimator, X, y, data.accounts)
    now = dt.datetime.now(dt.UTC)
    version = version or f"{now:%Y.%m.%d}-{chosen.split('_')[0]}-s{data.info.get('seed')}"
    model = ScoringModel(version=version, estimator=final, feature_names=FEATURE_NAMES,
                         reference=reference_values(X, y),
                         info={"estimator": chosen, "selection_oof_roc_auc": selection,
                               "trained_at": now.isoformat(timespec="seconds"),
                               "data": data.info})
    out = {"version": version, "trained_at": model.info["trained_at"], "estimator": chosen,
           "calibration": type(final).__name__ + f"({final.method})",
           "selection_oof_roc_auc": selection, "data": data.info,
           "split": "GroupKFold by account (5 outer folds, 4 inner for calibration)",
           "thresholds": {"review": thresholds.review, "fabricated": thresholds.fabricated},
           "out_of_fold": measured, "features": list(FEATURE_NAMES),
           "python": platform.python_version()}
    return model, out


def write_model(model: ScoringModel, report: dict[str, Any], root: Path) -> Path:
    folder = root / model.version
    save(model, folder)
    (folder / "metrics.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    (folder / "model_card.md").write_text(model_card(report))
    return folder


def _fmt(x: Any) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)


def model_card(report: dict[str, Any]) -> str:
    m = report["out_of_fold"]
    data = report["data"]
    types = ", ".join(f"{k} {v}" for k, v in data["account_types"].items())
    lines = [
        f"# ProofCheck scoring model {report['version']}", "",
        f"Trained {report['trained_at']} by `proofcheck train`; estimator "
        f"`{report['estimator']}` in a scikit-learn `Pipeline`, calibrated with "
        f"`{report['calibration']}`.", "",
        "## Data", "",
        f"Synthetic scenario from `{data['generator']}` (seed {data['seed']}): "
        f"{data['accounts']} accounts ({types}), "
        f"{data['posts']} posts of which {data['fraud_posts']} are labelled fraudulent; "
        f"{data['photo_sources']} source photographs. Every post was submitted and "
        "processed by the real pipeline (`submission.submit`, `processing.process_check`) "
        "against a private database; near-duplicate matching, forensic signals and OCR "
        "that the pipeline did not store yet were added from the same engines "
        "(`proofcheck/scoring/corpus.py`, OCR skipped for parcel and product photos). "
        "Labels are the generator's ground truth. Each post is in the data twice: as it "
        "stands once the scenario is in, and as the service first scored it "
        "(`as_first_scored`: its account's history up to its post, matches only with "
        "posts made by then).", "",
        "## Selection and split", "",
        f"{report['split']}. Candidates by out-of-fold ROC-AUC (uncalibrated): "
        + ", ".join(f"{k} {v}" for k, v in report["selection_oof_roc_auc"].items()) + ".", "",
        "## Out-of-fold metrics (accounts never seen in training)", "",
        "| metric | value |", "| --- | --- |",
        f"| image ROC-AUC | {_fmt(m['image_roc_auc'])} |",
        f"| account ROC-AUC (account score = its worst post) | {_fmt(m['account_roc_auc'])} |",
        f"| Brier score | {_fmt(m['brier'])} |",
        f"| precision / recall at review ({m['image_at_review']['threshold']}) | "
        f"{m['image_at_review']['precision']} / {m['image_at_review']['recall']} |",
        f"| precision / recall at fabricated ({m['image_at_fabricated']['threshold']}) | "
        f"{m['image_at_fabricated']['precision']} / {m['image_at_fabricated']['recall']} |",
        f"| honest posts called fabricated | {_fmt(m['honest_posts_called_fabricated'])} |",
        f"| top reason names the fraud type | {_fmt(m['top_reason_accuracy'])} |", "",
        "| fraud type | posts | recall at review | top reason names it |",
        "| --- | --- | --- | --- |",
        *[f"| {t} | {v['posts']} | {v['recall_at_review']} | {v['top_reason_names_type']} |"
          for t, v in m["per_fraud_type"].items()], "",
        *([f"Each post as first scored: image ROC-AUC "
           f"{_fmt(m['first_scored']['image_roc_auc'])}, honest posts called fabricated "
           f"{_fmt(m['first_scored']['honest_posts_called_fabricated'])}, at review or worse "
           f"{_fmt(m['first_scored']['honest_posts_called_review_or_worse'])}.", ""]
          if "first_scored" in m else []),
        "## Features", "",
        *[f"- `{k}`: {v}" + (" (shown in reasons, not used by the model)"
                              if k not in FEATURE_NAMES else "")
          for k, v in FEATURES.items()], "",
        "## Limits", "",
        "- Trained on generated data only; measure on real, moderator-labelled checks "
        "before trusting the thresholds.",
        "- Account score is the highest post score given the account's history.",
        "- Reasons: each reason code's weight is the drop in score when its features are "
        "set to an honest post's typical values.",
        "- The linear models clip every feature to the range seen in training (accounts "
        "of a few to a few dozen posts); a far larger account is scored as the largest "
        "seen, not extrapolated.",
        "- Outside the model: a payment or chat screenshot another account posted earlier "
        "(`proof_taken_earlier`) scores at least the `review` threshold, and a copy of an "
        "image moderators banked as fabricated at least the rule engine's score.", "",
    ]
    return "\n".join(lines)


def evaluate(data: Dataset, model: ScoringModel, thresholds: Thresholds) -> dict[str, Any]:
    """The model's metrics on a scenario, and under `rule_engine` those of the rules
    (`pipeline.assess`, what scores checks without a model) on the same final evidence:
    the baseline a model has to beat before it is worth shipping."""
    explained = model.explain_many(data.rows, data.records, thresholds.review)
    p = np.array([score for score, _ in explained])
    top = [_top_code(reasons) for _, reasons in explained]
    ruled = [rule_score(rec, thresholds) for rec in data.records]
    rules = np.array([score for score, _, _ in ruled])
    rules_top = [_top_code(reasons) for _, reasons, _ in ruled]
    return {**report(data, p, top, thresholds),
            "rule_engine": report(data, rules, rules_top, thresholds)}


def format_metrics(m: dict[str, Any]) -> str:
    lines = [
        f"posts {m['posts']} ({m['fraud_posts']} fraudulent), accounts {m['accounts']} "
        f"({m['fraud_accounts']} fraudulent)",
        f"image ROC-AUC          {_fmt(m['image_roc_auc'])}",
        f"account ROC-AUC        {_fmt(m['account_roc_auc'])}",
        f"Brier score            {_fmt(m['brier'])}",
    ]
    for key in ("image_at_review", "image_at_fabricated", "account_at_review",
                "account_at_fabricated"):
        v = m[key]
        lines.append(f"{key:<22} threshold {v['threshold']}: precision {v['precision']}, "
                     f"recall {v['recall']}")
    lines += [f"honest posts called fabricated      {m['honest_posts_called_fabricated']}",
              f"honest posts at review or worse     {m['honest_posts_called_review_or_worse']}",
              f"honest accounts at review or worse  {m['honest_accounts_flagged_review']}",
              f"top reason names the fraud type     {_fmt(m['top_reason_accuracy'])}",
              "per fraud type (recall at review, top reason names it):"]
    for t, v in m["per_fraud_type"].items():
        lines.append(f"  {t:<10} posts {v['posts']:>4}  recall {v['recall_at_review']:<6}  "
                     f"top reason {v['top_reason_names_type']}")
    first = m.get("first_scored")
    if first:
        lines += ["each post as first scored (only what was known when it was posted):",
                  f"  image ROC-AUC {_fmt(first['image_roc_auc'])}; honest posts called "
                  f"fabricated {first['honest_posts_called_fabricated']}, at review or worse "
                  f"{first['honest_posts_called_review_or_worse']}",
                  "  recall at review: " + ", ".join(
                      f"{t} {v['recall_at_review']}" for t, v in first["per_fraud_type"].items())]
    return "\n".join(lines)
