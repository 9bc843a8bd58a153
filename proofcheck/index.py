"""In-memory Hamming index over 64-bit keys: multi-index hashing in numpy, scans by
FAISS.

Each key is split into `chunks` sub-keys (default 3: 21 + 21 + 22 bits). By
pigeonhole, a key within distance r of the query agrees with it within floor(r / chunks)
bits on at least one chunk, so a search probes, in every chunk table, all sub-keys
within that radius (254 probes per table at r = 8), gathers the rows found there and
checks the full distance with a popcount. Tables are CSR arrays (2^22 + 1 bucket
offsets, 16 MB, plus one uint32 row per key): 24 bytes per key plus the fixed offsets.
Measured at 10^7 random keys, r = 8: 4 x 16-bit chunks 4.1 ms median, brute force
30 ms; the 3-chunk layout probes ~30x fewer rows (bench/duplicates.py prints it).
Where the probes and the rows they gather would cost more than scanning every key (a
wide radius: the engine's 16 bits always, `_tables_pay`), the keys are scanned, every
key of a query in one pass of FAISS's Hamming range search over the index's own
arrays (`hamming.within`): 0.5 ns a key against numpy's 2.3 (bench/duplicates.py).

Adds go to an unindexed tail that is scanned, and folded into the indexed part when
it grows past an eighth of it, so loading from the database and catching up by id
both stay cheap. The tables are built on the first search they pay for, and dropped
at each fold: the engine, which always scans, never holds them (12 bytes a key and 32
MB of offsets: ~550 MB a worker at 10^6 images of 46 keys). A key costs it 12 bytes:
itself and a 32-bit item id.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import combinations, pairwise

import numpy as np

from proofcheck import hamming

# What a search costs per query key, in ns of one core, fitted to searches of 4.6 x
# 10^6 and 4.6 x 10^7 random keys at radii 12 and 16 (within 10%): a bucket probed in
# one table, a row gathered from the buckets (numpy), a key scanned (FAISS; numpy's
# scan was 2). The tables are used where they cost less than a scan; a fixed cap of
# 8,000 probes per table had sent every search at radius 12 or more to a scan, 3-5x
# slower than the tables at radius 12.
_PROBE_NS, _ROW_NS, _SCAN_NS = 39, 43, 0.5
_MIN_TAIL = 4096
# Below this many keys a scan beats the tables (and their 32 MB of bucket offsets),
# so small indexes never build them.
_MIN_TABLE_KEYS = 65_536

_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount64(x: np.ndarray) -> np.ndarray:
    """Bit count of every uint64 in `x`, as uint8."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0 has a native one
        return np.bitwise_count(x).astype(np.uint8)
    as_bytes = x.view(np.uint8).reshape(*x.shape, 8)
    return _POPCOUNT8[as_bytes].sum(axis=-1, dtype=np.uint8)


@lru_cache(maxsize=32)
def _probe_masks(bits: int, radius: int) -> np.ndarray:
    """Every `bits`-wide mask with at most `radius` bits set."""
    masks = [0]
    for r in range(1, radius + 1):
        for combo in combinations(range(bits), r):
            m = 0
            for b in combo:
                m |= 1 << b
            masks.append(m)
    return np.array(masks, dtype=np.uint32)


@lru_cache(maxsize=64)  # asked for every key of every search (`_tables_pay`)
def _probe_count(bits: int, radius: int) -> int:
    return sum(math.comb(bits, r) for r in range(radius + 1))


class GrowableArray:
    """A growable 1-D numpy array (amortised O(1) append)."""

    def __init__(self, dtype: type[np.generic]) -> None:
        self._a = np.empty(1024, dtype=dtype)
        self.n = 0

    def extend(self, values: np.ndarray) -> None:
        need = self.n + len(values)
        if need > len(self._a):
            bigger = np.empty(max(need, 2 * len(self._a)), dtype=self._a.dtype)
            bigger[: self.n] = self._a[: self.n]
            self._a = bigger
        self._a[self.n : need] = values
        self.n = need

    def view(self) -> np.ndarray:
        return self._a[: self.n]

    def clear(self) -> None:
        # Let a grown buffer go: a bulk add leaves one as long as everything added, which
        # the tables now hold (16 bytes a key held twice: 2,058 -> 1,322 bytes per image
        # at 10^6 images of bench/duplicates.py --scale-images).
        self._a = np.empty(1024, dtype=self._a.dtype)
        self.n = 0

    @property
    def nbytes(self) -> int:
        return int(self._a.nbytes)


