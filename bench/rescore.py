"""How long re-scoring an account takes after one new check, by account size, with the
trained model and with the rule engine, measured in the same run.

    .venv/bin/python bench/rescore.py [--model DIR] [--sizes 10,100,300] [--repeats 5]

A fresh SQLite data folder (OCR off, no Redis) gets a 20-post "source" account and one
account per size; 5% of its posts copy a source image (stolen), 5% repeat an earlier own
post, and its last post repeats its first, so the rule engine has a match to re-judge
and the model re-scores only this account. Timed per account, checks all done:
`rescore_after_check(last, model)`, then `rescore_by_rules(last)` (what it does without
a model). Each one's first call is reported apart: the accounts were built without
re-scoring, so it writes every changed row; the repeats write only the account's row.
The model's first prediction is paid on a throwaway account first. For scale: the
check's own `process_check` (no re-score). Wall time; prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import io
import itertools
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proofcheck.config import Settings  # noqa: E402
from proofcheck.db import Account, Check  # noqa: E402
from proofcheck.processing import process_check  # noqa: E402
from proofcheck.scoring.model import latest_model_dir, load  # noqa: E402
from proofcheck.scoring.rescore import rescore_after_check, rescore_by_rules  # noqa: E402
from proofcheck.services import Services  # noqa: E402
from proofcheck.submission import CheckMeta, Upload, submit  # noqa: E402

SOURCE_POSTS = 20
START = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def screenshot(seed: int) -> bytes:
    """A 360x640 screenshot-like PNG (coloured blocks, lines of text); every seed gives
    a different layout, so only deliberate copies match."""
    rng = random.Random(seed)
    image = Image.new("RGB", (360, 640), tuple(rng.randrange(150, 256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(330), rng.randrange(610)
        box = (x, y, x + rng.randrange(20, 200), y + rng.randrange(15, 180))
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.rectangle if rng.random() < 0.6 else draw.ellipse)(box, fill=colour)
    for line in range(6):
        draw.text((20, 40 + 90 * line), f"transfer {rng.randrange(10**6):,} #{seed}",
                  fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def post(services: Services, account: str, data: bytes, post_id: str,
         days: int) -> tuple[str, float]:
    """Submit and process one post without re-scoring (timed apart); its check id and
    `process_check`'s ms."""
    meta = CheckMeta(account=account, post_id=post_id,
                     posted_at=START + dt.timedelta(days=days))
    check_id = submit(services, [Upload(f"{post_id}.png", data)], meta)[0].id
    began = time.perf_counter()
    if process_check(services, check_id, rescore=False) != "done":
        raise SystemExit(f"check {check_id} of {account} did not finish")
    return check_id, 1000 * (time.perf_counter() - began)


def build_account(services: Services, size: int, sources: list[bytes],
                  seeds: Iterator[int]) -> str:
    """An account of `size` done posts, one a day; its last post's check id."""
    rng, last = random.Random(size), ""
    own: list[bytes] = []
    for i in range(size):
        if i and i == size - 1:
            data = own[0]  # a fresh image: a source copy would pull in the source account
        elif i % 20 == 19:
            data = own[rng.randrange(len(own))]
        elif i % 20 == 9:
            data = sources[rng.randrange(len(sources))]
        else:
            data = screenshot(next(seeds))
        own.append(data)
        last = post(services, f"bench:@size{size}", data, f"s{size}-{i}", days=i)[0]
    return last


def scored_by(services: Services, size: int, version: str) -> int:
    """How many posts of the size's account carry `version`'s score."""
    with services.db.session() as session:
        return session.scalar(select(func.count()).select_from(Check).join(Account).where(
            Account.name == f"bench:@size{size}", Check.model_version == version)) or 0


def timed(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(first call ms, median ms of the next `repeats`; NaN without repeats)."""
    ms = []
    for _ in range(repeats + 1):
        began = time.perf_counter()
        call()
        ms.append(1000 * (time.perf_counter() - began))
    return ms[0], statistics.median(ms[1:]) if repeats else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, help="model folder (default: the newest one)")
    ap.add_argument("--sizes", default="10,100,300", help="account sizes, in posts")
    ap.add_argument("--repeats", type=int, default=5, help="timed calls after the first")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # "stored but not queued": there is no Redis here
    folder = args.model or latest_model_dir()
    if folder is None or not (folder / "model.joblib").is_file():
        raise SystemExit(f"no trained model in {folder or 'models/'}: train one "
                         "(proofcheck train) or pass --model DIR")
    model = load(folder)
    sizes = [int(s) for s in args.sizes.split(",")]

    data_dir = Path(tempfile.mkdtemp(prefix="pc-rescore-"))
    services = Services(Settings(data_dir=data_dir, redis_url=None, secret_key="bench",
                                 database_url=f"sqlite:///{data_dir / 'bench.db'}",
                                 ocr=False))  # OCR off: building stays fast
    services.migrate()
    seeds = itertools.count(1)
    began = time.perf_counter()
    sources = [screenshot(next(seeds)) for _ in range(SOURCE_POSTS)]
    for i, data in enumerate(sources):  # posted before every account that copies them
        post(services, "bench:@source", data, f"src-{i}", days=i - 400)
    lasts = {size: build_account(services, size, sources, seeds) for size in sizes}
    print(f"# model {model.version}; {SOURCE_POSTS + sum(sizes)} checks built in "
          f"{time.perf_counter() - began:.0f} s, OCR off, SQLite in {data_dir}")

    # The check's own cost, for scale: new posts of a throwaway account.
    checked = [post(services, "bench:@reference", screenshot(next(seeds)), f"ref{i}", i)
               for i in range(5)]
    check_id, own_ms = checked[-1][0], [ms for _, ms in checked]
    warm_ms, _ = timed(functools.partial(rescore_after_check, services, check_id, model), 0)
    print(f"process_check of a new check (OCR off, no re-score): median "
          f"{statistics.median(own_ms):.0f} ms over {len(own_ms)}; model warm-up "
          f"(first re-score, a 5-post account): {warm_ms:.0f} ms")

    print(f"\nre-score after the last check, median of {args.repeats} (first call apart)")
    print("| posts | model first ms | model ms | rules first ms | rules ms | model/rules "
          "| model ms/post |")
    print("|---|---|---|---|---|---|---|")
    for size in sizes:
        last = lasts[size]
        # Model first: the rule engine would write its own scores back over the model's.
        m_first, m_ms = timed(functools.partial(rescore_after_check, services, last, model),
                              args.repeats)
        scored = scored_by(services, size, model.version)
        if scored != size:  # rescore_after_check logs a failure and carries on
            raise SystemExit(f"only {scored} of {size} posts carry the model's score")
        r_first, r_ms = timed(functools.partial(rescore_by_rules, services, last),
                              args.repeats)
        print(f"| {size} | {m_first:.1f} | {m_ms:.1f} | {r_first:.1f} | {r_ms:.1f} | "
              f"{m_ms / r_ms:.1f}x | {m_ms / size:.2f} |", flush=True)
    services.db.dispose()


if __name__ == "__main__":
    main()
