from __future__ import annotations

import hashlib

import pytest

from proofcheck.storage import BlobNotFound, BlobStore


def test_put_is_content_addressed_and_fanned_out(tmp_path):
    store = BlobStore(tmp_path)
    digest = store.put(b"receipt")
    assert digest == hashlib.sha256(b"receipt").hexdigest()
    assert store.path(digest) == tmp_path / digest[:2] / digest[2:4] / digest
    assert store.get(digest) == b"receipt"
    assert store.exists(digest)


def test_storing_twice_keeps_one_file_and_leaves_no_temp_files(tmp_path):
    store = BlobStore(tmp_path)
    first = store.put(b"same bytes")
    second = store.put(b"same bytes")
    assert first == second
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [store.path(first)]


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    store = BlobStore(tmp_path)

    def disk_full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", disk_full)
    with pytest.raises(OSError):
        store.put(b"will not fit")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_missing_and_malformed_digests(tmp_path):
    store = BlobStore(tmp_path)
    with pytest.raises(BlobNotFound):
        store.get("0" * 64)
    for bad in ("../../etc/passwd", "ABC", "g" * 64):
        with pytest.raises(ValueError):
            store.path(bad)
