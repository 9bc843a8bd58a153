"""Files from pinned npm packages, fetched once at set-up: the Persian web fonts of the
digit templates (`webfonts`) and a Persian Tesseract model (`tessmodels`).

The npm registry is a package registry, reached at set-up only. A package is pinned by
version and checked against the registry's sha512 integrity before anything is written;
each file is written by an atomic rename, so a file in place is whole, and is not
fetched again. A member ending in ".gz" is saved gunzipped, without the suffix.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import tarfile
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Pinned:
    package: str  # "name" or "@scope/name"
    version: str
    integrity: str  # the registry's dist.integrity of the tarball
    files: tuple[str, ...]  # paths inside the tarball; saved under their base names

    def tarball_url(self, registry: str = REGISTRY) -> str:
        # A scoped package's tarball is named without its scope.
        name = self.package.rsplit("/", 1)[-1]
        return f"{registry}/{self.package}/-/{name}-{self.version}.tgz"


class FetchError(Exception):
    """A package could not be fetched, or was not the one pinned."""


def _saved_name(member: str) -> str:
    name = Path(member).name
    return name[:-3] if name.endswith(".gz") else name


def _tarball(pinned: Pinned, registry: str, timeout: float) -> bytes:
    url = pinned.tarball_url(registry)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data: bytes = response.read()
    except OSError as exc:
        raise FetchError(f"{pinned.package}: cannot fetch {url}: {exc}") from exc
    algorithm, _, expected = pinned.integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise FetchError(f"{pinned.package}@{pinned.version}: integrity mismatch, "
                         "nothing written")
    return data


def _member_bytes(tar: tarfile.TarFile, pinned: Pinned, member_name: str) -> bytes:
    try:
        member = tar.getmember(member_name)
    except KeyError as exc:
        raise FetchError(f"{pinned.package}@{pinned.version}: no {member_name}") from exc
    source = tar.extractfile(member) if member.isfile() else None
    if source is None:
        raise FetchError(f"{pinned.package}@{pinned.version}: {member_name} is no file")
    data = source.read()
    if member_name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise FetchError(f"{pinned.package}@{pinned.version}: {member_name} "
                             f"does not gunzip: {exc}") from exc
    return data


def fetch(pinned: Pinned, dest: Path, registry: str = REGISTRY,
          timeout: float = 60.0) -> list[Path]:
    """Fetch one pinned package and write its files into `dest`; files already there
    are kept. Returns the paths written."""
    missing = [f for f in pinned.files if not (dest / _saved_name(f)).exists()]
    if not missing:
        return []
    data = _tarball(pinned, registry, timeout)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        # Every file is read (and gunzipped) before any is written: a bad one leaves
        # nothing half done.
        contents = {name: _member_bytes(tar, pinned, name) for name in missing}
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for member_name, content in contents.items():
        fd, tmp = tempfile.mkstemp(dir=dest, suffix=".part")
        target = dest / _saved_name(member_name)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
            os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from a service user
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
