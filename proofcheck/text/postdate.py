"""A proof printed with a date after its own post: impossible for a genuine one.

A receipt or chat that was posted on 1 May cannot show a payment of 3 May; a faker who
types the date into a template, or posts one "receipt" in several posts over weeks,
gives himself away so. The printed date comes from OCR (`fields`), already Gregorian.

Printed dates carry no zone, and `posted_at` is an instant: the day printed may run
ahead of the post's UTC day by up to 14 hours (UTC+14), so only a day after that is
late. A misread digit can also put a date in the future ("۱۴۰۸" for "۱۴۰۳"), so only a
date read with CONFIDENT_DATE or more is judged; `bench/signals.py` prints how many
right and wrong dates reach it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from proofcheck.forensics._common import Flag, flag
from proofcheck.forensics.exif import MAX_UTC_OFFSET

CONFIDENT_DATE = 0.8
SEVERITY = 0.8  # as the metadata's "dated_after_post": it cannot happen to a real proof
CODE = "proof_dated_after_post"


def dated_after_post(fields: Sequence[Mapping[str, Any]],
                     posted_at: dt.datetime | None) -> list[Flag]:
    """The flag (as the forensic families give them) for the latest confidently read
    date of `fields` (the `signals.ocr.fields` of API.md) that is after `posted_at`;
    none without a post time or such a date."""
    if posted_at is None:
        return []
    utc = posted_at.astimezone(dt.UTC) if posted_at.tzinfo else posted_at
    last_possible = (utc + MAX_UTC_OFFSET).date()
    late: list[tuple[dt.date, str]] = []
    for field in fields:
        if field.get("type") != "date" or field.get("role") == "status_bar":
            continue
        if float(field.get("confidence") or 0.0) < CONFIDENT_DATE:
            continue
        try:
            printed = dt.date.fromisoformat(str(field.get("value")))
        except ValueError:
            continue
        if printed > last_possible:
            late.append((printed, str(field.get("raw") or field.get("value"))))
    if not late:
        return []
    printed, raw = max(late)
    days = (printed - utc.date()).days
    return [flag(CODE, f"The proof is dated {printed.isoformat()} (printed \"{raw}\"), "
                       f"{days} day{'s' if days > 1 else ''} after it was posted on "
                       f"{utc.date().isoformat()}: impossible for a genuine proof.", SEVERITY)]