class HammingIndex:
    """Incremental index of (item_id, 64-bit key) pairs; an item may have many keys.
    Not thread-safe: a search may build the tables (`neardup` searches under a lock)."""

    def __init__(self, chunks: int = 3) -> None:
        # Two chunks would need 2^32 bucket offsets per table.
        if chunks not in (3, 4):
            raise ValueError("chunks must be 3 or 4")
        self._chunks = chunks
        # Bit widths of the sub-keys, low bits first: 3 chunks give 21 + 21 + 22.
        base = 64 // chunks
        self._widths = [base] * (chunks - 1) + [64 - base * (chunks - 1)]
        self._shifts = [base * c for c in range(chunks)]
        self._keys = np.empty(0, dtype=np.uint64)
        # Item ids in 32 bits: 12 bytes a key with the key, not 16.
        self._ids = np.empty(0, dtype=np.uint32)
        self._offsets: list[np.ndarray] = []  # per chunk: bucket start rows, uint32
        self._rows: list[np.ndarray] = []  # per chunk: key rows sorted by sub-key, uint32
        self._tail_keys = GrowableArray(np.uint64)
        self._tail_ids = GrowableArray(np.uint32)
        self._last_item_id = 0

    def __len__(self) -> int:
        """Number of keys (not items) in the index."""
        return len(self._keys) + self._tail_keys.n

    @property
    def last_item_id(self) -> int:
        """Highest item id added so far (0 when empty): catch up from the DB after it."""
        return self._last_item_id

    def add(self, item_id: int, key: int) -> None:
        self.add_many(np.array([item_id], dtype=np.int64), np.array([key], dtype=np.uint64))

    def add_many(self, item_ids: np.ndarray | list[int], keys: np.ndarray | list[int]) -> None:
        """Add keys in bulk; item ids must not go below `last_item_id`, and must fit in
        32 bits (`neardup` numbers its items from 1; a database's row ids fit too)."""
        ids = np.asarray(item_ids, dtype=np.int64)
        ks = np.asarray(keys, dtype=np.uint64)
        if ids.shape != ks.shape or ids.ndim != 1:
            raise ValueError("item_ids and keys must be 1-D and of equal length")
        if len(ids) == 0:
            return
        if ids[0] < self._last_item_id or (len(ids) > 1 and np.any(np.diff(ids) < 0)):
            raise ValueError("item ids must be added in increasing order")
        if ids[-1] > np.iinfo(np.uint32).max:  # (and none is negative: see above)
            raise ValueError("item ids must fit in 32 bits")
        self._tail_ids.extend(ids.astype(np.uint32))
        self._tail_keys.extend(ks)
        self._last_item_id = int(ids[-1])
        if self._tail_keys.n > max(_MIN_TAIL, len(self._keys) // 8):
            self._fold_tail()

    def _fold_tail(self) -> None:
        self._keys = np.concatenate([self._keys, self._tail_keys.view()])
        self._ids = np.concatenate([self._ids, self._tail_ids.view()])
        self._tail_keys.clear()
        self._tail_ids.clear()
        self._offsets, self._rows = [], []

    def _build_tables(self) -> None:
        for width, shift in zip(self._widths, self._shifts, strict=True):
            nb = 1 << width
            sub = ((self._keys >> np.uint64(shift)) & np.uint64(nb - 1)).astype(np.uint32)
            rows = np.argsort(sub, kind="stable").astype(np.uint32)
            counts = np.bincount(sub, minlength=nb)
            offsets = np.zeros(nb + 1, dtype=np.uint32)
            np.cumsum(counts, out=offsets[1:])
            self._offsets.append(offsets)
            self._rows.append(rows)

    def nbytes(self) -> int:
        """Memory held by the index's arrays."""
        total = self._keys.nbytes + self._ids.nbytes
        total += sum(o.nbytes for o in self._offsets) + sum(r.nbytes for r in self._rows)
        return total + self._tail_keys.nbytes + self._tail_ids.nbytes

    def _tables_pay(self, radius: int) -> bool:
        """Whether probing every sub-key within `radius` in each table costs less than
        scanning the keys: the probes, and the rows they gather (each bucket holds
        keys / 2^width on average)."""
        if len(self._keys) < _MIN_TABLE_KEYS:
            return False
        probes = [_probe_count(width, radius) for width in self._widths]
        rows = sum(p * len(self._keys) / (1 << w) for p, w in zip(probes, self._widths,
                                                                   strict=True))
        return _PROBE_NS * sum(probes) + _ROW_NS * rows < _SCAN_NS * len(self._keys)

    def _candidate_rows(self, key: int, max_distance: int) -> np.ndarray:
        """Rows of the indexed part that share a near sub-key (`_tables_pay` said to
        probe the tables at this radius)."""
        radius = max_distance // self._chunks
        found: list[np.ndarray] = []
        for c, (width, shift) in enumerate(zip(self._widths, self._shifts, strict=True)):
            sub = (key >> shift) & ((1 << width) - 1)
            probes = _probe_masks(width, radius) ^ np.uint32(sub)
            starts = self._offsets[c][probes]
            ends = self._offsets[c][probes + 1]
            lens = (ends - starts).astype(np.int64)
            total = int(lens.sum())
            if total == 0:
                continue
            # Concatenate the ranges [start, end) without a Python loop.
            nz = lens > 0
            starts, lens = starts[nz].astype(np.int64), lens[nz]
            first = np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
            found.append(self._rows[c][first + np.arange(total)])
        if not found:
            return np.empty(0, dtype=np.uint32)
        # Rows found in several tables repeat; `_best_per_item` drops the repeats.
        return np.concatenate(found)

    def search(self, key: int, max_distance: int, limit: int) -> list[tuple[int, int]]:
        """Items with a key within `max_distance` bits: (item_id, distance), nearest first."""
        return self.search_many([key], max_distance, limit)

    def search_many(
        self, keys: list[int], max_distance: int, limit: int,
        views: Sequence[int] | None = None,
    ) -> list[tuple[int, int]]:
        """Like `search` for several query keys at once: each item once, at its best
        distance, the item nearest over all the query's keys first (see
        `_best_per_item`). `views[k]` says which view of the query (as uploaded,
        mirrored...) key k belongs to; an item is ranked by the view nearest it."""
        return _ranked_hits(lambda query: self._hits(query, max_distance), keys,
                            max_distance, limit, views)

    def _hits(self, query: np.ndarray, max_distance: int) -> list[Hits]:
        """For each key of `query`: (item ids, distances) of every stored key within
        `max_distance` of it."""
        parts: list[list[Hits]] = [[] for _ in query]
        if len(self._keys):
            if self._tables_pay(max_distance // self._chunks):
                if not self._rows:
                    self._build_tables()
                for part, key in zip(parts, query, strict=True):
                    rows = self._candidate_rows(int(key), max_distance)
                    part.append(_within(self._keys[rows], self._ids[rows], int(key),
                                        max_distance))
            else:
                for part, found in zip(parts, _scan(self._keys, self._ids, query,
                                                    max_distance), strict=True):
                    part.append(found)
        if self._tail_keys.n:
            for part, found in zip(parts, _scan(self._tail_keys.view(), self._tail_ids.view(),
                                                query, max_distance), strict=True):
                part.append(found)
        return [_joined(part) for part in parts]


# (item ids, distances) of the stored keys one query key found.
Hits = tuple[np.ndarray, np.ndarray]


def _joined(parts: list[Hits]) -> Hits:
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return (np.concatenate([ids for ids, _ in parts]),
            np.concatenate([d for _, d in parts]))


def _scan(keys: np.ndarray, ids: np.ndarray, query: np.ndarray,
          max_distance: int) -> list[Hits]:
    """`_within` for every key of `query`, in one pass over `keys`."""
    bounds, rows, distances = hamming.within(keys, query, max_distance)
    return [(ids[rows[start:end]], distances[start:end])
            for start, end in pairwise(bounds)]


def _within(keys: np.ndarray, ids: np.ndarray, key: int,
            max_distance: int) -> Hits:
    """(ids, distances) of the `keys` within `max_distance` bits of `key`, by a scan."""
    d = popcount64(keys ^ np.uint64(key))
    ok = d <= max_distance
    return ids[ok], d[ok]


def _ranked_hits(
    hits_of: Callable[[np.ndarray], list[Hits]], keys: Sequence[int],
    max_distance: int, limit: int, views: Sequence[int] | None,
) -> list[tuple[int, int]]:
    """The items `hits_of` finds for the query's keys (given all at once, it returns
    each key's hits), ranked by `_best_per_item` (each view of the query on its own
    keys)."""
    # Views of a symmetric image share keys: search each distinct key once.
    distinct = list(dict.fromkeys(int(k) for k in keys))
    found = dict(zip(distinct, hits_of(np.array(distinct, dtype=np.uint64)), strict=True))
    id_parts: list[np.ndarray] = []
    dist_parts: list[np.ndarray] = []
    query_parts: list[np.ndarray] = []
    for number, key in enumerate(int(k) for k in keys):
        ids, d = found[key]
        id_parts.append(ids)
        dist_parts.append(d)
        query_parts.append(np.full(len(ids), number, dtype=np.int64))
    view_of_key = np.zeros(len(keys), dtype=np.int64) if views is None else (
        np.asarray(views, dtype=np.int64))
    return _best_per_item(id_parts, dist_parts, limit, (query_parts, view_of_key),
                          max_distance)


def _best_per_item(
    id_parts: list[np.ndarray], dist_parts: list[np.ndarray], limit: int,
    queries: tuple[list[np.ndarray], np.ndarray] | None = None, max_distance: int = 0,
) -> list[tuple[int, int]]:
    """(item, best distance), nearest first. With `queries` (which query key each hit
    came from, and which view of the query each key belongs to), an item is ranked at
    the view nearest it: by its best distance to that view's keys, then, among items
    equally near, by the sum over that view's keys of each key's distance to the item's
    nearest key (keys that missed at `max_distance` + 1). Blank margins and status bars
    put many items at distance 0 from one key; only a copy is near on the others too.
    Per view, because a flipped or tilted copy is near its original only on the keys
    of the mirrored or straightened query. (Ranking by the mean over a view's keys
    first found rotated receipts among their bank's others, but lost crops with a
    caption bar, near on one key only: bench/scenario_api.py, stolen proof recall 0.92
    -> 0.67.) Then by id."""
    if not id_parts:
        return []
    ids = np.concatenate(id_parts)
    dists = np.concatenate(dist_parts).astype(np.int64)
    if len(ids) == 0:
        return []
    items, item_of_hit = np.unique(ids, return_inverse=True)
    best = np.full(len(items), np.iinfo(np.int64).max)
    np.minimum.at(best, item_of_hit, dists)
    rank_best, rank_sum = best, np.zeros(len(items), dtype=np.int64)
    if queries is not None:
        key_of_hit = np.concatenate(queries[0])
        view_of_key = queries[1]
        n_views = int(view_of_key.max()) + 1
        span = len(view_of_key)
        pair = item_of_hit.astype(np.int64) * span + key_of_hit
        order = np.lexsort((dists, pair))
        pair, nearest = pair[order], dists[order]
        first = np.concatenate(([True], pair[1:] != pair[:-1]))  # each pair at its nearest
        pair, nearest = pair[first], nearest[first]
        item, view = pair // span, view_of_key[pair % span]
        view_best = np.full((len(items), n_views), max_distance + 1, dtype=np.int64)
        np.minimum.at(view_best, (item, view), nearest)
        # Summed below a miss (radius + 1), so keys that missed add nothing.
        view_sum = np.zeros((len(items), n_views), dtype=np.int64)
        np.add.at(view_sum, (item, view), nearest - (max_distance + 1))
        # Each item at its nearest view: best distance first, then the sum (which is
        # above -2**31 for any number of 64-bit keys).
        nearest_view = np.argmin(view_best * 2**32 + view_sum, axis=1)
        rows = np.arange(len(items))
        rank_best = view_best[rows, nearest_view]
        rank_sum = view_sum[rows, nearest_view]
    order = np.lexsort((items, rank_sum, rank_best))[:limit]
    return [(int(items[i]), int(best[i])) for i in order]


def brute_force_search(
    keys: np.ndarray, ids: np.ndarray, key: int, max_distance: int, limit: int
) -> list[tuple[int, int]]:
    """Reference linear scan with the same result order as `HammingIndex.search`."""
    return brute_force_search_many(keys, ids, [key], max_distance, limit)


def brute_force_search_many(
    keys: np.ndarray, ids: np.ndarray, query_keys: Sequence[int], max_distance: int,
    limit: int, views: Sequence[int] | None = None,
) -> list[tuple[int, int]]:
    """Reference linear scans with the same result order as `HammingIndex.search_many`."""
    return _ranked_hits(lambda query: [_within(keys, ids, int(k), max_distance)
                                       for k in query],
                        query_keys, max_distance, limit, views)
