"""Bearer-token authentication and role checks for every ``/api/v1`` view (fail closed)."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, request

from server.api.operations import Operation
from server.auth.permissions import require
from server.auth.tokens import TokenError, authenticate_access_token
from server.models import TokenAudience
from server.problems import Problem

log = logging.getLogger("fieldwork.security")


def bearer_token() -> str | None:
    """Return the token of an ``Authorization: Bearer …`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="api"'})


def install_security(bp: Blueprint) -> None:
    """Authenticate and authorize each request before its view runs."""

    @bp.before_request
    def _authorize() -> None:
        view = current_app.view_functions.get(request.endpoint or "")
        spec: Operation | None = getattr(view, "operation", None)
        if spec is None:
            raise Problem(403, "forbidden", "This operation is not available.")
        if spec.public:
            return
        raw = bearer_token()
        if raw is None:
            raise _unauthorized("Send an access token: Authorization: Bearer <token>.")
        try:
            user, _token = authenticate_access_token(raw, TokenAudience.API)
        except TokenError as error:
            raise _unauthorized(f"The access token is not valid ({error}).") from None
        g.api_user = user
        if spec.capability is None:
            raise Problem(403, "forbidden", "This operation is not available.")
        try:
            require(user, spec.capability)
        except Problem:
            log.warning(
                "authorization denied user_id=%s endpoint=%s method=%s",
                user.id,
                request.endpoint,
                request.method,
            )
            raise
