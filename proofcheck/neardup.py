"""The near-duplicate index of one process, rebuilt from and caught up with the database.

The database's `hashes` table is the source of truth. Each worker (and each web process
that serves /search) keeps the 64-bit keys of every signature in a `HammingIndex` in
memory and reads only the rows it has not seen before each search, so every process
sees every committed image. Row ids can commit out of order on PostgreSQL (a sequence
hands out ids before commit), so catching up re-reads a window below the highest id
seen and skips rows already indexed; index item ids are local and increasing. Each
signature's check's keypoint sketch, committed with it, is read at the same time and
its descriptors filed in a `DescriptorVotes` under the same item, so the images a
query's keypoints vote for can join the keys' pool (`candidates.pool_of`).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from proofcheck.candidates import RANK_POOL, VOTED, pool_of, verify_candidates
from proofcheck.db import Database, Hash
from proofcheck.features import Sketch, query_sketch
from proofcheck.hashing import SIGNATURE_VERSION, Signatures, index_keys
from proofcheck.imaging import DecodedImage
from proofcheck.index import HammingIndex
from proofcheck.matching import SEARCH_RADIUS, PairVerdict
from proofcheck.views import query_views
from proofcheck.votes import DescriptorVotes

log = logging.getLogger(__name__)

ALGORITHM = f"sig-v{SIGNATURE_VERSION}"
# A check's strongest keypoints (`features.Sketch`), in the same table: read for a
# search's candidates only, never held in the index.
SKETCH_ALGORITHM = "orb-sketch-v1"
CATCH_UP_OVERLAP = 1000  # rows below the highest seen id re-read on each catch-up
CACHE_SIZE = 20_000
# Candidates verified per search on signatures alone (no pixels at hand), nearest first;
# with pixels, `candidates.RANK_POOL` are ranked and `candidates.PIXEL_CHECKS` of them verified.
# Verification costs tens of ms per pair, and screenshots of one app bring many near
# candidates that are only `template`.
MAX_CANDIDATES = 8


class NearDuplicateIndex:
    def __init__(self) -> None:
        self.index = HammingIndex()
        self.votes = DescriptorVotes()  # the same items, by their sketches' descriptors
        self._row_of_item: list[int] = [0]  # local item id -> hashes.id (item ids from 1)
        self._check_of_row: dict[int, str] = {}
        self._highest_row = 0
        self._cache: OrderedDict[int, Signatures] = OrderedDict()
        self._lock = threading.Lock()  # web processes search from several threads

    def __len__(self) -> int:
        return len(self._check_of_row)

    def catch_up(self, db: Database, batch: int = 5000) -> int:
        """Index every committed signature not seen yet; return how many were added."""
        added = 0
        with self._lock:
            start = max(self._highest_row - CATCH_UP_OVERLAP, 0)
            while True:
                with db.session() as session:
                    ids = session.execute(
                        select(Hash.id).where(Hash.algorithm == ALGORITHM, Hash.id > start)
                        .order_by(Hash.id).limit(batch)
                    ).scalars().all()
                    if not ids:
                        break
                    # Only rows not indexed yet are fetched whole: the overlap window is
                    # mostly rows seen on the previous catch-up.
                    new = [i for i in ids if i not in self._check_of_row]
                    rows = session.execute(
                        select(Hash.id, Hash.check_id, Hash.value)
                        .where(Hash.id.in_(new)).order_by(Hash.id)
                    ).all() if new else []
                    # Committed with their signatures (`processing`, `resign`).
                    sketches = _sketches(session, [check_id for _row, check_id, _v in rows])
                item_ids: list[int] = []
                keys: list[int] = []
                for row_id, check_id, value in rows:
                    try:
                        signature = Signatures.from_bytes(value)
                    except ValueError as exc:  # a damaged row must not stop the worker
                        log.warning("skipping signature row %s: %s", row_id, exc)
                        continue
                    item = len(self._row_of_item)
                    self._row_of_item.append(row_id)
                    self._check_of_row[row_id] = check_id
                    self._remember(row_id, signature)
                    for key in index_keys(signature):
                        item_ids.append(item)
                        keys.append(key)
                    if check_id in sketches:
                        self.votes.add(item, sketches[check_id].voting())
                    added += 1
                self.index.add_many(item_ids, keys)
                self._highest_row = max(self._highest_row, ids[-1])
                start = ids[-1]
        return added

    def _remember(self, row_id: int, signature: Signatures) -> None:
        self._cache[row_id] = signature
        self._cache.move_to_end(row_id)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _signatures(self, db: Database, row_ids: list[int]) -> dict[int, Signatures]:
        """The signatures of indexed rows, from the cache or in one query for those not
        in it (a search reads up to RANK_POOL of them). Rows gone since this worker
        indexed them (replaced by a check run again, or by `resign`) are left out."""
        found = {row_id: self._cache[row_id] for row_id in row_ids if row_id in self._cache}
        missing = [row_id for row_id in row_ids if row_id not in found]
        if missing:
            with db.session() as session:
                rows = session.execute(select(Hash.id, Hash.value)
                                       .where(Hash.id.in_(missing))).all()
            for row_id, value in rows:
                found[row_id] = Signatures.from_bytes(value)
                self._remember(row_id, found[row_id])
        return found

    def search(self, db: Database, signature: Signatures, limit: int = 20,
               exclude: Collection[str] = (), query_image: DecodedImage | None = None,
               load_image: Callable[[str], DecodedImage | None] | None = None,
               ) -> list[tuple[str, PairVerdict]]:
        """Matches of `signature` among everything indexed: (check id, verdict), best
        first, one per other check, none of the checks in `exclude` (the query's own,
        and copies of its very file, which need no verifying). With the query's decoded
        image, its mirrored and straightened views are searched too (`views`); with a
        loader of a check's decoded image as well, the pool takes in the images its
        keypoints vote for (`candidates.pool_of`), which are also checked first among
        candidates their sketches rank alike, and verdicts are confirmed on pixels
        (`verify_candidates`)."""
        self.catch_up(db)
        views = query_views(signature, query_image)
        keys, key_views = views.search_keys()
        on_pixels = query_image is not None and load_image is not None
        wanted = RANK_POOL if on_pixels else MAX_CANDIDATES
        spare = min(len(exclude), 1000)  # asked for beyond what is wanted, to skip them
        # The query's keypoints (~10 ms, kept for the ranking) found before the lock,
        # which the web process's other searching threads wait on.
        asked = (query_sketch(query_image.image).descriptors
                 if query_image is not None and on_pixels else None)
        voted: list[tuple[int, float]] = []
        with self._lock:
            candidates = self.index.search_many(keys, SEARCH_RADIUS, wanted + spare,
                                                key_views)
            if asked is not None:
                voted = self.votes.top(asked, VOTED + spare)
        pool, voted_checks = self._pool(db, [item for item, _d in candidates],
                                        [item for item, _v in voted], exclude, wanted)
        checks = [check for check, _signature in pool]
        signatures = [(position, signature) for position, (_check, signature)
                      in enumerate(pool)]
        position_of = {check: position for position, check in enumerate(checks)}
        most_voted = [position_of[check] for check in voted_checks if check in position_of]

        def load_candidate(position: int) -> DecodedImage | None:
            return load_image(checks[position]) if load_image is not None else None

        sketches: dict[str, Sketch] | None = None

        def load_sketch(position: int) -> Sketch | None:
            # Read, all in one query, only when the pool is ranked: a pool of
            # PIXEL_CHECKS or fewer is checked whole, and needs none.
            nonlocal sketches
            if sketches is None:
                with db.session() as session:
                    sketches = _sketches(session, checks)
            return sketches.get(checks[position])

        found = verify_candidates(views, signatures, load_candidate if on_pixels else None,
                                  load_sketch, most_voted)
        return [(checks[position], verdict) for position, verdict in found[:limit]]

    def _pool(self, db: Database, by_keys: list[int], by_votes: list[int],
              exclude: Collection[str], size: int
              ) -> tuple[list[tuple[str, Signatures]], list[str]]:
        """The pool (`candidates.pool_of`) of these index items, nearest by keys and
        most voted first, as (check, signatures): one row for each check, none of the
        checks in `exclude`; and the voted checks, most voted first. Only the pool's
        rows are read, all in one query; a row gone since it was indexed (replaced by a
        newer row, indexed too) gives its place to the next candidate, read in one
        more."""
        signature_of: dict[int, Signatures] = {}
        gone: set[int] = set()
        while True:
            row_of = [self._first_rows(items, exclude, gone) for items in (by_keys, by_votes)]
            checks = pool_of(list(row_of[0]), list(row_of[1]), size)
            rows = [row_of[0].get(check) or row_of[1][check] for check in checks]
            unread = [row for row in rows if row not in signature_of]
            if not unread:
                return [(check, signature_of[row]) for check, row in zip(checks, rows,
                                                                         strict=True)], \
                    list(row_of[1])
            signature_of |= self._signatures(db, unread)
            gone.update(row for row in unread if row not in signature_of)

    def _first_rows(self, items: list[int], exclude: Collection[str],
                    gone: set[int]) -> dict[str, int]:
        """Check -> its first row among these index items' rows, in their order."""
        first: dict[str, int] = {}
        for row in (self._row_of_item[item] for item in items):
            check_id = self._check_of_row[row]
            if row not in gone and check_id not in exclude and check_id not in first:
                first[check_id] = row
        return first


def _sketches(session: Session, checks: list[str]) -> dict[str, Sketch]:
    """The stored keypoint sketches of these checks; a check without one (stored before
    sketches were, or unreadable) is left out: ranked on its pixels instead, and never
    voted for."""
    if not checks:
        return {}
    rows = session.execute(
        select(Hash.check_id, Hash.value)
        .where(Hash.algorithm == SKETCH_ALGORITHM, Hash.check_id.in_(checks))
    ).all()
    found: dict[str, Sketch] = {}
    for check_id, value in rows:
        try:
            found[check_id] = Sketch.from_bytes(value)
        except ValueError as exc:  # a damaged row costs its ranking, not the search
            log.warning("skipping keypoint sketch of check %s: %s", check_id, exc)
    return found
