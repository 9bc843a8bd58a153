"""The request and response shapes of the v1 API, as pydantic models.

They are the single description the OpenAPI document is generated from; the tests
validate real responses against that document, so code and contract cannot drift.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Relation = Literal["exact", "resized", "cropped", "edited", "template", "similar"]
Verdict = Literal["authentic", "review", "fabricated"]
Kind = Literal["chat", "receipt", "shipping", "income", "followers", "photo", "other"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Strict):
    code: str = Field(description="Stable machine-readable code, e.g. file_too_large")
    message: str
    field: str | None = Field(description="The request field at fault, if any")


class Error(Strict):
    error: ErrorBody


class CreatedCheck(Strict):
    id: str
    status: Literal["queued"]
    url: str


class ChecksCreated(Strict):
    checks: list[CreatedCheck]


class Reason(Strict):
    code: str
    message: str
    weight: float


class MatchOut(Strict):
    check_id: str
    account: str | None
    post_id: str | None
    posted_at: str | None
    submitted_at: str | None
    relation: Relation
    distance: int
    earlier: bool = Field(description="The other image was posted (or first seen) earlier")
    changed_box: list[int] | None = Field(
        default=None, description="x, y, w, h of the changed region in this image (edited)")
    similarity: float | None = Field(default=None, description="Verifier confidence, 0..1")
    diff_url: str | None = Field(default=None,
                                 description="Difference heat-map of the aligned pair (PNG)")


class SightingOut(Strict):
    check_id: str
    account: str | None
    post_id: str | None
    seen_at: str = Field(description="Posted at, or when it reached us if no post time")
    relation: Literal["self", "exact", "resized", "cropped", "edited"] = Field(
        description="How that check's image relates to this one; self: this check")


class DeliveryOut(Strict):
    url: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None
    last_error: str | None
    delivered_at: str | None


class ReviewOut(BaseModel):
    decision: Literal["fabricated", "authentic", "unsure"]
    note: str | None
    by: str
    at: str


class CheckOut(Strict):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    stage: str | None
    account: str | None
    post_id: str | None
    posted_at: str | None
    caption: str | None
    kind: str | None
    filename: str | None
    sha256: str
    size_bytes: int
    format: str | None
    width: int | None
    height: int | None
    batch_id: str | None
    submitted_at: str
    started_at: str | None
    finished_at: str | None
    attempts: int
    verdict: Verdict | None
    score: float | None
    reasons: list[Reason] | None
    matches: list[MatchOut] | None
    earliest_sighting: SightingOut | None = Field(
        default=None, description="The earliest known post of this picture, across accounts")
    signals: dict[str, object]
    model_version: str | None
    error: str | None
    review: ReviewOut | None = None
    url: str
    callbacks: list[DeliveryOut]


class BatchItemIn(Strict):
    image_base64: str | None = None
    filename: str | None = None
    account: str | None = None
    post_id: str | None = None
    posted_at: str | None = None
    caption: str | None = None
    kind: Kind | None = None


class BatchIn(Strict):
    items: list[BatchItemIn]
    callback_url: str | None = None


class BatchCreated(Strict):
    id: str
    status: Literal["queued"]
    total: int
    url: str


class BatchCheck(Strict):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    verdict: Verdict | None
    score: float | None
    filename: str | None
    error: str | None


class BatchOut(Strict):
    id: str
    status: Literal["receiving", "queued", "running", "done", "failed"]
    total: int
    done: int = Field(description="Items that reached a final status (done or failed)")
    failed: int
    created_at: str
    finished_at: str | None
    url: str
    checks: list[BatchCheck]
    callbacks: list[DeliveryOut]


class AccountReason(Strict):
    code: str
    count: int
    weight: float
    message: str


class AccountCount(Strict):
    account: str
    count: int


class AccountOut(Strict):
    account: str
    checks: int
    done: int
    score: float | None
    verdict: Verdict | None
    reasons: list[AccountReason]
    stolen_from: list[AccountCount]
    reused_by: list[AccountCount]
    first_check_at: str | None
    last_check_at: str | None


class SearchOut(Strict):
    sha256: str
    matches: list[MatchOut]
    took_ms: float


class ReviewItem(BaseModel):
    check_id: str
    account: str | None
    verdict: Verdict | None
    score: float | None
    reasons: list[Reason] | None
    claimed_by: str | None
    claim_expires_at: str | None


class ReviewQueue(BaseModel):
    items: list[ReviewItem]


class Claim(BaseModel):
    check_id: str
    claimed_by: str
    claim_expires_at: str


class DecisionIn(Strict):
    decision: Literal["fabricated", "authentic", "unsure"]
    note: str | None = None


class DecisionOut(BaseModel):
    check_id: str
    review: ReviewOut
