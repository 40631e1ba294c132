"""Server-side console sessions behind Flask-Login, so that logout really ends them."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import session
from flask_login import LoginManager
from sqlalchemy import select, update

from server.auth.tokens import token_hash
from server.extensions import db
from server.models import ConsoleSession, User
from server.models.base import utcnow

#: A session unused this long is over.
IDLE_LIFETIME = timedelta(hours=2)
#: No session lives longer than this, used or not.
ABSOLUTE_LIFETIME = timedelta(hours=12)
#: ``last_seen_at`` is written at most this often, to keep reads read-only.
_TOUCH_EVERY = timedelta(minutes=1)


def start_console_session(user: User) -> None:
    """Open a new server-side session for ``user`` and bind it to the cookie."""
    session.clear()  # a fresh session identifier at login
    raw = secrets.token_urlsafe(32)
    db.session.add(ConsoleSession(user_id=user.id, token_hash=token_hash(raw)))
    session["sid"] = raw
    session.permanent = True


def end_console_session() -> None:
    """Revoke the current session server-side and clear the cookie."""
    raw = session.get("sid")
    if raw:
        db.session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.token_hash == token_hash(raw))
            .values(revoked_at=utcnow())
        )
    session.clear()


def load_console_user(user_id: str) -> User | None:
    """Return the user of a live session whose cookie names ``user_id``."""
    raw = session.get("sid")
    if not raw or not user_id.isdigit():
        return None
    row = db.session.scalar(
        select(ConsoleSession).where(ConsoleSession.token_hash == token_hash(raw))
    )
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or row.user_id != int(user_id)
        or now - row.created_at > ABSOLUTE_LIFETIME
        or now - row.last_seen_at > IDLE_LIFETIME
    ):
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    return user


def register_session_loader(login_manager: LoginManager) -> None:
    """Tell Flask-Login how to load the user of a console session."""
    login_manager.user_loader(load_console_user)
    login_manager.login_view = "console.login"
    login_manager.session_protection = None  # our server-side session does the binding
