"""`proofcheck serve`: one foreground process that owns Redis, the web app and workers.

Children run in their own sessions, so Ctrl-C reaches only us and we stop them in a
known order: web first (no new uploads), then workers (each finishes its job), then
the private Redis (which persists its queue to the data folder for the next start).
A worker that dies is restarted; if the web server dies, everything stops.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from types import FrameType

from proofcheck.config import Settings
from proofcheck.redis_server import RedisServer

RESTART_BACKOFF_S = (1, 2, 5, 10, 30)


class Supervisor:
    def __init__(self, settings: Settings, host: str, port: int, workers: int,
                 web_processes: int) -> None:
        self.settings = settings
        self.host = host
        self.port = port
        self.worker_count = workers
        self.web_processes = web_processes
        self.redis: RedisServer | None = None
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.restarts: list[int] = []
        self.stopping = False

    def _say(self, message: str) -> None:
        print(f"[proofcheck] {message}", flush=True)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PROOFCHECK_DATA_DIR"] = str(self.settings.data_dir)
        env["PROOFCHECK_SECRET_KEY"] = self.settings.secret_key
        env["DATABASE_URL"] = self.settings.database_url
        if self.redis is not None:
            env["REDIS_URL"] = self.redis.url
        return env

    def _spawn(self, args: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(args, env=self._env(), stdin=subprocess.DEVNULL,
                                start_new_session=True)

    def _spawn_worker(self, number: int) -> subprocess.Popen[bytes]:
        # The last worker only delivers callbacks, so a receiver that hangs can slow
        # callbacks down but never the checks.
        queues = "webhooks" if number == self.worker_count else "checks,batch"
        return self._spawn([sys.executable, "-m", "proofcheck", "worker", "--queues", queues])

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def _wait_until_up(self, timeout: float = 60.0) -> bool:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        url = f"http://{host}:{self.port}/healthz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping:
            if self.web is not None and self.web.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return True
            except OSError:
                time.sleep(0.2)
        return False

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        try:
            if not self.settings.redis_url:
                self.redis = RedisServer(self.settings.data_dir / "redis").start()
                self._say(f"started a private Redis on port {self.redis.port}")
            self.workers = [self._spawn_worker(n) for n in range(self.worker_count + 1)]
            self.restarts = [0] * len(self.workers)
            self.web = self._spawn([
                sys.executable, "-m", "gunicorn", "--bind", f"{self.host}:{self.port}",
                "--workers", str(self.web_processes), "--threads", "4",
                "--worker-class", "gthread", "--timeout", "120", "--graceful-timeout", "20",
                "--access-logfile", "-", "--no-control-socket", "proofcheck.wsgi:app",
            ])
            if not self._wait_until_up():
                if not self.stopping:
                    self._say("the web server did not come up; stopping")
                return 1 if not self.stopping else 0
            self._first_admin()
            self._say(f"ProofCheck is running at http://{self.host}:{self.port}/ "
                      f"(data in {self.settings.data_dir}; Ctrl-C to stop)")
            return self._watch()
        finally:
            self._stop_all()

    def _first_admin(self) -> None:
        """With no user yet, create `admin` and print its password, once, so the portal
        (which needs a login) can be opened right away."""
        from proofcheck.db import Database
        from proofcheck.users import ensure_first_admin

        db = Database(self.settings.database_url)
        try:
            password = ensure_first_admin(db)
        finally:
            db.dispose()
        if password is not None:
            self._say(f"created user 'admin' with password {password} (shown once; "
                      "add users with `proofcheck create-user`)")

    def _watch(self) -> int:
        while not self.stopping:
            time.sleep(0.5)
            if self.web is not None and self.web.poll() is not None:
                self._say(f"the web server exited ({self.web.returncode}); stopping")
                return 1
            for number, proc in enumerate(self.workers):
                if proc.poll() is None or self.stopping:
                    continue
                delay = RESTART_BACKOFF_S[min(self.restarts[number], len(RESTART_BACKOFF_S) - 1)]
                self._say(f"worker {number} exited ({proc.returncode}); restarting in {delay}s")
                time.sleep(delay)
                self.restarts[number] += 1
                self.workers[number] = self._spawn_worker(number)
        self._say("stopping")
        return 0

    def _stop_all(self, timeout: float = 30.0) -> None:
        if self.web is not None:
            _terminate([self.web], timeout)
        _terminate(self.workers, timeout)
        if self.redis is not None:
            self.redis.stop()
            self._say("stopped")


def _terminate(procs: list[subprocess.Popen[bytes]], timeout: float) -> None:
    """SIGTERM (RQ: finish the current job; gunicorn: finish requests), then SIGKILL."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
