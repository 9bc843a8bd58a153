"""Decoded originals of earlier checks, kept between near-duplicate searches.

A search verifies its nearest candidates on pixels, each decoded from storage, and a
1080x2340 PNG screenshot costs 15-25 ms to decode. The candidates repeat: uploads of
one app's screenshots bring the same popular images back again and again
(bench/worker_search.py: 804 of 960 candidate decodes in 120 checks were of an image
decoded before). Verification reads only grey levels (`imaging.grey`) and colour at a
sixteenth of the resolution (`colourcheck`), so those are kept, 37% of the RGB, under
a byte budget, least recently used out first.
Entries are keyed by the file's SHA-256: a stored file never changes, and callers look
the digest up from a check row first, so an image no check names is never served.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from cachetools import LRUCache

from proofcheck import colourcheck
from proofcheck.imaging import DecodedImage, to_grey


def _size(decoded: DecodedImage) -> int:
    colour = decoded.chroma.nbytes if decoded.chroma is not None else 0
    return decoded.image.width * decoded.image.height * len(decoded.image.getbands()) + colour


class PixelCache:
    """Grey decoded images by SHA-256, at most `budget_bytes` of pixels (0: none kept)."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._entries: LRUCache[str, DecodedImage] = LRUCache(
            maxsize=max(budget_bytes, 1), getsizeof=_size)
        self._lock = threading.Lock()  # web processes search from several threads
        self.hits = 0
        self.misses = 0

    def get(self, sha256: str, decode: Callable[[], DecodedImage]) -> DecodedImage:
        """The grey image of `sha256`, from the cache or from `decode()` (whose errors
        pass through, nothing kept)."""
        with self._lock:
            found = self._entries.get(sha256)
            if found is not None:
                self.hits += 1
                return found
            self.misses += 1
        decoded = decode()
        # Not `imaging.grey`: its memo would keep the RGB decode (7.5 MB) alive.
        kept = replace(decoded, image=to_grey(decoded.image),
                       chroma=colourcheck.chroma_plane(decoded.image))
        if 0 < _size(kept) <= self.budget_bytes:
            with self._lock:
                self._entries[sha256] = kept
        return kept

    @property
    def bytes_held(self) -> int:
        with self._lock:
            return int(self._entries.currsize)
