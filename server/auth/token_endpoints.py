"""The token endpoints both APIs offer (CONTRACT.md): sign in, refresh, sign out.

Each API registers them on its own blueprint with its own audience and the roles it admits,
so a token from one API never works on the other.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema, fields, validate

from server.auth.bearer import bearer_token, unauthorized
from server.auth.tokens import (
    TokenError,
    TokenPair,
    authenticate_access_token,
    issue_token_pair,
    revoke_family,
    rotate_refresh_token,
)
from server.extensions import client_address, db, limiter
from server.logs import security_event
from server.models import Role, TokenAudience
from server.operations import operation
from server.problems import Problem, load_json
from server.services.users import authenticate_user


class TokenRequestSchema(Schema):
    """Credentials for a new token pair."""

    username = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "Login name (case-insensitive).", "example": "tech01"},
    )
    password = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1024),
        metadata={"description": "Password, exactly as typed.", "example": "fieldwork-demo"},
    )


class RefreshRequestSchema(Schema):
    """A refresh token to exchange."""

    refresh_token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The refresh token of the last pair; it works once."},
    )


class TokenPairSchema(Schema):
    """A new access token and refresh token."""

    access_token = fields.String(
        metadata={"description": "Send as `Authorization: Bearer …`; valid for expires_in s."}
    )
    refresh_token = fields.String(
        metadata={"description": "Exchange at /auth/refresh for a new pair; single use."}
    )
    token_type = fields.String(metadata={"example": "Bearer"})
    expires_in = fields.Integer(metadata={"description": "Seconds the access token lives."})


def submitted_username() -> str:
    """Return the username a sign-in request names, for per-account throttling."""
    data = request.get_json(silent=True)
    name = data.get("username") if isinstance(data, dict) else None
    return f"user:{name.strip().lower()[:64]}" if isinstance(name, str) else "user:?"


def failed_sign_in(response: Response) -> bool:
    """Count only failed attempts against the sign-in limits."""
    return response.status_code in (400, 401, 403, 415, 422)


def token_response(pair: TokenPair) -> dict[str, Any]:
    """Return the JSON body of a token answer."""
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
    }


def register_token_endpoints(
    bp: Blueprint, audience: TokenAudience, roles: Collection[Role], realm: str
) -> None:
    """Add ``/auth/token``, ``/auth/refresh`` and ``/auth/logout`` to ``bp``."""

    @bp.post("/auth/token")
    @limiter.limit("10/minute", key_func=client_address, deduct_when=failed_sign_in)
    @limiter.limit("10/minute", key_func=submitted_username, deduct_when=failed_sign_in)
    @operation(
        "Sign in and get an access and a refresh token.",
        public=True,
        tag="auth",
        body=TokenRequestSchema(),
        response=TokenPairSchema(),
        errors=(401, 403, 422, 429),
    )
    def create_token() -> Response:
        """Exchange a username and password for a token pair."""
        credentials = load_json(TokenRequestSchema())
        user = authenticate_user(credentials["username"], credentials["password"])
        if user is None:
            db.session.commit()  # nothing written; ends the read transaction cleanly
            security_event("auth.login.failure", username=credentials["username"])
            raise Problem(401, "invalid_credentials", "Wrong username or password.")
        if user.role not in roles:
            db.session.commit()
            security_event("auth.login.failure", user_id=user.id, reason="wrong_api")
            raise Problem(403, "wrong_api", "This API is not for your role.")
        pair = issue_token_pair(user, audience)
        db.session.commit()
        security_event("auth.login.success", user_id=user.id, username=user.username)
        return jsonify(token_response(pair))

    @bp.post("/auth/refresh")
    @limiter.limit("30/minute", key_func=client_address, deduct_when=failed_sign_in)
    @operation(
        "Exchange a refresh token for a new pair (the old one stops working).",
        public=True,
        tag="auth",
        body=RefreshRequestSchema(),
        response=TokenPairSchema(),
        errors=(401, 422, 429),
    )
    def refresh_token() -> Response:
        """Rotate a refresh token."""
        data = load_json(RefreshRequestSchema())
        try:
            user, pair = rotate_refresh_token(data["refresh_token"], audience)
        except TokenError as error:
            db.session.commit()  # a reused token revokes its family: keep that
            security_event("auth.refresh.failure", reason=str(error))
            raise Problem(
                401, "invalid_refresh_token", f"The refresh token is not valid ({error})."
            ) from None
        db.session.commit()
        security_event("auth.refresh.success", user_id=user.id)
        return jsonify(token_response(pair))

    @bp.post("/auth/logout")
    @operation(
        "Revoke the access token and every token of its sign-in.",
        public=True,
        tag="auth",
        status=204,
        errors=(401,),
    )
    def logout() -> tuple[str, int]:
        """Sign out: the access token and its refresh token stop working."""
        try:
            sign_in = authenticate_access_token(bearer_token() or "", audience)
        except TokenError:
            raise unauthorized("Send the access token to sign out.", realm) from None
        user = sign_in.user
        revoke_family(sign_in.family)
        db.session.commit()
        security_event("auth.logout", user_id=user.id)
        return "", 204
