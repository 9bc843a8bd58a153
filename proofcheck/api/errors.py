"""The one error shape of API.md: {"error": {"code", "message", "field"}}."""

from __future__ import annotations

from flask import Response, jsonify


def error_response(status: int, code: str, message: str, field: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    body: dict[str, str | None] = {"code": code, "message": message, "field": field}
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
