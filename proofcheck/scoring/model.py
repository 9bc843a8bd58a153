"""The trained classifier: loading, scoring and reasons (DESIGN.md step 7).

A model folder (`models/<version>/`) holds `model.joblib` (a `ScoringModel`),
`model_card.md` and `metrics.json`. Workers load the newest folder once per process
(`default_model`); without one, re-scoring keeps the rule engine's results
(`scoring.rescore`).

Reasons come from the model itself: each reason code owns a group of features, and
its weight is how much the calibrated score drops when those features are set to an
honest account's typical values (occlusion). That works for any estimator, and the
weights are in score units a moderator can compare.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from proofcheck.pipeline import Reason
from proofcheck.scoring import reasons as R
from proofcheck.scoring.features import (
    ACCOUNT_FEATURES,
    DIRECTION,
    FEATURE_NAMES,
    CheckRecord,
    matrix,
)

log = logging.getLogger(__name__)
MODEL_FILE = "model.joblib"
# Contributions below this are noise, not a reason.
MIN_WEIGHT = 0.02
# A score this high always gets a reason, even when no one group explains much of it.
REASON_FLOOR = 0.3
NO_REASON_CEILING = 0.29
STOLEN = "stolen_from_other_account"


@dataclass
class ScoringModel:
    """A fitted, calibrated estimator with what it needs to explain itself."""

    version: str
    estimator: Any  # sklearn classifier with predict_proba on FEATURE_NAMES order
    feature_names: tuple[str, ...]
    reference: dict[str, float]  # honest-typical value of each feature (occlusion)
    info: dict[str, Any] = field(default_factory=dict)

    def predict(self, rows: list[dict[str, float]]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        return self._proba(matrix(rows, self.feature_names))

    def _proba(self, X: np.ndarray) -> np.ndarray:
        with one_thread():
            return np.asarray(self.estimator.predict_proba(X)[:, 1], dtype=float)

    def contributions(self, many: list[dict[str, float]]
                      ) -> list[tuple[float, dict[str, float]]]:
        """Each check's score, and per reason code the score drop when its features look
        honest; all in one prediction (re-scoring an account explains all of its checks,
        and one call per check cost ~7 ms each). The honest variants are the checks'
        matrix with one group's columns overwritten, not rebuilt row by row (that was
        half of a 1,000-post account's re-score)."""
        if not many:
            return []
        column = {n: j for j, n in enumerate(self.feature_names)}
        base = matrix(many, self.feature_names)
        codes, blocks = [], [base]
        for code, names in R.GROUPS.items():
            mine = [n for n in names if n in column]
            if not mine:
                continue
            honest = base.copy()
            for n in mine:
                honest[:, column[n]] = self.reference.get(n, np.nan)
            codes.append(code)
            blocks.append(honest)
        p = self._proba(np.vstack(blocks)).reshape(len(blocks), len(many))
        return [(float(p[0, i]), {c: float(p[0, i] - p[k + 1, i]) for k, c in enumerate(codes)})
                for i in range(len(many))]

    def evidence(self, code: str, values: dict[str, float], post_only: bool = False) -> bool:
        """Whether the check shows any of the group's signs of misuse: a feature past its
        honest typical value in the direction that means fraud. Without it a group's
        contribution is the model's baseline, not a reason (a new account's missing
        payer data is not evidence of relatives). With `post_only`, only the post's own
        features count, not its account's history."""
        for name in R.GROUPS[code]:
            if post_only and name in ACCOUNT_FEATURES:
                continue
            sign = DIRECTION.get(name, 0)
            value, ref = values.get(name, math.nan), self.reference.get(name, math.nan)
            if sign and value == value and ref == ref and (value - ref) * sign > 0:
                return True
        return False

    def explain(self, values: dict[str, float], rec: CheckRecord,
                review_at: float | None = None) -> tuple[float, list[Reason]]:
        return self.explain_many([values], [rec], review_at)[0]

    def explain_many(self, many: list[dict[str, float]], recs: list[CheckRecord],
                     review_at: float | None = None) -> list[tuple[float, list[Reason]]]:
        """Score and reasons of each check, sorted by weight. With `review_at` (the
        `review` threshold), a proof screenshot another account posted earlier scores at
        least that."""
        return [self._reasons(score, contrib, values, rec, review_at)
                for (score, contrib), values, rec
                in zip(self.contributions(many), many, recs, strict=True)]

    def _reasons(self, score: float, contrib: dict[str, float], values: dict[str, float],
                 rec: CheckRecord, review_at: float | None = None
                 ) -> tuple[float, list[Reason]]:
        contrib = {c: w for c, w in contrib.items() if self.evidence(c, values)}
        if review_at is not None and values.get("proof_taken_earlier") == 1.0 \
                and score < review_at:
            # The model learns theft mostly from an account's share of taken posts (its
            # scenario's thieves post a handful, mostly taken): one receipt taken in an
            # account of 20 honest posts scored ~0.3, of 300 ~0.2. Nobody honestly
            # reposts another account's receipt or chat: a moderator looks at it.
            contrib[STOLEN] = contrib.get(STOLEN, 0.0) + review_at - score
            score = review_at
        out = [Reason(code, R.message(code, rec, values), round(w, 3))
               for code, w in contrib.items() if w >= MIN_WEIGHT]
        if not out and score >= REASON_FLOOR:
            # Evidence spread over several groups: name the largest share anyway.
            code, w = max(contrib.items(), key=lambda cw: cw[1], default=("", 0.0))
            if w > 0:
                out.append(Reason(code, R.message(code, rec, values), round(w, 3)))
        # Evidence for the post (it is the original) is shown with no weight.
        if values.get("dup_later_other"):
            code = "reused_by_other_account"  # the rule engine's code for it
            out.append(Reason(code, R.message(code, rec, values), 0.0))
        if not [r for r in out if r.weight > 0]:
            # No sign of misuse to name. The model's baseline reflects the share of fraud
            # in its training scenario (~40%), so a new account's first post with nothing
            # against it scored ~0.5; a score no reason explains stays below the floor.
            score = min(score, NO_REASON_CEILING)
            if rec.matches:
                out.append(Reason(R.NO_EVIDENCE, R.NO_EVIDENCE_MESSAGE, 0.0))
            else:  # the rule engine's code for the same finding, which clients know
                out.append(Reason(R.NO_COPY_FOUND, "No other copy of this picture was found; "
                                  "nothing in it or its account's history looks "
                                  "fabricated.", 0.0))
        out.sort(key=lambda r: (-r.weight, r.code))
        return round(score, 4), out


