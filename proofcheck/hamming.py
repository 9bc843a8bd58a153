"""Hamming distances in C, through FAISS: the index's scans over 64-bit keys and the
keypoints' nearest descriptors, both 4-5x faster than the numpy scan and OpenCV's
brute-force matcher they replace (bench/duplicates.py, tests/test_hamming.py).

One module so that FAISS is set up once for every use: one thread, because each
worker process is one core's work (`proofcheck serve --workers N` runs N), and
FAISS's OpenMP threads beside them would only contend for the cores.
"""

from __future__ import annotations

import faiss
import numpy as np

faiss.omp_set_num_threads(1)


def within(stored: np.ndarray, query: np.ndarray,
           radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each 64-bit key of `query`, the rows of `stored` within `radius` bits of it:
    (bounds, rows, distances), query key i's in [bounds[i], bounds[i + 1]), by row.
    `stored` is read in place when it is contiguous uint64, as the index's arrays are."""
    stored = np.ascontiguousarray(stored, dtype=np.uint64)
    query = np.ascontiguousarray(query, dtype=np.uint64)
    found = faiss.RangeSearchResult(len(query))
    # FAISS keeps what lies strictly within its radius. (A SWIG wrapper that faiss's
    # type stubs leave out.)
    faiss.hamming_range_search(  # type: ignore[attr-defined]
        faiss.swig_ptr(query.view(np.uint8)), faiss.swig_ptr(stored.view(np.uint8)),
        len(query), len(stored), radius + 1, 8, found)
    bounds = faiss.rev_swig_ptr(found.lims, len(query) + 1).astype(np.int64)
    total = int(bounds[-1])
    rows = faiss.rev_swig_ptr(found.labels, total).astype(np.int64)
    distances = faiss.rev_swig_ptr(found.distances, total).astype(np.int64)
    return bounds, rows, distances


def two_nearest(query: np.ndarray, stored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each binary descriptor (a uint8 row) of `query`, the distances and rows of
    its two nearest in `stored`, nearest first; the second's row is -1 when `stored`
    has one row only."""
    distances, rows = faiss.knn_hamming(np.ascontiguousarray(query, dtype=np.uint8),
                                        np.ascontiguousarray(stored, dtype=np.uint8), 2)
    return distances, rows
