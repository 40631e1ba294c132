"""Use cases for user accounts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import time
from typing import Any

from sqlalchemy import func, select, update

from server.auth.passwords import (
    WeakPasswordError,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from server.extensions import db
from server.models import (
    ApiToken,
    Certification,
    ConsoleSession,
    Device,
    Role,
    TechnicianProfile,
    TechnicianSkill,
    User,
    WorkingHours,
    WorkOrder,
)
from server.models.base import utcnow
from server.services.errors import InvalidInput


def find_user_by_username(username: str) -> User | None:
    """Return the user with ``username`` (case-insensitive), or None."""
    if "\x00" in username:
        return None  # no username holds a NUL, and PostgreSQL refuses to compare one
    return db.session.scalar(select(User).where(User.username == username.strip().lower()))


def create_user(
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    locale: str = "en",
    is_demo: bool = False,
    password_hash: str | None = None,
) -> User:
    """Create a user account after checking the name is free and the password acceptable."""
    username = username.strip().lower()
    if find_user_by_username(username) is not None:
        raise InvalidInput({"username": ["This username is taken."]})
    if password_hash is None:
        try:
            check_password_policy(password, username)
        except WeakPasswordError as error:
            raise InvalidInput({"password": [str(error)]}) from None
        password_hash = hash_password(password)
    user = User(
        username=username,
        display_name=display_name or username,
        email=email,
        phone=phone,
        role=role,
        locale=locale,
        password_hash=password_hash,
        is_demo=is_demo,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate_user(username: str, password: str) -> User | None:
    """Return the active user whose password matches, upgrading an outdated hash."""
    from server.auth.passwords import dummy_hash

    user = find_user_by_username(username) if len(username) <= 64 else None
    if user is None:
        verify_password(dummy_hash(), password)  # same cost as a wrong password
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def create_technician_profile(
    user: User,
    *,
    skills: Sequence[tuple[str, int]] = (),
    certifications: Sequence[tuple[str, Any]] = (),
    working_hours: Sequence[tuple[int, time, time]] = (),
    **fields: Any,
) -> TechnicianProfile:
    """Attach a technician profile with skills, certifications and weekly hours to ``user``."""
    profile = TechnicianProfile(user=user, **fields)
    profile.skills = [TechnicianSkill(skill=s, level=level) for s, level in skills]
    profile.certifications = [
        Certification(name=name, expires_on=expires_on) for name, expires_on in certifications
    ]
    profile.working_hours = [
        WorkingHours(weekday=day, starts_at=start, ends_at=end) for day, start, end in working_hours
    ]
    db.session.add(profile)
    return profile


def count_users(filters: Mapping[str, Any] | None = None) -> int:
    """Return how many users match ``filters`` (column=value)."""
    query = select(func.count()).select_from(User)
    for name, value in (filters or {}).items():
        query = query.where(getattr(User, name) == value)
    return db.session.scalar(query) or 0


def change_password(user: User, current: str, new: str) -> None:
    """Change ``user``'s password after checking the current one.

    Every console session and API token of the user ends with the old password: whoever
    learnt it is signed out everywhere (the caller starts a fresh session for the browser
    that made the change). Raises ``InvalidInput`` keyed by ``current_password`` or
    ``new_password``.
    """
    if not verify_password(user.password_hash, current):
        raise InvalidInput({"current_password": ["This is not your current password."]})
    try:
        check_password_policy(new, user.username)
    except WeakPasswordError as error:
        raise InvalidInput({"new_password": [str(error)]}) from None
    user.password_hash = hash_password(new)
    user.is_demo = False  # no longer the published demo password
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Revoke every console session and API token of ``user`` (signed out everywhere)."""
    now = utcnow()
    db.session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user.id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.flush()


def set_user_active(user: User, active: bool, actor: User | None) -> int:
    """Disable or re-enable ``user``; return how many open orders they are assigned.

    Disabling (someone left, or a phone was lost) ends every session and token at once and
    stops pushes to their phones; their open orders stay assigned for a dispatcher to hand
    on, so the count is returned to say how many. Nobody can disable themselves (the last
    admin could lock everyone out).
    """
    if actor is not None and actor.id == user.id and not active:
        raise InvalidInput({"user": ["You cannot disable your own account."]})
    user.is_active = active
    if not active:
        end_sessions(user)
        db.session.execute(update(Device).where(Device.user_id == user.id).values(is_active=False))
    db.session.flush()
    return (
        db.session.scalar(
            select(func.count())
            .select_from(WorkOrder)
            .where(WorkOrder.assignee_id == user.id, WorkOrder.closed_at.is_(None))
        )
        or 0
    )
