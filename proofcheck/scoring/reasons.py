"""Reason codes: which features speak for which kind of misuse, and the sentence a
moderator reads for each, filled in from the check's own evidence.

The codes are stable API (`reasons[].code`); the groups decide which features'
contributions add up to one reason.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from proofcheck.scoring.features import DATE_FLAGS, DUPLICATE, CheckRecord, MatchInfo, flags

GROUPS: dict[str, tuple[str, ...]] = {
    # An edited copy of another account's earlier post is at least taken from it.
    "stolen_from_other_account": ("dup_earlier_other", "edited_earlier_other",
                                  "proof_taken_earlier", "acc_first_seen_elsewhere"),
    "edited_copy": ("edited_same_account", "acc_edited_share",
                    "ela_severity"),
    "template_series": ("template_same_account", "status_bar_repeats", "acc_template_share",
                        "acc_status_bar_same_share"),
    "posting_bursts": ("burst_neighbours", "caption_max_similarity", "acc_burstiness",
                       "acc_caption_similarity"),
    "recycled_same_account": ("dup_same_account", "acc_recycled_share", "txid_repeats",
                              "acc_txid_dup_share"),
    "few_related_payers": ("amount_round", "acc_payers", "acc_payer_entropy",
                           "acc_top_payer_share", "acc_shared_surname",
                           "acc_round_amount_share"),
    "editor_metadata": ("editor_severity", "date_anomaly", "acc_editor_share",
                        "acc_date_anomaly_share", "camera_exif"),
    "forensic_traces": ("jpeg_severity", "screenshot_severity"),
    "reused_by_other_account": ("dup_later_other", "acc_original_share"),
    "shared_app_look": ("template_other_accounts", "acc_template_other_share"),
    "account_size": ("acc_posts", "ocr_fields", "has_status_bar"),
}
# The fraud type each code names (evaluation: does the top reason name the truth?).
FRAUD_TYPE_OF: dict[str, str] = {
    "stolen_from_other_account": "stolen", "edited_copy": "edited",
    "template_series": "template", "posting_bursts": "template",
    "recycled_same_account": "recycled",
    "few_related_payers": "relatives", "editor_metadata": "editor",
}


def _day(when: dt.datetime | None) -> str:
    return f"{when.day} {when:%B %Y}" if when else "an unknown day"


def _first(matches: list[MatchInfo]) -> MatchInfo | None:
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return min(matches, key=lambda m: m.other_posted_at or far, default=None)


def _days_before(rec: CheckRecord, m: MatchInfo) -> str:
    if m.other_posted_at is None or rec.posted_at is None:
        return f"on {_day(m.other_posted_at)}"
    days = (rec.posted_at - m.other_posted_at).total_seconds() / 86400
    gap = f"{max(1, round(days * 24))} hours" if days < 1 else f"{round(days)} days"
    return f"on {_day(m.other_posted_at)}, {gap}"


def _post(m: MatchInfo) -> str:
    return f" (post {m.other_post_id})" if m.other_post_id else ""


def _pct(x: float) -> str:
    return f"{round(100 * x)}%"


def message(code: str, rec: CheckRecord, values: Mapping[str, float]) -> str:
    """One sentence about this check's evidence for `code`."""
    other = [m for m in rec.matches if m.other_account and m.other_account != rec.account]
    same = [m for m in rec.matches if m.other_account == rec.account and rec.account]
    if code == "stolen_from_other_account":
        first = _first([m for m in other if m.earlier and m.kind in DUPLICATE | {"edited"}])
        if first:
            how = "same file" if first.relation == "exact" else \
                f"same picture ({first.relation})"
            return (f"The {how} was posted by {first.other_account}{_post(first)} "
                    f"{_days_before(rec, first)}, before this post.")
        return (f"{_pct(values.get('acc_first_seen_elsewhere', 0))} of this account's posts "
                "were first posted by other accounts.")
    if code == "edited_copy":
        edits = [m for m in rec.matches if m.kind == "edited"]
        first = _first(edits)
        if first:
            who = "this account" if first.other_account == rec.account else first.other_account
            return (f"An edited variant of this picture (one region changed: amount, name or "
                    f"date) was posted by {who}{_post(first)} on {_day(first.other_posted_at)}.")
        return "Error-level analysis shows a region re-saved differently from the rest."
    if code == "template_series":
        n = len([m for m in same if m.kind == "template"])
        bar = values.get("status_bar_repeats", math.nan)
        parts = []
        if n:
            parts.append(f"{n} other posts of this account use the same layout with other "
                         "content")
        if bar == bar and bar > 0:
            parts.append(f"{round(math.expm1(bar))} show the identical status bar (clock and "
                         "battery never change)")
        burst = values.get("burst_neighbours", 0)
        if burst > 0:
            parts.append(f"{round(math.expm1(burst))} were posted within 30 minutes of it")
        return ("; ".join(parts) or "This account's posts look made from one template and "
                "posted in bursts in one voice") + "."
    if code == "posting_bursts":
        burst = values.get("burst_neighbours", 0)
        cap = values.get("caption_max_similarity", 0)
        parts = []
        if burst > 0:
            parts.append(f"{round(math.expm1(burst))} other posts of this account went up "
                         "within 30 minutes of it")
        if cap >= 0.5:
            parts.append(f"its caption repeats another post's ({_pct(cap)} alike)")
        z = values.get("acc_burstiness", 0)
        if z > 1:
            parts.append("the account posts in bursts far beyond its usual rate")
        return ("; ".join(parts) or "Posted in a burst, in the same voice as the account's "
                "other testimonials") + "."
    if code == "recycled_same_account":
        first = _first([m for m in same if m.kind in DUPLICATE])
        if first:
            return (f"This account already posted the same picture on "
                    f"{_day(first.other_posted_at)}{_post(first)}; here it is shown as a "
                    "different post.")
        if values.get("txid_repeats", 0) > 0:
            return "The same transaction id appears on another receipt of this account."
        return (f"{_pct(values.get('acc_recycled_share', 0))} of this account's posts repeat "
                "another of its posts as a new one.")
    if code == "few_related_payers":
        payers = values.get("acc_payers", math.nan)
        sur = values.get("acc_shared_surname", math.nan)
        rnd = values.get("acc_round_amount_share", math.nan)
        bits = []
        if payers == payers:
            bits.append(f"the account's receipts come from only {round(payers)} payer(s)")
        if sur == sur and sur > 0:
            bits.append(f"{_pct(sur)} share one surname")
        if rnd == rnd and rnd > 0:
            bits.append(f"{_pct(rnd)} are small round amounts")
        return ("Transfers between relatives, not sales: " + ", ".join(bits) + "."
                if bits else "The receipts' payers are few and related.")
    if code == "editor_metadata":
        found = sorted((f for f in flags(rec.signals)
                        if f.get("family") == "exif" or f.get("code") in DATE_FLAGS),
                       key=lambda f: -float(f.get("severity", 0) or 0))
        if found:
            return str(found[0].get("message") or "The metadata names a photo editor.")
        return (f"{_pct(values.get('acc_editor_share', 0))} of this account's posts were "
                "saved by a photo editor.")
    if code == "forensic_traces":
        found = sorted(flags(rec.signals), key=lambda f: -float(f.get("severity", 0) or 0))
        return str(found[0].get("message")) if found else "The file's structure is unusual."
    if code == "reused_by_other_account":
        later = [m for m in other if not m.earlier]
        names = sorted({m.other_account for m in later if m.other_account})
        return (f"Later copies were posted by {', '.join(names[:3])}; this post looks like "
                "the original." if names else "Others copied this account's posts later.")
    if code == "shared_app_look":
        return ("Other accounts' posts share this app's or bank's layout; common and not "
                "suspicious by itself.")
    return "The account's size and how much text could be read."


NO_EVIDENCE = "no_evidence"
# The rule engine's code when a check has no match at all; model reasons use it too.
NO_COPY_FOUND = "no_copy_found"
NO_EVIDENCE_MESSAGE = ("Nothing in this image or in its account's history looks reused, "
                       "edited or fabricated.")
