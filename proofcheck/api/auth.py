"""Bearer-key authentication and scope checks for the API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request

from proofcheck import current_services
from proofcheck.api.errors import error_response
from proofcheck.apikeys import Principal, authenticate

F = TypeVar("F", bound=Callable[..., Any])


def current_principal() -> Principal:
    principal: Principal = g.principal
    return principal


def require_scope(scope: str) -> Callable[[F], F]:
    """401 without a valid key, 403 when the key lacks `scope`."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization", "")
            kind, _, token = header.partition(" ")
            if kind.lower() != "bearer" or not token.strip():
                return error_response(401, "unauthorized",
                                      "Send an API key as 'Authorization: Bearer <key>'.",
                                      headers={"WWW-Authenticate": "Bearer"})
            principal = authenticate(current_services().db, token.strip())
            if principal is None:
                return error_response(401, "unauthorized", "The API key is unknown or revoked.",
                                      headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            if not principal.can(scope):
                return error_response(403, "forbidden",
                                      f"This API key lacks the '{scope}' scope.")
            g.principal = principal
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
