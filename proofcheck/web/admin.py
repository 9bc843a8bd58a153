"""Admin pages: users and their roles, API keys. Admins only."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from proofcheck import apikeys, current_services, users
from proofcheck.db import AuditEvent
from proofcheck.users import UserError
from proofcheck.web.auth import me, require_role

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_role("admin"))


def _page(error: str | None = None, new_key: str | None = None,
          status: int = 200) -> tuple[str, int]:
    db = current_services().db
    return render_template("admin/users.html", users=users.list_users(db),
                           keys=apikeys.list_keys(db), roles=users.ROLES, scopes=apikeys.SCOPES,
                           error=error, new_key=new_key), status


@bp.get("/")
def index() -> tuple[str, int]:
    return _page()


@bp.post("/users")
def create_user() -> BaseResponse | tuple[str, int]:
    try:
        users.create_user(current_services().db, request.form.get("username", ""),
                          request.form.get("password", ""), request.form.get("role", ""),
                          actor=me().username)
    except UserError as exc:
        return _page(str(exc), status=422)
    flash(f"Created user {request.form.get('username', '').strip()}.", "ok")
    return redirect(url_for("admin.index"), code=303)


@bp.post("/users/<username>")
def update_user(username: str) -> BaseResponse | tuple[str, int]:
    db = current_services().db
    if username == me().username:
        return _page("You cannot change your own role or lock yourself out.", status=422)
    try:
        if "role" in request.form:
            users.set_role(db, username, request.form["role"], actor=me().username)
        if request.form.get("password"):
            users.set_password(db, username, request.form["password"], actor=me().username)
        if "disabled" in request.form:
            users.set_disabled(db, username, request.form["disabled"] == "1",
                               actor=me().username)
    except UserError as exc:
        return _page(str(exc), status=422)
    return redirect(url_for("admin.index"), code=303)


@bp.post("/keys")
def create_key() -> tuple[str, int]:
    db = current_services().db
    try:
        row, plain = apikeys.create_key(db, request.form.get("name", ""),
                                        request.form.getlist("scope"))
    except ValueError as exc:
        return _page(str(exc), status=422)
    with db.session() as session:
        session.add(AuditEvent(actor=me().username, action="api_key_create",
                               subject=f"key:{row.id}", details={"scopes": row.scopes}))
    # Shown once, on this response only; it is stored as a hash.
    return _page(new_key=plain, status=201)


@bp.post("/keys/<int:key_id>/revoke")
def revoke_key(key_id: int) -> BaseResponse:
    db = current_services().db
    if apikeys.revoke_key(db, key_id):
        with db.session() as session:
            session.add(AuditEvent(actor=me().username, action="api_key_revoke",
                                   subject=f"key:{key_id}", details={}))
    return redirect(url_for("admin.index"), code=303)
