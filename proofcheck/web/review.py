"""The moderators' pages: the queue, the evidence screen, decisions, audit, dashboard.

Thin routes over proofcheck.review; every page needs the moderator role or above.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from proofcheck import current_services, review, review_stats
from proofcheck.db import KINDS
from proofcheck.evidence import diff_heatmap, ela_heatmap, gather
from proofcheck.review import QueueFilter, ReviewError
from proofcheck.web.auth import me, require_role

bp = Blueprint("review", __name__, url_prefix="/review")
bp.before_request(require_role("moderator"))

PAGE_SIZE = 100


def _filters() -> QueueFilter:
    return QueueFilter.from_args(request.values)


def _args(filters: QueueFilter) -> dict[str, Any]:
    return dict(filters.as_args())


def _item_url(check_id: str, filters: QueueFilter) -> str:
    return url_for("review.item", check_id=check_id, **_args(filters))


@bp.get("/")
def queue() -> str:
    services = current_services()
    filters = _filters()
    items = review.queue(services.db, services.settings, filters, limit=PAGE_SIZE)
    return render_template("review/queue.html", items=items, filters=filters, kinds=KINDS,
                           me=me().username)


@bp.post("/next")
def next_item() -> BaseResponse:
    services = current_services()
    filters = _filters()
    found = review.claim_next(services.db, services.settings, me().username, filters)
    if found is None:
        flash("Nothing left to claim in this queue.", "info")
        return redirect(url_for("review.queue", **_args(filters)), code=303)
    return redirect(_item_url(found, filters), code=303)


def _item_page(check_id: str, error: ReviewError | None = None) -> tuple[str, int]:
    services = current_services()
    filters = _filters()
    # Timeline dots lead to the other posts' evidence screens, keeping the filters.
    href = url_for("review.item", check_id="CHECK", **_args(filters)).replace("CHECK", "{}", 1)
    evidence = gather(services.db, check_id, item_href=href)
    if evidence is None:
        abort(404, f"No check with id {check_id}.")
    previous, following = review.neighbours(services.db, services.settings, check_id, filters)
    return render_template(
        "review/item.html", ev=evidence, check=evidence.check, filters=filters,
        claim=review.current_claim(services.db, check_id), me=me().username,
        previous=previous, following=following, error=error,
        audit=review.audit_log(services.db, check_id=check_id, limit=50),
        decisions=review.DECISIONS,
    ), (error.status if error else 200)


@bp.get("/items/<check_id>")
def item(check_id: str) -> tuple[str, int]:
    return _item_page(check_id)


def _png(data: bytes | None) -> Response:
    if data is None:
        abort(404, "No such image for this check.")
    response = Response(data, mimetype="image/png")
    # Both images are content-addressed, so the picture never changes for this URL.
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.get("/items/<check_id>/ela.png")
def ela_png(check_id: str) -> Response:
    return _png(ela_heatmap(current_services(), check_id))


@bp.get("/items/<check_id>/diff/<other_id>.png")
def diff_png(check_id: str, other_id: str) -> Response:
    return _png(diff_heatmap(current_services(), check_id, other_id))


@bp.post("/items/<check_id>/claim")
def claim(check_id: str) -> BaseResponse | tuple[str, int]:
    services = current_services()
    try:
        review.claim(services.db, services.settings, check_id, me().username)
    except ReviewError as exc:
        return _item_page(check_id, exc)
    return redirect(_item_url(check_id, _filters()), code=303)


@bp.post("/items/<check_id>/release")
def release(check_id: str) -> BaseResponse:
    review.release(current_services().db, check_id, me().username)
    return redirect(url_for("review.queue", **_args(_filters())), code=303)


@bp.post("/items/<check_id>/decision")
def decide(check_id: str) -> BaseResponse | tuple[str, int]:
    services = current_services()
    filters = _filters()
    try:
        done = review.decide(services.db, services.settings, check_id, me().username,
                             request.form.get("decision", ""), request.form.get("note"))
    except ReviewError as exc:
        return _item_page(check_id, exc)
    flash(f"{check_id}: {done.decision}"
          + (f" — added to the bank as {done.bank_name}" if done.bank_name else ""), "ok")
    # Straight on to the next item, already claimed: clearing a queue is one key per item.
    following = review.claim_next(services.db, services.settings, me().username, filters,
                                  after=check_id)
    if following is None:
        flash("The queue is clear.", "info")
        return redirect(url_for("review.queue", **_args(filters)), code=303)
    return redirect(_item_url(following, filters), code=303)


@bp.post("/accounts/decision")
def decide_account() -> BaseResponse | tuple[str, int]:
    services = current_services()
    account = request.form.get("account", "").strip()
    if not account:
        abort(400, "Name the account to decide.")
    try:
        result = review.decide_account(services.db, services.settings, account,
                                       me().username, request.form.get("decision", ""),
                                       request.form.get("note"))
    except ReviewError as exc:
        abort(exc.status, exc.message)
    message = f"{account}: {len(result.decided)} item(s) decided"
    if result.skipped:
        holders = sorted({c.claimed_by for c in result.skipped})
        message += f"; {len(result.skipped)} left alone, claimed by {', '.join(holders)}"
    flash(message, "ok")
    return redirect(url_for("review.queue"), code=303)


@bp.get("/audit")
def audit() -> str:
    entries = review.audit_log(current_services().db, limit=300)
    return render_template("review/audit.html", entries=entries)


@bp.get("/dashboard")
def dashboard() -> str:
    services = current_services()
    board = review_stats.build(services.db, services.settings)
    return render_template("review/dashboard.html", board=board, decisions=review.DECISIONS,
                           verdicts=review_stats.MODEL_VERDICTS)
