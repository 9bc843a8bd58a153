"""A 10,000-item zip batch through the API: time to accept it and the web process's peak
Python memory while it streams the archive in, then (optionally) time to process it.

    .venv/bin/python bench/batch_scale.py --items 10000 [--process]

Uses the Flask test client in this process (no HTTP), a real Redis and SQLite; OCR off,
since the point is the batch machinery, not the per-image stages.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proofcheck import create_app  # noqa: E402
from proofcheck.apikeys import create_key  # noqa: E402
from proofcheck.config import Settings  # noqa: E402
from proofcheck.redis_server import RedisServer  # noqa: E402
from workers.runner import make_worker  # noqa: E402


def tiny_png(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (48, 64), tuple(rng.randrange(256) for _ in range(3)))
    image.putpixel((rng.randrange(48), rng.randrange(64)), (0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--process", action="store_true", help="also run the worker")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="proofcheck-batch-"))
    redis = RedisServer(work / "redis", persist=False).start()
    try:
        settings = Settings(data_dir=work / "data",
                            database_url=f"sqlite:///{work / 'data' / 'db.sqlite'}",
                            redis_url=redis.url, secret_key="bench", ocr=False,
                            rate_limit="1000000/minute")
        app = create_app(settings)
        services = app.extensions["proofcheck"]
        key = create_key(services.db, "bench")[1]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
            items = []
            for n in range(args.items):
                z.writestr(f"img{n:05d}.png", tiny_png(n))
                items.append({"filename": f"img{n:05d}.png", "account": f"bench:@{n % 50}"})
            z.writestr("manifest.json", json.dumps({"items": items}))
        size = archive.tell()
        archive.seek(0)
        tracemalloc.start()
        started = time.perf_counter()
        response = app.test_client().post(
            "/api/v1/batches", headers={"Authorization": f"Bearer {key}"},
            data={"archive": (archive, "batch.zip")}, content_type="multipart/form-data")
        accept_s = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        body = response.get_json()
        print(f"batch of {args.items} items, archive {size / 1e6:.1f} MB")
        print(f"  answer {response.status_code}, total {body.get('total')}, "
              f"accepted in {accept_s:.1f} s ({args.items / accept_s:.0f} items/s)")
        print(f"  peak traced Python memory while accepting: {peak / 2**20:.1f} MiB "
              f"(the archive itself: {size / 2**20:.1f} MiB)")
        if args.process:
            started = time.perf_counter()
            make_worker(services, simple=True).work(burst=True, with_scheduler=False)
            done = app.test_client().get(body["url"], headers={"Authorization": f"Bearer {key}"})
            batch = done.get_json()
            took = time.perf_counter() - started
            print(f"  processed: status {batch['status']}, done {batch['done']}, failed "
                  f"{batch['failed']} in {took:.0f} s ({args.items / took:.1f} checks/s)")
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
