"""The v1 JSON API (API.md). Routes stay thin: parse, authorise, call a service, shape."""

from __future__ import annotations

from flask import Blueprint, Response
from werkzeug.exceptions import HTTPException

from proofcheck.api.errors import error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "request_too_large",
          415: "unsupported_media_type", 422: "invalid", 429: "rate_limited",
          503: "unavailable"}


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    return error_response(status, _CODES.get(status, "error"), exc.description or exc.name)


# Routes register on import.
from proofcheck.api import accounts, batches, checks, openapi, review  # noqa: E402,F401
