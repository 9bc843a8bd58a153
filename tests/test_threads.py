"""A worker's search keeps to one core: the native libraries it calls run one thread."""

from __future__ import annotations

import subprocess
import sys


def test_the_verification_modules_leave_opencv_and_faiss_one_thread_each() -> None:
    # A fresh interpreter: in this one an earlier test may have set the pools already.
    probe = ("import cv2, faiss, proofcheck.pixelmatch; "
             "print(cv2.getNumThreads(), faiss.omp_get_max_threads())")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["1", "1"]
