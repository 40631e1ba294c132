"""Opaque bearer tokens: short-lived access tokens, rotating refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import joinedload, load_only

from server.extensions import db
from server.models import ApiToken, TokenAudience, TokenKind, User
from server.models.base import utcnow

#: Lifetime of an access token.
ACCESS_TOKEN_TTL = timedelta(minutes=15)
#: Lifetime of a refresh token (each use replaces it).
REFRESH_TOKEN_TTL = timedelta(days=30)


class TokenError(Exception):
    """A token was missing, unknown, expired, revoked or for another API."""


@dataclass(frozen=True)
class TokenPair:
    """What the token endpoints return."""

    access_token: str
    refresh_token: str
    expires_in: int


def token_hash(raw: str) -> str:
    """Return the stored form of a token (SHA-256; the token has 256 random bits)."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _new_token(user: User, kind: TokenKind, audience: TokenAudience, family: str) -> str:
    prefix = "fwa_" if kind is TokenKind.ACCESS else "fwr_"
    raw = prefix + secrets.token_urlsafe(32)
    ttl = ACCESS_TOKEN_TTL if kind is TokenKind.ACCESS else REFRESH_TOKEN_TTL
    db.session.add(
        ApiToken(
            user_id=user.id,
            kind=kind,
            audience=audience,
            token_hash=token_hash(raw),
            family=family,
            expires_at=utcnow() + ttl,
        )
    )
    return raw


def issue_token_pair(user: User, audience: TokenAudience, family: str | None = None) -> TokenPair:
    """Issue an access and a refresh token for ``user`` on ``audience``."""
    family = family or secrets.token_hex(16)
    access = _new_token(user, TokenKind.ACCESS, audience, family)
    refresh = _new_token(user, TokenKind.REFRESH, audience, family)
    db.session.flush()
    return TokenPair(access, refresh, int(ACCESS_TOKEN_TTL.total_seconds()))


@cache
def _token_by_hash() -> Select[tuple[ApiToken]]:
    # Built once: every API request runs it, and building a statement costs more than
    # running this one.
    return (
        select(ApiToken)
        .options(
            load_only(
                ApiToken.user_id,
                ApiToken.kind,
                ApiToken.audience,
                ApiToken.family,
                ApiToken.expires_at,
                ApiToken.revoked_at,
            ),
            joinedload(ApiToken.user),
        )
        .where(ApiToken.token_hash == bindparam("token_hash"))
    )


def _find(raw: str, kind: TokenKind, audience: TokenAudience) -> ApiToken | None:
    if not raw or len(raw) > 200:
        return None
    token = db.session.scalar(_token_by_hash(), {"token_hash": token_hash(raw)})
    if token is None or token.kind is not kind or token.audience is not audience:
        return None
    return token


def revoke_family(family: str) -> None:
    """Revoke every live token of a sign-in family."""
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.family == family, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def rotate_refresh_token(raw: str, audience: TokenAudience) -> tuple[User, TokenPair]:
    """Exchange a refresh token for a new pair; a reused refresh token revokes its family."""
    token = _find(raw, TokenKind.REFRESH, audience)
    if token is None:
        raise TokenError("unknown refresh token")
    if token.revoked_at is not None:
        # A rotated token came back: someone holds a copy. End the whole sign-in.
        revoke_family(token.family)
        raise TokenError("refresh token already used")
    if token.expires_at <= utcnow():
        raise TokenError("refresh token expired")
    user = token.user
    if not user.is_active:
        raise TokenError("account disabled")
    # Conditional revoke: of two concurrent refreshes with the same token, one wins.
    result = db.session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        revoke_family(token.family)
        raise TokenError("refresh token already used")
    return user, issue_token_pair(user, audience, family=token.family)


def authenticate_access_token(raw: str, audience: TokenAudience) -> tuple[User, ApiToken]:
    """Return the user and token behind a live access token, or raise ``TokenError``."""
    token = _find(raw, TokenKind.ACCESS, audience)
    if token is None or token.revoked_at is not None:
        raise TokenError("invalid token")
    if token.expires_at <= utcnow():
        raise TokenError("token expired")
    user = token.user
    if not user.is_active:
        raise TokenError("account disabled")
    return user, token
