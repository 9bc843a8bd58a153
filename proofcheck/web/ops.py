"""Liveness and readiness, for load balancers and `proofcheck serve`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rq import Worker
from sqlalchemy import text

from proofcheck import current_services
from proofcheck.metrics import registry_for

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: checks by status and verdict, queues, stage latency."""
    registry = current_app.extensions.get("proofcheck_metrics")
    if registry is None:
        registry = current_app.extensions["proofcheck_metrics"] = registry_for(current_services())
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


@bp.get("/readyz")
def readyz() -> Response:
    """200 only when the database, Redis and at least one worker are up."""
    found: dict[str, Any] = {}
    ready = True
    try:
        with current_services().db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        found["database"] = "ok"
    except Exception as exc:
        found["database"] = f"error: {type(exc).__name__}"
        ready = False
    try:
        redis = current_services().redis
        redis.ping()
        found["redis"] = "ok"
        # Workers that take checks: a callbacks-only worker does not make us ready.
        workers = len(Worker.all(queue=current_services().queue))
        found["workers"] = workers
        if workers < 1:
            ready = False
        found["queued"] = current_services().queue.count
    except Exception as exc:
        found["redis"] = f"error: {type(exc).__name__}"
        ready = False
    response = jsonify({"status": "ready" if ready else "not_ready", "checks": found})
    response.status_code = 200 if ready else 503
    return response
