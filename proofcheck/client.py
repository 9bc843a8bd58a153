"""A small client for the v1 API, used by `proofcheck submit` and the API benchmark.

Standard library only (urllib), so it works wherever ProofCheck is installed.
"""

from __future__ import annotations

import json
import mimetypes
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ApiError(RuntimeError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


def encode_multipart(fields: Mapping[str, str], files: list[tuple[str, str, bytes]]
                     ) -> tuple[bytes, str]:
    """(body, content type) for fields and (field, filename, bytes) files."""
    boundary = uuid.uuid4().hex
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                      .encode() + value.encode() + b"\r\n")
    for field, filename, data in files:
        kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        safe = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                      f'filename="{safe}"\r\nContent-Type: {kind}\r\n\r\n'.encode()
                      + data + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


@dataclass
class Client:
    base_url: str
    api_key: str
    timeout: float = 30.0

    def _call(self, method: str, path: str, body: bytes | None = None,
              content_type: str | None = None, headers: Mapping[str, str] | None = None
              ) -> dict[str, Any]:
        request = urllib.request.Request(self.base_url.rstrip("/") + path, data=body,
                                         method=method)
        request.add_header("Authorization", f"Bearer {self.api_key}")
        request.add_header("Accept", "application/json")
        if content_type:
            request.add_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data: dict[str, Any] = json.loads(response.read())
                return data
        except urllib.error.HTTPError as exc:
            try:
                error = json.loads(exc.read())["error"]
                raise ApiError(exc.code, error["code"], error["message"]) from None
            except (ValueError, KeyError, TypeError):
                raise ApiError(exc.code, "http_error", str(exc)) from None

    def submit(self, files: list[Path], fields: Mapping[str, str],
               idempotency_key: str | None = None) -> list[dict[str, Any]]:
        body, content_type = encode_multipart(
            fields, [("file", path.name, path.read_bytes()) for path in files])
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        created = self._call("POST", "/api/v1/checks", body, content_type, headers)
        checks: list[dict[str, Any]] = created["checks"]
        return checks

    def check(self, check_id: str) -> dict[str, Any]:
        return self._call("GET", f"/api/v1/checks/{check_id}")

    def account(self, name: str) -> dict[str, Any]:
        """The account's consistency report (API.md, Accounts)."""
        return self._call("GET", "/api/v1/accounts/" + urllib.parse.quote(name, safe=""))

    def wait(self, check_id: str, timeout: float = 300.0, interval: float = 0.25
             ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            result = self.check(check_id)
            if result["status"] in ("done", "failed") or time.monotonic() > deadline:
                return result
            time.sleep(interval)
