"""The inverted index of keypoint descriptors (`votes`) and how its votes share a
search's pool with the keys (`candidates.pool_of`)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from proofcheck import votes
from proofcheck.candidates import RANK_POOL, VOTED, pool_of
from proofcheck.votes import BITS, DescriptorVotes, buckets


def _descriptors(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, (n, 32), dtype=np.uint8)


def _with_bit_flipped(descriptors: np.ndarray, bit: int) -> np.ndarray:
    flipped = np.unpackbits(descriptors, axis=1)
    flipped[:, bit] ^= 1
    return np.packbits(flipped, axis=1)


def test_a_bucket_is_named_by_the_chosen_bits_only() -> None:
    d = _descriptors(np.random.default_rng(1), 40)
    other_bit = next(b for b in range(256) if b not in BITS)
    assert np.array_equal(buckets(_with_bit_flipped(d, other_bit)), buckets(d))
    moved = buckets(_with_bit_flipped(d, int(BITS[3])))
    assert len(np.intersect1d(moved, buckets(d))) < len(buckets(d)) // 2
    # Distinct and sorted, one per bucket however many descriptors fall in it.
    assert np.array_equal(buckets(np.concatenate([d, d])), buckets(d))
    assert np.all(np.diff(buckets(d).astype(np.int64)) > 0)
    assert len(buckets(np.empty((0, 32), np.uint8))) == 0


def _reference_votes(filed: dict[int, np.ndarray], query: np.ndarray) -> dict[int, float]:
    """The same votes, from a plain dict of sets: what the index must agree with."""
    images_of: dict[int, set[int]] = {}
    for item, descriptors in filed.items():
        for bucket in buckets(descriptors).tolist():
            images_of.setdefault(bucket, set()).add(item)
    limit = max(votes.MIN_STOP_IMAGES, votes.STOP_SHARE * len(filed))
    counted: dict[int, float] = {}
    for bucket in buckets(query).tolist():
        images = images_of.get(bucket, set())
        if len(images) <= limit:
            for item in images:
                counted[item] = counted.get(item, 0) + math.log1p(len(filed) / len(images))
    return counted


def _agree(index: DescriptorVotes, filed: dict[int, np.ndarray], query: np.ndarray) -> None:
    """Every item the reference votes for, with its votes, most first (summed in
    another order: equal to rounding)."""
    found = index.top(query, 10**6)
    assert dict(found) == pytest.approx(_reference_votes(filed, query))
    assert all(a[1] >= b[1] - 1e-9 for a, b in itertools.pairwise(found))


def test_votes_agree_with_a_plain_count_before_and_after_the_tail_is_folded(
        monkeypatch) -> None:
    # Descriptors drawn from a small shared vocabulary, so buckets are shared by many
    # images and the stop list has work to do; tails folded when adds pass 5,000
    # postings (or an eighth of the rest).
    monkeypatch.setattr(votes, "_LOAD_TAIL", 5000)
    rng = np.random.default_rng(7)
    vocabulary = _descriptors(rng, 6000)
    index = DescriptorVotes()
    filed: dict[int, np.ndarray] = {}
    queries = [vocabulary[rng.choice(6000, 300, replace=False)] for _ in range(5)]
    for item in range(1, 401):
        filed[item] = vocabulary[rng.choice(6000, 200, replace=False)]
        index.add(item, filed[item])
        if item in (3, 26, 150, 400):
            # A tail only, folded with none, and folded with a tail (twice).
            assert (len(index._items) > 0, index._tail_items.n > 0) == {
                3: (False, True), 26: (True, False)}.get(item, (True, True))
            for query in queries:
                _agree(index, filed, query)
    assert len(index) == 400
    # 4 bytes a posting (and the tail's spare room), and 4 for each bucket's offset.
    assert index.nbytes() - 4 * (2**24 + 1) < 400 * 200 * 4 * 2


def test_a_search_folds_a_long_tail_first_and_answers_alike(monkeypatch) -> None:
    monkeypatch.setattr(votes, "_LOAD_TAIL", 10**9)
    monkeypatch.setattr(votes, "_SEARCH_TAIL", 1000)
    rng = np.random.default_rng(11)
    vocabulary = _descriptors(rng, 3000)
    index = DescriptorVotes()
    filed: dict[int, np.ndarray] = {}
    query = vocabulary[rng.choice(3000, 300, replace=False)]
    postings = []
    for count in (20, 23):
        for item in range(len(filed), count):
            filed[item] = vocabulary[rng.choice(3000, 200, replace=False)]
            index.add(item, filed[item])
        postings.append(sum(len(buckets(d)) for d in filed.values()))
        _agree(index, filed, query)
    # ~4,000 postings, over 1,000: folded by the first search; ~600 more: left.
    assert (len(index._items), index._tail_items.n) == (postings[0],
                                                         postings[1] - postings[0])


def test_the_copy_of_an_image_gets_its_votes_and_common_buckets_none() -> None:
    rng = np.random.default_rng(3)
    common = _descriptors(rng, 30)  # a font's strokes: in every image
    index = DescriptorVotes()
    own = {item: _descriptors(rng, 226) for item in range(200)}
    for item, descriptors in own.items():
        index.add(item, np.concatenate([descriptors, common]))
    # A copy: some of the original's descriptors, a few bits off outside the bucket's.
    other_bit = next(b for b in range(256) if b not in BITS)
    copy = _with_bit_flipped(own[57][:120], other_bit)
    [(item, votes_for_it), *_rest] = index.top(np.concatenate([copy, common]), 16)
    # Its buckets mostly its own: a vote there weighs log(1 + 200 / 1).
    assert item == 57
    assert 0.95 * len(buckets(copy)) * math.log1p(200) < votes_for_it
    assert votes_for_it <= len(buckets(copy)) * math.log1p(200)
    # The shared buckets (in 200 of 200 images, over the stop list) cast no vote.
    assert index.top(common, 16) == []
    assert index.top(_descriptors(rng, 50), 16) == []  # a stranger's corners
    assert index.top(copy, 0) == [] and DescriptorVotes().top(copy, 16) == []


def test_an_image_without_descriptors_is_not_filed_and_ids_must_fit_32_bits() -> None:
    index = DescriptorVotes()
    index.add(1, np.empty((0, 32), np.uint8))
    assert len(index) == 0
    with pytest.raises(ValueError, match="32 bits"):
        index.add(2**32, _descriptors(np.random.default_rng(0), 5))


def test_the_pool_keeps_keys_first_and_gives_the_voted_their_places() -> None:
    by_keys = [f"k{n}" for n in range(2 * RANK_POOL)]
    voted = [f"v{n}" for n in range(VOTED + 5)]
    pool = pool_of(by_keys, voted, RANK_POOL)
    assert 0 < VOTED < RANK_POOL
    assert pool == by_keys[:RANK_POOL - VOTED] + voted[:VOTED]
    # Voted ones keys brought anyway take no place of their own: keys get it back.
    overlapping = ["k3", f"k{RANK_POOL - 4}", "v0"]
    pool = pool_of(by_keys, overlapping, RANK_POOL)
    assert len(pool) == RANK_POOL and pool[-1] == "v0"
    assert pool.count(f"k{RANK_POOL - 4}") == 1 and pool[:-1] == by_keys[:RANK_POOL - 1]
    # Few candidates: everything, no repeats; no votes: the keys' pool as before.
    assert pool_of(["a", "b"], ["b", "c"], 64) == ["a", "b", "c"]
    assert pool_of(by_keys, [], 64) == by_keys[:64]
    assert pool_of([], voted, 8) == voted[:8]
