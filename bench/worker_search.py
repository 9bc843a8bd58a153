"""CPU and wall time of one near-duplicate search on the worker's path, against an
earlier way of doing part of it, run in the same process on the same queries:

- `--compare png` (the default): candidates' PNGs decoded by Pillow, as before
  2026-12-03, against Wuffs (`imaging._png_pixels`; libspng from 2026-12-03 to 12-05);
- `--compare samplers`: the samplers the verification used before 2026-12-02 (scipy's
  map_coordinates for blocks, numpy fancy indexing for grids) against OpenCV's remap;
- `--compare cache`: every candidate decoded from storage, as before 2026-12-03,
  against the worker's cache of candidates' grey pixels (`proofcheck/pixelcache.py`,
  emptied at the start of each round, so each round starts cold);
- `--compare pool`: the PIXEL_CHECKS nearest by keys checked on pixels, as before
  2026-12-03, against a pool of RANK_POOL read and ranked by keypoint inliers;
- `--compare sketches`: the UNSKETCHED_POOL nearest, each decoded to be ranked by
  its keypoints, as before 2026-12-05's twenty-third session, against the RANK_POOL
  nearest ranked on their stored keypoint sketches, only the chosen decoded;
- `--compare blur`: the block check's low-pass with the reduction factor it had
  before 2026-12-03's ninth session (a 1080 px screenshot blurred at full size)
  against the nearest factor to half the sampling step (reduced by 2 first);
- `--compare colour`: verification on grey levels only, as before 2026-12-03's
  eleventh session, against copies also compared in colour (`colourcheck`).
- `--compare matcher`: keypoint descriptors matched by OpenCV's brute-force matcher,
  as before 2026-12-05's twenty-fourth session, against FAISS (`hamming.two_nearest`).
- `--compare votes`: a pool of the RANK_POOL nearest by keys, as before 2026-12-05's
  twenty-eighth session, against one with up to VOTED places for the checks the
  query's keypoint descriptors vote for (`votes`); the matches may differ (that is
  what the votes are for: bench/crowded.py measures which are right).
- `--compare pool-size`: a pool of 64 with up to 16 places voted, as before 2026-12-06,
  against the RANK_POOL with up to VOTED voted now (more sketches read and ranked; the
  matches may differ, as with the votes).
- `--compare arithmetic`: the verification's arithmetic as before 2026-12-06's
  thirtieth session (the grids' mean and deviation by numpy, four passes; the blocks'
  correlations in double precision; each block's window tested sample by sample for
  lying inside the other; registration FFTs of any length) against now (OpenCV's one
  pass, single precision, an integral image, 5-smooth lengths). Same matches.
- `--compare threads`: OpenCV's own thread pool (a thread per core), as before
  2026-12-06's thirty-first session, against one thread a process (`proofcheck.opencv`).
  Same matches.
- `--compare thresholds`: each image's keypoints at its own FAST threshold, as before
  2026-12-06's thirty-fifth session, against a pair's at the lower of its two
  (`features.align`, and the sketch ranking at each stored sketch's).

    .venv/bin/python bench/worker_search.py --indexed 80 --queries 20 --rounds 3
    .venv/bin/python bench/worker_search.py --compare pool-size --postgres

Checks the load benchmark's screenshots (`bench.api.screenshot`, 1080x2340 PNGs of one
app layout) into a fresh SQLite folder (or PostgreSQL), OCR off, then searches for
`--queries` further screenshots as the worker does (`processing.near_duplicates_of`:
the index, the views, each of the 8 candidates decoded from storage and verified on
pixels). The two ways alternate round by round; the matches found must be the same.
With `--postgres` the checks are stored in a private PostgreSQL server over TCP, as
production stores them. Prints figures (CPU and wall time); asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import cv2
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image
from scipy import ndimage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api import screenshot  # noqa: E402
from bench.swap import PILLOW_PNG, Replacement, replaced  # noqa: E402
from bench.worker_memory import run_checks  # noqa: E402
from proofcheck import (  # noqa: E402
    blockmatch,
    candidates,
    features,
    hamming,
    matching,
    neardup,
    pixelmatch,
    processing,
)
from proofcheck.config import load_settings  # noqa: E402
from proofcheck.hashing import file_signatures  # noqa: E402
from proofcheck.imaging import decode  # noqa: E402
from proofcheck.pixelcache import PixelCache  # noqa: E402
from proofcheck.services import Services  # noqa: E402
from workers import tasks  # noqa: E402


def scipy_block_sample(pixels: np.ndarray, factor: int, xs: np.ndarray,
                       ys: np.ndarray) -> np.ndarray:
    """`blockmatch._sample` before 2026-12-02."""
    return ndimage.map_coordinates(pixels, [ys / factor - 0.5, xs / factor - 0.5],
                                   order=1, mode="nearest").astype(np.float64)


def numpy_grid_sample(grid: matching.Grid, xs: np.ndarray,
                      ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`matching._sample` before 2026-12-02."""
    bx, by, bw, bh = grid.box
    rows, cols = grid.pixels.shape
    u = (xs - bx) / bw * cols - 0.5
    v = (ys - by) / bh * rows - 0.5
    valid = (u >= -0.5) & (u <= cols - 0.5) & (v >= -0.5) & (v <= rows - 0.5)
    u = np.clip(u, 0, cols - 1)
    v = np.clip(v, 0, rows - 1)
    u0 = np.minimum(u.astype(np.int64), cols - 2) if cols > 1 else np.zeros_like(u, int)
    v0 = np.minimum(v.astype(np.int64), rows - 2) if rows > 1 else np.zeros_like(v, int)
    fu, fv = u - u0, v - v0
    p = grid.pixels
    u1 = np.minimum(u0 + 1, cols - 1)
    v1 = np.minimum(v0 + 1, rows - 1)
    top = p[v0, u0] * (1 - fu) + p[v0, u1] * fu
    bottom = p[v1, u0] * (1 - fu) + p[v1, u1] * fu
    return (top * (1 - fv) + bottom * fv).astype(np.float32), valid


