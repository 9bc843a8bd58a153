"""An inverted index of the stored keypoint sketches' descriptors: which images share
the query's corners, whatever its hash keys say.

A search's pool is the RANK_POOL images nearest by hash keys. Where an app or a bank
has hundreds of screenshots indexed, its strangers sit 0-4 bits from a re-screenshot
or a captioned copy on their status and app bars, and the original falls out of the
pool (bench/crowded.py: at 110 screenshots an app, 30 of 60 re-screenshotted
originals in it). Keypoint descriptors see the small print instead. Each stored
sketch's strongest ORB descriptors (`Sketch.voting`: 256 an image) are filed under
BITS of their 256 bits (bit-sampling LSH, one table); a query's descriptors (all of
`features.query_sketch`'s, up to 1,000) vote for the images filed in their buckets,
once per image and bucket, a vote weighing log(1 + images / images in the bucket)
(tf-idf's weight: a corner few images share tells more than a button every
screenshot of an app has). Buckets filed for more than a STOP_SHARE of the images
(flat backgrounds, a font's common strokes) cast no votes and are never read.
`candidates.pool_of` gives the most voted a share of the pool.

Storage is a CSR table over the 2^24 buckets: the item ids (32 bits) sorted by bucket,
4 bytes a posting (about 1 KB an image), and each bucket's start (64 MB in all, built
at the first fold: an index of a few hundred images never needs it). Adds go to an
unsorted tail, looked up by a search in O(tail). Folding it in costs O(postings) and
~60 ms for the offsets whatever its size, so adds fold it only past _LOAD_TAIL
postings or an eighth of the rest (a worker's start: 20,000 checks folded 23 times
took 2.1 s of 5.5 with a 65,536 floor), and a search first folds one longer than
_SEARCH_TAIL (every ~256 checks in a running worker). Offsets are 32-bit: 2^32
postings, some 16 million images.
"""

from __future__ import annotations

import numpy as np

from proofcheck.index import GrowableArray

# Which 24 of an ORB descriptor's 256 bits name its bucket (drawn once, at random, for
# bench/descriptor_votes.py; any fixed choice does, as long as it never changes between
# what is stored and what is asked). 24 bits: a copy's descriptor and its original's
# differ in a few bits, and share all 24 often enough (bench/descriptor_votes.py:
# originals first by counted votes for 156-259 of 260 per transform, with a 2% stop
# list; strangers 1.3 votes).
BITS = np.array([46, 48, 52, 53, 57, 63, 74, 81, 94, 139, 147, 153, 162, 168, 178, 185,
                 189, 203, 233, 237, 238, 239, 242, 250])
# Weighed votes need the stop list only to bound what a search reads: among 110
# screenshots an app (bench/crowded.py), captioned copies' originals among the 16 most
# voted: 9 of 22 counting votes with a 2% stop list, 14 weighed with 20% or none.
STOP_SHARE = 0.2
# Small indexes: a bucket of this many images still tells them from the rest (at 10
# images 20% would leave only buckets of two).
MIN_STOP_IMAGES = 4
_SEARCH_TAIL = 65_536  # postings: a search looks them up in ~1 ms
_LOAD_TAIL = 1 << 22  # 32 MB of tail
_WEIGHTS = (1 << np.arange(len(BITS), dtype=np.int64))


def buckets(descriptors: np.ndarray) -> np.ndarray:
    """The distinct buckets of ORB descriptors (uint8, n x 32), sorted, as uint32."""
    if len(descriptors) == 0:
        return np.empty(0, dtype=np.uint32)
    chosen = np.unpackbits(np.asarray(descriptors, dtype=np.uint8), axis=1)[:, BITS]
    return np.unique(chosen.astype(np.int64) @ _WEIGHTS).astype(np.uint32)


