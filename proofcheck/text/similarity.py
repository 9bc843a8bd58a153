"""Text similarity for cross-post rules.

Two rules of the issue live on text:
- the same testimonial or chat message posted under different customer names: the
  texts match once names, numbers and OCR noise are taken out. MinHash over character
  5-grams of the masked text measures that (robust to a few misread letters, unlike
  exact hashing), and `MessageIndex` finds such pairs among many messages through
  datasketch's LSH;
- the same transaction id on two different receipts: `shared_transaction_ids`.

A signature (`signature`) is a plain list of ints, so the pipeline can store it with a
check and compare it later without this module's objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from datasketch import MinHash, MinHashLSH

from .fields import Field
from .normalize import normalize_text

NUM_PERM = 128
SHINGLE = 5
_DIGITS_RE = re.compile(r"\d+(?:[.,]\d+)*")
_NON_WORD_RE = re.compile(r"[^\w]+")


def mask_message(text: str, names: Iterable[str] = ()) -> str:
    """The message with what changes between copies of one template taken out.

    Names (the extracted payer/payee or the account's customer names) become
    "_name_", numbers "_num_", punctuation and case go; what is left is the
    template's wording.
    """
    out = normalize_text(text).lower()
    for name in sorted({normalize_text(n).lower() for n in names if n.strip()}, key=len,
                       reverse=True):
        out = out.replace(name, " _name_ ")
    out = _DIGITS_RE.sub(" _num_ ", out)
    return " ".join(_NON_WORD_RE.sub(" ", out).split())


def shingles(masked: str, k: int = SHINGLE) -> set[str]:
    """Character k-grams; a text shorter than k is its own single shingle."""
    if len(masked) <= k:
        return {masked} if masked else set()
    return {masked[i : i + k] for i in range(len(masked) - k + 1)}


def jaccard(a: str, b: str, names: Iterable[str] = ()) -> float:
    """Exact Jaccard similarity of two messages' masked shingles (for one pair)."""
    names = list(names)
    sa, sb = shingles(mask_message(a, names)), shingles(mask_message(b, names))
    if not sa and not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def minhash(text: str, names: Iterable[str] = ()) -> MinHash:
    m = MinHash(num_perm=NUM_PERM)
    for sh in shingles(mask_message(text, names)):
        m.update(sh.encode("utf-8"))
    return m


def signature(text: str, names: Iterable[str] = ()) -> list[int]:
    """A storable MinHash signature (NUM_PERM ints)."""
    return [int(v) for v in minhash(text, names).hashvalues]


def signature_similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of two stored signatures."""
    if len(a) != len(b) or not a:
        raise ValueError("signatures of different lengths")
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


class MessageIndex:
    """Near-duplicate messages among many: LSH over MinHash signatures.

    `threshold` is the Jaccard similarity above which two masked messages count as
    one template; candidates from LSH are confirmed with the estimated similarity.
    """

    def __init__(self, threshold: float = 0.7) -> None:
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._hashes: dict[str, MinHash] = {}

    def __len__(self) -> int:
        return len(self._hashes)

    def add(self, key: str, text: str, names: Iterable[str] = ()) -> None:
        if key in self._hashes:
            return
        m = minhash(text, names)
        self._hashes[key] = m
        self._lsh.insert(key, m)

    def query(self, text: str, names: Iterable[str] = ()) -> list[tuple[str, float]]:
        """(key, estimated similarity) of indexed messages like `text`, best first."""
        m = minhash(text, names)
        hits = [(k, float(m.jaccard(self._hashes[k]))) for k in self._lsh.query(m)]
        return sorted((h for h in hits if h[1] >= self.threshold), key=lambda h: -h[1])


def _ids(fields: Iterable[Field | Mapping[str, Any]]) -> set[str]:
    out = set()
    for f in fields:
        ftype = f.type if isinstance(f, Field) else f.get("type")
        value = f.value if isinstance(f, Field) else f.get("value")
        if ftype == "transaction_id" and isinstance(value, str):
            norm = re.sub(r"[^0-9A-Z]", "", value.upper())
            if len(norm) >= 6:  # shorter "ids" are too often label noise to accuse anyone
                out.add(norm)
    return out


def shared_transaction_ids(
    a: Iterable[Field | Mapping[str, Any]], b: Iterable[Field | Mapping[str, Any]]
) -> set[str]:
    """Transaction ids present on both receipts (fields or their API dicts)."""
    return _ids(a) & _ids(b)


def reused_transaction_ids(
    receipts: Mapping[str, Iterable[Field | Mapping[str, Any]]],
) -> dict[str, list[str]]:
    """Transaction id -> the receipts (keys, e.g. check ids) that show it, when >1."""
    seen: dict[str, list[str]] = {}
    for key, fields in receipts.items():
        for tid in _ids(fields):
            seen.setdefault(tid, []).append(key)
    return {tid: keys for tid, keys in seen.items() if len(keys) > 1}
