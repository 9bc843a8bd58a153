"""GET /api/v1/accounts/<account> and POST /api/v1/search."""

from __future__ import annotations

import time

from flask import Response, jsonify, request

from proofcheck import current_services
from proofcheck.accounts import account_report
from proofcheck.api import bp
from proofcheck.api.auth import require_scope
from proofcheck.api.errors import error_response
from proofcheck.api.idempotency import idempotent
from proofcheck.hashing import file_signatures
from proofcheck.imaging import ImageError, decode
from proofcheck.pipeline import Sighting
from proofcheck.processing import near_duplicates_of, sightings_of
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
        report = account_report(session, normalise_account(account))
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
@idempotent
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
        max_distance = _int_field("max_distance", 64, 0, 64)
        part = request.files.get("file")
        if part is None:
            raise SubmissionError(400, "no_file", "Attach the image as a 'file' part.", "file")
        upload = read_upload(part.stream, part.filename or "", settings.max_upload_bytes)
        try:
            decoded = decode(upload.data, settings.max_pixels)
        except ImageError as exc:
            raise SubmissionError(IMAGE_ERROR_STATUS.get(exc.code, 422), exc.code, exc.message,
                                  "file") from None
    except SubmissionError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.field)
    digest = sha256_hex(upload.data)
    every_copy = sightings_of(services, digest)
    exact = every_copy[:limit]
    near = near_duplicates_of(services, {s.check_id for s in every_copy},
                              file_signatures(upload.data, settings.max_pixels, decoded),
                              decoded, limit=limit)

    def shape(sighting: Sighting, relation: str, distance: int,
              box: object = None, similarity: float | None = None) -> dict[str, object]:
        # Everything indexed was seen before this query, so every match is earlier.
        return {"check_id": sighting.check_id, "account": sighting.account,
                "post_id": sighting.post_id, "posted_at": iso(sighting.posted_at),
                "submitted_at": iso(sighting.submitted_at), "relation": relation,
                "distance": distance, "earlier": True,
                "changed_box": list(box) if isinstance(box, tuple) else None,
                "similarity": similarity}

    matches = [shape(s, "exact", 0) for s in exact]
    known = {s.check_id for s in exact}
    matches += [shape(s, v.relation, int(v.distance), v.changed_box, round(v.score, 3))
                for s, v in near if s.check_id not in known and v.distance <= max_distance]
    return jsonify({"sha256": digest, "matches": matches[:limit],
                    "took_ms": round((time.perf_counter() - started) * 1000, 2)})
