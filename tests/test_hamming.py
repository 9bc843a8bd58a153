"""FAISS's Hamming searches give what the numpy scan and OpenCV's matcher they replace
gave: the same rows, the same distances."""

from __future__ import annotations

import cv2
import numpy as np

from proofcheck import features, hamming
from proofcheck.index import popcount64
from tests.test_matching import receipt


def test_within_finds_what_a_scan_finds_and_nothing_else() -> None:
    rng = np.random.default_rng(3)
    stored = rng.integers(0, 2**64, 20_000, dtype=np.uint64, endpoint=False)
    # Near copies of a few keys, at every distance up to 20 bits.
    for i in range(2000):
        key = int(stored[i % 50])
        for bit in rng.choice(64, int(rng.integers(0, 21)), replace=False):
            key ^= 1 << int(bit)
        stored[1000 + i] = key
    query = np.concatenate([stored[:50], rng.integers(0, 2**64, 5, dtype=np.uint64,
                                                      endpoint=False)])
    for radius in (0, 7, 16):
        bounds, rows, distances = hamming.within(stored, query, radius)
        assert len(bounds) == len(query) + 1
        for i, key in enumerate(query):
            scan = popcount64(stored ^ key)
            expected = np.flatnonzero(scan <= radius)
            got = rows[bounds[i]:bounds[i + 1]]
            assert sorted(got.tolist()) == expected.tolist()
            assert distances[bounds[i]:bounds[i + 1]].tolist() == scan[got].tolist()
        assert len(rows) > len(query[:50])  # the planted neighbours were found too


def test_two_nearest_keeps_the_matches_opencv_kept() -> None:
    """ORB descriptors of two receipts: every match that passes the ratio test is the
    one OpenCV's brute-force matcher gave, at its distance."""
    found = []
    for seed in (1, 2):
        grey = np.asarray(receipt(seed).convert("L"))
        _points, descriptors = cv2.ORB.create(nfeatures=500).detectAndCompute(grey, None)
        found.append(descriptors)
    ours, theirs = found
    distances, rows = hamming.two_nearest(ours, theirs)
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(ours, theirs, k=2)
    assert distances[:, 0].tolist() == [p[0].distance for p in pairs]
    assert distances[:, 1].tolist() == [p[1].distance for p in pairs]
    kept = distances[:, 0] < features.RATIO * distances[:, 1]
    assert kept.sum() >= features.MIN_INLIERS  # one template: many corners match
    assert rows[kept, 0].tolist() == [p[0].trainIdx for p, k in zip(pairs, kept, strict=True)
                                      if k]


def test_two_nearest_of_a_single_stored_descriptor_has_no_second() -> None:
    rng = np.random.default_rng(4)
    query = rng.integers(0, 256, (3, 32), dtype=np.uint8)
    distances, rows = hamming.two_nearest(query, query[:1])
    assert rows[:, 0].tolist() == [0, 0, 0] and rows[:, 1].tolist() == [-1, -1, -1]
    assert distances[0, 0] == 0 and distances[1, 0] > 0
