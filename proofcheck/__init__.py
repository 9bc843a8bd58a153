"""ProofCheck: finds reused, edited and fabricated social proof."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app

from proofcheck.config import Settings, load_settings
from proofcheck.services import Services

__version__ = "0.1.0"


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """The app factory. `config` is a Settings object, or overrides of the environment's."""
    if isinstance(config, Settings):
        settings = config
    else:
        settings = load_settings()
        if config:
            settings = settings.with_overrides(config)
    services = Services(settings)
    services.migrate()

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,  # a form left open over lunch should still submit
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["proofcheck"] = services

    from proofcheck.web import csrf, register_web

    csrf.init_app(app)
    register_web(app)

    from proofcheck.api import bp as api_bp
    from proofcheck.api.limits import init_limiter

    csrf.exempt(api_bp)  # the API authenticates with bearer keys, not cookies
    app.register_blueprint(api_bp)
    app.extensions["proofcheck_limiter"] = init_limiter(app, settings)
    return app


def current_services() -> Services:
    """The Services of the app handling the current request."""
    found: Services = current_app.extensions["proofcheck"]
    return found
