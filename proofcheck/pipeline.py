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

from proofcheck.imaging import DecodedImage, decode
from proofcheck.storage import sha256_hex

RULES_VERSION = "rules-2026.11.0"
# The score of an image about which nothing suspicious is known. Not zero: a rule
# engine that found nothing has not shown the proof is real.
BASE_SCORE = 0.05


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


def assess(item: CheckInput, matches: Sequence[MatchFinding], thresholds: Thresholds,
           corpus_size: int | None = None) -> Assessment:
    """Rule-based verdict from the exact-duplicate findings.

    A file first posted by another account is the strongest single sign of stolen
    proof; the same account posting one file as two different posts is recycling.
    A later copy by someone else says nothing against this post (it is the original).
    """
    reasons: list[Reason] = []
    earlier = [m for m in matches if m.earlier]
    later = [m for m in matches if not m.earlier]
    same_post = [m for m in earlier if m.account == item.account and m.post_id == item.post_id
                 and item.account is not None]
    other_accounts = [m for m in earlier if m.account != item.account
                      and m.account is not None and item.account is not None]
    recycled = [m for m in earlier if m not in same_post and m.account == item.account
                and item.account is not None]
    unattributed = [m for m in earlier if m.account is None or item.account is None]

    if other_accounts:
        first = other_accounts[0]
        names = sorted({m.account for m in other_accounts if m.account})
        more = f" and {len(names) - 1} other account(s)" if len(names) > 1 else ""
        reasons.append(Reason(
            "stolen_from_other_account",
            f"The same file was posted by {_who(first.account)}{_post(first.post_id)} "
            f"{first.when}{more}, before this post.",
            0.85,
        ))
    if recycled:
        first = recycled[0]
        reasons.append(Reason(
            "recycled_same_account",
            f"This account already posted the same file {first.when}"
            f"{_post(first.post_id)}; here it is shown as a different post.",
            0.6,
        ))
    if unattributed and not other_accounts and not recycled:
        first = unattributed[0]
        reasons.append(Reason(
            "reused_file",
            f"The same file was checked before ({_who(first.account)}{_post(first.post_id)} "
            f"{first.when}); without both accounts we cannot tell who owns it.",
            0.55,
        ))
    if same_post:
        reasons.append(Reason(
            "resubmitted",
            "The same file was already checked for this account and post; this is a resubmission.",
            0.0,
        ))
    if later:
        names = sorted({m.account for m in later if m.account and m.account != item.account})
        if names:
            reasons.append(Reason(
                "reused_by_other_account",
                f"Later copies of this file were posted by {', '.join(names[:3])}"
                f"{' and others' if len(names) > 3 else ''}; this post looks like the original.",
                0.0,
            ))
    if not matches:
        seen = f" among {corpus_size} checked images" if corpus_size is not None else ""
        reasons.append(Reason("no_copy_found", f"No other copy of this file was found{seen}.", 0.0))

    survival = 1.0 - BASE_SCORE
    for reason in reasons:
        survival *= 1.0 - reason.weight
    score = round(1.0 - survival, 4)
    reasons.sort(key=lambda r: r.weight, reverse=True)
    return Assessment(score=score, verdict=thresholds.verdict(score), reasons=reasons,
                      model_version=RULES_VERSION)


def run(
    data: bytes,
    item: CheckInput,
    sightings_of: Callable[[str], Sequence[Sighting]],
    thresholds: Thresholds,
    max_pixels: int,
    on_stage: Callable[[str], None] | None = None,
    corpus_size: int | None = None,
) -> PipelineResult:
    """Run every stage on one image. Raises `ImageError` for an unusable file."""
    timings: dict[str, float] = {}

    def stage(name: str) -> float:
        if on_stage is not None:
            on_stage(name)
        return time.perf_counter()

    started = stage("decoding")
    decoded = decode(data, max_pixels=max_pixels)
    timings["decode"] = (time.perf_counter() - started) * 1000

    started = stage("matching")
    print_ = fingerprint(data, decoded)
    matches = exact_matches(item, sightings_of(print_.sha256))
    timings["match"] = (time.perf_counter() - started) * 1000

    started = stage("scoring")
    assessment = assess(item, matches, thresholds, corpus_size)
    timings["score"] = (time.perf_counter() - started) * 1000
    return PipelineResult(fingerprint=print_, matches=matches, assessment=assessment,
                          timings_ms={k: round(v, 2) for k, v in timings.items()})