class DescriptorVotes:
    """Bucket -> the items filed there. Not thread-safe (`neardup` holds a lock)."""

    def __init__(self) -> None:
        self._offsets: np.ndarray | None = None  # uint32, each bucket's first posting
        self._items = np.empty(0, dtype=np.uint32)  # sorted by bucket, then as added
        self._tail_buckets = GrowableArray(np.uint32)
        self._tail_items = GrowableArray(np.uint32)
        self._images = 0  # items with at least one bucket: what STOP_SHARE is a share of

    def __len__(self) -> int:
        """Images filed (those whose sketch had descriptors)."""
        return self._images

    def add(self, item: int, descriptors: np.ndarray) -> None:
        """File one image's descriptors under `item`, a 32-bit id."""
        filed = buckets(descriptors)
        if len(filed) == 0:
            return
        if not 0 <= item <= np.iinfo(np.uint32).max:
            raise ValueError("item ids must fit in 32 bits")
        self._tail_buckets.extend(filed)
        self._tail_items.extend(np.full(len(filed), item, dtype=np.uint32))
        self._images += 1
        if self._tail_buckets.n > max(_LOAD_TAIL, len(self._items) // 8):
            self._fold_tail()

    def _fold_tail(self) -> None:
        if len(self._items) + self._tail_items.n > np.iinfo(np.uint32).max:
            raise OverflowError("descriptor votes hold at most 2^32 postings")
        order = np.argsort(self._tail_buckets.view(), kind="stable")
        filed = self._tail_buckets.view()[order].astype(np.int64)
        if self._offsets is None:
            self._offsets = np.zeros((1 << len(BITS)) + 1, dtype=np.uint32)
        # Each after every posting of its bucket: items stay in the order added.
        self._items = np.insert(self._items, self._offsets[filed + 1].astype(np.int64),
                                self._tail_items.view()[order])
        grown = np.zeros_like(self._offsets)
        np.add.at(grown, filed + 1, 1)
        self._offsets += np.cumsum(grown, out=grown)
        self._tail_buckets.clear()
        self._tail_items.clear()

    def nbytes(self) -> int:
        offsets = 0 if self._offsets is None else self._offsets.nbytes
        return (offsets + self._items.nbytes + self._tail_buckets.nbytes
                + self._tail_items.nbytes)

    def top(self, descriptors: np.ndarray, count: int) -> list[tuple[int, float]]:
        """(item, votes) of the `count` items the query's descriptors vote for most,
        most first, ties to the lower id; items without a vote are left out. A
        bucket's vote weighs log(1 + images / images filed there): a corner few images
        share tells more than one of an app's every screenshot."""
        asked = buckets(descriptors)
        if len(asked) == 0 or self._images == 0 or count <= 0:
            return []
        if self._tail_buckets.n > _SEARCH_TAIL:
            self._fold_tail()
        # Each image once in a bucket (`buckets`): a bucket's postings are its images.
        tail_items, tail_bucket = self._tail_postings(asked)
        images_in = np.bincount(tail_bucket, minlength=len(asked))
        if self._offsets is not None:
            starts = self._offsets[asked].astype(np.int64)
            lengths = self._offsets[asked + 1].astype(np.int64) - starts
            images_in += lengths
        # Stop-listed buckets are never read: a query reads a posting for each vote, and
        # a stranger gets 5-6 with this list, 7-8 with none (bench/descriptor_votes.py).
        votes_in = images_in <= max(MIN_STOP_IMAGES, STOP_SHARE * self._images)
        weight = np.log1p(self._images / np.maximum(images_in, 1))
        voting = votes_in[tail_bucket]
        voters = [tail_items[voting]]
        weights = [weight[tail_bucket[voting]]]
        if self._offsets is not None:
            lengths = np.where(votes_in, lengths, 0)
            # The ranges [start, start + length) side by side, without a Python loop.
            ends = np.cumsum(lengths)
            rows = np.arange(int(ends[-1])) + np.repeat(starts - (ends - lengths), lengths)
            voters.append(self._items[rows])
            weights.append(np.repeat(weight, lengths))
        items, item_of = np.unique(np.concatenate(voters), return_inverse=True)
        votes = np.bincount(item_of, np.concatenate(weights), minlength=len(items))
        best = np.lexsort((items, -votes))[:count]
        return [(int(items[i]), float(votes[i])) for i in best]

    def _tail_postings(self, asked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The tail's items filed under the `asked` buckets (sorted, distinct), and for
        each, the position in `asked` of its bucket."""
        tail = self._tail_buckets.view()
        at = np.searchsorted(asked, tail)
        hit = (at < len(asked)) & (asked[np.minimum(at, len(asked) - 1)] == tail)
        return self._tail_items.view()[hit], at[hit]
