"""Could the candidate stage come from an inverted index of keypoint descriptors instead
of a scan of hash keys? Prints figures, asserts nothing.

The engine's candidates are the images with a 64-bit key within 16 bits of one of the
query's: a scan at any scale (bench/duplicates.py --scale-images: 2.2 s a query at 10^6
images, 58 s at 10^7). The textbook way to a sub-linear search for re-framed copies is
an inverted index of local features. This measures the simplest that needs no trained
vocabulary: each stored sketch's ORB descriptors (`features.sketch`, 256 an image)
filed under BITS of their 256 bits (bit-sampling LSH, one table), buckets held by more
than a share of the images dropped as too common (a stop list), and every query
descriptor (all of `features._keypoints`, up to 1,000) voting for the images filed in
its bucket. Over `bench/duplicates.py`'s originals and copies (seed 1), per transform:
how often the original gets the most votes, its votes, a stranger's mean votes; and
what a query would gather at 10^7 images: every vote is a posting read, and a stranger
gets its mean votes at any scale, so 10^7 x that mean postings, timed here as a numpy
gather and count of that many random postings.

The worker files its sketches so since 2026-12-05 (`proofcheck.votes`: these 24 bits,
votes weighed by rarity, a 20% stop list); this bench keeps its own filing, votes
counted, to try other widths and stop lists.

    .venv/bin/python bench/descriptor_votes.py [--bits 24] [--stop 0.02,0.005]

`--scale 100000,1000000` instead measures the worker's `votes.DescriptorVotes` itself
at those sizes, filled with random descriptors (as many postings an image as a real
sketch, but buckets shared far less: lookups here are a floor, memory is not): bytes
an image, and the median CPU time of a lookup of 1,000 random descriptors.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.duplicates import DATA, TRANSFORMS, _png_bytes, copy_of  # noqa: E402
from proofcheck import features  # noqa: E402
from proofcheck.imaging import decode  # noqa: E402
from proofcheck.votes import DescriptorVotes  # noqa: E402

DEFAULT_TRANSFORMS = "jpeg_q70,crop_60,rotate_5,caption_bar,rescreenshot,sticker,local_edit_10"
AT_SCALE = 10**7


def bucket_ids(descriptors: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Each descriptor's bucket: the chosen bits of its 256, packed."""
    chosen = np.unpackbits(descriptors, axis=1)[:, bits].astype(np.int64)
    return chosen @ (1 << np.arange(len(bits), dtype=np.int64))


def inverted_index(buckets: list[np.ndarray], stop: float) -> dict[int, np.ndarray]:
    """Bucket -> the images filed there, once each; buckets of more than `stop` of the
    images dropped."""
    filed: dict[int, set[int]] = {}
    for item, ids in enumerate(buckets):
        for bucket in ids.tolist():
            filed.setdefault(bucket, set()).add(item)
    limit = stop * len(buckets)
    return {b: np.fromiter(items, dtype=np.int64) for b, items in filed.items()
            if len(items) <= limit}


def votes_for(query: np.ndarray, index: dict[int, np.ndarray], images: int) -> np.ndarray:
    found = [index[b] for b in query.tolist() if b in index]
    if not found:
        return np.zeros(images, dtype=np.int64)
    return np.bincount(np.concatenate(found), minlength=images)


