"""The Idempotency-Key decorator for POST routes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, jsonify, request

from proofcheck import current_services, idempotency
from proofcheck.api.auth import current_principal
from proofcheck.api.errors import error_response

F = TypeVar("F", bound=Callable[..., Any])
CHUNK = 1024 * 1024


def request_fingerprint() -> str:
    """A digest of what the request asks for: path, fields and file contents.

    Files are hashed from werkzeug's spooled copies in chunks, so a large upload is
    never held in memory just to compare it.
    """
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.mimetype == "multipart/form-data":
        # str(): a malformed part can surface as a None value, which does not sort.
        for name, value in sorted(request.form.items(multi=True),
                                  key=lambda kv: (str(kv[0]), str(kv[1]))):
            digest.update(f"field {name}={value}\n".encode())
        for name, storage in sorted(request.files.items(multi=True), key=lambda kv: kv[0]):
            digest.update(f"file {name} {storage.filename}\n".encode())
            stream = storage.stream
            for chunk in iter(lambda s=stream: s.read(CHUNK), b""):  # type: ignore[misc]
                digest.update(chunk)
            stream.seek(0)
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def idempotent(view: F) -> F:
    """Replays the stored answer for a repeated Idempotency-Key (after auth)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        db = current_services().db
        key_id = current_principal().key_id
        try:
            replay = idempotency.reserve(db, key_id, key.strip(), request_fingerprint())
        except idempotency.IdempotencyConflict as exc:
            return error_response(exc.status, exc.code, exc.message, "Idempotency-Key")
        if replay is not None:
            response = jsonify(replay.body)
            response.status_code = replay.status_code
            response.headers["Idempotent-Replayed"] = "true"
            return response
        try:
            response = cast(Response, view(*args, **kwargs))
        except BaseException:
            idempotency.release(db, key_id, key.strip())
            raise
        if response.status_code >= 500 or not response.is_json:
            idempotency.release(db, key_id, key.strip())
        else:
            idempotency.complete(db, key_id, key.strip(), response.status_code,
                                 response.get_json())
        return response

    return cast(F, wrapper)
