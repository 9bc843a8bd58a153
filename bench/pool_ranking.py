"""How well stored keypoint sketches rank a search's pool: does the original beat every
other candidate? Prints figures, asserts nothing.

bench/duplicates.py cannot show this: with its 260 originals the KEY_FIRST candidates
taken by key distance nearly always hold the original, so the sketch ranking rarely
decides. In a crowded index (same-app screenshots filling those places) it picks the
original. Per transform, over the copies whose original is in the pool of RANK_POOL
(`bench/duplicates.py`'s copies, seed 1): how many originals have more sketch inliers
than every other candidate, and how many reach MIN_INLIERS, for the way it is done now
and for earlier ways run in the same process:

- sketches of the 256 strongest by response alone (before 2026-12-05), one RANSAC fit
  (a fit collapsing the other onto one spot counted as inliers);
- each of those two changes alone.

    .venv/bin/python bench/pool_ranking.py [--limit N] [--transforms rescreenshot,crop_60]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.duplicates import DATA, _index_of, _png_bytes, copy_of  # noqa: E402
from bench.swap import replaced  # noqa: E402
from proofcheck import features, hamming  # noqa: E402
from proofcheck.candidates import RANK_POOL  # noqa: E402
from proofcheck.hashing import compute_signatures, file_signatures  # noqa: E402
from proofcheck.imaging import decode  # noqa: E402
from proofcheck.matching import SEARCH_RADIUS  # noqa: E402
from proofcheck.views import query_views, with_straightened  # noqa: E402

DEFAULT_TRANSFORMS = "rescreenshot,caption_bar,crop_60,rotate_5,sticker"


def _by_response(image: Image.Image) -> features.Sketch:
    """A sketch as stored before 2026-12-05: the strongest by ORB's response alone."""
    found = features._keypoints(image)
    if found is None:
        return features.sketch(image)  # the empty sketch
    strongest = np.argsort(-found.responses, kind="stable")[:features.SKETCH_KEYPOINTS]
    return features.Sketch(max(image.size), found.points[strongest], found.descriptors[strongest])


def _one_fit(q_points: np.ndarray, q_descriptors: np.ndarray, o_points: np.ndarray,
             o_descriptors: np.ndarray, query_side: int) -> tuple[np.ndarray, int] | None:
    """`features._fit` before 2026-12-05: RANSAC's first fit, whatever its scale."""
    distances, rows = hamming.two_nearest(o_descriptors, q_descriptors)
    good = (rows[:, 1] >= 0) & (distances[:, 0] < features.RATIO * distances[:, 1])
    if int(good.sum()) < features.MIN_INLIERS:
        return None
    matrix, inliers = cv2.estimateAffinePartial2D(
        o_points[good], q_points[rows[good, 0]], method=cv2.RANSAC,
        ransacReprojThreshold=features.REPROJECTION_PX * query_side / features.SIDE)
    if matrix is None or inliers is None or int(inliers.sum()) < features.MIN_INLIERS:
        return None
    return matrix, int(inliers.sum())


# name -> (how a stored sketch is made, the fit's replacement or None for today's)
WAYS: dict[str, tuple[Callable[[Image.Image], features.Sketch], object]] = {
    "before: by response, one fit": (_by_response, _one_fit),
    "each level's share, one fit": (features.sketch, _one_fit),
    "by response, collapsed fits set aside": (_by_response, None),
    "now: each level's share, collapsed fits set aside": (features.sketch, None),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=0, help="use at most N originals (0 = all)")
    ap.add_argument("--transforms", default=DEFAULT_TRANSFORMS, help="comma list")
    ap.add_argument("--seed", type=int, default=1, help="bench/duplicates.py's copies")
    args = ap.parse_args()
    paths = sorted((DATA / "originals").iterdir())
    if not paths:
        raise SystemExit("no images: run bench/build_dataset.py first")
    if args.limit:
        rng = random.Random(args.seed)
        rng.shuffle(paths)
        paths = sorted(paths[: args.limit])
    names = [p.stem for p in paths]
    stored = [p.read_bytes() for p in paths]
    decoded = [decode(b, 10**9) for b in stored]
    index = _index_of([with_straightened(file_signatures(b, 10**9), d)
                       for b, d in zip(stored, decoded, strict=True)])
    sketches = {way: [make(d.image) for d in decoded] for way, (make, _fit) in WAYS.items()}

    print(f"# {len(paths)} originals; pools of {RANK_POOL} at radius {SEARCH_RADIUS}")
    print("| transform | copies with the original in the pool | "
          + " | ".join(f"{way}: first / >= {features.MIN_INLIERS} inliers" for way in WAYS)
          + " |")
    print("|---|---|" + "---|" * len(WAYS))
    totals = {way: [0, 0] for way in WAYS}
    in_pool_total = 0
    for tname in args.transforms.split(","):
        counts = {way: [0, 0] for way in WAYS}
        in_pool = 0
        for qi, original in enumerate(decoded):
            copy = copy_of(tname, original.image.convert("RGB"), qi, names[qi], args.seed)
            query = decode(_png_bytes(copy), 10**9)
            keys, key_views = query_views(compute_signatures(query), query).search_keys()
            pool = [item for item, _d in index.search_many(keys, SEARCH_RADIUS, RANK_POOL,
                                                           key_views)]
            if qi not in pool:
                continue
            in_pool += 1
            query_sketch = features.query_sketch(query.image)
            for way, (_make, fit) in WAYS.items():
                swap = [(features, "_fit", fit)] if fit is not None else []
                with replaced(*swap):
                    inliers = {item: features.sketch_inliers(query_sketch, sketches[way][item])
                               for item in pool}
                mine = inliers.pop(qi)
                counts[way][0] += mine > max(inliers.values(), default=0)
                counts[way][1] += mine >= features.MIN_INLIERS
        in_pool_total += in_pool
        for way in WAYS:
            totals[way][0] += counts[way][0]
            totals[way][1] += counts[way][1]
        print(f"| {tname} | {in_pool} | "
              + " | ".join(f"{first} / {enough}" for first, enough in counts.values()) + " |",
              flush=True)
    print(f"| **all** | {in_pool_total} | "
          + " | ".join(f"**{first}** / {enough}" for first, enough in totals.values()) + " |")


if __name__ == "__main__":
    main()