def gather_ms(postings: int, rng: np.random.Generator, rounds: int = 5) -> float:
    """CPU ms to read `postings` image ids out of 1,000 lists and count them per image,
    at AT_SCALE images (numpy; the lists themselves taken as given)."""
    lists = [rng.integers(0, AT_SCALE, max(1, postings // 1000), dtype=np.int32)
             for _ in range(1000)]
    times = []
    for _ in range(rounds):
        started = time.process_time()
        ids = np.concatenate(lists)
        ids.sort()
        _, counts = np.unique(ids, return_counts=True)
        np.argpartition(-counts, min(64, len(counts) - 1))[:64]  # the pool's 64
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def scale(sizes: list[int]) -> None:
    rng = np.random.default_rng(5)
    print("| images | bytes an image | lookup ms (median of 20) | filed in s |")
    print("|---|---|---|---|")
    for size in sizes:
        filed = DescriptorVotes()
        started = time.process_time()
        for item in range(size):
            filed.add(item, rng.integers(0, 256, (features.SKETCH_KEYPOINTS, 32), np.uint8))
        elapsed = time.process_time() - started
        query = rng.integers(0, 256, (features.KEYPOINTS, 32), np.uint8)
        filed.top(query, 16)  # folds what the adds left in the tail, as a search does
        times = []
        for _ in range(20):
            started = time.process_time()
            filed.top(rng.integers(0, 256, (features.KEYPOINTS, 32), np.uint8), 16)
            times.append((time.process_time() - started) * 1000)
        print(f"| {size:,} | {filed.nbytes() / size:.0f} | {statistics.median(times):.2f} | "
              f"{elapsed:.0f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bits", type=int, default=24)
    ap.add_argument("--stop", default="0.02,0.005",
                    help="stop lists: drop buckets filed for more than this share of images")
    ap.add_argument("--transforms", default=DEFAULT_TRANSFORMS)
    ap.add_argument("--limit", type=int, default=0, help="use at most N originals (0 = all)")
    ap.add_argument("--scale", default="", help="comma list of sizes: see above")
    args = ap.parse_args()
    if args.scale:
        scale([int(n) for n in args.scale.split(",")])
        return
    rng = np.random.default_rng(12345)
    bits = rng.choice(256, args.bits, replace=False)
    paths = sorted((DATA / "originals").iterdir())
    if args.limit:
        paths = paths[:args.limit]
    names = [p.stem for p in paths]
    originals = [decode(p.read_bytes(), 10**9).image for p in paths]
    stored = [bucket_ids(features.sketch(image).descriptors, bits) for image in originals]
    transforms = args.transforms.split(",")
    queries: dict[str, list[np.ndarray]] = {}
    for name in TRANSFORMS:
        if name not in transforms:
            continue
        queries[name] = []
        for qi, original in enumerate(originals):
            copy = copy_of(name, original.convert("RGB"), qi, names[qi])
            found = features._keypoints(decode(_png_bytes(copy), 10**9).image)
            queries[name].append(bucket_ids(found.descriptors, bits) if found is not None
                                 else np.zeros(0, dtype=np.int64))
    print(f"# {len(paths)} originals, {args.bits}-bit buckets of their sketches' descriptors, "
          f"one table")
    for stop in (float(s) for s in args.stop.split(",")):
        index = inverted_index(stored, stop)
        print(f"\n## stop list: buckets of more than {stop:.1%} of the images dropped "
              f"({len(index)} buckets kept)")
        print("| transform | original first by votes | its votes, median | its votes, 10th "
              "percentile | under 3 votes | a stranger's mean votes |")
        print("|---|---|---|---|---|---|")
        stranger_means = []
        for name, per_copy in queries.items():
            first, own, under, means = 0, [], 0, []
            for qi, query in enumerate(per_copy):
                votes = votes_for(query, index, len(paths))
                others = np.delete(votes, qi)
                first += int(votes[qi] > others.max())
                own.append(int(votes[qi]))
                under += int(votes[qi] < 3)
                means.append(float(others.mean()))
            stranger_means.append(statistics.mean(means))
            print(f"| {name} | {first} / {len(per_copy)} | {statistics.median(own):.0f} | "
                  f"{np.percentile(own, 10):.0f} | {under} | {stranger_means[-1]:.2f} |")
        postings = round(AT_SCALE * statistics.mean(stranger_means))
        print(f"\nAt {AT_SCALE:.0e} images a query would read ~{postings:.2e} postings "
              f"(strangers' mean votes x images): {gather_ms(postings, rng):.0f} ms CPU to "
              f"gather and count them (numpy, median of 5)")


if __name__ == "__main__":
    main()
