"""Does a check worker's memory settle after warm-up? Runs the check job many times in
one process and prints its resident memory as it goes.

    .venv/bin/python bench/worker_memory.py --checks 1500 --small-caches --trace

Workers run jobs in-process (`proofcheck worker` uses RQ's SimpleWorker so Tesseract's
models load once), so whatever a job leaves behind stays for the next. This runs the job
function itself (`workers.tasks.run_check`) on checks submitted to a fresh SQLite data
folder, OCR on, the uploads drawn from `bench.api.screenshot` as bench/load.py does
(500 distinct screenshots, so later checks match earlier ones as they do under load).

Some memory grows by design, and the figures separate it:
- the near-duplicate index: its key tables, descriptor votes and the item and row maps,
  per check ever checked (printed as "index", measured from the index's own arrays
  and maps);
- bounded caches (decoded signatures and OCR text summaries, 20,000 entries each) that
  fill as checks arrive. `--small-caches` caps them at 300 so they are full before the
  warm-up ends: after it, only the index may grow; anything else is a leak.
`--trace` adds tracemalloc (slower) and prints the Python heap growth after warm-up by
allocation site; RSS growth it does not explain is in C libraries (Tesseract, OpenCV).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import io
import logging
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import screenshot  # noqa: E402
from proofcheck import neardup, submission  # noqa: E402
from proofcheck.config import load_settings  # noqa: E402
from proofcheck.scoring import records  # noqa: E402
from proofcheck.services import Services  # noqa: E402
from workers import tasks  # noqa: E402

DISTINCT_UPLOADS = 500
SMALL_CACHE = 300
MIB = 2**20


def index_bytes(services: Services) -> int:
    """What the near-duplicate index holds for the checks seen: key tables, descriptor
    votes and maps."""
    nd = services.neardup
    per_entry_map = sys.getsizeof(nd._check_of_row) + sum(
        sys.getsizeof(k) + sys.getsizeof(v) for k, v in nd._check_of_row.items())
    return (nd.index.nbytes() + nd.votes.nbytes() + per_entry_map
            + sys.getsizeof(nd._row_of_item) + sum(sys.getsizeof(r) for r in nd._row_of_item))


def deep_size(obj: object) -> int:
    """Bytes of an object and what it holds (tuples, sets, dataclass fields)."""
    size = sys.getsizeof(obj)
    if isinstance(obj, (tuple, list, frozenset, set)):
        size += sum(deep_size(x) for x in obj)
    elif dataclasses.is_dataclass(obj):
        size += sum(deep_size(getattr(obj, f.name)) for f in dataclasses.fields(obj))
    return size


def cache_bytes(entries: Iterable[object]) -> tuple[int, float]:
    """Entries of a cache and their mean size in bytes (key and value)."""
    sizes = [deep_size(e) for e in entries]
    return len(sizes), statistics.fmean(sizes) if sizes else 0.0


def rest_slope(samples: list[tuple[int, float, float]]) -> float:
    """KiB per check of RSS minus the index, fitted over the samples: the endpoints
    alone swing with the allocator by +-20 MiB."""
    xs = [float(n) for n, _, _ in samples]
    ys = [r - i for _, r, i in samples]
    return statistics.linear_regression(xs, ys).slope * 1024


def run_checks(services: Services, start: int, count: int) -> list[str]:
    statuses = []
    for k in range(start, start + count):
        upload = submission.read_upload(io.BytesIO(screenshot(k % DISTINCT_UPLOADS)),
                                        f"proof-{k}.png", services.settings.max_upload_bytes)
        meta = submission.parse_meta({"account": f"load:@{k % 97}", "post_id": str(k)},
                                     services.settings.max_caption_chars)
        check = submission.submit(services, [upload], meta)[0]
        statuses.append(tasks.run_check(check.id))
    return statuses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checks", type=int, default=1500)
    ap.add_argument("--warmup", type=int, default=500,
                    help="checks before the baseline is taken (default 500)")
    ap.add_argument("--every", type=int, default=100, help="sample RSS every N checks")
    ap.add_argument("--small-caches", action="store_true",
                    help=f"cap the signature and text-summary caches at {SMALL_CACHE}")
    ap.add_argument("--trace", action="store_true", help="tracemalloc growth by site")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    if args.small_caches:
        neardup.CACHE_SIZE = records._SUMMARY_CACHE_SIZE = SMALL_CACHE

    folder = Path(tempfile.mkdtemp(prefix="pc-memory-"))
    services = Services(load_settings({"PROOFCHECK_DATA_DIR": str(folder),
                                       "PROOFCHECK_SECRET_KEY": "bench"}))
    services.migrate()
    tasks.use_services(services)
    proc = psutil.Process()
    print(f"# {args.checks} checks in one process (warm-up {args.warmup}), OCR "
          f"{'on' if services.settings.ocr else 'off'}, caches "
          f"{SMALL_CACHE if args.small_caches else neardup.CACHE_SIZE}, data in {folder}")
    print("| checks | RSS MiB | index MiB | RSS - index MiB | s per check |")
    print("|---|---|---|---|---|")
    samples: list[tuple[int, float, float]] = []
    snapshot = None
    done, failed = 0, 0
    while done < args.checks:
        step = min(args.every, args.checks - done)
        began = time.perf_counter()
        statuses = run_checks(services, done, step)
        seconds = (time.perf_counter() - began) / step
        failed += sum(s != "done" for s in statuses)
        done += step
        gc.collect()
        rss, idx = proc.memory_info().rss / MIB, index_bytes(services) / MIB
        samples.append((done, rss, idx))
        print(f"| {done} | {rss:.1f} | {idx:.2f} | {rss - idx:.1f} | {seconds:.2f} |",
              flush=True)
        if done == args.warmup and args.trace:
            tracemalloc.start(12)
            snapshot = tracemalloc.take_snapshot()

    after = [s for s in samples if s[0] >= args.warmup]
    print(f"\nchecks not done: {failed}")
    if len(after) >= 2:
        (n0, rss0, idx0), (n1, rss1, idx1) = after[0], after[-1]
        per = 1024 / (n1 - n0)
        print(f"after warm-up ({n0} -> {n1} checks): RSS {rss0:.1f} -> {rss1:.1f} MiB "
              f"({(rss1 - rss0) * per:+.2f} KiB/check), index {(idx1 - idx0) * per:+.2f} "
              f"KiB/check, the rest {((rss1 - idx1) - (rss0 - idx0)) * per:+.2f} KiB/check; "
              f"least-squares slope of RSS - index {rest_slope(after):+.2f} KiB/check; "
              f"RSS - index median {statistics.median(r - i for _, r, i in after):.1f} MiB, "
              f"range {min(r - i for _, r, i in after):.1f}-"
              f"{max(r - i for _, r, i in after):.1f}")
    for name, cache, cap in (
            ("signature", services.neardup._cache, neardup.CACHE_SIZE),
            ("text summary", records._summary_cache, records._SUMMARY_CACHE_SIZE)):
        count, mean = cache_bytes(cache.items())
        print(f"{name} cache: {count} entries of {cap}, {mean / 1024:.2f} KiB each; "
              f"{cap * mean / MIB:.0f} MiB when full")
    if snapshot is not None:
        growth = tracemalloc.take_snapshot().compare_to(snapshot, "traceback")
        total = sum(g.size_diff for g in growth)
        print(f"traced Python heap growth after warm-up: {total / MIB:+.2f} MiB "
              f"({total / 1024 / max(args.checks - args.warmup, 1):+.2f} KiB/check); "
              "largest sites:")
        for g in growth[:10]:
            ours = [f for f in g.traceback if "/proofcheck/" in f.filename
                    or "/workers/" in f.filename] or list(g.traceback)
            where = ours[-1]
            print(f"  {g.size_diff / 1024:+9.1f} KiB {g.count_diff:+7d} blocks  "
                  f"{Path(where.filename).name}:{where.lineno}  "
                  f"(allocated in {Path(g.traceback[-1].filename).name}:"
                  f"{g.traceback[-1].lineno})")


if __name__ == "__main__":
    main()
