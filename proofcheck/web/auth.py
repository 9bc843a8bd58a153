"""Logging in and out, and the role checks every portal page goes through."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from proofcheck import current_services, users
from proofcheck.users import SessionUser

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Log in to continue."
login_manager.login_message_category = "info"

F = TypeVar("F", bound=Callable[..., Any])


def init_auth(app: Flask) -> None:
    settings = app.extensions["proofcheck"].settings
    app.config.update(
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
    )
    login_manager.init_app(app)
    app.register_blueprint(bp)


@login_manager.user_loader
def _load_user(session_id: str) -> SessionUser | None:
    return users.load(current_services().db, session_id)


def me() -> SessionUser:
    """The logged-in user (only call behind a login check)."""
    return cast(SessionUser, current_user._get_current_object())


def require_user() -> BaseResponse | None:
    """A before_request hook: anonymous visitors go to the login page."""
    if current_user.is_authenticated:
        return None
    if request.path.endswith(".json"):
        response = jsonify({"error": {"code": "unauthorized", "message": "Log in first.",
                                      "field": None}})
        response.status_code = 401
        return response
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def require_role(role: str) -> Callable[[], BaseResponse | None]:
    """A before_request hook for a whole blueprint: logged in and at least `role`."""

    def check() -> BaseResponse | None:
        refused = require_user()
        if refused is not None:
            return refused
        if not me().has_role(role):
            abort(403, f"This page is for users with the {role} role or above.")
        return None

    return check


def role_required(role: str) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = require_role(role)()
            return refused if refused is not None else view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def _safe_next(target: str | None) -> str:
    """Only a path on this site: `next` must never send a user elsewhere after login."""
    if not target:
        return url_for("portal.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return url_for("portal.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | tuple[str, int]:
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("auth/login.html", error=None, username="",
                               next=request.args.get("next", "")), 200
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    user = users.authenticate(current_services().db, username, password)
    if user is None:
        return render_template("auth/login.html", error="Wrong username or password.",
                               username=username, next=request.form.get("next", "")), 401
    # A fresh session on login, so nothing set before it (by anyone) carries over.
    session.clear()
    login_user(user)
    return redirect(_safe_next(request.form.get("next")), code=303)


@bp.post("/logout")
def logout() -> BaseResponse:
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"), code=303)
