"""Bearer-token authentication and role checks for every API view (fail closed).

Each API blueprint installs it once; views declare what they need with ``operation``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from server.auth.permissions import require
from server.auth.tokens import TokenError, authenticate_access_token
from server.extensions import read_without_transaction
from server.logs import security_event
from server.models import TokenAudience
from server.operations import Operation
from server.problems import Problem

#: Largest JSON body an API operation accepts unless it says otherwise.
DEFAULT_MAX_BODY = 2 * 1024 * 1024


def bearer_token() -> str | None:
    """Return the token of an ``Authorization: Bearer …`` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def unauthorized(detail: str, realm: str) -> Problem:
    """Return the 401 problem that asks for a bearer token."""
    return Problem(
        401, "unauthorized", detail, headers={"WWW-Authenticate": f'Bearer realm="{realm}"'}
    )


def install_bearer_security(bp: Blueprint, audience: TokenAudience, realm: str) -> None:
    """Authenticate and authorize each request of ``bp`` before its view runs."""

    @bp.before_request
    def _authorize() -> None:
        view = current_app.view_functions.get(request.endpoint or "")
        spec: Operation | None = getattr(view, "operation", None)
        if spec is None:
            raise Problem(403, "forbidden", "This operation is not available.")
        # Bodies are bounded per operation (uploads say how much they take).
        request.max_content_length = spec.max_body or DEFAULT_MAX_BODY
        if spec.public:
            return
        if request.method in ("GET", "HEAD"):
            read_without_transaction()
        raw = bearer_token()
        if raw is None:
            raise unauthorized("Send an access token: Authorization: Bearer <token>.", realm)
        try:
            sign_in = authenticate_access_token(raw, audience, spec.sign_in_reads, request.args)
        except TokenError as error:
            raise unauthorized(f"The access token is not valid ({error}).", realm) from None
        user = g.api_user = sign_in.user
        g.sign_in_reads = sign_in.reads
        if spec.capability is None:
            raise Problem(403, "forbidden", "This operation is not available.")
        try:
            require(user, spec.capability)
        except Problem:
            security_event("authz.denied", user_id=user.id, reason=spec.capability)
            raise
