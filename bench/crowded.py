"""Recall where the index is crowded: copies of the bench's rendered screenshots searched
among many more screenshots of the same messengers and banks. Prints figures, asserts
nothing.

bench/duplicates.py holds 260 originals, 10 of each app or bank: the KEY_FIRST
candidates taken by key distance nearly always hold the original, and the pool of
RANK_POOL nearest by keys always does. A service that has seen many shops' proof holds
hundreds of chats of each messenger, near one another by keys (status bars, app bars,
blank backgrounds). Here the 60 rendered originals (chats of three messengers, receipts
of three banks; `bench/build_dataset.py`) are indexed with `--distractors` more of the
same styles (other seeds), and each original's copies (`bench/duplicates.py`'s
transforms) are searched as the worker searches: the RANK_POOL nearest by keys,
PIXEL_CHECKS of them chosen by keys and stored sketches and verified on pixels. Per
transform: how many originals are in the pool, found (called a duplicate), and how
many other screenshots (distractors, or the other originals) are called duplicates, for
two pools in the same process:

- keys: the RANK_POOL nearest by keys, as the worker's search;
- keys + votes: the worker's pool since 2026-12-05 (`candidates.pool_of`): up to VOTED
  images with the most votes of the query's ORB descriptors in an inverted index of
  the stored sketches (`votes.DescriptorVotes`) and the nearest by keys, RANK_POOL in
  all; candidates alike in sketch inliers are checked most voted first (2026-12-06).

    .venv/bin/python bench/crowded.py [--distractors 600] [--transforms crop_60,rescreenshot]
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.build_dataset import APP_STYLES, BANKS, render_chat, render_receipt  # noqa: E402
from bench.duplicates import (  # noqa: E402
    DATA,
    TRANSFORMS,
    _index_of,
    _png_bytes,
    _votes_of,
    copy_of,
    style_of,
)
from proofcheck import candidates, features  # noqa: E402
from proofcheck.candidates import RANK_POOL, pool_of, verify_candidates  # noqa: E402
from proofcheck.hashing import Signatures, compute_signatures, file_signatures  # noqa: E402
from proofcheck.imaging import DecodedImage, decode  # noqa: E402
from proofcheck.matching import SEARCH_RADIUS  # noqa: E402
from proofcheck.views import query_views, with_straightened  # noqa: E402

DEFAULT_TRANSFORMS = "jpeg_q70,crop_60,rotate_5,caption_bar,sticker,rescreenshot,local_edit_10"


def distractor(k: int) -> bytes:
    """The k-th screenshot of the crowd: chats and receipts of the bench's styles in
    turn, with seeds the data set does not use (its own are 1000+ and 2000+)."""
    styles = [("chat", s) for s in APP_STYLES] + [("receipt", b) for b in BANKS]
    kind, style = styles[k % len(styles)]
    image = render_chat(5000 + k, style) if kind == "chat" else render_receipt(7000 + k, style)
    return _png_bytes(image)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--distractors", type=int, default=600)
    ap.add_argument("--transforms", default=DEFAULT_TRANSFORMS)
    ap.add_argument("--sketch-size", type=int, default=features.SKETCH_KEYPOINTS,
                    help="keypoints in each stored sketch")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--voted", type=int, default=candidates.VOTED,
                    help="the pool's places for voted images (candidates.VOTED)")
    args = ap.parse_args()
    started = time.time()
    paths = [p for p in sorted((DATA / "originals").iterdir()) if style_of(p.stem)]
    if not paths:
        raise SystemExit("no images: run bench/build_dataset.py first")
    stored = [p.read_bytes() for p in paths]
    stored += [distractor(k) for k in range(args.distractors)]
    signatures: list[Signatures] = []
    sketches: list[features.Sketch] = []
    for data in stored:
        decoded = decode(data, 10**9)
        signatures.append(with_straightened(file_signatures(data, 10**9, decoded), decoded))
        found = features._keypoints(decoded.image)
        sketches.append(features._strongest(decoded.image, found, args.sketch_size,
                                            features.SKETCH_SPREAD))
    index = _index_of(signatures)
    votes = _votes_of(sketches, args.sketch_size)

    @lru_cache(maxsize=16)
    def load_image(item: int) -> DecodedImage:
        return decode(stored[item], 10**9)

    print(f"# {len(paths)} rendered originals among {args.distractors} more screenshots of "
          f"their apps and banks (indexed in {time.time() - started:.0f} s); pools of "
          f"{RANK_POOL} at radius {SEARCH_RADIUS}, sketches of {args.sketch_size}")
    candidates.VOTED = args.voted  # what pool_of reads
    ways = ("keys", f"keys + {args.voted} by votes")
    print("| transform | " + " | ".join(f"{w}: original in the pool | found | others "
                                          f"called duplicates" for w in ways) + " |")
    print("|---|" + "---|---|---|" * len(ways))
    totals = [0] * (3 * len(ways))
    for name in TRANSFORMS:
        if name not in args.transforms.split(","):
            continue
        row = [0] * (3 * len(ways))
        for qi, path in enumerate(paths):
            original = decode(stored[qi], 10**9).image
            copy = copy_of(name, original, qi, path.stem, args.seed)
            query = decode(_png_bytes(copy), 10**9)
            views = query_views(compute_signatures(query), query)
            keys, key_views = views.search_keys()
            by_keys = [item for item, _d in index.search_many(keys, SEARCH_RADIUS, RANK_POOL,
                                                               key_views)]
            asked = features.query_sketch(query.image).descriptors
            voted = [item for item, _votes in votes.top(asked, args.voted)]
            for k, pool in enumerate((by_keys, pool_of(by_keys, voted))):
                verdicts = verify_candidates(views, [(item, signatures[item]) for item in pool],
                                             load_image, sketches.__getitem__,
                                             voted if k else ())
                row[3 * k] += qi in pool
                row[3 * k + 1] += any(item == qi and v.is_duplicate for item, v in verdicts)
                row[3 * k + 2] += sum(item != qi and v.is_duplicate for item, v in verdicts)
        totals = [t + r for t, r in zip(totals, row, strict=True)]
        print(f"| {name} | " + " | ".join(str(v) for v in row) + " |", flush=True)
    print("| **all** | " + " | ".join(f"**{v}**" for v in totals) + " |")
    print(f"\n{len(paths)} copies per transform; {time.time() - started:.0f} s in all")


if __name__ == "__main__":
    main()
