"""Token endpoints of ``/api/v1``: sign in, refresh, sign out."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from marshmallow import Schema, fields, validate

from server.api import bp
from server.api.operations import operation
from server.api.security import bearer_token
from server.auth.tokens import (
    TokenError,
    TokenPair,
    authenticate_access_token,
    issue_token_pair,
    revoke_family,
    rotate_refresh_token,
)
from server.extensions import client_address, db, limiter
from server.models import TokenAudience
from server.problems import Problem, load_json
from server.services.users import authenticate_user


class TokenRequestSchema(Schema):
    """Credentials for a new token pair."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class RefreshRequestSchema(Schema):
    """A refresh token to exchange."""

    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenPairSchema(Schema):
    """A new access token and refresh token."""

    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


def submitted_username() -> str:
    """Return the username a sign-in request names, for per-account throttling."""
    data = request.get_json(silent=True)
    name = data.get("username") if isinstance(data, dict) else None
    return f"user:{name.strip().lower()[:64]}" if isinstance(name, str) else "user:?"


def failed_sign_in(response: Response) -> bool:
    """Count only failed attempts against the sign-in limits."""
    return response.status_code in (400, 401, 415, 422)


def token_response(pair: TokenPair) -> dict[str, Any]:
    """Return the JSON body of a token answer."""
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
    }


@bp.post("/auth/token")
@limiter.limit("10/minute", key_func=client_address, deduct_when=failed_sign_in)
@limiter.limit("10/minute", key_func=submitted_username, deduct_when=failed_sign_in)
@operation(
    "Sign in and get an access and a refresh token.",
    public=True,
    tag="auth",
    body=TokenRequestSchema(),
    response=TokenPairSchema(),
    errors=(401, 422, 429),
)
def create_token() -> Response:
    """Exchange a username and password for a token pair."""
    credentials = load_json(TokenRequestSchema())
    user = authenticate_user(credentials["username"], credentials["password"])
    if user is None:
        db.session.commit()  # keeps nothing but ends the read transaction cleanly
        raise Problem(401, "invalid_credentials", "Wrong username or password.")
    pair = issue_token_pair(user, TokenAudience.API)
    db.session.commit()
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
        _user, pair = rotate_refresh_token(data["refresh_token"], TokenAudience.API)
    except TokenError as error:
        db.session.commit()  # a reused token revokes its family: keep that
        raise Problem(
            401, "invalid_refresh_token", f"The refresh token is not valid ({error})."
        ) from None
    db.session.commit()
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
    raw = bearer_token()
    try:
        _user, token = authenticate_access_token(raw or "", TokenAudience.API)
    except TokenError:
        raise Problem(
            401,
            "unauthorized",
            "Send the access token to sign out.",
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        ) from None
    revoke_family(token.family)
    db.session.commit()
    return "", 204
