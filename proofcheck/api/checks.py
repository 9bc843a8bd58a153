"""POST /api/v1/checks and GET /api/v1/checks/<id>."""

from __future__ import annotations

from flask import Response, jsonify, request
from sqlalchemy import select

from proofcheck import current_services
from proofcheck.api import bp
from proofcheck.api.auth import current_principal, require_scope
from proofcheck.api.errors import error_response
from proofcheck.api.idempotency import idempotent
from proofcheck.callbacks import UnsafeCallback, check_destination
from proofcheck.db import Check, Match
from proofcheck.evidence import diff_heatmap
from proofcheck.serialize import check_json
from proofcheck.submission import SubmissionError, parse_meta, read_upload, submit


def _submission_error(exc: SubmissionError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.field)


@bp.post("/checks")
@require_scope("submit")
@idempotent
def create_checks() -> Response:
    if request.mimetype != "multipart/form-data":
        return error_response(415, "unsupported_media_type",
                              "Send images as multipart/form-data with one or more 'file' parts.")
    settings = current_services().settings
    try:
        meta = parse_meta(request.form, settings.max_caption_chars)
        if meta.callback_url is not None:
            try:
                check_destination(meta.callback_url, settings.allow_private_callbacks)
            except UnsafeCallback as exc:
                raise SubmissionError(422, "unsafe_callback_url", str(exc),
                                      "callback_url") from None
        parts = [part for part in request.files.getlist("file")]
        if not parts:
            raise SubmissionError(400, "no_file", "Attach at least one image as a 'file' part.",
                                  "file")
        uploads = [read_upload(part.stream, part.filename or "", settings.max_upload_bytes)
                   for part in parts]
        checks = submit(current_services(), uploads, meta, api_key_id=current_principal().key_id)
    except SubmissionError as exc:
        return _submission_error(exc)
    body = {"checks": [{"id": c.id, "status": c.status, "url": f"/api/v1/checks/{c.id}"}
                       for c in checks]}
    response = jsonify(body)
    response.status_code = 202
    if len(checks) == 1:
        response.headers["Location"] = f"/api/v1/checks/{checks[0].id}"
    return response


@bp.get("/checks/<check_id>")
@require_scope("read")
def get_check(check_id: str) -> Response:
    with current_services().db.session() as session:
        check = session.get(Check, check_id)
        if check is None:
            return error_response(404, "not_found", f"No check with id {check_id}.")
        return jsonify(check_json(session, check))


@bp.get("/checks/<check_id>/matches/<other_id>/diff.png")
@require_scope("read")
def match_diff(check_id: str, other_id: str) -> Response:
    """Difference heat-map of a check and one of its matches, aligned, changed region boxed."""
    services = current_services()
    with services.db.session() as session:
        found = session.scalar(select(Match.id).where(Match.check_id == check_id,
                                                      Match.other_check_id == other_id))
    if found is None:
        return error_response(404, "not_found", f"{other_id} is not a match of {check_id}.")
    png = diff_heatmap(services, check_id, other_id)
    if png is None:
        return error_response(404, "not_found", "The stored originals are not available.")
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
