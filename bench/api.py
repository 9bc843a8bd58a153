"""Throughput and latency through the real API: `proofcheck serve` (gunicorn, the default
worker count, a private Redis, SQLite) on this machine, fed by concurrent clients.

Prints: sustained checks/s, submit latency and submit-to-done latency (p50/p95/p99),
and, as a baseline in the same run, the pipeline alone (in-process, no HTTP/Redis/DB)
on the same images, so the ratio shows what the service around it costs.

    .venv/bin/python bench/api.py --checks 400 --clients 8
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proofcheck import pipeline  # noqa: E402
from proofcheck.client import Client  # noqa: E402
from proofcheck.redis_server import free_port  # noqa: E402


def screenshot(seed: int) -> bytes:
    """A 1080x2340 phone-screenshot-like PNG, different for every seed."""
    image = Image.new("RGB", (1080, 2340), (245, 246, 248))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1080, 90), fill=(30, 30, 30))
    for row in range(14):
        shade = (seed * 31 + row * 17) % 200
        width = 300 + (seed * 7 + row * 53) % 600
        left = 40 if row % 2 else 1040 - width
        draw.rounded_rectangle((left, 140 + row * 150, left + width, 250 + row * 150), 30,
                               fill=(shade, 140, 255 - shade))
        draw.text((left + 30, 180 + row * 150), f"message {seed}-{row}", fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def baseline(images: list[bytes]) -> float:
    """Pipeline-only checks per second on one core, same images."""
    thresholds = pipeline.Thresholds()
    started = time.perf_counter()
    for number, data in enumerate(images):
        item = pipeline.CheckInput(check_id=f"b{number}", account="bench:@a", post_id=None,
                                   posted_at=None, submitted_at=pipeline.dt.datetime.now(
                                       pipeline.dt.UTC))
        pipeline.run(data, item, lambda _sha: [], thresholds, max_pixels=50_000_000)
    return len(images) / (time.perf_counter() - started)


def start_serve(data_dir: Path, workers: int) -> tuple[subprocess.Popen[str], str, str]:
    """`proofcheck serve` on a free port with its own data folder, rate limits off;
    returns the process, its base URL and a fresh API key. Stop it with SIGTERM."""
    port = free_port()
    env = {**os.environ, "PROOFCHECK_DATA_DIR": str(data_dir),
           "PROOFCHECK_RATE_LIMIT": "1000000/minute"}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "proofcheck", "serve", "--port", str(port),
                               "--workers", str(workers)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert server.stdout is not None
    for line in server.stdout:
        if "ProofCheck is running" in line:
            break
    threading.Thread(target=lambda: [None for _ in server.stdout or []],
                     daemon=True).start()  # keep draining the log
    key = subprocess.run([sys.executable, "-m", "proofcheck", "create-api-key", "bench"],
                         env=env, capture_output=True, text=True, check=True
                         ).stdout.splitlines()[-1]
    return server, f"http://127.0.0.1:{port}", key


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="RQ workers (serve's default: 1)")
    args = parser.parse_args()

    print(f"rendering {args.checks} 1080x2340 screenshots...", flush=True)
    images = [screenshot(seed) for seed in range(args.checks)]
    base_rate = baseline(images[: min(100, len(images))])

    data_dir = Path(tempfile.mkdtemp(prefix="proofcheck-bench-"))
    server, url, key = start_serve(data_dir, args.workers)
    try:
        client = Client(url, key)
        submitted: dict[str, float] = {}
        submit_ms: list[float] = []
        lock = threading.Lock()
        work = list(enumerate(images))

        def feed() -> None:
            while True:
                with lock:
                    if not work:
                        return
                    number, data = work.pop()
                body_file = data_dir / f"in-{number}.png"
                body_file.write_bytes(data)
                started = time.perf_counter()
                created = client.submit([body_file], {"account": f"bench:@{number % 20}"})
                took = time.perf_counter() - started
                with lock:
                    submitted[created[0]["id"]] = time.perf_counter()
                    submit_ms.append(took * 1000)

        run_started = time.perf_counter()
        threads = [threading.Thread(target=feed) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        done_at: dict[str, float] = {}
        failed = 0
        while len(done_at) + failed < args.checks:
            time.sleep(0.2)
            with lock:
                pending = [c for c in submitted if c not in done_at]
            for check_id in pending:
                result = client.check(check_id)
                if result["status"] == "done":
                    done_at[check_id] = time.perf_counter()
                elif result["status"] == "failed":
                    failed += 1
                    done_at[check_id] = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - run_started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)

    latencies = [(done_at[c] - submitted[c]) * 1000 for c in done_at]
    rate = args.checks / elapsed
    print(f"\nAPI benchmark: {args.checks} checks, {args.clients} clients, {args.workers} "
          f"worker(s), {os.cpu_count()} cores")
    print(f"  sustained throughput      {rate:8.1f} checks/s   ({elapsed:.1f} s total)")
    print(f"  submit (HTTP 202)  p50 {statistics.median(submit_ms):7.1f} ms   "
          f"p95 {percentile(submit_ms, 0.95):7.1f} ms   p99 {percentile(submit_ms, 0.99):7.1f} ms")
    print(f"  submit -> done     p50 {statistics.median(latencies):7.1f} ms   "
          f"p95 {percentile(latencies, 0.95):7.1f} ms   p99 {percentile(latencies, 0.99):7.1f} ms")
    print(f"  failed checks             {failed}")
    print(f"  baseline: pipeline alone  {base_rate:8.1f} checks/s (in-process, one core)")
    print(f"  service / baseline        {rate / base_rate:8.2f}x")


if __name__ == "__main__":
    main()
