"""POST /api/v1/batches in its three forms, and GET /api/v1/batches/<id>."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, jsonify, request
from werkzeug.datastructures import FileStorage

from proofcheck import current_services
from proofcheck.api import bp
from proofcheck.api.auth import current_principal, require_scope
from proofcheck.api.errors import error_response
from proofcheck.api.idempotency import idempotent
from proofcheck.archive import ArchiveError, ArchiveLimits, SafeArchive
from proofcheck.batches import ItemInput, batch_json, create_batch, item_fields
from proofcheck.callbacks import UnsafeCallback, check_destination
from proofcheck.db import Batch
from proofcheck.submission import SubmissionError


def _fail(code: str, message: str) -> Callable[[], bytes]:
    def load() -> bytes:
        raise SubmissionError(422, code, message, "items")

    return load


def _base64_loader(value: Any) -> Callable[[], bytes]:
    def load() -> bytes:
        if not isinstance(value, str) or not value:
            raise SubmissionError(422, "missing_image", "The item has no image_base64.", "items")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SubmissionError(422, "invalid_base64", "image_base64 is not valid base64.",
                                  "items") from None

    return load


def _items(manifest: dict[str, Any], loader: Callable[[dict[str, Any]], Callable[[], bytes]]
           ) -> Iterator[ItemInput]:
    raw_items = manifest.get("items")
    if not isinstance(raw_items, list):
        raise SubmissionError(422, "invalid_manifest", "'items' must be a list.", "items")
    for raw in raw_items:
        if not isinstance(raw, dict):
            yield ItemInput("", {}, _fail("invalid_item", "Each item must be a JSON object."))
            continue
        filename = str(raw.get("filename") or "")
        try:
            fields = item_fields(raw)
        except SubmissionError as exc:
            yield ItemInput(filename, {}, _fail(exc.code, exc.message))
            continue
        yield ItemInput(filename, fields, loader(raw))


def _file_loader(parts: dict[str, FileStorage], max_bytes: int
                 ) -> Callable[[dict[str, Any]], Callable[[], bytes]]:
    def loader(raw: dict[str, Any]) -> Callable[[], bytes]:
        def load() -> bytes:
            name = str(raw.get("filename") or "")
            part = parts.get(name)
            if part is None:
                raise SubmissionError(422, "missing_file",
                                      f"No file part named {name!r} was sent.", "items")
            data = part.stream.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise SubmissionError(413, "file_too_large", f"{name} is too large.", "items")
            return data

        return load

    return loader


def _archive_loader(archive: SafeArchive) -> Callable[[dict[str, Any]], Callable[[], bytes]]:
    def loader(raw: dict[str, Any]) -> Callable[[], bytes]:
        return lambda: archive.read(str(raw.get("filename") or ""))

    return loader


def _manifest_from_part(value: str | FileStorage) -> dict[str, Any]:
    text = value if isinstance(value, str) else value.stream.read(50 * 1024 * 1024).decode()
    try:
        manifest = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SubmissionError(422, "invalid_manifest", f"The manifest is not JSON: {exc}.",
                              "manifest") from None
    if not isinstance(manifest, dict):
        raise SubmissionError(422, "invalid_manifest", "The manifest must be a JSON object.",
                              "manifest")
    return manifest


@bp.before_app_request
def _allow_large_batches() -> None:
    # Archives and manifests with many files are far larger than a single upload;
    # raise the body limit for this one route before anything parses the body.
    if request.endpoint == "api.post_batch":
        request.max_content_length = current_services().settings.max_archive_bytes


@bp.post("/batches")
@require_scope("submit")
@idempotent
def post_batch() -> Response:
    services = current_services()
    settings = services.settings
    try:
        if request.is_json:
            if (request.content_length or 0) > settings.max_json_batch_bytes:
                raise SubmissionError(413, "request_too_large",
                                      "JSON batches are limited in size; send a zip archive.")
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                raise SubmissionError(400, "invalid_json", "The body must be a JSON object.")
            manifest = body
            items = _items(body, lambda raw: _base64_loader(raw.get("image_base64")))
        elif request.mimetype == "multipart/form-data":
            archive_part = request.files.get("archive")
            if archive_part is not None:
                limits = ArchiveLimits(max_entries=settings.max_batch_items,
                                       max_total_bytes=settings.max_archive_bytes,
                                       max_entry_bytes=settings.max_upload_bytes,
                                       max_ratio=settings.max_compression_ratio)
                try:
                    archive = SafeArchive(archive_part.stream, limits)
                    manifest = archive.manifest()
                except ArchiveError as exc:
                    raise SubmissionError(422 if exc.code != "archive_too_large" else 413,
                                          exc.code, exc.message, "archive") from None
                items = _items(manifest, _archive_loader(archive))
            else:
                raw = request.files.get("manifest") or request.form.get("manifest")
                if raw is None:
                    raise SubmissionError(400, "missing_manifest",
                                          "Send a 'manifest' part or an 'archive' part.",
                                          "manifest")
                manifest = _manifest_from_part(raw)
                parts = {p.filename: p for name, p in request.files.items(multi=True)
                         if name != "manifest" and p.filename}
                items = _items(manifest, _file_loader(parts, settings.max_upload_bytes))
        else:
            raise SubmissionError(415, "unsupported_media_type",
                                  "Send JSON, or multipart with a manifest or an archive.")
        callback_url = manifest.get("callback_url")
        if callback_url is not None:
            if not isinstance(callback_url, str) or len(callback_url) > 2000:
                raise SubmissionError(422, "invalid_callback_url", "callback_url must be a URL.",
                                      "callback_url")
            try:
                check_destination(callback_url, settings.allow_private_callbacks)
            except UnsafeCallback as exc:
                raise SubmissionError(422, "unsafe_callback_url", str(exc),
                                      "callback_url") from None
        batch = create_batch(services, items, callback_url, current_principal().key_id)
    except SubmissionError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.field)
    response = jsonify({"id": batch.id, "status": batch.status, "total": batch.total,
                        "url": f"/api/v1/batches/{batch.id}"})
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/batches/{batch.id}"
    return response


@bp.get("/batches/<batch_id>")
@require_scope("read")
def get_batch(batch_id: str) -> Response:
    with current_services().db.session() as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            return error_response(404, "not_found", f"No batch with id {batch_id}.")
        return jsonify(batch_json(session, batch))
