"""OpenCV, set up once for every module that uses it: one thread per process.

Each worker process is one core's work (`proofcheck serve --workers N` runs N), as
FAISS's threads are kept to one in `hamming`. OpenCV's own pool (a thread per core)
only adds work: `bench/worker_search.py --compare threads`, 200 indexed screenshots,
a search 753 -> 631 ms CPU with one thread and the same 632 ms wall on this 2-core
machine; idle, 590 -> 507 ms CPU, 494 -> 507 ms wall (2026-12-06), the same matches.
Modules import cv2 from here, so that no import order can leave the pool as it was.
"""

import cv2 as cv2  # `as`: re-exported, for mypy's strict imports

cv2.setNumThreads(1)
