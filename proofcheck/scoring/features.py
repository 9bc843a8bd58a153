"""Features of one check, in the context of its account's history (DESIGN.md step 6).

Inputs are plain records (`CheckRecord`, `MatchInfo`), built from database rows by
`proofcheck.scoring.records` or by hand in tests; outputs are `dict[str, float]` with
the names in `FEATURES`. A value that cannot be known (no OCR output, no status bar)
is NaN, never a crash: the model treats missing values as their own case.

Every feature is documented in `FEATURES` (that text goes into the model card).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, NamedTuple

import numpy as np

from proofcheck.text.normalize import to_ascii_digits

NAN = float("nan")
DUPLICATE = frozenset({"exact", "resized", "cropped"})
EDITOR_FLAGS = frozenset({"edited_with_software", "ai_generator_metadata", "photoshop_segments"})
# The metadata's dates, and the date printed on the proof (`text.postdate`).
DATE_FLAGS = frozenset({"modified_after_post", "dated_after_post", "modified_after_capture",
                        "proof_dated_after_post"})
PROOF_FIELDS = frozenset({"amount", "date", "transaction_id"})
BURST_WINDOW = dt.timedelta(minutes=30)
# Captions are compared with the 50 posts on either side in the account's order: one
# voice shows among neighbours, and all pairs of a 1,000-post account are 500,000
# comparisons at every re-score (bench/rescore.py: 80% of a 300-post account's).
CAPTION_WINDOW = 50
# Two status bars are the same bar (same clock, battery and icons) only when their
# 256-bit difference hashes are equal: measured on generated screenshots, one clock
# digit apart already differs in 1-2 bits, while a template's copies (PNG or JPEG
# re-encoded) kept exactly the same hash. So bars are grouped by hash, not compared
# pairwise (quadratic in the account's size).
# Below this word overlap (and without the same transaction id) two screenshots say
# different things, whatever their layout. Measured on generated pairs: one bank's
# receipts for two customers overlap 0.0-0.41, a re-screenshotted copy 0.6-0.8 (OCR
# misreads some words and often the id), a repainted receipt 0.47-0.67 with its id.
SAME_TEXT_MIN = 0.6
# At or above this overlap the text is the same up to OCR noise (copies measured
# 0.85-1.0); between the two, one picture says something else: an edit.
SAME_TEXT_COPY = 0.8

FEATURES: dict[str, str] = {
    # -- this image against every other image checked
    "dup_earlier_other": "1 if the same picture (exact, resized or cropped copy) was posted "
                         "earlier by another account",
    "edited_earlier_other": "1 if an edited variant of this picture was posted earlier by "
                            "another account",
    "proof_taken_earlier": "1 if this is a payment or chat screenshot (OCR read an amount, "
                           "date or transaction id, or a phone status bar) and another "
                           "account posted it, or an edit of it, earlier: however large the "
                           "account, nobody honestly reposts another's receipt",
    "edited_same_account": "number of other posts of this account that are edited variants of "
                           "this picture (log1p)",
    "dup_same_account": "number of other posts of this account showing the same picture "
                        "(log1p): recycling",
    "dup_later_other": "1 if other accounts posted copies of this picture later (this looks "
                       "like the original)",
    "template_same_account": "number of this account's posts laid out on the same template "
                             "with other content (log1p)",
    "template_other_accounts": "number of other accounts' posts on the same template (log1p); "
                               "shared apps and banks are common",
    # -- forensic signals of this image
    "editor_severity": "highest severity of an editor/AI-generator metadata flag (0..1)",
    "date_anomaly": "1 if the metadata dates or the printed date contradict the post "
                    "(edited or dated after it)",
    "ela_severity": "highest error-level-analysis flag severity (0..1)",
    "jpeg_severity": "highest JPEG-structure flag severity, e.g. double compression (0..1)",
    "screenshot_severity": "highest screenshot-geometry flag severity (0..1)",
    "camera_exif": "1 if the file carries a camera's capture metadata",
    "has_status_bar": "1 if a phone status bar was found",
    "status_bar_repeats": "number of this account's other screenshots with the identical "
                          "status bar (clock, battery, icons) (log1p); NaN without a bar",
    # -- text of this image
    "ocr_fields": "number of fields read by OCR (log1p); NaN when OCR did not run",
    "amount_round": "1 if the main amount is a small round number (one significant digit)",
    "txid_repeats": "number of this account's other posts showing the same transaction id",
    # -- time and caption of this post
    "burst_neighbours": "number of this account's other posts within 30 minutes (log1p)",
    "caption_max_similarity": "highest caption similarity to another post of this account "
                              "among the 50 on either side (character trigram Jaccard, "
                              "digits and emoji ignored)",
    # -- the account's history
    "acc_posts": "number of checked posts of the account (log1p)",
    "acc_first_seen_elsewhere": "share of the account's posts whose picture another account "
                                "posted earlier (exact, resized or cropped)",
    "acc_edited_share": "share of the account's posts that are edited variants of an earlier "
                        "post or of another post of the account",
    "acc_template_share": "share of the account's posts on a template shared with its other "
                          "posts",
    "acc_recycled_share": "share of the account's posts that repeat another of its posts",
    "acc_original_share": "share of the account's posts copied later by others",
    "acc_txid_dup_share": "share of receipts whose transaction id appears on another of them",
    "acc_payers": "distinct payer names read on the account's receipts; NaN with fewer "
                  "than 3 receipts whose payer could be read (as all payer features)",
    "acc_payer_entropy": "entropy of payer names over receipts, normalised to 0..1",
    "acc_top_payer_share": "share of receipts paid by the most frequent payer",
    "acc_shared_surname": "share of receipts whose payer carries the most common payer surname",
    "acc_round_amount_share": "share of receipts with a small round amount",
    "acc_burstiness": "posts within 30 minutes of the previous one, above the Poisson "
                      "expectation for the account's posting rate (z-score)",
    "acc_caption_similarity": "mean caption similarity of the account's post pairs (each "
                              "post with the next 50)",
    "acc_status_bar_same_share": "share of the account's screenshots whose status bar repeats",
    "acc_editor_share": "share of the account's posts with editor metadata",
    "acc_date_anomaly_share": "share of the account's posts with contradicting metadata or "
                              "printed dates",
    "acc_template_other_share": "share of the account's posts sharing a template with other "
                                "accounts",
}
# Evidence that a post is the original, shown to moderators but kept out of the model:
# with few generated accounts a model can learn any sign for it, and being copied
# must never raise a score (a stolen image's owner must not be flagged).
INFORMATIONAL = frozenset({"dup_later_other", "acc_original_share"})
FEATURE_NAMES: tuple[str, ...] = tuple(n for n in FEATURES if n not in INFORMATIONAL)
# Features of the account's whole history, the same for each of its posts.
ACCOUNT_FEATURES = frozenset(n for n in FEATURES if n.startswith("acc_"))
# Payer diversity says nothing about an account with only a receipt or two.
MIN_PAYERS = 3
# How each feature may move the score (+1 up, -1 down, 0 either way): what we know
# about fraud, given to the trees so that a few generated accounts cannot teach them
# that, say, more payers is suspicious.
DIRECTION: dict[str, int] = {
    "dup_earlier_other": 1, "edited_earlier_other": 1, "proof_taken_earlier": 1,
    "edited_same_account": 1,
    "dup_same_account": 1, "dup_later_other": -1, "template_same_account": 1,
    "editor_severity": 1, "date_anomaly": 1, "ela_severity": 1, "jpeg_severity": 1,
    "screenshot_severity": 1, "status_bar_repeats": 1, "amount_round": 1, "txid_repeats": 1,
    "burst_neighbours": 1, "acc_first_seen_elsewhere": 1, "acc_edited_share": 1,
    "acc_template_share": 1, "acc_recycled_share": 1, "acc_original_share": -1,
    "acc_txid_dup_share": 1, "acc_payers": -1, "acc_payer_entropy": -1,
    "acc_top_payer_share": 1, "acc_shared_surname": 1, "acc_round_amount_share": 1,
    "acc_burstiness": 1, "acc_status_bar_same_share": 1, "acc_editor_share": 1,
    "acc_date_anomaly_share": 1,
}


@dataclass(frozen=True)
class MatchInfo:
    """A relation between a check and another one, seen from the check.

    `same_text` (word overlap of the two OCR texts, 0..1) and `same_id` (1: the same
    transaction id, or without ids the same long numbers; 0: different ones) are NaN
    when either side has no text.
    """

    relation: str  # exact | resized | cropped | edited | template | similar
    earlier: bool  # the other one was posted (or first seen) before this one
    other_check_id: str
    other_account: str | None
    other_post_id: str | None = None
    other_posted_at: dt.datetime | None = None
    distance: int = 0
    same_text: float = NAN
    same_id: float = NAN
    # 1: amount, date and payer, where both sides read them, agree; 0: one differs
    same_fields: float = NAN

    @property
    def kind(self) -> str:
        """The relation, corrected by the text: two screenshots of one layout that the
        picture matcher calls copies but whose transaction ids and words differ are
        template siblings (two customers' receipts from one bank), not copies; a copy
        whose amount, date or payer changed is an edit, and so is one whose words
        changed a little, unless its id (or long numbers) agree: then the difference is
        the OCR misreading a re-screenshot or a small label."""
        if self.relation not in ("resized", "cropped", "edited"):
            return self.relation
        if self.same_id != 1.0 and self.same_text < SAME_TEXT_MIN:
            return "template"
        if self.same_fields == 0.0 or (self.same_text < SAME_TEXT_COPY and self.same_id != 1.0):
            return "edited"  # the same picture, but what it says changed
        return self.relation


@dataclass(frozen=True)
class CheckRecord:
    check_id: str
    account: str | None
    post_id: str | None
    posted_at: dt.datetime | None
    submitted_at: dt.datetime
    caption: str | None = None
    kind: str | None = None
    matches: tuple[MatchInfo, ...] = ()
    signals: Mapping[str, Any] = field(default_factory=dict)

    @property
    def when(self) -> dt.datetime:
        return self.posted_at or self.submitted_at


def _other_account(m: MatchInfo, rec: CheckRecord) -> bool:
    return m.other_account is not None and rec.account is not None and \
        m.other_account != rec.account


def _same_account(m: MatchInfo, rec: CheckRecord) -> bool:
    return rec.account is not None and m.other_account == rec.account


def flags(signals: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every forensic flag of a check's signals, each naming its family."""
    out = []
    for family, result in signals.items():
        if isinstance(result, Mapping):
            out += [{**f, "family": family} for f in result.get("flags", [])
                    if isinstance(f, Mapping)]
    return out


def _severity(fl: list[dict[str, Any]], *, codes: frozenset[str] | None = None,
              family: str | None = None) -> float:
    vals = [float(f.get("severity", 0) or 0) for f in fl
            if (codes is None or f.get("code") in codes)
            and (family is None or f.get("family") == family)]
    return max(vals, default=0.0)


def ocr_fields(signals: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The OCR fields, or None when OCR did not run or failed."""
    ocr = signals.get("ocr")
    if not isinstance(ocr, Mapping) or "fields" not in ocr:
        return None
    return [f for f in ocr.get("fields") or [] if isinstance(f, Mapping)]


def _field(fields: Sequence[Mapping[str, Any]], ftype: str) -> str | None:
    best = max((f for f in fields if f.get("type") == ftype),
               key=lambda f: float(f.get("confidence", 0) or 0), default=None)
    return str(best.get("value")) if best is not None and best.get("value") else None


def is_round(amount: str | None) -> bool:
    """One significant digit (50,000; 200; 1000): what relatives send each other."""
    if not amount:
        return False
    try:
        value = float(amount)
    except ValueError:
        return False
    if value <= 0 or value != int(value):
        return False
    digits = str(int(value)).rstrip("0")
    return len(digits) <= 1 or (len(digits) == 2 and digits[1] == "5")


# Labels that introduce the payer on transfer receipts (fa, ar, sw, pl, en).
PAYER_LABELS = ("از", "من", "kutoka", "nadawca", "od", "from", "sender", "payer",
                "imetumwa na", "received from")
_NAME_WORD = re.compile(r"^[^\W\d_]{2,}$", re.UNICODE)


def payer(fields: Sequence[Mapping[str, Any]], text: str | None = None) -> str | None:
    """Who paid: the OCR text's line after a payer label, else the name field marked
    as the payer, else the topmost name not marked as the payee."""
    for line in (text or "").splitlines():
        clean = line.strip().replace(":", " ")
        low = clean.casefold()
        for label in PAYER_LABELS:
            if low.startswith(label + " "):
                words = clean[len(label):].split()
                if 2 <= len(words) <= 4 and all(_NAME_WORD.match(w) for w in words):
                    return " ".join(words).casefold()
    # Never the payee: that is the shop itself, the same on all of its receipts, and
    # would make every honest account look like one customer paying again and again.
    names = [f for f in fields if f.get("type") == "name" and f.get("value")
             and f.get("role") != "payee"]
    names.sort(key=lambda f: (f.get("role") != "payer", (f.get("box") or [0, 0])[1]))
    return str(names[0]["value"]).strip().casefold() if names else None


def status_bar_hash(signals: Mapping[str, Any]) -> int | None:
    shot = signals.get("screenshot")
    if not isinstance(shot, Mapping):
        return None
    bar = shot.get("status_bar")
    if not isinstance(bar, Mapping) or not bar.get("present") or not bar.get("dhash256"):
        return None
    try:
        return int(str(bar["dhash256"]), 16)
    except ValueError:
        return None


_NOISE = re.compile(r"[\d\W_]+", re.UNICODE)


def _trigrams(text: str | None) -> frozenset[str]:
    clean = _NOISE.sub(" ", (text or "").casefold()).strip()
    return frozenset(clean[i:i + 3] for i in range(max(0, len(clean) - 2)))


def _jaccard(ta: frozenset[str], tb: frozenset[str]) -> float:
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


def caption_similarity(a: str | None, b: str | None) -> float:
    return _jaccard(_trigrams(a), _trigrams(b))


_WORD = re.compile(r"\w+", re.UNICODE)


# A run of 8+ digits is an identifier (tracking, account, phone or reference number):
# amounts and dates are written with separators. Where no transaction id was read, as on
# a parcel label or a chat, these numbers tell a copy from a sibling of one layout.
_CODE = re.compile(r"\d{8,}")
# Fields an edit repaints: one changed word in twenty leaves the text 90% the same.
# (The payer is read by `payer()`, as the account features read it.)
EDITED_FIELDS = ("amount", "date", "payer")


class TextSummary(NamedTuple):
    words: frozenset[str]
    transaction_id: str | None
    fields: tuple[str | None, ...]  # the EDITED_FIELDS' values, None where not read
    codes: frozenset[str]  # long numbers in the text (`_CODE`)


def text_summary(signals: Mapping[str, Any]) -> TextSummary | None:
    """Words, transaction id, the `EDITED_FIELDS` and the long numbers of a check's OCR
    text; None without text."""
    ocr = signals.get("ocr")
    if not isinstance(ocr, Mapping) or not isinstance(ocr.get("text"), str):
        return None
    words = frozenset(w.casefold() for w in _WORD.findall(ocr["text"]) if len(w) > 1)
    if len(words) < 3:
        return None
    fields = ocr_fields(signals) or []
    edited = tuple(payer(fields, ocr["text"]) if name == "payer" else _field(fields, name)
                   for name in EDITED_FIELDS)
    return TextSummary(words, _field(fields, "transaction_id"), edited,
                       frozenset(_CODE.findall(to_ascii_digits(ocr["text"]))))


def _same_id(a: TextSummary, b: TextSummary) -> float:
    """1 when both read the same transaction id, 0 when different ones; without ids on
    both sides, the long numbers: 1 when those of one (a crop shows fewer) are all in the
    other, 0 when any differs; NaN when a side has none."""
    if a.transaction_id is not None and b.transaction_id is not None:
        return float(a.transaction_id == b.transaction_id)
    if not a.codes or not b.codes:
        return NAN
    return float(a.codes <= b.codes or b.codes <= a.codes)


def agreement(a: TextSummary | None, b: TextSummary | None) -> tuple[float, float, float]:
    """(same_text, same_id, same_fields) of two checks' text summaries; NaN where
    unknown."""
    if a is None or b is None:
        return NAN, NAN, NAN
    same_text = len(a.words & b.words) / len(a.words | b.words)
    read = [(x, y) for x, y in zip(a.fields, b.fields, strict=True)
            if x is not None and y is not None]
    same_fields = float(all(x == y for x, y in read)) if read else NAN
    return same_text, _same_id(a, b), same_fields


def _log1p(n: float) -> float:
    return math.log1p(n)


@dataclass(frozen=True)
class AccountContext:
    """What every check's features need from its account's other checks."""

    values: dict[str, float]
    bars: dict[str, int]  # check id -> status bar hash
    by_bar: dict[int, list[str]]  # status bar hash -> check ids
    copies: dict[str, frozenset[str]]  # check id -> checks showing the same picture
    txids: dict[str, str]  # check id -> transaction id
    times: dict[str, dt.datetime]
    sorted_times: list[dt.datetime]  # `times`, sorted: neighbours by bisection
    txid_counts: Counter[str]  # posts per transaction id
    captions: list[tuple[str, frozenset[str]]]  # (check id, caption trigrams), in order
    order: dict[str, int]  # check id -> its place in `captions`


def _bar_repeats(cid: str, bar: int, by_bar: Mapping[int, list[str]],
                 copies: Mapping[str, frozenset[str]]) -> int:
    """Other screenshots with the same status bar but other content: a copy of one
    screenshot repeats its bar as a matter of course, a new one never should."""
    mine = copies.get(cid, frozenset())
    return sum(1 for c in by_bar.get(bar, ())
               if c != cid and c not in mine and cid not in copies.get(c, frozenset()))


def _relations(rec: CheckRecord) -> dict[str, bool]:
    other_earlier = [m for m in rec.matches if m.earlier and _other_account(m, rec)]
    same = [m for m in rec.matches if _same_account(m, rec) and m.other_check_id != rec.check_id]
    return {
        # The same picture seen first elsewhere; an edit of another's picture is an
        # edit (below), and counting it here too blurred which of the two it is.
        "first_elsewhere": any(m.kind in DUPLICATE for m in other_earlier),
        # Edited from an earlier post or within the account: another account's later
        # edit of this picture says nothing about this account.
        "edited": any(m.kind == "edited" for m in same + other_earlier),
        "template": any(m.kind == "template" for m in same),
        "recycled": any(m.kind in DUPLICATE for m in same),
        "original": any(not m.earlier and _other_account(m, rec) and m.kind in DUPLICATE
                        for m in rec.matches),
        "template_other": any(m.kind == "template" and _other_account(m, rec)
                              for m in rec.matches),
    }


def _entropy(counts: Counter[str]) -> float:
    total = sum(counts.values())
    if total == 0 or len(counts) < 2:
        return 0.0
    h = -sum(c / total * math.log(c / total) for c in counts.values())
    return h / math.log(total) if total > 1 else 0.0


def _burstiness(times: list[dt.datetime]) -> float:
    """(observed - expected) / sqrt(expected + 1) short gaps, with a Poisson process of
    the account's own rate as the expectation: a busy honest shop posts often but not
    in clumps."""
    if len(times) < 3:
        return 0.0
    times = sorted(times)
    span = (times[-1] - times[0]).total_seconds()
    if span <= 0:
        return float(len(times) - 1)
    rate = (len(times) - 1) / span
    window = BURST_WINDOW.total_seconds()
    expected = (len(times) - 1) * (1 - math.exp(-rate * window))
    observed = sum((b - a) <= BURST_WINDOW for a, b in pairwise(times))
    return (observed - expected) / math.sqrt(expected + 1)


def account_context(records: Sequence[CheckRecord]) -> AccountContext:
    """Account-level features over all checks of one account (DESIGN.md step 6)."""
    n = len(records)
    rel = [_relations(r) for r in records]

    def share(key: str) -> float:
        return sum(r[key] for r in rel) / n if n else 0.0

    bars = {r.check_id: h for r in records if (h := status_bar_hash(r.signals)) is not None}
    copies = {r.check_id: frozenset(m.other_check_id for m in r.matches
                                    if m.kind in DUPLICATE | {"edited"}) for r in records}
    by_bar: dict[int, list[str]] = {}
    for cid, h in bars.items():
        by_bar.setdefault(h, []).append(cid)
    bar_repeat = [cid for cid, h in bars.items() if _bar_repeats(cid, h, by_bar, copies)]
    txids: dict[str, str] = {}
    payers: list[str] = []
    rounds: list[bool] = []
    counted: set[str] = set()
    for r in records:
        fields = ocr_fields(r.signals)
        if fields is None:
            continue
        if (tid := _field(fields, "transaction_id")) is not None:
            txids[r.check_id] = tid
        # One receipt posted (or edited) several times is still one payment: payer and
        # amount features count each picture once, so recycling is not read as "few
        # payers".
        seen_before = bool(copies[r.check_id] & counted)
        counted.add(r.check_id)
        if seen_before:
            continue
        if r.kind in (None, "receipt", "income") or _field(fields, "amount"):
            ocr = r.signals.get("ocr")
            text = ocr.get("text") if isinstance(ocr, Mapping) else None
            if (p := payer(fields, text if isinstance(text, str) else None)) is not None:
                payers.append(p)
            rounds.append(is_round(_field(fields, "amount")))
    tid_counts = Counter(txids.values())
    if len(payers) < MIN_PAYERS:
        payers = []
    payer_counts = Counter(payers)
    surnames = Counter(p.split()[-1] for p in payers if len(p.split()) >= 2)
    top_surname = surnames.most_common(1)[0] if surnames else None
    captions = [(r.check_id, _trigrams(r.caption)) for r in records]
    caps = [t for _, t in captions if t]
    pairs = [(a, b) for i, a in enumerate(caps) for b in caps[i + 1:i + 1 + CAPTION_WINDOW]]
    fl = [flags(r.signals) for r in records]
    values = {
        "acc_posts": _log1p(n),
        "acc_first_seen_elsewhere": share("first_elsewhere"),
        "acc_edited_share": share("edited"),
        "acc_template_share": share("template"),
        "acc_recycled_share": share("recycled"),
        "acc_original_share": share("original"),
        "acc_txid_dup_share": (sum(tid_counts[t] > 1 for t in txids.values()) / len(txids)
                               if txids else NAN),
        "acc_payers": float(len(payer_counts)) if payers else NAN,
        "acc_payer_entropy": _entropy(payer_counts) if payers else NAN,
        "acc_top_payer_share": (payer_counts.most_common(1)[0][1] / len(payers)
                                if payers else NAN),
        "acc_shared_surname": (top_surname[1] / len(payers)
                               if top_surname and top_surname[1] >= 2 else 0.0)
        if payers else NAN,
        "acc_round_amount_share": sum(rounds) / len(rounds) if rounds else NAN,
        "acc_burstiness": _burstiness([r.when for r in records]),
        "acc_caption_similarity": (sum(_jaccard(a, b) for a, b in pairs) / len(pairs)
                                   if pairs else 0.0),
        "acc_status_bar_same_share": len(bar_repeat) / len(bars) if bars else NAN,
        "acc_editor_share": (sum(_severity(f, codes=EDITOR_FLAGS) >= 0.45 for f in fl) / n
                             if n else 0.0),
        "acc_date_anomaly_share": (sum(_severity(f, codes=DATE_FLAGS) > 0 for f in fl) / n
                                   if n else 0.0),
        "acc_template_other_share": share("template_other"),
    }
    times = {r.check_id: r.when for r in records}
    return AccountContext(values=values, bars=bars, by_bar=by_bar, copies=copies, txids=txids,
                          times=times, sorted_times=sorted(times.values()),
                          txid_counts=tid_counts,
                          captions=captions,
                          order={cid: i for i, (cid, _) in enumerate(captions)})


def _is_proof(fields: Sequence[Mapping[str, Any]] | None, bar: int | None) -> bool:
    """A payment or chat screenshot, not a product photograph (which resellers share).
    (Counting a long OCR text as a chat too lost one stolen post of 24, held out.)"""
    return bar is not None or any(f.get("type") in PROOF_FIELDS for f in fields or [])


def _caption_max_similarity(rec: CheckRecord, ctx: AccountContext) -> float:
    """Against the `CAPTION_WINDOW` posts on either side of this one (or the last ones,
    if it is not among them)."""
    mine = _trigrams(rec.caption)
    at = ctx.order.get(rec.check_id, len(ctx.captions))
    near = ctx.captions[max(0, at - CAPTION_WINDOW):at + CAPTION_WINDOW + 1]
    return max((_jaccard(mine, t) for cid, t in near if cid != rec.check_id), default=0.0)


def check_features(rec: CheckRecord, ctx: AccountContext) -> dict[str, float]:
    """Image-level features of one check plus its account's features."""
    other_earlier = [m for m in rec.matches if m.earlier and _other_account(m, rec)]
    same = [m for m in rec.matches if _same_account(m, rec) and m.other_check_id != rec.check_id]
    later_other = [m for m in rec.matches if not m.earlier and _other_account(m, rec)]
    fl = flags(rec.signals)
    fields = ocr_fields(rec.signals)
    bar = ctx.bars.get(rec.check_id)
    tid = ctx.txids.get(rec.check_id)
    when = ctx.times.get(rec.check_id, rec.when)
    shot = rec.signals.get("screenshot")
    has_shot = isinstance(shot, Mapping) and "status_bar" in shot
    values = {
        "dup_earlier_other": float(any(m.kind in DUPLICATE for m in other_earlier)),
        "edited_earlier_other": float(any(m.kind == "edited" for m in other_earlier)),
        "proof_taken_earlier": float(_is_proof(fields, bar) and any(
            m.kind in DUPLICATE | {"edited"} for m in other_earlier)),
        "edited_same_account": _log1p(sum(m.kind == "edited" for m in same)),
        "dup_same_account": _log1p(sum(m.kind in DUPLICATE for m in same)),
        "dup_later_other": float(any(m.kind in DUPLICATE | {"edited"} for m in later_other)),
        "template_same_account": _log1p(sum(m.kind == "template" for m in same)),
        "template_other_accounts": _log1p(sum(m.kind == "template" and _other_account(m, rec)
                                              for m in rec.matches)),
        "editor_severity": _severity(fl, codes=EDITOR_FLAGS),
        "date_anomaly": float(_severity(fl, codes=DATE_FLAGS) > 0),
        "ela_severity": _severity(fl, family="ela"),
        "jpeg_severity": _severity([f for f in fl if f.get("code") not in EDITOR_FLAGS],
                                   family="jpeg"),
        "screenshot_severity": _severity(fl, family="screenshot"),
        "camera_exif": float(bool(shot.get("camera_exif"))) if isinstance(shot, Mapping) else NAN,
        "has_status_bar": float(bar is not None) if has_shot else NAN,
        "status_bar_repeats": _log1p(_bar_repeats(rec.check_id, bar, ctx.by_bar, ctx.copies))
        if bar is not None else NAN,
        "ocr_fields": _log1p(len(fields)) if fields is not None else NAN,
        "amount_round": float(is_round(_field(fields, "amount"))) if fields is not None else NAN,
        "txid_repeats": float(ctx.txid_counts[tid] - 1)
        if tid is not None else (NAN if fields is None else 0.0),
        "burst_neighbours": _log1p(
            bisect_right(ctx.sorted_times, when + BURST_WINDOW)
            - bisect_left(ctx.sorted_times, when - BURST_WINDOW)
            - (rec.check_id in ctx.times)),
        "caption_max_similarity": _caption_max_similarity(rec, ctx),
    }
    values.update(ctx.values)
    return values


def matrix(rows: Sequence[Mapping[str, float]],
           names: Sequence[str] = FEATURE_NAMES) -> np.ndarray:
    """Feature rows as a matrix in `names` order (a model's own, for an older model);
    absent names are NaN."""
    return np.array([[float(r.get(n, NAN)) for n in names] for r in rows],
                    dtype=float).reshape(len(rows), len(names))
