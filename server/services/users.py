"""Use cases for user accounts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import time
from typing import Any

from sqlalchemy import func, select

from server.auth.passwords import (
    WeakPasswordError,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from server.extensions import db
from server.models import (
    Certification,
    Role,
    TechnicianProfile,
    TechnicianSkill,
    User,
    WorkingHours,
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
