"""The check pipeline: plain functions from an uploaded file to a result.

Nothing here touches the database, Redis or the blob store: the caller hands in the
bytes and a way to look up earlier sightings of a sha256, so the same pipeline runs in
an RQ worker, in the tests and in `proofcheck scan`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from proofcheck import forensics
from proofcheck.features import Sketch, sketch
from proofcheck.hashing import Signatures
from proofcheck.imaging import DecodedImage, decode
from proofcheck.matching import DUPLICATE_RELATIONS, PairVerdict
from proofcheck.storage import sha256_hex
from proofcheck.text import text_signals
from proofcheck.text.postdate import dated_after_post
from proofcheck.text.statusbar import read_status_bar
from proofcheck.views import stored_signatures

RULES_VERSION = "rules-2026.11.0"
# The score of an image about which nothing suspicious is known. Not zero: a rule
# engine that found nothing has not shown the proof is real.
BASE_SCORE = 0.05
# Forensic flags count from this severity, with at most this weight per unit severity.
MIN_FLAG_SEVERITY = 0.3
FLAG_WEIGHT = 0.7


@dataclass(frozen=True)
class CheckInput:
    """What the submitter told us about one image."""

    check_id: str
    account: str | None
    post_id: str | None
    posted_at: dt.datetime | None
    submitted_at: dt.datetime
    kind: str | None = None


@dataclass(frozen=True)
class Sighting:
    """Another check of the same file, as stored."""

    check_id: str
    account: str | None
    post_id: str | None
    posted_at: dt.datetime | None
    submitted_at: dt.datetime
    bank: str | None = None  # the name it has in the known-fabricated bank, if any


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    size_bytes: int
    format: str
    width: int
    height: int


@dataclass(frozen=True)
class MatchFinding:
    check_id: str
    account: str | None
    post_id: str | None
    posted_at: dt.datetime | None
    relation: str  # exact | resized | cropped | edited | template | similar
    distance: int
    earlier: bool  # the other image was posted (or first seen) before this one
    submitted_at: dt.datetime | None = None
    changed_box: tuple[int, int, int, int] | None = None  # x, y, w, h in this image (edited)
    similarity: float | None = None  # the verifier's confidence, 0..1 (near duplicates)
    bank: str | None = None  # the other image's name in the known-fabricated bank

    @property
    def when(self) -> str:
        """When the other image was posted, or else when it first reached us."""
        if self.posted_at is not None:
            return f"on {_day(self.posted_at)}"
        if self.submitted_at is not None:
            return f"(first checked on {_day(self.submitted_at)})"
        return "at an unknown time"


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    weight: float


@dataclass(frozen=True)
class Assessment:
    score: float
    verdict: str  # authentic | review | fabricated
    reasons: list[Reason]
    model_version: str


@dataclass(frozen=True)
class Thresholds:
    review: float = 0.5
    fabricated: float = 0.8

    def verdict(self, score: float) -> str:
        if score >= self.fabricated:
            return "fabricated"
        if score >= self.review:
            return "review"
        return "authentic"


@dataclass(frozen=True)
class PipelineResult:
    fingerprint: Fingerprint
    matches: list[MatchFinding]
    assessment: Assessment
    signatures: Signatures | None = None
    sketch: Sketch | None = None  # stored for later searches to rank this image by
    signals: dict[str, Any] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)


def fingerprint(data: bytes, decoded: DecodedImage) -> Fingerprint:
    return Fingerprint(
        sha256=sha256_hex(data),
        size_bytes=len(data),
        format=decoded.format,
        width=decoded.width,
        height=decoded.height,
    )


def _seen_at(posted_at: dt.datetime | None, submitted_at: dt.datetime) -> dt.datetime:
    """When an image was first public, as far as we know: its post time if given,
    otherwise when it reached us."""
    return posted_at or submitted_at


def is_earlier(other: Sighting, item: CheckInput) -> bool:
    other_time = _seen_at(other.posted_at, other.submitted_at)
    item_time = _seen_at(item.posted_at, item.submitted_at)
    if other_time != item_time:
        return other_time < item_time
    # Same instant: whoever reached us first counts as earlier (ids sort by time).
    return (other.submitted_at, other.check_id) < (item.submitted_at, item.check_id)


def exact_matches(item: CheckInput, sightings: Sequence[Sighting]) -> list[MatchFinding]:
    """Every other check of the very same file, earliest first."""
    found = [
        MatchFinding(
            check_id=s.check_id,
            account=s.account,
            post_id=s.post_id,
            posted_at=s.posted_at,
            relation="exact",
            distance=0,
            earlier=is_earlier(s, item),
            submitted_at=s.submitted_at,
            bank=s.bank,
        )
        for s in sightings
        if s.check_id != item.check_id
    ]
    return sorted(found, key=lambda m: (not m.earlier, m.posted_at or dt.datetime.max.replace(
        tzinfo=dt.UTC)))


def _day(when: dt.datetime) -> str:
    return f"{when.day} {when:%B %Y}"


def _who(account: str | None) -> str:
    return account or "an unnamed account"


def _post(post_id: str | None) -> str:
    return f" (post {post_id})" if post_id else ""


_WHAT = {
    "exact": "The same file",
    "resized": "The same image (resized or recompressed)",
    "cropped": "The same image, cropped or re-framed,",
    "edited": "This image with one region changed",
}
# Weight of a copy from another account that posted it first, by relation. A byte-equal
# file is proof; a near duplicate goes to a human (the review band): measured on
# bench/duplicates.py, 21% of different chats/receipts of one style still come out as
# cropped or edited copies of each other (bench/RESULTS.md).
_STOLEN_WEIGHT = {"exact": 0.85, "resized": 0.6, "cropped": 0.55, "edited": 0.6}


def _names(matches: Sequence[MatchFinding]) -> list[str]:
    return sorted({m.account for m in matches if m.account})


def _flag_reasons(flags: Sequence[dict[str, Any]]) -> list[Reason]:
    """Forensic flags as reasons. One image's metadata is weaker evidence than a copy
    posted elsewhere, so a flag weighs at most FLAG_WEIGHT of its severity."""
    reasons: dict[str, Reason] = {}
    for found in flags:
        severity = float(found.get("severity") or 0)
        code = str(found.get("code") or "")
        if severity < MIN_FLAG_SEVERITY or not code or code in reasons:
            continue
        reasons[code] = Reason(code, str(found.get("message") or code),
                               round(FLAG_WEIGHT * severity, 3))
    return list(reasons.values())


def assess(item: CheckInput, matches: Sequence[MatchFinding], thresholds: Thresholds,
           flags: Sequence[dict[str, Any]] = ()) -> Assessment:
    """Rule-based verdict from the duplicate findings.

    An image first posted by another account (as the same file, resized, cropped or
    with a region changed) is the strongest single sign of stolen proof; the same
    account posting one image as two different posts is recycling, or, with a region
    changed, an edited series. A later copy by someone else says nothing against this
    post (it is the original). `template` and `similar` matches carry no weight here:
    honest shops share one bank's receipts and one messenger's look.
    """
    reasons: list[Reason] = []
    known = item.account is not None
    dups = [m for m in matches if m.relation in DUPLICATE_RELATIONS]
    earlier = [m for m in dups if m.earlier]
    later = [m for m in dups if not m.earlier]
    same_post = [m for m in earlier if known and m.account == item.account
                 and m.post_id == item.post_id and m.relation != "edited"]
    others = [m for m in earlier if known and m.account is not None and m.account != item.account]
    own = [m for m in earlier if known and m.account == item.account and m not in same_post]
    unattributed = [m for m in earlier if not known or m.account is None]

    banked = [m for m in dups if m.bank]
    if banked:
        first = banked[0]
        reasons.append(Reason(
            "known_fabricated",
            f"This image matches {first.bank}, which a moderator confirmed as fabricated "
            f"({first.relation}).",
            0.9 if first.relation == "exact" else 0.7,
        ))
    stolen = [m for m in others if m.relation != "edited"]
    if stolen:
        first = max(stolen, key=lambda m: _STOLEN_WEIGHT[m.relation])
        names = _names(stolen)
        more = f" and {len(names) - 1} other account(s)" if len(names) > 1 else ""
        reasons.append(Reason(
            "stolen_from_other_account",
            f"{_WHAT[first.relation]} was posted by {_who(first.account)}"
            f"{_post(first.post_id)} {first.when}{more}, before this post.",
            _STOLEN_WEIGHT[first.relation],
        ))
    edited_other = [m for m in others if m.relation == "edited"]
    if edited_other:
        first = edited_other[0]
        reasons.append(Reason(
            "edited_copy_of_other",
            f"This is {_who(first.account)}'s earlier post{_post(first.post_id)} "
            f"{first.when} with one region changed (an amount, name or date?).",
            _STOLEN_WEIGHT["edited"],
        ))
    recycled = [m for m in own if m.relation != "edited"]
    if recycled:
        first = min(recycled, key=lambda m: m.relation != "exact")
        reasons.append(Reason(
            "recycled_same_account",
            f"{_WHAT[first.relation]} was already posted by this account {first.when}"
            f"{_post(first.post_id)}; here it is shown as a different post.",
            0.6 if first.relation == "exact" else 0.5,
        ))
    edited_own = [m for m in own if m.relation == "edited"]
    if edited_own:
        first = edited_own[0]
        reasons.append(Reason(
            "edited_own_post",
            f"This account posted this image before{_post(first.post_id)} {first.when} with "
            "one region different: one receipt or chat edited into several.",
            0.55,
        ))
    if unattributed and not (others or own):
        first = unattributed[0]
        reasons.append(Reason(
            "reused_file",
            f"{_WHAT[first.relation]} was checked before ({_who(first.account)}"
            f"{_post(first.post_id)} {first.when}); without both accounts we cannot tell "
            "who owns it.",
            0.55,
        ))
    if same_post:
        reasons.append(Reason(
            "resubmitted",
            "The same image was already checked for this account and post; this is a "
            "resubmission.",
            0.0,
        ))
    later_names = [n for n in _names(later) if n != item.account]
    if later_names:
        reasons.append(Reason(
            "reused_by_other_account",
            f"Later copies of this image were posted by {', '.join(later_names[:3])}"
            f"{' and others' if len(later_names) > 3 else ''}; this post looks like the "
            "original.",
            0.0,
        ))
    templates = [m for m in matches if m.relation == "template"]
    if templates:
        reasons.append(Reason(
            "shared_template",
            f"Same layout as {len(templates)} other checked image(s) with different content "
            "(one app or one bank's template); not evidence on its own.",
            0.0,
        ))
    reasons += _flag_reasons(flags)
    if not dups:
        reasons.append(Reason("no_copy_found", "No other copy of this image was found.", 0.0))

    survival = 1.0 - BASE_SCORE
    for reason in reasons:
        survival *= 1.0 - reason.weight
    score = round(1.0 - survival, 4)
    reasons.sort(key=lambda r: r.weight, reverse=True)
    return Assessment(score=score, verdict=thresholds.verdict(score), reasons=reasons,
                      model_version=RULES_VERSION)


# (the query's signatures, its decoded image, checks already matched as the very same
# file or the query itself: no need to verify them) -> verified matches with posters.
NearDuplicateSearch = Callable[[Signatures, DecodedImage, set[str]],
                               Sequence[tuple[Sighting, PairVerdict]]]


def near_matches(item: CheckInput, found: Sequence[tuple[Sighting, PairVerdict]],
                 exact: Sequence[MatchFinding]) -> list[MatchFinding]:
    """Near-duplicate findings, except checks already found as the very same file."""
    already = {m.check_id for m in exact} | {item.check_id}
    return [
        MatchFinding(check_id=s.check_id, account=s.account, post_id=s.post_id,
                     posted_at=s.posted_at, relation=v.relation, distance=int(v.distance),
                     earlier=is_earlier(s, item), submitted_at=s.submitted_at,
                     changed_box=v.changed_box, similarity=round(float(v.score), 3),
                     bank=s.bank)
        for s, v in found if s.check_id not in already
    ]


def run(
    data: bytes,
    item: CheckInput,
    sightings_of: Callable[[str], Sequence[Sighting]],
    thresholds: Thresholds,
    max_pixels: int,
    on_stage: Callable[[str], None] | None = None,
    near_duplicates: NearDuplicateSearch | None = None,
    ocr: bool = True,
) -> PipelineResult:
    """Run every stage on one image. Raises `ImageError` for an unusable file.

    `near_duplicates` searches everything indexed for the image's signatures; without
    it only exact copies are found. `ocr` reads the text (the slowest stage, about a
    third of a second per phone screenshot).
    """
    timings: dict[str, float] = {}

    def stage(name: str) -> float:
        if on_stage is not None:
            on_stage(name)
        return time.perf_counter()

    started = stage("decoding")
    decoded = decode(data, max_pixels=max_pixels)
    timings["decode"] = (time.perf_counter() - started) * 1000

    started = stage("hashing")
    # With the straightened view's keys: stored, they let a straight copy checked later
    # find this image if it is tilted; here, they are the query's straightened view.
    signatures = stored_signatures(data, max_pixels, decoded)
    timings["hash"] = (time.perf_counter() - started) * 1000

    started = stage("matching")
    print_ = fingerprint(data, decoded)
    matches = exact_matches(item, sightings_of(print_.sha256))
    if near_duplicates is not None:
        known = {m.check_id for m in matches} | {item.check_id}
        matches += near_matches(item, near_duplicates(signatures, decoded, known), matches)
    # After the search, which found the same keypoints already when it ranked a pool.
    keypoint_sketch = sketch(decoded.image)
    timings["match"] = (time.perf_counter() - started) * 1000

    signals: dict[str, Any] = {}
    boxes: list[list[int]] | None = None
    if ocr:
        started = stage("reading text")
        signals["ocr"] = text_signals(decoded.image)
        # ELA compares text boxes with each other; amounts, dates and ids are where
        # edits happen, so their boxes are the ones to look inside.
        boxes = [list(f["box"]) for f in signals["ocr"].get("fields", []) if f.get("box")] or None
        if "fields" in signals["ocr"]:
            signals["ocr"]["flags"] = dated_after_post(signals["ocr"]["fields"], item.posted_at)
        timings["ocr"] = (time.perf_counter() - started) * 1000

    started = stage("forensics")
    signals.update(forensics.run_all(data, decoded, item.posted_at, boxes=boxes))
    bar = (signals.get("screenshot") or {}).get("status_bar") or {}
    if ocr and bar.get("present"):
        bar.update(read_status_bar(decoded.image, bar))
    timings["forensics"] = (time.perf_counter() - started) * 1000

    started = stage("scoring")
    assessment = assess(item, matches, thresholds, flags=forensics.all_flags(signals))
    timings["score"] = (time.perf_counter() - started) * 1000
    return PipelineResult(fingerprint=print_, matches=matches, assessment=assessment,
                          signatures=signatures, sketch=keypoint_sketch, signals=signals,
                          timings_ms={k: round(v, 2) for k, v in timings.items()})
