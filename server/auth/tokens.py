"""Opaque bearer tokens: short-lived access tokens, rotating refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Label,
    Row,
    Select,
    bindparam,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import joinedload, load_only, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

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
    # Built once (refreshing a token runs it): building it costs more than running it.
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


@dataclass(frozen=True, eq=False)
class SignInReads:
    """Rows a view needs on every call, read by the sign-in statement: one round trip.

    ``join(source, user_id)`` adds outer joins keyed on the signed-in user's id to
    ``source``; ``columns()`` are the labelled columns read; ``params(query)`` gives their
    bind parameters from the raw query string (the view still validates it).
    """

    join: Callable[[FromClause, ColumnElement[int]], FromClause]
    columns: Callable[[], list[Label[Any]]]
    params: Callable[[Mapping[str, str]], dict[str, Any]]


@dataclass(frozen=True)
class SignIn:
    """Who a live access token signs in, its sign-in family, and what ``reads`` read."""

    user: User
    family: str
    reads: Mapping[str, Any]


def authenticate_access_token(
    raw: str,
    audience: TokenAudience,
    reads: SignInReads | None = None,
    query: Mapping[str, str] | None = None,
) -> SignIn:
    """Return the sign-in of a live access token, or raise ``TokenError``.

    Every API request runs this, so it is one Core statement (token and user columns, and
    the view's ``reads``) rather than an ORM query of two entities, which costs about
    twice as much CPU. The user is put into the session as if a query had loaded it.
    """
    if not raw or len(raw) > 200:
        raise TokenError("invalid token")
    params = {"token_hash": token_hash(raw)}
    if reads is not None:
        params |= reads.params(query or {})
    row = db.session.execute(_access_token_lookup(reads), params).first()
    if (
        row is None
        or row.token_kind is not TokenKind.ACCESS
        or row.token_audience is not audience
        or row.token_revoked_at is not None
    ):
        raise TokenError("invalid token")
    if row.token_expires_at <= utcnow():
        raise TokenError("token expired")
    if not row.is_active:
        raise TokenError("account disabled")
    extra = {name: row._mapping[name] for name in _read_names(reads)}
    return SignIn(_user_from_row(row), row.token_family, extra)


@cache
def _read_names(reads: SignInReads | None) -> tuple[str, ...]:
    # Once per kind of reads, not per request: building the labelled columns is not free.
    return () if reads is None else tuple(column.name for column in reads.columns())


@cache
def _access_token_lookup(reads: SignInReads | None) -> Select[Any]:
    tokens, users = ApiToken.__table__.c, User.__table__.c
    source: FromClause = ApiToken.__table__.join(User.__table__, tokens.user_id == users.id)
    extra: list[Label[Any]] = []
    if reads is not None:
        source, extra = reads.join(source, users.id), reads.columns()
    return (
        select(
            tokens.kind.label("token_kind"),
            tokens.audience.label("token_audience"),
            tokens.family.label("token_family"),
            tokens.expires_at.label("token_expires_at"),
            tokens.revoked_at.label("token_revoked_at"),
            *users,
            *extra,
        )
        .select_from(source)
        .where(tokens.token_hash == bindparam("token_hash"))
    )


@cache
def _user_attributes() -> tuple[tuple[str, str], ...]:
    """Return (attribute, column) names of the mapped columns of ``User``."""
    return tuple((prop.key, prop.columns[0].name) for prop in inspect(User).column_attrs)


def _user_from_row(row: Row[Any]) -> User:
    session = db.session()
    values = row._mapping
    held = session.identity_map.get(identity_key(User, row.id))
    if held is not None:
        # As a query would: what was expired (by a commit) is refreshed, the rest kept.
        expired = inspect(held).expired_attributes
        for attribute, column in _user_attributes():
            if attribute in expired:
                set_committed_value(held, attribute, values[column])
        return cast(User, held)
    # As the ORM's loader does: values straight into the instance's dict, then marked as
    # loaded from the database (no pending changes), then attached without SQL.
    user = cast(User, User._sa_class_manager.new_instance())
    user.__dict__.update({attribute: values[column] for attribute, column in _user_attributes()})
    make_transient_to_detached(user)
    session.add(user)
    return user