def numpy_compare_aligned(q: matching.Grid, o: matching.Grid,
                          al: matching.Alignment) -> matching.Comparison | None:
    """`matching._compare_aligned`'s arithmetic before 2026-12-06's thirtieth session
    (numpy's statistics, `nanmean`), with the contrast bound it has had since the
    thirty-first (`matching.MAX_GAIN`), so that only the arithmetic differs."""
    rows, cols = q.pixels.shape
    _, _, bw, bh = q.box
    gx, gy = matching._cell_centres(q.box, rows, cols)
    ox, oy = matching._to_other(al, gx, gy)
    ratio = (abs(al.sx) * o.box[2] / o.pixels.shape[1]) / (bw / cols)
    qpix = q.pixels
    if ratio > 1.1:
        qpix = ndimage.gaussian_filter(qpix, 0.5 * np.sqrt(ratio * ratio - 1), mode="nearest")
    elif ratio < 0.9:
        o = matching.Grid(ndimage.gaussian_filter(o.pixels, 0.5 * np.sqrt(1 / ratio**2 - 1),
                                                  mode="nearest"), o.box)
    other, valid = matching._sample(o, ox, oy)
    n = int(valid.sum())
    if n < 16:
        return None
    a = qpix[valid]
    b = other[valid]
    sa, sb = float(a.std()), float(b.std())
    gain = sa / sb if sb > 1e-3 and sa > 1e-3 else 1.0
    b = (b - b.mean()) * min(max(gain, 1.0 / matching.MAX_GAIN), matching.MAX_GAIN) + a.mean()
    diff = np.full(q.pixels.shape, np.nan, dtype=np.float32)
    diff[valid] = np.abs(a - b)
    cov_q = n / valid.size
    cov_o = min(1.0, n * (bw / cols) * (bh / rows) / abs(al.sx * al.sy) / (o.box[2] * o.box[3]))
    return matching.Comparison(diff, float(np.nanmean(diff)), cov_q, cov_o, al)


def every_sample_inside(inside: np.ndarray, top: np.ndarray, left: np.ndarray,
                        size: int) -> np.ndarray:
    """`blockmatch._all_inside` before 2026-12-06's thirtieth session."""
    return sliding_window_view(inside, (size, size))[top][:, left].all(axis=(2, 3))


Way = Callable[[], Callable[[], None]]  # switches a way on; returns what switches it off


def as_it_is() -> Callable[[], None]:
    """The way the code is now."""
    return lambda: None


def swapped(*replacements: Replacement) -> Way:
    """The way in which each (module, name, value) has that value instead of its own."""
    def use() -> Callable[[], None]:
        stack = ExitStack()
        stack.enter_context(replaced(*replacements))
        return stack.close
    return use


def png_decoders() -> dict[str, Way]:
    return {"before (Pillow decodes PNG)": swapped(PILLOW_PNG),
            "now (Wuffs)": as_it_is}


def samplers() -> dict[str, Way]:
    return {"before (scipy map_coordinates, numpy indexing)": swapped(
                (blockmatch, "_sample", scipy_block_sample),
                (matching, "_sample", numpy_grid_sample)),
            "now (OpenCV remap)": as_it_is}


