"""Tessdata_best's Persian model, fetched once at set-up to read Persian pages.

Debian's `tesseract-ocr-fas` is the small "fast" model. The tesseract.js project
publishes Tesseract's own "best" models, integerised ("best_int", Apache-2.0 like all
tessdata), on the npm registry; they load in the Tesseract that Debian ships. On 1,450
Persian pages of bench/signals.py (fonts held out) it misread 34 amounts against the
Debian model's 48 and 8 dates against 14, and about as many ids (48 against 44;
bench/RESULTS.md). On Arabic pages, which a Persian model reads too, it misread their
currency words, so they keep Debian's (`ocr._read_auto`).

Pinned and checked like the web fonts (`pinned`); without it Persian pages are read
with Debian's model, as before. Run by `scripts/bootstrap.sh`:

    python -m proofcheck.text.tessmodels
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .pinned import REGISTRY, FetchError, Pinned, fetch

PERSIAN_BEST_PACKAGE = Pinned(
    "@tesseract.js-data/fas", "1.0.0",
    "sha512-TA2y9dabKPx5Uy9LHvsrkwljJfbyGhtHlfyLyNob6oYz2rTnj02cygUwFrGqlog5MRNSZOebJ9fzzrMuNHJSDQ==",
    ("package/4.0.0_best_int/fas.traineddata.gz",),
)
# Where to look instead of the environment's own copy; "" reads with Debian's alone
# (benchmarks compare the two so).
DIR_VARIABLE = "PROOFCHECK_TESSDATA_BEST"


def model_dir() -> Path:
    """Where fetched models live: inside the Python environment, beside the packages."""
    return Path(sys.prefix) / "share" / "tessdata-best"


def persian_best_dir() -> str | None:
    """The tessdata directory holding the best Persian model, or None without it."""
    chosen = os.environ.get(DIR_VARIABLE)
    path = Path(chosen) if chosen else model_dir()
    if chosen == "" or not (path / "fas.traineddata").is_file():
        return None
    return f"{path}/"  # Tesseract joins the language's file name on directly


def main(registry: str = REGISTRY) -> int:
    try:
        for path in fetch(PERSIAN_BEST_PACKAGE, model_dir(), registry):
            print(f"[setup] Tesseract model {path.name} "
                  f"({PERSIAN_BEST_PACKAGE.package}@{PERSIAN_BEST_PACKAGE.version})")
    except FetchError as exc:
        print(f"[setup] optional Persian model not installed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
