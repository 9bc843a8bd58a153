"""Per-key rate limits for the API (Flask-Limiter, counters in the same Redis)."""

from __future__ import annotations

import hashlib

from flask import Flask, request
from flask_limiter import Limiter

from proofcheck.config import Settings


def rate_limit_key() -> str:
    """The caller's API key (hashed: keys never reach Redis), else its address."""
    kind, _, token = request.headers.get("Authorization", "").partition(" ")
    if kind.lower() == "bearer" and token.strip():
        return "key:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]
    return "ip:" + (request.remote_addr or "unknown")


def init_limiter(app: Flask, settings: Settings) -> Limiter:
    from proofcheck.api import bp

    limiter = Limiter(
        rate_limit_key,
        app=app,
        storage_uri=settings.redis_url or "memory://",
        strategy="moving-window",
        headers_enabled=True,  # X-RateLimit-* on every answer, Retry-After on a 429
        # A Redis hiccup must not turn every API call into an error: fail open.
        swallow_errors=True,
        key_prefix="proofcheck-rl",
    )
    # One budget per key across the whole API, not one per route.
    limiter.shared_limit(settings.rate_limit, scope="api")(bp)
    return limiter
