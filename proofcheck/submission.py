"""Accepting uploads: validate everything first, then store, commit, and only then queue.

The order is the "nothing lost" rule of DESIGN.md: a check exists in the database
(with its original in the blob store) before any job names it, so a Redis outage or
a crashed web process can delay a check but never lose one; the sweeper re-queues it.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlparse

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from ulid import ULID

from proofcheck.db import KINDS, Account, Check, utcnow
from proofcheck.imaging import ImageError, decode
from proofcheck.queueing import enqueue_check
from proofcheck.services import RedisNotConfigured, Services
from proofcheck.storage import sha256_hex

log = logging.getLogger(__name__)

# HTTP status for each way an upload can be unusable.
IMAGE_ERROR_STATUS = {
    "empty_file": 400,
    "not_an_image": 415,
    "unsupported_format": 415,
    "image_too_large": 413,
    "corrupt_image": 422,
    "truncated_image": 422,
    "too_many_frames": 422,
}


class SubmissionError(ValueError):
    """A request we refuse, with the API error shape's code, message and field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


@dataclass(frozen=True)
class CheckMeta:
    account: str | None = None
    post_id: str | None = None
    posted_at: dt.datetime | None = None
    caption: str | None = None
    kind: str | None = None
    callback_url: str | None = None


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class _Probed:
    upload: Upload
    sha256: str
    format: str
    width: int
    height: int


def new_check_id() -> str:
    return f"c_{ULID()}"


def normalise_account(raw: str) -> str:
    """`platform:handle`, compared case-insensitively and without surrounding space."""
    return unicodedata.normalize("NFC", raw).strip().casefold()


def parse_time(raw: str, field: str) -> dt.datetime:
    """ISO 8601; a time without an offset is taken as UTC, a bare date as midnight UTC."""
    text = raw.strip()
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise SubmissionError(422, "invalid_time", f"{field} must be an ISO 8601 time such as "
                              "2026-11-23T16:34:06+00:00.", field) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _text(fields: Mapping[str, str], name: str, limit: int) -> str | None:
    value = (fields.get(name) or "").strip()
    if not value:
        return None
    if len(value) > limit:
        raise SubmissionError(422, "field_too_long", f"{name} is longer than {limit} characters.",
                              name)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in value):
        raise SubmissionError(422, "invalid_characters", f"{name} holds control characters.", name)
    return value


def parse_meta(fields: Mapping[str, str], max_caption_chars: int,
               now: dt.datetime | None = None) -> CheckMeta:
    """Validate the metadata fields of API.md; raise SubmissionError on the first bad one."""
    now = now or utcnow()
    account = _text(fields, "account", 300)
    kind = _text(fields, "kind", 20)
    if kind is not None:
        kind = kind.lower()
        if kind not in KINDS:
            raise SubmissionError(422, "invalid_kind", f"kind must be one of {', '.join(KINDS)}.",
                                  "kind")
    posted_raw = _text(fields, "posted_at", 64)
    posted_at = parse_time(posted_raw, "posted_at") if posted_raw else None
    if posted_at is not None and posted_at > now + dt.timedelta(days=1):
        raise SubmissionError(422, "posted_in_future", "posted_at is in the future.", "posted_at")
    callback_url = _text(fields, "callback_url", 2000)
    if callback_url is not None:
        parsed = urlparse(callback_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise SubmissionError(422, "invalid_callback_url",
                                  "callback_url must be an http(s) URL.", "callback_url")
    return CheckMeta(
        account=normalise_account(account) if account else None,
        post_id=_text(fields, "post_id", 300),
        posted_at=posted_at,
        caption=_text(fields, "caption", max_caption_chars),
        kind=kind,
        callback_url=callback_url,
    )


def read_upload(stream: IO[bytes], filename: str, max_bytes: int) -> Upload:
    """Read at most max_bytes + 1 so an oversized file is refused without buffering it."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SubmissionError(413, "file_too_large",
                              f"{filename or 'The file'} is larger than "
                              f"{max_bytes // (1024 * 1024)} MB.", "file")
    return Upload(filename=filename[:300], data=data)


def _probe(upload: Upload, max_pixels: int) -> _Probed:
    try:
        decoded = decode(upload.data, max_pixels=max_pixels)
    except ImageError as exc:
        name = upload.filename or "the file"
        raise SubmissionError(IMAGE_ERROR_STATUS.get(exc.code, 422), exc.code,
                              f"{name}: {exc.message}", "file") from None
    return _Probed(upload, sha256_hex(upload.data), decoded.format, decoded.width, decoded.height)


def account_id(session: Session, name: str) -> int:
    """Find or create the account row; safe against a concurrent insert of the same name."""
    found = session.scalar(select(Account.id).where(Account.name == name))
    if found is not None:
        return found
    try:
        with session.begin_nested():
            account = Account(name=name)
            session.add(account)
        return account.id
    except IntegrityError:
        return session.scalars(select(Account.id).where(Account.name == name)).one()


def submit(services: Services, uploads: Sequence[Upload], meta: CheckMeta,
           api_key_id: int | None = None, batch_id: str | None = None) -> list[Check]:
    """Validate every upload, store them, commit one row per image, then queue them.

    All or nothing: if any file is unusable, nothing is written and the error names it.
    """
    settings = services.settings
    if not uploads:
        raise SubmissionError(400, "no_file", "Attach at least one image as a 'file' part.",
                              "file")
    if len(uploads) > settings.max_files_per_request:
        raise SubmissionError(413, "too_many_files",
                              f"At most {settings.max_files_per_request} files per request.",
                              "file")
    probed = [_probe(upload, settings.max_pixels) for upload in uploads]

    # Blobs first, rows second: a row never names a missing file. If the rows then fail
    # to commit, the new blobs are orphans until `proofcheck gc` (after a grace period,
    # because a concurrent upload of the same bytes may be about to reference them).
    try:
        for item in probed:
            services.blobs.put(item.upload.data)
    except OSError as exc:
        log.error("blob store write failed: %s", exc)
        raise SubmissionError(503, "storage_unavailable",
                              "The upload could not be stored (storage full or unavailable); "
                              "nothing was saved. Try again later.", "file") from None
    checks = _insert_checks(services, probed, meta, api_key_id, batch_id)
    for check in checks:
        try:
            enqueue_check(services, check.id)
        except (RedisError, RedisNotConfigured) as exc:
            # Committed already: the sweeper queues it once Redis is back.
            log.warning("check %s stored but not queued (%s); the sweeper will retry", check.id,
                        exc)
    return checks


def _insert_checks(services: Services, probed: list[_Probed], meta: CheckMeta,
                   api_key_id: int | None, batch_id: str | None) -> list[Check]:
    now = utcnow()
    with services.db.session() as session:
        owner = account_id(session, meta.account) if meta.account else None
        checks = []
        for item in probed:
            check = Check(
                id=new_check_id(), status="queued", stage="queued", account_id=owner,
                batch_id=batch_id, api_key_id=api_key_id, post_id=meta.post_id,
                posted_at=meta.posted_at, caption=meta.caption, kind=meta.kind,
                callback_url=meta.callback_url, filename=item.upload.filename,
                sha256=item.sha256, size_bytes=len(item.upload.data), format=item.format,
                width=item.width, height=item.height, submitted_at=now, updated_at=now,
            )
            session.add(check)
            checks.append(check)
    return checks
