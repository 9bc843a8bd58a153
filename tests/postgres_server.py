"""A throw-away PostgreSQL server in a temporary folder, for the database tests.

Uses Debian's `postgresql` binaries. initdb refuses to run as root, so as root the
server runs as the `postgres` system user.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path

from proofcheck.redis_server import free_port


def _bin(name: str) -> str | None:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else shutil.which(name)


def available() -> bool:
    return _bin("initdb") is not None and _bin("pg_ctl") is not None


class PostgresServer:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.datadir = workdir / "pgdata"
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}")

    @property
    def url(self) -> str:
        user = "postgres"
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.workdir, "postgres", "postgres")
            os.chmod(self.workdir, 0o700)
        initdb = _bin("initdb")
        assert initdb
        self._run(initdb, "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8")
        self.resume()
        return self

    def resume(self) -> None:
        """Start a stopped server again on the same data and port."""
        pg_ctl = _bin("pg_ctl")
        assert pg_ctl
        options = (f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off")
        self._run(pg_ctl, "-D", str(self.datadir), "-o", options, "-l",
                  str(self.workdir / "log"), "-w", "start")

    def stop(self) -> None:
        pg_ctl = _bin("pg_ctl")
        assert pg_ctl
        try:
            self._run(pg_ctl, "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        except RuntimeError:
            time.sleep(0.5)
