"""Load test: many concurrent clients against `proofcheck serve` (gunicorn + N workers +
private Redis + SQLite) on this machine. Counts lost, duplicated and failed checks,
prints throughput, submit-to-done latency percentiles, and the memory (RSS) of the web
and worker processes sampled over the run, to show whether it grows after warm-up.

    .venv/bin/python bench/load.py --checks 10000 --clients 32 --workers 2

Traffic goes only to 127.0.0.1; every loop is bounded by --checks and --timeout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import percentile, screenshot, start_serve  # noqa: E402
from proofcheck.client import ApiError, Client  # noqa: E402


def rss_by_role(server: psutil.Process) -> dict[str, float]:
    """MiB of resident memory: gunicorn processes vs RQ workers (with their horses)."""
    totals = {"web": 0.0, "workers": 0.0}
    for child in server.children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
            rss = child.memory_info().rss / 2**20
        except psutil.Error:
            continue
        if "gunicorn" in cmd:
            totals["web"] += rss
        elif "worker" in cmd:
            totals["workers"] += rss
    return totals


def wait_final(client: Client, check_ids: list[str], deadline: float) -> dict[str, str]:
    """Status of every check once final. Walks them in submission order, the order the
    queue serves them in, so each check is asked about once or a few times instead of
    thousands of unfinished checks being polled on every pass."""
    final: dict[str, str] = {}
    for check_id in check_ids:
        while time.perf_counter() < deadline:
            status = client.check(check_id)["status"]
            if status in ("done", "failed"):
                final[check_id] = status
                break
            time.sleep(0.5)
    return final


def count_rows(db_path: Path) -> dict[str, Any]:
    """Double counting and submit-to-done latencies, read from the service's database."""
    one = sqlite3.connect(str(db_path)).execute
    stamps = one("SELECT submitted_at, finished_at FROM checks "
                 "WHERE finished_at IS NOT NULL").fetchall()
    return {
        "duplicate_checks": one("SELECT count(*) - count(DISTINCT post_id) FROM checks")
        .fetchone()[0],
        "duplicate_hashes": one("SELECT count(*) FROM (SELECT check_id FROM hashes "
                                "GROUP BY check_id, algorithm HAVING count(*) > 1)")
        .fetchone()[0],
        "done_without_hash": one("SELECT count(*) FROM checks WHERE status = 'done' AND id "
                                 "NOT IN (SELECT check_id FROM hashes)").fetchone()[0],
        "latencies_s": [(dt.datetime.fromisoformat(done) - dt.datetime.fromisoformat(sent))
                        .total_seconds() for sent, done in stamps],
    }


def print_memory(samples: list[tuple[float, dict[str, float]]], elapsed: float) -> None:
    """RSS after warm-up (the first fifth of the run) against the end and the peak."""
    warm = [s for t, s in samples if t > elapsed * 0.2] or [samples[-1][1]]
    print("  RSS MiB (web / workers): after warm-up "
          f"{warm[0]['web']:.0f} / {warm[0]['workers']:.0f}, end "
          f"{samples[-1][1]['web']:.0f} / {samples[-1][1]['workers']:.0f}, max "
          f"{max(s['web'] for _, s in samples):.0f} / "
          f"{max(s['workers'] for _, s in samples):.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--distinct", type=int, default=500,
                        help="distinct images; the rest repeat them (exact duplicates)")
    parser.add_argument("--timeout", type=float, default=3 * 3600,
                        help="seconds to wait for checks to finish after submitting")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="proofcheck-load-"))
    files = []
    for seed in range(min(args.distinct, args.checks)):
        path = data_dir / f"in-{seed}.png"
        path.write_bytes(screenshot(seed))
        files.append(path)
    server, url, key = start_serve(data_dir, args.workers)
    samples: list[tuple[float, dict[str, float]]] = []
    try:
        client = Client(url, key, timeout=120)
        proc = psutil.Process(server.pid)
        lock = threading.Lock()
        next_number = [0]
        submitted: list[str] = []
        submit_ms: list[float] = []
        refused: list[str] = []
        stop = threading.Event()
        started = time.perf_counter()

        def sample() -> None:
            while not stop.is_set():
                samples.append((time.perf_counter() - started, rss_by_role(proc)))
                stop.wait(5)

        def feed() -> None:
            while True:
                with lock:
                    number = next_number[0]
                    if number >= args.checks:
                        return
                    next_number[0] += 1
                began = time.perf_counter()
                try:
                    created = client.submit([files[number % len(files)]],
                                            {"account": f"load:@{number % 97}",
                                             "post_id": str(number)},
                                            idempotency_key=f"load-{number}")
                    with lock:
                        submitted.append(created[0]["id"])
                        submit_ms.append((time.perf_counter() - began) * 1000)
                except (ApiError, OSError) as exc:
                    with lock:
                        refused.append(str(exc))

        threading.Thread(target=sample, daemon=True).start()
        feeders = [threading.Thread(target=feed) for _ in range(args.clients)]
        for thread in feeders:
            thread.start()
        for thread in feeders:
            thread.join()
        submit_done = time.perf_counter() - started
        final = wait_final(client, submitted, time.perf_counter() + args.timeout)
        elapsed = time.perf_counter() - started
        stop.set()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(120)

    counts = count_rows(data_dir / "proofcheck.db")
    latencies = counts.pop("latencies_s")
    failed = sum(1 for status in final.values() if status == "failed")
    print(f"\nload: {args.checks} checks by {args.clients} clients, {args.workers} workers, "
          f"{os.cpu_count()} cores")
    print(f"  accepted {len(submitted)}, refused {len(refused)}, final {len(final)}, "
          f"failed {failed}")
    print(f"  not final when waiting ended   {len(submitted) - len(final)} "
          f"(--timeout {args.timeout:.0f} s; lost only if the service never finishes them)")
    print(f"  duplicated check rows (post)   {counts['duplicate_checks']}")
    print(f"  duplicated signature rows      {counts['duplicate_hashes']}")
    print(f"  done checks without signature  {counts['done_without_hash']}")
    print(f"  throughput   {len(final) / elapsed:7.2f} checks/s over {elapsed:.0f} s "
          f"(submitting took {submit_done:.0f} s)")
    if submit_ms:
        print(f"  submit (HTTP)  p50 {statistics.median(submit_ms):6.0f} ms  "
              f"p95 {percentile(submit_ms, 0.95):6.0f} ms  "
              f"p99 {percentile(submit_ms, 0.99):6.0f} ms")
    if latencies:
        print(f"  submit->done   p50 {statistics.median(latencies):6.0f} s   "
              f"p95 {percentile(latencies, 0.95):6.0f} s   "
              f"p99 {percentile(latencies, 0.99):6.0f} s  (server timestamps)")
    if samples:
        print_memory(samples, elapsed)
    if refused:
        print(f"  first refusal: {refused[0]}")


if __name__ == "__main__":
    main()
