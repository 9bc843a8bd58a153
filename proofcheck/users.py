"""Portal users: roles, argon2 password hashes, the first admin.

A role grants everything the roles before it in ROLES grant: a viewer uploads and
reads results, a moderator also works the review queue, an admin also manages users.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from proofcheck.db import AuditEvent, Database, User, utcnow

ROLES = ("viewer", "moderator", "admin")
MIN_PASSWORD_CHARS = 10
# No colon: API keys act as "api:<name>#<id>", so a username can never pose as one.
USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

_hasher = PasswordHasher()
# Verified against when the username is unknown, so a wrong name costs as long as a
# wrong password and response times do not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class UserError(ValueError):
    pass


@dataclass(frozen=True)
class SessionUser:
    """The logged-in user as Flask-Login sees it: a snapshot, not a live row."""

    id: int
    username: str
    role: str
    session_token: str  # changes with the password hash, which ends older sessions

    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_token}"

    def has_role(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def can_review(self) -> bool:
        return self.has_role("moderator")

    @property
    def is_admin(self) -> bool:
        return self.has_role("admin")


def _session_token(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _snapshot(row: User) -> SessionUser:
    return SessionUser(id=row.id, username=row.username, role=row.role,
                       session_token=_session_token(row.password_hash))


def validate(username: str, password: str, role: str) -> None:
    if not USERNAME_RE.match(username):
        raise UserError("a username is 1-64 letters, digits, dots, dashes or underscores")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose from {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")


def create_user(db: Database, username: str, password: str, role: str,
                actor: str = "cli") -> SessionUser:
    username = username.strip()
    validate(username, password, role)
    with db.session() as session:
        taken = session.scalar(select(User.id).where(func.lower(User.username)
                                                     == username.lower()))
        if taken is not None:
            raise UserError(f"the username {username!r} is taken")
        row = User(username=username, password_hash=_hasher.hash(password), role=role)
        session.add(row)
        session.flush()
        session.add(AuditEvent(actor=actor, action="user_create", subject=f"user:{username}",
                               details={"role": role}))
        return _snapshot(row)


def authenticate(db: Database, username: str, password: str) -> SessionUser | None:
    """The user for a correct username and password; None otherwise (or when disabled)."""
    with db.session() as session:
        row = session.scalar(select(User).where(func.lower(User.username)
                                                == username.strip().lower()))
        stored = row.password_hash if row is not None else _DUMMY_HASH
        try:
            _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled_at is not None:
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            # Parameters were raised since this hash was made: upgrade it while we can.
            row.password_hash = _hasher.hash(password)
        return _snapshot(row)


def load(db: Database, session_id: str) -> SessionUser | None:
    """The user behind a session's id, if it still exists, is enabled and kept its password."""
    user_id, _, token = session_id.partition(".")
    if not user_id.isdigit():
        return None
    with db.session() as session:
        row = session.get(User, int(user_id))
        if row is None or row.disabled_at is not None:
            return None
        user = _snapshot(row)
    return user if secrets.compare_digest(user.session_token, token) else None


def list_users(db: Database) -> list[User]:
    with db.session() as session:
        return list(session.scalars(select(User).order_by(User.username)))


def count_users(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(User)) or 0


def set_role(db: Database, username: str, role: str, actor: str) -> None:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}")
    with db.session() as session:
        row = session.scalar(select(User).where(User.username == username))
        if row is None:
            raise UserError(f"no user {username!r}")
        previous = row.role
        row.role = role
        session.add(AuditEvent(actor=actor, action="user_role", subject=f"user:{username}",
                               details={"role": role, "previous": {"role": previous}}))


def set_password(db: Database, username: str, password: str, actor: str) -> None:
    """A new password; the user's existing sessions end with the old hash."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise UserError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    with db.session() as session:
        row = session.scalar(select(User).where(User.username == username))
        if row is None:
            raise UserError(f"no user {username!r}")
        row.password_hash = _hasher.hash(password)
        session.add(AuditEvent(actor=actor, action="user_password", subject=f"user:{username}",
                               details={}))


def set_disabled(db: Database, username: str, disabled: bool, actor: str) -> None:
    with db.session() as session:
        row = session.scalar(select(User).where(User.username == username))
        if row is None:
            raise UserError(f"no user {username!r}")
        was = row.disabled_at is not None
        row.disabled_at = utcnow() if disabled else None
        session.add(AuditEvent(actor=actor, action="user_disable" if disabled else "user_enable",
                               subject=f"user:{username}", details={"previous": {"disabled": was}}))


def ensure_first_admin(db: Database) -> str | None:
    """With no user at all, create `admin` with a random password and return it (once)."""
    if count_users(db) > 0:
        return None
    password = secrets.token_urlsafe(15)
    try:
        create_user(db, "admin", password, "admin", actor="serve")
    except (UserError, IntegrityError):  # another process created it first
        return None
    return password
