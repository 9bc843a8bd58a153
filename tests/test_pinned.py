"""The set-up's fetch of pinned npm packages (fonts, a Tesseract model): checked before
anything is written."""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from proofcheck.text.pinned import FetchError, Pinned, fetch


def _tarball(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def registry() -> Iterator[tuple[str, dict[str, bytes], list[str]]]:
    """A local HTTP server standing in for the npm registry's tarball URLs: the test
    puts tarballs in `served` by URL path and reads the paths requested."""
    served: dict[str, bytes] = {}
    requested: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            body = served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", served, requested
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_writes_the_pinned_files_once(tmp_path: Path, registry) -> None:
    url, served, requested = registry
    data = _tarball({"package/dist/Demo.ttf": b"font bytes", "package/README.md": b"readme"})
    served["/demo-font/-/demo-font-1.0.0.tgz"] = data
    font = Pinned("demo-font", "1.0.0", _integrity(data), ("package/dist/Demo.ttf",))

    written = fetch(font, tmp_path, registry=url)

    assert written == [tmp_path / "Demo.ttf"]
    assert (tmp_path / "Demo.ttf").read_bytes() == b"font bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Demo.ttf"]
    # A font in place is not fetched again.
    assert fetch(font, tmp_path, registry=url) == []
    assert requested == ["/demo-font/-/demo-font-1.0.0.tgz"]


def test_a_tarball_not_the_pinned_one_writes_nothing(tmp_path: Path, registry) -> None:
    url, served, _ = registry
    pinned = _tarball({"package/dist/Demo.ttf": b"the real font"})
    served["/demo-font/-/demo-font-1.0.0.tgz"] = _tarball({"package/dist/Demo.ttf": b"tampered"})
    font = Pinned("demo-font", "1.0.0", _integrity(pinned), ("package/dist/Demo.ttf",))

    with pytest.raises(FetchError, match="integrity mismatch"):
        fetch(font, tmp_path, registry=url)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_package_or_file_is_a_clear_error(tmp_path: Path, registry) -> None:
    url, served, _ = registry
    font = Pinned("gone-font", "1.0.0", "sha512-AAAA", ("package/dist/Gone.ttf",))
    with pytest.raises(FetchError, match="cannot fetch"):
        fetch(font, tmp_path, registry=url)

    data = _tarball({"package/dist/Other.ttf": b"x"})
    served["/demo-font/-/demo-font-1.0.0.tgz"] = data
    font = Pinned("demo-font", "1.0.0", _integrity(data), ("package/dist/Demo.ttf",))
    with pytest.raises(FetchError, match=r"no package/dist/Demo\.ttf"):
        fetch(font, tmp_path, registry=url)
    assert [p for p in tmp_path.iterdir() if p.is_file()] == []


def test_a_scoped_package_and_a_gzipped_member(tmp_path: Path, registry) -> None:
    """Tesseract models come gzipped in a scoped package ("@tesseract.js-data/fas"),
    whose tarball is named without the scope; the model is saved gunzipped."""
    url, served, requested = registry
    model = b"traineddata bytes " * 100
    data = _tarball({"package/4.0.0_best_int/fas.traineddata.gz": gzip.compress(model)})
    served["/@demo-scope/fas/-/fas-1.0.0.tgz"] = data
    pinned = Pinned("@demo-scope/fas", "1.0.0", _integrity(data),
                    ("package/4.0.0_best_int/fas.traineddata.gz",))

    assert fetch(pinned, tmp_path, registry=url) == [tmp_path / "fas.traineddata"]
    assert (tmp_path / "fas.traineddata").read_bytes() == model
    assert fetch(pinned, tmp_path, registry=url) == []
    assert requested == ["/@demo-scope/fas/-/fas-1.0.0.tgz"]


def test_a_member_that_does_not_gunzip_writes_nothing(tmp_path: Path, registry) -> None:
    url, served, _ = registry
    data = _tarball({"package/a.traineddata.gz": gzip.compress(b"fine"),
                     "package/b.traineddata.gz": b"not gzip at all"})
    served["/demo/-/demo-1.0.0.tgz"] = data
    pinned = Pinned("demo", "1.0.0", _integrity(data),
                    ("package/a.traineddata.gz", "package/b.traineddata.gz"))
    with pytest.raises(FetchError, match="does not gunzip"):
        fetch(pinned, tmp_path, registry=url)
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []
