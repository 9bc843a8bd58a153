"""SignedLogisticRegression: no coefficient may contradict a feature's known direction."""

from __future__ import annotations

import io

import joblib
import numpy as np

from proofcheck.scoring.signed import SignedLogisticRegression


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 400)
    evidence = y + rng.normal(0, 0.7, 400)  # really raises the risk
    contrary = -y + rng.normal(0, 0.7, 400)  # said to raise it, but falls with fraud here
    free = rng.normal(0, 1, 400) - 0.5 * y  # no known direction
    return np.column_stack([evidence, contrary, free]), y


def test_a_feature_against_its_known_direction_is_dropped() -> None:
    X, y = data()
    model = SignedLogisticRegression(directions=(1, 1)).fit(X, y)
    assert model.dropped_ == [1]
    coef = model.model_.coef_[0]
    assert list(model.keep_) == [0, 2]
    assert coef[0] > 0  # the evidence kept its sign
    assert coef[1] < 0  # the column without a direction is free to be negative


def test_without_contrary_features_it_is_a_plain_logistic_regression() -> None:
    X, y = data(1)
    model = SignedLogisticRegression(directions=(1, -1)).fit(X, y)
    assert model.dropped_ == []
    p = model.predict_proba(X)
    assert p.shape == (400, 2) and np.allclose(p.sum(axis=1), 1.0)
    assert ((p[:, 1] > 0.5) == y).mean() > 0.8


def test_survives_a_round_trip_through_joblib() -> None:
    X, y = data(2)
    model = SignedLogisticRegression(directions=(1, 1)).fit(X, y)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    again = joblib.load(buffer)
    assert np.allclose(again.predict_proba(X), model.predict_proba(X))
