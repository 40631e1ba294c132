"""Passwords: Argon2id at or above the OWASP minimum, upgraded on login, policy enforced."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher

from server.auth.passwords import (
    WeakPasswordError,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from server.extensions import db
from server.models import Role
from server.services.users import authenticate_user


def test_hash_is_argon2id_at_or_above_owasp_minimum():
    encoded = hash_password("a long enough password")
    match = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", encoded)
    assert match, encoded
    memory, time_cost, parallelism = map(int, match.groups())
    assert memory >= 19 * 1024
    assert time_cost >= 2
    assert parallelism >= 1


def test_weak_hash_is_upgraded_at_the_next_sign_in(db_session, create_user):
    user = create_user(Role.DISPATCHER)
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("upgrade me please")
    user.password_hash = weak
    db.session.flush()
    assert needs_rehash(weak)
    assert authenticate_user(user.username, "upgrade me please") is user
    assert user.password_hash != weak
    assert not needs_rehash(user.password_hash)


@pytest.mark.parametrize(
    "password", ["short", "x" * 257, "Dispatcher7", "password1", "QWERTYUIOP", "iloveyou"]
)
def test_policy_refuses(password):
    with pytest.raises(WeakPasswordError):
        check_password_policy(password, username="dispatcher7")


def test_long_unicode_password_is_verified_exactly_as_typed(db_session, create_user):
    from server.auth.passwords import hash_password as make

    user = create_user(Role.DISPATCHER)
    password = "Wrench 扳手 🔧 " * 10  # 120 characters, far past bcrypt's 72 bytes
    user.password_hash = make(password)
    db.session.flush()
    assert authenticate_user(user.username, password) is user
    assert authenticate_user(user.username, password.encode()[:72].decode(errors="ignore")) is None
    assert authenticate_user(user.username, password[:-1]) is None
    assert authenticate_user(user.username, password.upper()) is None


def test_the_common_password_list_covers_at_least_the_top_3000():
    from server.auth.passwords import common_passwords

    listed = common_passwords()
    assert len(listed) >= 3000
    for password in ("123456", "password", "12345678", "sunshine", "football"):
        assert password in listed


def test_a_common_password_is_refused_when_changing_it(db_session, create_user):
    from server.services.errors import InvalidInput
    from server.services.users import change_password
    from tests.factories import PASSWORD

    user = create_user()
    with pytest.raises(InvalidInput) as refused:
        change_password(user, PASSWORD, "baseball1")
    assert "most common passwords" in refused.value.details["errors"]["new_password"][0]
    change_password(user, PASSWORD, "baseball1 in the park")
    assert verify_password(user.password_hash, "baseball1 in the park")
