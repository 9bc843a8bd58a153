"""API keys: random bearer tokens, stored only as a sha256 digest.

A key carries 256 random bits, so a fast digest is enough to store it safely (slow
password hashes exist for guessable secrets); it also lets us look a key up by digest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from proofcheck.db import ApiKey, Database, utcnow

SCOPES = ("submit", "read", "search", "review", "admin")
KEY_PREFIX = "pc_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, name and scopes."""

    key_id: int
    name: str
    scopes: frozenset[str]

    def can(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(db: Database, name: str, scopes: Iterable[str] = ()) -> tuple[ApiKey, str]:
    """Create a key; return its row and the plain key, which is never stored."""
    wanted = sorted(set(scopes)) or list(SCOPES)
    unknown = set(wanted) - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(SCOPES)}")
    if not name.strip():
        raise ValueError("the key needs a name")
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.session() as session:
        row = ApiKey(name=name.strip(), prefix=plain[:10], key_hash=digest(plain), scopes=wanted,
                     webhook_secret=secrets.token_hex(32))
        session.add(row)
    return row, plain


def authenticate(db: Database, presented: str) -> Principal | None:
    """The principal behind a presented key, or None for an unknown or revoked key."""
    if not presented.startswith(KEY_PREFIX) or len(presented) > 200:
        return None
    wanted = digest(presented)
    with db.session() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.key_hash == wanted))
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.key_hash, wanted):  # pragma: no cover - belt and braces
            return None
        now = utcnow()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            row.last_used_at = now  # throttled: one write a minute per key, not per request
        return Principal(key_id=row.id, name=row.name, scopes=frozenset(row.scopes))


def list_keys(db: Database) -> list[ApiKey]:
    with db.session() as session:
        return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(db: Database, key_id: int) -> bool:
    with db.session() as session:
        row = session.get(ApiKey, key_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
        return True
