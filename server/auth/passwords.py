"""Password hashing with Argon2id and the password policy."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: Argon2id with argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4), above the
#: OWASP minimum (m=19 MiB, t=2, p=1).
_hasher = PasswordHasher()

#: Shortest password accepted (OWASP ASVS 6.2.1).
MIN_PASSWORD_LENGTH = 8
#: Longest password accepted; long passphrases are welcome, megabyte ones are an attack.
MAX_PASSWORD_LENGTH = 256


class WeakPasswordError(ValueError):
    """The password does not meet the policy."""


@cache
def common_passwords() -> frozenset[str]:
    """Return the 30,000 most common passwords (lower case), loaded on first use.

    zxcvbn's list, ranked from real password leaks: ASVS 6.2.4 asks for at least the top
    3,000. Loaded lazily because it costs a few megabytes that only password changes need.
    """
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_policy(password: str, username: str | None = None) -> None:
    """Raise ``WeakPasswordError`` when ``password`` is too short or long, common, or the name.

    No composition rules (ASVS 6.2.5): any characters, spaces and emoji included.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPasswordError(f"Use at most {MAX_PASSWORD_LENGTH} characters.")
    if username and password.casefold() == username.casefold():
        raise WeakPasswordError("The password must not be the username.")
    if password.casefold() in common_passwords():
        raise WeakPasswordError("This is one of the most common passwords; choose another.")


def hash_password(password: str) -> str:
    """Return the Argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return True when ``password`` matches ``password_hash`` (exactly as typed)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Return True when the hash was made with weaker parameters than the current policy."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


#: A valid hash of a random password, verified against when the user does not exist so that
#: unknown usernames take as long as wrong passwords.
def dummy_hash() -> str:
    """Return a hash to verify against for unknown users (computed once)."""
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = _hasher.hash("not-a-real-password-just-timing")
    return _DUMMY


_DUMMY: str | None = None
