"""`proofcheck serve` as a user runs it: one command brings up Redis, web and a worker;
an upload over HTTP reaches done; SIGTERM stops everything it started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from proofcheck.client import Client
from proofcheck.redis_server import free_port
from tests.conftest import image_bytes
from tests.test_cli import proofcheck


def multipart(fields: dict[str, str], file_bytes: bytes, filename: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'.encode()
                 + file_bytes + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def call(url: str, key: str, body: bytes | None = None, content_type: str | None = None
         ) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    request.add_header("Authorization", f"Bearer {key}")
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def portal_works_after_login(base: str, username: str, password: str) -> None:
    """The portal sends a stranger to the login page; the printed password lets one in."""
    import http.cookiejar
    import re
    import urllib.parse

    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/", timeout=10) as response:
        assert response.url.startswith(f"{base}/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode())
    assert token
    form = urllib.parse.urlencode({"csrf_token": token.group(1), "username": username,
                                   "password": password}).encode()
    with opener.open(f"{base}/login", data=form, timeout=10) as response:
        page = response.read().decode()
    assert response.url == f"{base}/" and "Check social proof" in page and username in page


@pytest.mark.slow
def test_serve_runs_the_whole_service_and_stops_cleanly(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "PROOFCHECK_DATA_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "proofcheck", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = []
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            output.append(line)
            if "ProofCheck is running at" in line or proc.poll() is not None:
                break
        assert f"running at http://127.0.0.1:{port}/" in "".join(output), "".join(output)
        redis_port = int(next(line for line in output if "private Redis" in line).split()[-1])
        password = next(line for line in output if "created user 'admin'" in line
                        ).split("with password ")[1].split()[0]
        portal_works_after_login(f"http://127.0.0.1:{port}", "admin", password)

        key = proofcheck("create-api-key", "e2e", data_dir=tmp_path).stdout.splitlines()[-1]
        body, content_type = multipart({"account": "instagram:@a"}, image_bytes(seed=51),
                                       "x.png")
        status, created = call(f"http://127.0.0.1:{port}/api/v1/checks", key, body,
                               content_type)
        assert status == 202
        url = f"http://127.0.0.1:{port}{created['checks'][0]['url']}"
        deadline = time.monotonic() + 60
        result: dict = {}
        while time.monotonic() < deadline:
            result = call(url, key)[1]
            if result["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert result["status"] == "done" and len(result["sha256"]) == 64

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as ready:
            assert json.loads(ready.read())["checks"]["workers"] >= 1

        # The command-line client against the running server.
        shot = tmp_path / "shot.png"
        shot.write_bytes(image_bytes(seed=51))  # the same file, now from another account
        submitted = proofcheck("submit", str(shot), "--account", "instagram:@b", "--wait",
                               "--json", "--url", f"http://127.0.0.1:{port}", "--api-key", key,
                               data_dir=tmp_path)
        assert submitted.returncode == 0, submitted.stderr
        [row] = json.loads(submitted.stdout)
        assert (row["status"], row["verdict"]) == ("done", "fabricated")
        assert "instagram:@a" in row["reason"]
        # ...and the library client's account report for the account that reused it.
        report = Client(f"http://127.0.0.1:{port}", key).account("instagram:@b")
        assert report["verdict"] == "fabricated"
        assert report["stolen_from"] == [{"account": "instagram:@a", "count": 1}]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(45)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
    assert not port_open(port)
    assert not port_open(redis_port)