def pixel_caches(services: Services) -> dict[str, Way]:
    budget = services.settings.pixel_cache_bytes

    def using(cache_bytes: int) -> Way:
        def use() -> Callable[[], None]:
            cache = services.candidate_pixels = PixelCache(cache_bytes)

            def report() -> None:
                if cache_bytes:
                    print(f"cache of {cache_bytes >> 20} MB: {cache.hits} hits, "
                          f"{cache.misses} misses, {cache.bytes_held >> 20} MB held")
            return report
        return use

    return {"before (every candidate decoded)": using(0),
            f"now ({budget >> 20} MB of grey pixels kept)": using(budget)}


def candidate_pools() -> dict[str, Way]:
    nearest = candidates.PIXEL_CHECKS
    return {"before (the nearest by keys)": swapped((candidates, "RANK_POOL", nearest),
                                                    (neardup, "RANK_POOL", nearest)),
            f"now (a pool of {candidates.RANK_POOL} ranked by inliers)": as_it_is}


def sketch_pools() -> dict[str, Way]:
    pool = candidates.UNSKETCHED_POOL
    return {f"before (the {pool} nearest, each decoded to be ranked)": swapped(
                (candidates, "RANK_POOL", pool), (neardup, "RANK_POOL", pool),
                (neardup, "_sketches", lambda db, checks: {})),
            f"now (the {candidates.RANK_POOL} nearest ranked on stored sketches)": as_it_is}


def full_size_low_pass(image: Image.Image, step: float) -> tuple[np.ndarray, int]:
    """`blockmatch._low_passed` before 2026-12-03's ninth session."""
    factor = max(1, int(step // 2))
    sigma = round(max(blockmatch.MIN_SIGMA, 0.5 * step) / factor, 2)
    return blockmatch._blurred(image, factor, sigma), factor


def low_passes() -> dict[str, Way]:
    return {"before (blurred at full size)": swapped(
                (blockmatch, "_low_passed", full_size_low_pass)),
            "now (reduced by 2, then blurred)": as_it_is}


def colour_checks() -> dict[str, Way]:
    return {"before (grey levels only)": swapped(
                (pixelmatch, "_colour_checked", lambda verdict, *_args: verdict)),
            "now (copies checked in colour)": as_it_is}


def opencv_two_nearest(query: np.ndarray, stored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`hamming.two_nearest` as OpenCV's matcher gave it before 2026-12-05."""
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(query, stored, k=2)
    distances = np.array([[p[0].distance, p[1].distance if len(p) == 2 else 2**31 - 1]
                          for p in pairs], dtype=np.int32).reshape(-1, 2)
    rows = np.array([[p[0].trainIdx, p[1].trainIdx if len(p) == 2 else -1] for p in pairs],
                    dtype=np.int64).reshape(-1, 2)
    return distances, rows


def matchers() -> dict[str, Way]:
    return {"before (OpenCV's BFMatcher)": swapped((hamming, "two_nearest", opencv_two_nearest)),
            "now (FAISS)": as_it_is}


def voted_pools() -> dict[str, Way]:
    return {"before (the pool by keys alone)": swapped((candidates, "VOTED", 0),
                                                       (neardup, "VOTED", 0)),
            f"now (up to {candidates.VOTED} places voted)": as_it_is}


def pool_sizes() -> dict[str, Way]:
    return {"before (a pool of 64, up to 16 voted)": swapped(
                (candidates, "RANK_POOL", 64), (neardup, "RANK_POOL", 64),
                (candidates, "VOTED", 16), (neardup, "VOTED", 16)),
            f"now (a pool of {candidates.RANK_POOL}, up to {candidates.VOTED} voted)": as_it_is}


def arithmetic() -> dict[str, Way]:
    return {"before (numpy statistics, double precision, windows tested sample by sample, "
            "FFTs of any length)": swapped(
                (matching, "_compare_aligned", numpy_compare_aligned),
                (matching, "_fft_length", lambda extent: extent),
                (blockmatch, "CORRELATION_DTYPE", np.float64),
                (blockmatch, "_all_inside", every_sample_inside)),
            "now (OpenCV statistics, single precision, an integral image, 5-smooth FFTs)":
                as_it_is}


def opencv_threads() -> dict[str, Way]:
    def threads(count: int) -> Way:
        def use() -> Callable[[], None]:
            before = cv2.getNumThreads()
            cv2.setNumThreads(count)
            return lambda: cv2.setNumThreads(before)
        return use

    cores = os.cpu_count() or 1  # OpenCV's pool unless told otherwise: a thread per core
    return {f"before (OpenCV's own pool, {cores} threads)": threads(cores),
            "now (one thread, `proofcheck.opencv`)": threads(1)}


def corner_thresholds() -> dict[str, Way]:
    return {"before (each image at its own threshold)": swapped(
                (features, "_at_most", lambda _image, found, _threshold: found)),
            "now (a pair at the lower of its two)": as_it_is}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--indexed", type=int, default=80, help="checks indexed before searching")
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compare", default="png", choices=(
        "png", "samplers", "cache", "pool", "sketches", "blur", "colour", "matcher",
        "votes", "pool-size", "arithmetic", "threads", "thresholds"))
    ap.add_argument("--postgres", action="store_true",
                    help="store the checks in a private PostgreSQL server started for the "
                         "run (Debian's binaries, as the tests start it), not SQLite")
    ap.add_argument("--verbose", action="store_true", help="print the matches that differ")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="pc-search-"))
    env = {"PROOFCHECK_DATA_DIR": str(folder), "PROOFCHECK_SECRET_KEY": "bench",
           "PROOFCHECK_OCR": "0"}
    with ExitStack() as cleanup:
        if args.postgres:
            from tests.postgres_server import PostgresServer

            # Its own folder: as root the server runs as `postgres`, which cannot
            # enter this run's private one.
            server = PostgresServer(Path(tempfile.mkdtemp(prefix="pc-search-pg-"))).start()
            cleanup.callback(server.stop)
            env["DATABASE_URL"] = server.url
        search(args, Services(load_settings(env)))


