"""The upload portal: a form, a page per check that follows its progress, a list."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from proofcheck import current_services
from proofcheck.db import KINDS, Account, Check
from proofcheck.evidence import ela_heatmap
from proofcheck.serialize import check_json
from proofcheck.submission import SubmissionError, parse_meta, read_upload, submit
from proofcheck.web.auth import require_user

bp = Blueprint("portal", __name__)
# Every portal page needs a logged-in user; the ops endpoints and the API do not (the
# API authenticates each request with a bearer key).
bp.before_request(require_user)

FORM_FIELDS = ("account", "post_id", "posted_at", "caption", "kind")
MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


def _recent(limit: int = 25) -> list[dict[str, Any]]:
    with current_services().db.session() as session:
        rows = session.execute(
            select(Check, Account.name).outerjoin(Account, Account.id == Check.account_id)
            .order_by(Check.submitted_at.desc(), Check.id.desc()).limit(limit)
        ).all()
        return [{"check": check, "account": name} for check, name in rows]


def _form(values: dict[str, str], error: SubmissionError | None = None,
          status: int = 200) -> tuple[str, int]:
    settings = current_services().settings
    return render_template(
        "index.html", values=values, error=error, kinds=KINDS, recent=_recent(),
        max_mb=settings.max_upload_bytes // (1024 * 1024),
        max_files=settings.max_files_per_request,
    ), status


@bp.get("/")
def index() -> tuple[str, int]:
    return _form({})


@bp.post("/checks")
def upload() -> BaseResponse | tuple[str, int]:
    settings = current_services().settings
    values: dict[str, str] = {}
    try:
        values = {name: request.form.get(name, "") for name in FORM_FIELDS}
        meta = parse_meta(values, settings.max_caption_chars)
        # A file input left empty still sends a part with no name: skip those.
        parts = [p for p in request.files.getlist("file") if p.filename]
        if not parts:
            raise SubmissionError(400, "no_file", "Choose at least one image to check.", "file")
        uploads = [read_upload(p.stream, p.filename or "", settings.max_upload_bytes)
                   for p in parts]
        checks = submit(current_services(), uploads, meta)
    except RequestEntityTooLarge:
        error = SubmissionError(413, "request_too_large",
                                "The upload is too large in total; send fewer files at once.",
                                "file")
        return _form(values, error, 413)
    except SubmissionError as exc:
        return _form(values, exc, exc.status)
    if len(checks) == 1:
        return redirect(url_for("portal.show", check_id=checks[0].id), code=303)
    return redirect(url_for("portal.listing", ids=",".join(c.id for c in checks)), code=303)


@bp.get("/checks")
def listing() -> str:
    wanted = [i for i in request.args.get("ids", "").split(",") if i][:100]
    if wanted:
        with current_services().db.session() as session:
            rows = session.execute(
                select(Check, Account.name).outerjoin(Account, Account.id == Check.account_id)
                .where(Check.id.in_(wanted)).order_by(Check.id)
            ).all()
            items = [{"check": check, "account": name} for check, name in rows]
        title = f"{len(items)} checks submitted"
    else:
        items = _recent(100)
        title = "Recent checks"
    return render_template("checks.html", items=items, title=title, ids=",".join(wanted))


@bp.get("/checks/<check_id>")
def show(check_id: str) -> str:
    with current_services().db.session() as session:
        check = session.get(Check, check_id)
        if check is None:
            abort(404, f"No check with id {check_id}.")
        data = check_json(session, check)
    return render_template("check.html", check=data)


@bp.get("/checks/<check_id>/status.json")
def status(check_id: str) -> Response:
    """What the check page polls while the check is queued or running."""
    with current_services().db.session() as session:
        check = session.get(Check, check_id)
        if check is None:
            abort(404, f"No check with id {check_id}.")
        return jsonify({"id": check.id, "status": check.status, "stage": check.stage,
                        "attempts": check.attempts})


@bp.get("/checks/<check_id>/image")
def image(check_id: str) -> Response:
    with current_services().db.session() as session:
        check = session.get(Check, check_id)
        if check is None:
            abort(404)
        sha256, fmt = check.sha256, check.format or ""
    path = current_services().blobs.path(sha256)
    if not path.exists():
        abort(404)
    response = send_file(path, mimetype=MIME.get(fmt, "application/octet-stream"),
                         max_age=86400, conditional=True)
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.get("/checks/<check_id>/ela.png")
def ela_png(check_id: str) -> Response:
    """The error-level heat-map shown with the signals on the check page."""
    data = ela_heatmap(current_services(), check_id)
    if data is None:
        abort(404, "No heat-map for this check.")
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=86400"  # content-addressed
    return response
