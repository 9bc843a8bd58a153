"""What a worker's start costs: the near-duplicate index caught up from the database,
with and without the keypoint sketches read and filed for descriptor votes (`votes`,
since 2026-12-05). Prints figures, asserts nothing.

A fresh SQLite database holds --checks checks, each with a signature row and a sketch
row as the worker stores them (the signatures and sketches of --distinct rendered
screenshots, `bench.api.screenshot`, repeated). `NearDuplicateIndex.catch_up` reads
them all, as a worker does when it starts; the same in the same process with the
sketches left unread (the worker before votes), alternately, --rounds times.

    .venv/bin/python bench/catch_up.py [--checks 20000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bench.api import screenshot  # noqa: E402
from bench.swap import Replacement, replaced  # noqa: E402
from proofcheck import neardup  # noqa: E402
from proofcheck.db import Check, Database, Hash, migrate  # noqa: E402
from proofcheck.features import sketch  # noqa: E402
from proofcheck.imaging import decode  # noqa: E402
from proofcheck.views import stored_signatures  # noqa: E402


def filled_database(folder: Path, checks: int, distinct: int) -> Database:
    db = Database(f"sqlite:///{folder / 'catch_up.db'}")
    migrate(db)
    rows: list[tuple[bytes, bytes]] = []
    for seed in range(distinct):
        data = screenshot(seed)
        decoded = decode(data, 10**9)
        rows.append((stored_signatures(data, 10**9, decoded).to_bytes(),
                     sketch(decoded.image).to_bytes()))
    with db.session() as session:
        for start in range(0, checks, 5000):
            numbers = range(start, min(checks, start + 5000))
            session.execute(insert(Check), [{"id": f"c_{n:08d}", "sha256": f"{n:064x}",
                                             "size_bytes": 1} for n in numbers])
            session.execute(insert(Hash), [
                {"check_id": f"c_{n:08d}", "algorithm": algorithm, "value": value}
                for n in numbers
                for algorithm, value in zip((neardup.ALGORITHM, neardup.SKETCH_ALGORITHM),
                                            rows[n % distinct], strict=True)])
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checks", type=int, default=20_000)
    ap.add_argument("--distinct", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = filled_database(Path(folder), args.checks, args.distinct)
        ways: dict[str, tuple[Replacement, ...]] = {
            "keys only (before)": ((neardup, "_sketches", lambda _session, _checks: {}),),
            "keys and votes": ()}
        times: dict[str, list[float]] = {way: [] for way in ways}
        sizes: dict[str, int] = {}
        for _round in range(args.rounds):
            for way, replacements in ways.items():
                index = neardup.NearDuplicateIndex()
                with replaced(*replacements):
                    started = time.process_time()
                    index.catch_up(db)
                    times[way].append(time.process_time() - started)
                sizes[way] = index.index.nbytes() + index.votes.nbytes()
        db.dispose()
    print(f"# catch-up of {args.checks} checks from SQLite, CPU time, median of "
          f"{args.rounds}")
    print("| way | seconds | ms per 1,000 checks | index and votes, bytes a check |")
    print("|---|---|---|---|")
    base = statistics.median(times["keys only (before)"])
    for way, measured in times.items():
        median = statistics.median(measured)
        print(f"| {way} | {median:.2f} ({median / base:.2f}x) | "
              f"{1e6 * median / args.checks:.0f} | {sizes[way] / args.checks:.0f} |")


if __name__ == "__main__":
    main()
