"""Safe zip reading, including the cases bench/fuzz.py found."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from proofcheck.archive import ArchiveError, ArchiveLimits, SafeArchive

LIMITS = ArchiveLimits(max_entries=10, max_total_bytes=1_000_000, max_entry_bytes=200_000,
                       max_ratio=100)


def make_zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def good() -> bytes:
    return make_zip({"manifest.json": json.dumps({"items": []}).encode(),
                     "a.png": bytes(range(256)) * 100})


def test_reads_manifest_and_entries():
    archive = SafeArchive(io.BytesIO(good()), LIMITS)
    assert archive.manifest() == {"items": []}
    assert archive.read("a.png") == bytes(range(256)) * 100
    assert archive.read("./a.png") == bytes(range(256)) * 100


def test_unsupported_zip_version_in_the_central_directory_is_invalid_archive():
    data = bytearray(good())
    central = data.find(b"PK\x01\x02")
    data[central + 6] = 84  # "version needed to extract": 8.4, which zipfile refuses
    with pytest.raises(ArchiveError) as info:
        SafeArchive(io.BytesIO(bytes(data)), LIMITS)
    assert info.value.code == "invalid_archive"


def test_damaged_deflate_stream_is_a_corrupt_entry():
    data = bytearray(good())
    start = data.find(b"a.png") + len("a.png")
    for offset in range(5, 40):
        data[start + offset] ^= 0xFF
    archive = SafeArchive(io.BytesIO(bytes(data)), LIMITS)
    with pytest.raises(ArchiveError) as info:
        archive.read("a.png")
    assert info.value.code == "corrupt_entry"


@pytest.mark.parametrize("name", ["../x.png", "/etc/passwd", "a/../../x", "c:\\x.png", ".."])
def test_traversal_names_are_unsafe(name):
    archive = SafeArchive(io.BytesIO(make_zip({"manifest.json": b"{}", name: b"x"})), LIMITS)
    with pytest.raises(ArchiveError) as info:
        archive.read(name)
    assert info.value.code == "unsafe_path"


def test_entry_larger_than_declared_is_stopped_while_reading():
    archive = SafeArchive(io.BytesIO(make_zip({"big.png": b"\0" * 300_000})),
                          ArchiveLimits(10, 10_000_000, 200_000, 10_000))
    with pytest.raises(ArchiveError) as info:
        archive.read("big.png")
    assert info.value.code == "file_too_large"
