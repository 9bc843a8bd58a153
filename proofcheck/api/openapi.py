"""The OpenAPI 3.1 document, generated from the pydantic models in schemas.py.

Each operation is declared once here next to its models; a test compares this list
with the routes Flask actually serves and validates real responses against it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from flask import Response, jsonify, render_template
from pydantic import BaseModel

from proofcheck import __version__
from proofcheck.api import bp, schemas
from proofcheck.db import KINDS


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI form: /checks/{check_id}
    summary: str
    scope: str | None  # None: no key needed
    responses: dict[int, type[BaseModel] | None]
    json_body: type[BaseModel] | None = None
    multipart: dict[str, Any] | None = None  # field name -> JSON schema
    parameters: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}


_TEXT = {"type": "string"}
_FILES = {"type": "array", "minItems": 1,
          "items": {"type": "string", "contentEncoding": "binary"}}
CHECK_FIELDS = {
    "file": _FILES,
    "account": {"type": "string", "maxLength": 300, "description": "platform:handle"},
    "post_id": {"type": "string", "maxLength": 300},
    "posted_at": {"type": "string", "description": "ISO 8601 time"},
    "caption": _TEXT,
    "kind": {"type": "string", "enum": list(KINDS)},
    "callback_url": {"type": "string", "format": "uri"},
}
E = schemas.Error
OPERATIONS = [
    Operation("post", "/checks", "Submit one or more images", "submit",
              {202: schemas.ChecksCreated, 400: E, 401: E, 403: E, 409: E, 413: E, 415: E,
               422: E, 429: E}, multipart=CHECK_FIELDS,
              description="Multipart: one or more `file` parts plus optional fields. "
                          "An Idempotency-Key header makes retries safe."),
    Operation("get", "/checks/{check_id}", "A check's status and result", "read",
              {200: schemas.CheckOut, 401: E, 403: E, 404: E, 429: E},
              parameters=[_path_param("check_id", "The check's id (c_...)")]),
    Operation("get", "/checks/{check_id}/matches/{other_id}/diff.png",
              "Difference heat-map of a check and one of its matches (PNG)", "read",
              {200: None, 401: E, 403: E, 404: E, 429: E},
              parameters=[_path_param("check_id", "The check's id"),
                          _path_param("other_id", "The matched check's id")]),
    Operation("post", "/batches", "Submit a batch (JSON, manifest or zip archive)", "submit",
              {202: schemas.BatchCreated, 400: E, 401: E, 403: E, 409: E, 413: E, 415: E,
               422: E, 429: E}, json_body=schemas.BatchIn,
              multipart={"manifest": _TEXT, "archive": {"type": "string",
                                                        "contentEncoding": "binary"},
                         "files": _FILES},
              description="JSON with base64 images; or multipart with a `manifest` part and "
                          "file parts named by the items' filenames; or multipart with one "
                          "`archive` part, a .zip holding manifest.json and the images."),
    Operation("get", "/batches/{batch_id}", "A batch's progress and items", "read",
              {200: schemas.BatchOut, 401: E, 403: E, 404: E, 429: E},
              parameters=[_path_param("batch_id", "The batch's id (b_...)")]),
    Operation("get", "/accounts/{account}", "Consistency report for one account", "read",
              {200: schemas.AccountOut, 401: E, 403: E, 404: E, 429: E},
              parameters=[_path_param("account", "platform:handle, URL-encoded")]),
    Operation("post", "/search", "Near-duplicate search; nothing is stored", "search",
              {200: schemas.SearchOut, 400: E, 401: E, 403: E, 413: E, 415: E, 422: E, 429: E},
              multipart={"file": {"type": "string", "contentEncoding": "binary"},
                         "limit": {"type": "integer", "minimum": 1, "maximum": 200},
                         "max_distance": {"type": "integer", "minimum": 0, "maximum": 64}}),
    Operation("get", "/review/queue", "Items waiting for a moderator, most urgent first",
              "review", {200: schemas.ReviewQueue, 401: E, 403: E, 422: E, 429: E},
              parameters=[{"name": "limit", "in": "query", "required": False,
                           "schema": {"type": "integer", "minimum": 1, "maximum": 500}}]),
    Operation("post", "/review/items/{check_id}/claim", "Claim a queue item", "review",
              # 400/422: a malformed or reused Idempotency-Key, as on every keyed POST.
              {200: schemas.Claim, 400: E, 401: E, 403: E, 404: E, 409: E, 422: E, 429: E},
              parameters=[_path_param("check_id", "The check's id")]),
    Operation("post", "/review/items/{check_id}/decision", "Decide a queue item", "review",
              {200: schemas.DecisionOut, 400: E, 401: E, 403: E, 404: E, 409: E, 422: E,
               429: E}, json_body=schemas.DecisionIn,
              parameters=[_path_param("check_id", "The check's id")]),
    Operation("get", "/openapi.json", "This document", None, {200: None}),
]


def _schema_ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


@functools.cache
def document() -> dict[str, Any]:
    """Built once per process: the operations and models are fixed at import time."""
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    models = {m for op in OPERATIONS for m in [*op.responses.values(), op.json_body] if m}
    for model in sorted(models, key=lambda m: m.__name__):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    for op in OPERATIONS:
        operation: dict[str, Any] = {
            "operationId": f"{op.method}_{op.path.strip('/').replace('/', '_')}"
                           .replace("{", "").replace("}", "").replace(".", "_"),
            "summary": op.summary,
            "parameters": list(op.parameters),
            "responses": {},
        }
        if op.description:
            operation["description"] = op.description
        if op.scope:
            operation["security"] = [{"bearer": []}]
            operation["x-scope"] = op.scope
        else:
            operation["security"] = []
        if op.method == "post" and op.scope:
            operation["parameters"].append({
                "name": "Idempotency-Key", "in": "header", "required": False,
                "schema": {"type": "string", "maxLength": 200}})
        content: dict[str, Any] = {}
        if op.json_body is not None:
            content["application/json"] = {"schema": _schema_ref(op.json_body)}
        if op.multipart is not None:
            content["multipart/form-data"] = {"schema": {
                "type": "object", "properties": op.multipart,
                "required": [name for name in ("file",) if name in op.multipart]}}
        if content:
            operation["requestBody"] = {"required": True, "content": content}
        for status, answer in op.responses.items():
            response: dict[str, Any] = {"description": _STATUS_TEXT.get(status, str(status))}
            if answer is not None:
                response["content"] = {"application/json": {"schema": _schema_ref(answer)}}
            elif op.path.endswith(".png") and status == 200:
                response["content"] = {"image/png": {"schema": {"type": "string",
                                                                "contentEncoding": "binary"}}}
            if status == 429:
                response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
            operation["responses"][str(status)] = response
        paths.setdefault(op.path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "ProofCheck API", "version": __version__,
                 "description": "Finds reused, edited and fabricated social proof."},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "An API key from "
                                                          "`proofcheck create-api-key`"}},
        },
    }


_STATUS_TEXT = {200: "OK", 202: "Accepted: queued", 400: "Bad request", 401: "No valid key",
                403: "The key lacks the scope", 404: "Not found",
                409: "Conflict (claimed, or an Idempotency-Key still in progress)",
                413: "Too large", 415: "Unsupported media type", 422: "Invalid field or file",
                429: "Rate limited"}


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return jsonify(document())


@bp.get("/docs")
def reference() -> str:
    return render_template("api_reference.html", doc=document(), operations=OPERATIONS)
