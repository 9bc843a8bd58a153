"""The review API of API.md: the portal's queue for platforms with their own moderation
tools, on the same service functions and audit log. Needs the `review` scope."""

from __future__ import annotations

from flask import Response, jsonify, request

from proofcheck import current_services, review
from proofcheck.api import bp
from proofcheck.api.auth import current_principal, require_scope
from proofcheck.api.errors import error_response
from proofcheck.api.idempotency import idempotent
from proofcheck.review import QueueFilter, ReviewError
from proofcheck.serialize import iso

MAX_LIMIT = 500


def _actor() -> str:
    # Usernames cannot hold ':' or '#', so an API actor never passes for a portal user.
    principal = current_principal()
    return f"api:{principal.name}#{principal.key_id}"


def _error(exc: ReviewError) -> Response:
    # A claim conflict's message names the holder and the claim's end.
    return error_response(exc.status, exc.code, exc.message, exc.field)


@bp.get("/review/queue")
@require_scope("review")
def review_queue() -> Response:
    try:
        limit = int(request.args.get("limit", "50"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        return error_response(422, "invalid", f"limit must be a number from 1 to {MAX_LIMIT}",
                              "limit")
    services = current_services()
    items = review.queue(services.db, services.settings, QueueFilter.from_args(request.args),
                         limit=limit)
    return jsonify({"items": [item.as_json() for item in items]})


@bp.post("/review/items/<check_id>/claim")
@require_scope("review")
@idempotent
def review_claim(check_id: str) -> Response:
    services = current_services()
    try:
        claim = review.claim(services.db, services.settings, check_id, _actor())
    except ReviewError as exc:
        return _error(exc)
    return jsonify({"check_id": claim.check_id, "claimed_by": claim.claimed_by,
                    "claimed_at": iso(claim.claimed_at),
                    "claim_expires_at": iso(claim.expires_at)})


@bp.post("/review/items/<check_id>/decision")
@require_scope("review")
@idempotent
def review_decision(check_id: str) -> Response:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_response(400, "bad_request",
                              'Send JSON: {"decision": "fabricated | authentic | unsure", '
                              '"note": "..."}')
    decision, note = body.get("decision"), body.get("note")
    if not isinstance(decision, str):
        return error_response(422, "invalid", "decision is required", "decision")
    if note is not None and not isinstance(note, str):
        return error_response(422, "invalid", "note must be a string", "note")
    services = current_services()
    try:
        done = review.decide(services.db, services.settings, check_id, _actor(), decision, note)
    except ReviewError as exc:
        return _error(exc)
    return jsonify({"check_id": done.check_id,
                    "review": {"decision": done.decision, "note": done.note, "by": done.by,
                               "at": iso(done.at)},
                    "bank": done.bank_name})
