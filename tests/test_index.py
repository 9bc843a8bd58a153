"""HammingIndex: same answers as a linear scan, incremental adds, id order."""

from __future__ import annotations

import numpy as np
import pytest

from proofcheck.index import (
    HammingIndex,
    brute_force_search,
    brute_force_search_many,
    popcount64,
)


def _random_keys(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64, size=n, dtype=np.uint64, endpoint=False)


def _near(rng: np.random.Generator, key: int, flips: int) -> int:
    for bit in rng.choice(64, size=flips, replace=False):
        key ^= 1 << int(bit)
    return key


def test_popcount_matches_python() -> None:
    rng = np.random.default_rng(1)
    keys = _random_keys(rng, 1000)
    assert popcount64(keys).tolist() == [int(k).bit_count() for k in keys]


@pytest.mark.parametrize("chunks", [3, 4])
def test_search_equals_brute_force_on_random_keys(chunks: int) -> None:
    rng = np.random.default_rng(chunks)
    n = 120_000  # above the size where the chunk tables are built
    keys = _random_keys(rng, n)
    # Plant clusters so that searches have many hits at every distance.
    keys[: n // 4] = [_near(rng, int(keys[i % 500]), int(rng.integers(0, 12)))
                      for i in range(n // 4)]
    ids = np.arange(1, n + 1, dtype=np.int64)
    index = HammingIndex(chunks)
    index.add_many(ids, keys)
    assert len(index) == n
    for trial in range(40):
        query = _near(rng, int(keys[int(rng.integers(0, n))]), int(rng.integers(0, 10)))
        radius = (4, 8, 12)[trial % 3]
        got = index.search(query, radius, 1000)
        assert got == brute_force_search(keys, ids, query, radius, 1000)
        assert all(d <= radius for _, d in got)
        assert [d for _, d in got] == sorted(d for _, d in got)


def test_wide_searches_of_a_large_index_use_the_tables_and_equal_brute_force() -> None:
    """At radius 9 and 11 (three bits per table) the tables of 600,000 keys cost less
    than a scan, and give the scan's answers; from radius 12 FAISS's scan is cheaper."""
    rng = np.random.default_rng(5)
    n = 600_000
    keys = _random_keys(rng, n)
    keys[: n // 10] = [_near(rng, int(keys[i % 300]), int(rng.integers(0, 14)))
                       for i in range(n // 10)]
    ids = np.arange(1, n + 1, dtype=np.int64)
    index = HammingIndex()
    index.add_many(ids, keys)
    assert index._tables_pay(11 // 3) and not index._tables_pay(12 // 3)
    for trial in range(8):
        query = _near(rng, int(keys[int(rng.integers(0, 300))]), int(rng.integers(0, 10)))
        radius = (9, 11)[trial % 2]
        assert index.search(query, radius, 500) == brute_force_search(keys, ids, query,
                                                                      radius, 500)
    # 24 bytes a key (key, 32-bit id, a row in each of three tables) and the bucket
    # offsets; nothing is held twice.
    assert index.nbytes() <= 24 * n + 4 * (2 * 2**21 + 2**22 + 3) + 2 * 8 * 1024


def test_a_search_with_many_keys_and_views_equals_brute_force() -> None:
    """Items of many keys each, queried as the engine queries (an image's keys, some
    near a stored image's, in two views), at a radius the tables serve and at one they
    leave to a scan: the same items, in the same order, as the reference scans."""
    rng = np.random.default_rng(11)
    per_item = 40
    keys = _random_keys(rng, 2000 * per_item)
    keys[per_item : 40 * per_item] = [_near(rng, int(k), int(rng.integers(0, 6)))
                                      for k in keys[: 39 * per_item]]  # look-alike items
    ids = np.repeat(np.arange(1, 2001, dtype=np.int64), per_item)
    index = HammingIndex()
    index.add_many(ids, keys)
    for item in (1, 700):
        near = [_near(rng, int(k), int(rng.integers(0, 10)))
                for k in keys[(item - 1) * per_item : item * per_item]]
        query = near + [int(k) for k in _random_keys(rng, per_item)]
        views = [0] * per_item + [1] * per_item
        for radius in (8, 16):
            got = index.search_many(query, radius, 50, views)
            assert got == brute_force_search_many(keys, ids, query, radius, 50, views)
            assert item in [i for i, _ in got]
            if item == 700:  # no look-alikes: its copy is nearest
                assert got[0][0] == item


def test_incremental_adds_are_searchable_and_tracked() -> None:
    rng = np.random.default_rng(7)
    keys = _random_keys(rng, 70_000)
    index = HammingIndex()
    assert index.last_item_id == 0
    for start in range(0, len(keys), 7_000):  # several folds of the tail into tables
        chunk = keys[start : start + 7_000]
        index.add_many(np.arange(start + 1, start + 1 + len(chunk)), chunk)
    index.add(70_001, 12345)
    assert index.last_item_id == 70_001
    assert index.search(12345 ^ 0b101, 3, 5) == [(70_001, 2)]
    ids = np.arange(1, 70_001)
    for i in (0, 33_333, 69_999):
        assert index.search(int(keys[i]), 0, 5)[0] == (int(ids[i]), 0)


def test_one_item_many_keys_reports_its_best_distance_once() -> None:
    index = HammingIndex()
    index.add(5, 0b1111)
    index.add(5, 0b0001)
    index.add(9, 0b0011)
    assert index.search_many([0], 4, 10) == [(5, 1), (9, 2)]
    assert index.search(0, 4, 1) == [(5, 1)]


def test_among_equally_near_items_the_one_nearer_on_all_query_keys_comes_first() -> None:
    """Screenshots of one app share a status-bar key with the query; its copy shares
    that and its other keys. The copy must not lose its place to older siblings."""
    index = HammingIndex()
    bar, content_a, content_b = 0xF0F0, 0x1234_5678_0000, 0x0ABC_DEF0_0000_0000
    for sibling in range(1, 9):
        index.add(sibling, bar)
        index.add(sibling, (content_a << sibling) & (2**64 - 1) | 0xFF << 56)
    index.add(20, bar)
    index.add(20, content_a)
    index.add(20, content_b)
    found = index.search_many([bar, content_a, content_b], 2, 3)
    assert found[0] == (20, 0)
    assert [item for item, _ in found[1:]] == [1, 2]  # then by id, as before
    assert index.search_many([bar], 2, 3) == [(1, 0), (2, 0), (3, 0)]


def test_ids_must_fit_in_32_bits() -> None:
    index = HammingIndex()
    index.add_many([0, 2**32 - 1], [5, 6])
    assert index.search(6, 0, 5) == [(2**32 - 1, 0)]
    with pytest.raises(ValueError, match="32 bits"):
        HammingIndex().add_many([2**32], [5])


def test_ids_must_not_go_backwards() -> None:
    index = HammingIndex()
    index.add(10, 1)
    index.add(10, 2)  # a second key of the same item is fine
    with pytest.raises(ValueError):
        index.add(9, 3)


def test_memory_per_key_is_small_and_tables_are_built_only_when_they_pay() -> None:
    """Searched at the engine's radius (a scan), the index holds its keys and 32-bit
    ids alone: 12 bytes a key. A search the tables serve builds them: 12 bytes a key
    more and the bucket offsets. Either way it finds what a scan finds."""
    rng = np.random.default_rng(3)
    index = HammingIndex()
    n = 200_000
    keys = _random_keys(rng, n)
    ids = np.arange(n, dtype=np.int64)
    index.add_many(ids, keys)
    query = [_near(rng, int(keys[i]), 3) for i in range(5)]
    assert index.search_many(query, 16, 50) == brute_force_search_many(keys, ids, query,
                                                                       16, 50)
    tail_buffers = (8 + 4) * 1024
    assert index.nbytes() <= 12 * n + tail_buffers
    assert index.search_many(query, 8, 50) == brute_force_search_many(keys, ids, query, 8, 50)
    offsets = 4 * (2 * 2**21 + 2**22 + 3)
    assert 24 * n + offsets - 64 <= index.nbytes() <= 24 * n + offsets + tail_buffers


def test_an_item_near_on_all_keys_of_one_view_outranks_items_near_on_one() -> None:
    """A flipped copy is near its original only on the mirrored view's keys; other
    receipts of the bank share one blank-margin key with the upright view, as exactly.
    Ranked at its nearest view, the original comes first (it ties with them on the
    best distance and wins on the sum); a crop near on one key only still ranks
    behind exact matches of the blank key, as before views."""
    index = HammingIndex()
    blank = 0
    content = [0x1234_5678_9ABC_DEF0, 0x0FED_CBA9_8765_4321, 0x1357_9BDF_2468_ACE0]
    for sibling in range(1, 9):
        index.add(sibling, blank)
        index.add(sibling, 0xFFFF_0000_FFFF_0000 ^ (1 << sibling))  # near upright key 2
    index.add(20, content[0])  # the original: exactly the mirrored view's keys
    index.add(20, content[1] ^ 0b1)
    index.add(20, content[2] ^ 0b1)
    upright = [blank, 0xFFFF_0000_FFFF_0000, 0x00FF_00FF_00FF_00FF]
    keys, views = upright + content, [0, 0, 0, 1, 1, 1]
    assert index.search_many(keys, 4, 3, views)[0] == (20, 0)
    index.add(30, 0x00FF_00FF_00FF_00FF ^ 0b11)
    assert [item for item, _ in index.search_many(upright, 4, 2, [0, 0, 0])] == [1, 2]