def search(args: argparse.Namespace, services: Services) -> None:
    services.migrate()
    tasks.use_services(services)
    run_checks(services, 0, args.indexed)
    queries = []
    for k in range(args.indexed, args.indexed + args.queries):
        data = screenshot(k)
        decoded = decode(data, services.settings.max_pixels)
        queries.append((file_signatures(data, services.settings.max_pixels, decoded), decoded))

    ways = {"png": png_decoders, "samplers": samplers,
            "cache": lambda: pixel_caches(services), "pool": candidate_pools,
            "sketches": sketch_pools,
            "blur": low_passes, "colour": colour_checks, "matcher": matchers,
            "votes": voted_pools, "pool-size": pool_sizes,
            "arithmetic": arithmetic, "threads": opencv_threads,
            "thresholds": corner_thresholds}[args.compare]()
    times: dict[str, list[float]] = {name: [] for name in ways}
    walls: dict[str, list[float]] = {name: [] for name in ways}
    found: dict[str, list[list[tuple[str, str]]]] = {}
    for _ in range(args.rounds):
        for name, use in ways.items():
            restore = use()
            started, wall = time.process_time(), time.perf_counter()
            results = [processing.near_duplicates_of(services, set(), sig, dec)
                       for sig, dec in queries]
            times[name].append((time.process_time() - started) / len(queries) * 1000)
            walls[name].append((time.perf_counter() - wall) / len(queries) * 1000)
            restore()
            found[name] = [[(s.check_id, v.relation) for s, v in r] for r in results]
    store = "PostgreSQL" if services.settings.database_url.startswith("postgresql") \
        else "SQLite"
    print(f"# near-duplicate search, {args.queries} queries against {args.indexed} indexed "
          f"checks of one app layout ({store}), ms per search, {args.rounds} alternating "
          "rounds; wall time includes the database's reads, CPU time only this process's")
    print(f"| {args.compare} | CPU per round | CPU median | wall median |\n|---|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {' / '.join(f'{v:.0f}' for v in values)} | "
              f"{statistics.median(values):.0f} | {statistics.median(walls[name]):.0f} |")
    before, now = (statistics.median(v) for v in times.values())
    wall_before, wall_now = (statistics.median(v) for v in walls.values())
    first, last = found.values()
    differ = sum(a != b for a, b in zip(first, last, strict=True))
    dup_differ = sum([m for m in a if m[1] in matching.DUPLICATE_RELATIONS]
                     != [m for m in b if m[1] in matching.DUPLICATE_RELATIONS]
                     for a, b in zip(first, last, strict=True))
    if args.verbose:
        for k, (a, b) in enumerate(zip(first, last, strict=True)):
            if a != b:
                print(f"query {k}: {a}\n      -> {b}")
    print(f"ratio now / before: CPU {now / before:.2f}, wall {wall_now / wall_before:.2f}; "
          f"queries whose matches differ: {differ} (duplicates: {dup_differ}) of {len(first)}")


if __name__ == "__main__":
    main()