def one_thread() -> Any:
    """Limit OpenMP/BLAS to one thread: on a busy machine the gradient-boosting
    estimators' thread pools spin and wait (measured: a 0.25 s fit took 36 s on 2 cores
    shared with other work), and a worker process is one job per core anyway."""
    return _thread_pools().limit(limits=1)


@lru_cache(maxsize=1)
def _thread_pools() -> Any:
    """The process's thread-pool libraries, found once rather than on every prediction
    (finding them scans every loaded library; py-spy caught a re-scoring worker there)."""
    # The limit applies to libraries loaded so far: load scikit-learn's OpenMP first.
    import sklearn.ensemble  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def models_root() -> Path:
    """`PROOFCHECK_MODEL_DIR`, or the checkout's `models/` folder."""
    env = os.environ.get("PROOFCHECK_MODEL_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "models"


def latest_model_dir(root: Path | None = None) -> Path | None:
    """The newest model folder; None without one or with `PROOFCHECK_MODEL_DIR=off`."""
    if root is None and os.environ.get("PROOFCHECK_MODEL_DIR") == "off":
        return None
    root = root or models_root()
    if not root.is_dir():
        return None
    found = sorted(p for p in root.iterdir() if (p / MODEL_FILE).is_file())
    return found[-1] if found else None


def save(model: ScoringModel, folder: Path) -> Path:
    import joblib

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    joblib.dump(model, path, compress=3)
    return path


def load(folder: Path) -> ScoringModel:
    import joblib

    model = joblib.load(folder / MODEL_FILE)
    if not isinstance(model, ScoringModel):
        raise TypeError(f"{folder / MODEL_FILE} holds {type(model).__name__}, not a model")
    missing = set(model.feature_names) - set(FEATURE_NAMES)
    if missing:  # an older model's features must still be computed
        log.warning("model %s uses unknown features %s (they will be NaN)", model.version,
                    sorted(missing))
    return model


@lru_cache(maxsize=4)
def _cached(folder: str) -> ScoringModel:
    return load(Path(folder))


def default_model() -> ScoringModel | None:
    """The newest model under `models_root()`, loaded once per process; None if none."""
    folder = latest_model_dir()
    if folder is None:
        return None
    try:
        return _cached(str(folder))
    except Exception:  # a broken artefact must not stop checks: the rules take over
        log.exception("cannot load the model in %s; using the rule engine", folder)
        return None
