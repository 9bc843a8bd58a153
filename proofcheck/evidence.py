"""Everything the evidence screen shows about one check, gathered in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from proofcheck import plots
from proofcheck.db import Account, BankEntry, Check, Database, Match
from proofcheck.serialize import check_json
from proofcheck.services import Services
from proofcheck.storage import BlobNotFound

TIMELINE_POSTS = 300


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    label: str
    css: str  # class name chosen here, never from data


@dataclass(frozen=True)
class SidePair:
    """One match, to be shown next to the checked image."""

    match: dict[str, Any]
    width: int
    height: int
    boxes: list[Box]  # the changed region, in this (the checked) image's pixels
    bank_name: str | None


@dataclass
class Evidence:
    check: dict[str, Any]
    pairs: list[SidePair] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)  # OCR fields on the checked image
    timeline: plots.Chart = field(default_factory=plots.Chart)
    account_posts: int = 0
    bank_name: str | None = None


def _box(value: Any) -> tuple[float, float, float, float] | None:
    """A [x, y, w, h] in pixels, if `value` is one; forensic modules are still growing,
    so anything else is ignored rather than trusted."""
    if isinstance(value, (list, tuple)) and len(value) == 4:
        try:
            x, y, w, h = (float(v) for v in value)
        except (TypeError, ValueError):
            return None
        if w > 0 and h > 0:
            return x, y, w, h
    return None


def _ocr_boxes(signals: dict[str, Any]) -> list[Box]:
    ocr = signals.get("ocr")
    fields = ocr.get("fields") if isinstance(ocr, dict) else None
    boxes: list[Box] = []
    for item in fields if isinstance(fields, list) else []:
        if not isinstance(item, dict):
            continue
        found = _box(item.get("box"))
        if found:
            label = f"{item.get('type', 'field')}: {item.get('value', '')}"
            boxes.append(Box(*found, label=label, css="box-field"))
    return boxes


def _ela_boxes(signals: dict[str, Any]) -> list[Box]:
    ela = signals.get("ela")
    outliers = ela.get("outliers") if isinstance(ela, dict) else None
    boxes = []
    for item in outliers if isinstance(outliers, list) else []:
        found = _box(item.get("box")) if isinstance(item, dict) else None
        if found:
            boxes.append(Box(*found, label="error level unlike the rest of the text",
                             css="box-changed"))
    return boxes


def _changed_boxes(details: dict[str, Any] | None) -> list[Box]:
    boxes = []
    for key in ("changed_box", "box", "region"):
        found = _box((details or {}).get(key))
        if found:
            boxes.append(Box(*found, label="changed region", css="box-changed"))
            break
    return boxes


def gather(db: Database, check_id: str, item_href: str = "/checks/{}") -> Evidence | None:
    """The evidence for one check; `item_href` links a timeline dot to its check."""
    with db.session() as session:
        check = session.get(Check, check_id)
        if check is None:
            return None
        data = check_json(session, check)
        evidence = Evidence(check=data, boxes=_ocr_boxes(data["signals"])
                            + _ela_boxes(data["signals"]))
        evidence.bank_name = session.scalar(select(BankEntry.name)
                                            .where(BankEntry.check_id == check_id))
        if data["matches"]:
            rows = session.execute(
                select(Match.other_check_id, Match.details, Check.width, Check.height)
                .join(Check, Check.id == Match.other_check_id)
                .where(Match.check_id == check_id)).all()
            extra = {r[0]: (r[1], r[2], r[3]) for r in rows}
            banked = {r[0]: r[1] for r in session.execute(
                select(BankEntry.check_id, BankEntry.name)
                .where(BankEntry.check_id.in_(list(extra))))}
            for match in data["matches"]:
                details, width, height = extra.get(match["check_id"], (None, None, None))
                evidence.pairs.append(SidePair(match, width or 1, height or 1,
                                               _changed_boxes(details),
                                               banked.get(match["check_id"])))
        if check.account_id is not None:
            evidence.timeline, evidence.account_posts = _timeline(session, check, item_href)
    return evidence


def _timeline(session: Any, check: Check, item_href: str) -> tuple[plots.Chart, int]:
    total = session.scalar(select(func.count()).select_from(Check)
                           .where(Check.account_id == check.account_id)) or 0
    when = func.coalesce(Check.posted_at, Check.submitted_at)
    rows = session.execute(
        select(Check.id, Check.posted_at, Check.submitted_at, Check.score, Check.verdict,
               Check.post_id, Check.status)
        .where(Check.account_id == check.account_id)
        .order_by(when.desc()).limit(TIMELINE_POSTS)).all()
    posts = [plots.Post(check_id=r[0], when=r[1] or r[2], score=r[3],
                        verdict=r[4] if r[6] == "done" else None,
                        label=f"{r[5] or r[0]} · {(r[1] or r[2]):%Y-%m-%d %H:%M}"
                              f"{f' · {r[3]:.2f}' if r[3] is not None else ''}")
             for r in rows]
    return plots.timeline(posts, current=check.id, href=item_href), total


def account_names(db: Database, prefix: str = "", limit: int = 200) -> list[str]:
    with db.session() as session:
        query = select(Account.name).order_by(Account.name).limit(limit)
        if prefix:
            query = query.where(Account.name.startswith(prefix, autoescape=True))
        return list(session.scalars(query))


def _decoded(services: Services, check_id: str) -> tuple[bytes, Any, dict[str, Any]] | None:
    from proofcheck.imaging import ImageError, decode

    with services.db.session() as session:
        check = session.get(Check, check_id)
        if check is None or check.status != "done":
            return None
        sha256, signals = check.sha256, dict(check.signals or {})
    try:
        data = services.blobs.get(sha256)
        return data, decode(data, max_pixels=services.settings.max_pixels), signals
    except (BlobNotFound, ImageError):
        return None


def ela_heatmap(services: Services, check_id: str) -> bytes | None:
    """The error-level heat-map of a finished check's image, at the quality ELA found."""
    from proofcheck.forensics import ela

    found = _decoded(services, check_id)
    if found is None:
        return None
    data, decoded, signals = found
    quality = (signals.get("ela") or {}).get("quality")
    return ela.heatmap_png(data, decoded, quality if isinstance(quality, int) else None)


def diff_heatmap(services: Services, check_id: str, other_id: str) -> bytes | None:
    """Where a check's image differs from one of its matches, as a heat-map.

    Only for pairs the pipeline matched: rendering is heavy, so arbitrary pairs are refused.
    """
    from proofcheck import matching, pixelmatch

    with services.db.session() as session:
        paired = session.scalar(select(Match).where(Match.check_id == check_id,
                                                    Match.other_check_id == other_id))
        if paired is None:
            return None
        details = paired.details or {}
        box = details.get("changed_box")
        changed = None
        if isinstance(box, list) and len(box) == 4:
            x, y, w, h = (int(v) for v in box)
            changed = (x, y, w, h)
        # The box the check reported, not the pixel grids' own guess: the blocks may have
        # found an edit the grids missed, or refuted one they saw.
        verdict = matching.PairVerdict(paired.relation, int(paired.distance), changed,
                                       float(details.get("similarity") or 0.0))
    query, other = _decoded(services, check_id), _decoded(services, other_id)
    if query is None or other is None:
        return None
    return pixelmatch.diff_heatmap_png(query[1], other[1], verdict)
