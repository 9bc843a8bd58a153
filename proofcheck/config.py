"""Settings, read once from the environment.

Every default runs on one machine with no set-up: data under ./var (or
$PROOFCHECK_DATA_DIR), SQLite in it, and a private Redis started by `proofcheck serve`
when REDIS_URL is unset. Production sets DATABASE_URL (PostgreSQL) and REDIS_URL.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


def _env(environ: Mapping[str, str], name: str, default: str) -> str:
    value = environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None  # None: no Redis configured (serve starts a private one)
    secret_key: str
    max_upload_bytes: int = 20 * 1024 * 1024  # per file
    max_files_per_request: int = 50
    max_pixels: int = 50_000_000
    # Grey pixels of recent near-duplicate candidates a process keeps between searches
    # (proofcheck/pixelcache.py); 0 decodes every candidate from storage.
    pixel_cache_bytes: int = 64 * 1024 * 1024
    max_caption_chars: int = 5_000
    # Verdict thresholds on the fabrication score (API.md: verdict from thresholds).
    review_threshold: float = 0.5
    fabricated_threshold: float = 0.8
    job_timeout_s: int = 300
    # A check queued (or running) longer than this is re-enqueued by the sweeper.
    stuck_after_s: int = 120
    sweep_interval_s: int = 60
    max_attempts: int = 5
    queue_name: str = "checks"
    # Read text with Tesseract (signals.ocr); off only where speed matters more.
    ocr: bool = True
    # How long a SQLite writer waits for a lock before the request answers 503.
    sqlite_busy_timeout_ms: int = 15_000
    # Model verdicts that put a finished check in the moderators' queue until decided.
    review_verdicts: tuple[str, ...] = ("review", "fabricated")
    # How long a moderator's claim on a queue item holds before others may take it.
    claim_ttl_s: int = 15 * 60
    # Send session cookies only over HTTPS; on behind a TLS proxy, off for plain-HTTP
    # local runs (a browser would otherwise drop the cookie and nobody could log in).
    secure_cookies: bool = False
    allow_private_callbacks: bool = False
    callback_timeout_s: float = 10.0
    # Delay before each retry of a failed callback; its length is the number of retries.
    callback_backoff_s: tuple[float, ...] = (10, 60, 300, 1800, 7200)
    max_batch_items: int = 10_000
    max_json_batch_bytes: int = 200 * 1024 * 1024
    max_archive_bytes: int = 2 * 1024 * 1024 * 1024  # uncompressed total
    max_compression_ratio: float = 200.0
    batch_job_timeout_s: int = 6 * 3600
    rate_limit: str = "120/minute;5000/hour"  # per API key (Flask-Limiter syntax)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def max_request_bytes(self) -> int:
        # Room for several files plus the form fields; each file is checked on its own.
        return self.max_upload_bytes * min(self.max_files_per_request, 10) + 1024 * 1024

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise KeyError(f"unknown settings: {sorted(unknown)}")
        return replace(self, **dict(overrides))


def _secret_key(data_dir: Path) -> str:
    """A stable per-installation secret, so sessions survive restarts without set-up."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path.read_text().strip()


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = Path(_env(env, "PROOFCHECK_DATA_DIR", "var")).resolve()
    database_url = _env(env, "DATABASE_URL", f"sqlite:///{data_dir / 'proofcheck.db'}")
    if database_url.startswith("postgres://"):  # Heroku-style URLs
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    secret = env.get("PROOFCHECK_SECRET_KEY") or _secret_key(data_dir)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=env.get("REDIS_URL") or None,
        secret_key=secret,
        max_upload_bytes=int(float(_env(env, "PROOFCHECK_MAX_UPLOAD_MB", "20")) * 1024 * 1024),
        max_files_per_request=int(_env(env, "PROOFCHECK_MAX_FILES", "50")),
        max_pixels=int(float(_env(env, "PROOFCHECK_MAX_MEGAPIXELS", "50")) * 1_000_000),
        pixel_cache_bytes=int(float(_env(env, "PROOFCHECK_PIXEL_CACHE_MB", "64")) * 1024 * 1024),
        review_threshold=float(_env(env, "PROOFCHECK_REVIEW_THRESHOLD", "0.5")),
        fabricated_threshold=float(_env(env, "PROOFCHECK_FABRICATED_THRESHOLD", "0.8")),
        job_timeout_s=int(_env(env, "PROOFCHECK_JOB_TIMEOUT", "300")),
        stuck_after_s=int(_env(env, "PROOFCHECK_STUCK_AFTER", "120")),
        sweep_interval_s=int(_env(env, "PROOFCHECK_SWEEP_INTERVAL", "60")),
        max_attempts=int(_env(env, "PROOFCHECK_MAX_ATTEMPTS", "5")),
        allow_private_callbacks=_env(env, "PROOFCHECK_ALLOW_PRIVATE_CALLBACKS", "0") == "1",
        ocr=_env(env, "PROOFCHECK_OCR", "1") == "1",
        callback_timeout_s=float(_env(env, "PROOFCHECK_CALLBACK_TIMEOUT", "10")),
        callback_backoff_s=tuple(float(x) for x in _env(
            env, "PROOFCHECK_CALLBACK_BACKOFF", "10,60,300,1800,7200").split(",") if x.strip()),
        max_batch_items=int(_env(env, "PROOFCHECK_MAX_BATCH_ITEMS", "10000")),
        max_archive_bytes=int(float(_env(env, "PROOFCHECK_MAX_ARCHIVE_MB", "2048")) * 1024 * 1024),
        rate_limit=_env(env, "PROOFCHECK_RATE_LIMIT", "120/minute;5000/hour"),
    )
