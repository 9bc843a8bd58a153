"""GET /api/v1/accounts/<account> and POST /api/v1/search."""

from __future__ import annotations

import time

from flask import Response, jsonify, request
from sqlalchemy import select

from proofcheck import current_services
from proofcheck.accounts import account_report
from proofcheck.api import bp
from proofcheck.api.auth import require_scope
from proofcheck.api.errors import error_response
from proofcheck.db import Account, Check
from proofcheck.imaging import ImageError, decode
from proofcheck.serialize import iso
from proofcheck.storage import sha256_hex
from proofcheck.submission import (
    IMAGE_ERROR_STATUS,
    SubmissionError,
    normalise_account,
    read_upload,
)


@bp.get("/accounts/<path:account>")
@require_scope("read")
def get_account(account: str) -> Response:
    services = current_services()
    with services.db.session() as session:
        report = account_report(session, normalise_account(account), services.thresholds)
    if report is None:
        return error_response(404, "not_found", f"Nothing has been checked for {account}.")
    return jsonify(report)


def _int_field(name: str, default: int, low: int, high: int) -> int:
    raw = request.form.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SubmissionError(422, "invalid_number", f"{name} must be a whole number.",
                              name) from None
    if not low <= value <= high:
        raise SubmissionError(422, "out_of_range", f"{name} must be from {low} to {high}.", name)
    return value


@bp.post("/search")
@require_scope("search")
def search() -> Response:
    """Synchronous search of everything checked; nothing is stored."""
    started = time.perf_counter()
    services = current_services()
    settings = services.settings
    if request.mimetype != "multipart/form-data":
        return error_response(415, "unsupported_media_type",
                              "Send the image as multipart/form-data in a 'file' part.")
    try:
        limit = _int_field("limit", 20, 1, 200)
        _int_field("max_distance", 8, 0, 64)  # used by the near-duplicate stage
        part = request.files.get("file")
        if part is None:
            raise SubmissionError(400, "no_file", "Attach the image as a 'file' part.", "file")
        upload = read_upload(part.stream, part.filename or "", settings.max_upload_bytes)
        try:
            decode(upload.data, settings.max_pixels)
        except ImageError as exc:
            raise SubmissionError(IMAGE_ERROR_STATUS.get(exc.code, 422), exc.code, exc.message,
                                  "file") from None
    except SubmissionError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.field)
    digest = sha256_hex(upload.data)
    with services.db.session() as session:
        rows = session.execute(
            select(Check.id, Account.name, Check.post_id, Check.posted_at, Check.submitted_at)
            .outerjoin(Account, Account.id == Check.account_id)
            .where(Check.sha256 == digest).order_by(Check.submitted_at).limit(limit)
        ).all()
    matches = [{"check_id": r[0], "account": r[1], "post_id": r[2], "posted_at": iso(r[3]),
                "submitted_at": iso(r[4]), "relation": "exact", "distance": 0, "earlier": True}
               for r in rows]
    return jsonify({"sha256": digest, "matches": matches,
                    "took_ms": round((time.perf_counter() - started) * 1000, 2)})
