"""Reading untrusted .zip batch archives safely.

Limits are checked from the central directory before anything is inflated (entry
count, total declared size, per-entry compression ratio) and enforced again while
reading, since the declared sizes are the attacker's word. Entry names are only used
to match the manifest; nothing is ever written to a path taken from the archive.
"""

from __future__ import annotations

import json
import posixpath
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO, Any

MANIFEST = "manifest.json"


class ArchiveError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int
    max_total_bytes: int
    max_entry_bytes: int
    max_ratio: float
    max_manifest_bytes: int = 50 * 1024 * 1024


def _safe_name(name: str) -> str | None:
    """The normalised entry name, or None for names that try to escape (../, /abs)."""
    if "\\" in name or "\x00" in name:
        return None
    normal = posixpath.normpath(name)
    if normal.startswith(("/", "../")) or normal == ".." or normal == ".":
        return None
    return normal


class SafeArchive:
    def __init__(self, stream: IO[bytes], limits: ArchiveLimits) -> None:
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
            # NotImplementedError: a (damaged) header asks for an unsupported zip version.
            raise ArchiveError("invalid_archive", f"The archive is not a readable zip: {exc}.")\
                from None
        infos = [info for info in self.zip.infolist() if not info.is_dir()]
        if len(infos) > limits.max_entries + 1:
            raise ArchiveError("archive_too_many_entries",
                               f"The archive holds {len(infos)} files; the limit is "
                               f"{limits.max_entries} images plus the manifest.")
        total = sum(info.file_size for info in infos)
        if total > limits.max_total_bytes:
            raise ArchiveError("archive_too_large",
                               f"The archive unpacks to {total:,} bytes; the limit is "
                               f"{limits.max_total_bytes:,}.")
        self.entries: dict[str, zipfile.ZipInfo] = {}
        self.unsafe: set[str] = set()
        for info in infos:
            name = _safe_name(info.filename)
            if name is None:
                self.unsafe.add(info.filename)
            else:
                self.entries[name] = info

    def manifest(self) -> dict[str, Any]:
        if MANIFEST not in self.entries:
            raise ArchiveError("manifest_missing", "The archive has no manifest.json at its root.")
        raw = self.read(MANIFEST, self.limits.max_manifest_bytes)
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ArchiveError("invalid_manifest", f"manifest.json is not valid JSON: {exc}.")\
                from None
        if not isinstance(data, dict):
            raise ArchiveError("invalid_manifest", "manifest.json must be a JSON object.")
        return data

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        """Read one entry, refusing it past max_bytes or past the ratio limit."""
        limit = self.limits.max_entry_bytes if max_bytes is None else max_bytes
        if name in self.unsafe or _safe_name(name) is None:
            raise ArchiveError("unsafe_path", f"{name!r} is not a safe path inside the archive.")
        normal = _safe_name(name)
        info = self.entries.get(normal or "")
        if info is None:
            raise ArchiveError("missing_file", f"{name} is not in the archive.")
        if info.file_size > limit:
            raise ArchiveError("file_too_large", f"{name} unpacks to more than {limit:,} bytes.")
        if info.compress_size and info.file_size / info.compress_size > self.limits.max_ratio:
            raise ArchiveError("compression_ratio",
                               f"{name} is compressed {info.file_size / info.compress_size:.0f}"
                               f":1, more than the {self.limits.max_ratio:.0f}:1 allowed.")
        chunks: list[bytes] = []
        size = 0
        try:
            with self.zip.open(info) as handle:
                while chunk := handle.read(1024 * 1024):
                    size += len(chunk)
                    if size > limit:  # the declared size lied
                        raise ArchiveError("file_too_large",
                                           f"{name} unpacks to more than {limit:,} bytes.")
                    chunks.append(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError,
                ValueError, zlib.error) as exc:
            # Found by bench/fuzz.py: a damaged local header makes zipfile seek to -1
            # (ValueError); a damaged deflate stream raises zlib.error.
            raise ArchiveError("corrupt_entry", f"{name} cannot be unpacked: {exc}.") from None
        return b"".join(chunks)
