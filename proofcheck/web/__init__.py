"""The portal (HTML) and the operational endpoints, plus app-wide error handling."""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from proofcheck.api.errors import error_response

csrf = CSRFProtect()
log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    # Scripts and styles come only from our own static files: no inline code, so an
    # account name or caption holding markup can never run.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/readyz")


def register_web(app: Flask) -> None:
    from proofcheck.web import auth, ops, portal, templating
    from proofcheck.web.admin import bp as admin_bp
    from proofcheck.web.review import bp as review_bp

    auth.init_auth(app)
    templating.init_templating(app)
    app.register_blueprint(portal.bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(ops.bp)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> tuple[str, int]:
        return render_template("error.html", status=400,
                               message="The form expired or was not sent from this site. "
                                       "Reload the page and try again."), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response | tuple[str, int]:
        status = exc.code or 500
        if _wants_json():
            code = "request_too_large" if status == 413 else exc.name.lower().replace(" ", "_")
            return error_response(status, code, exc.description or exc.name)
        return render_template("error.html", status=status, message=exc.description), status

    @app.errorhandler(OperationalError)
    @app.errorhandler(RedisError)
    def _unavailable(exc: Exception) -> Response | tuple[str, int]:
        # A database or Redis outage is temporary: say so (503), never a bare 500.
        log.warning("dependency unavailable: %s", exc)
        message = "The service is briefly unavailable; nothing was saved. Try again shortly."
        if _wants_json():
            return error_response(503, "unavailable", message, headers={"Retry-After": "5"})
        return render_template("error.html", status=503, message=message), 503

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response | tuple[str, int]:
        log.exception("unhandled error on %s", request.path)
        message = "Something went wrong on our side; it has been logged."
        if _wants_json():
            return error_response(500, "internal_error", message)
        return render_template("error.html", status=500, message=message), 500
