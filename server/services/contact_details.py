"""How customers' phone numbers and e-mail addresses are checked and stored.

Numbers are stored in E.164 (``+8613912345678``), the form SMS providers take and search
can match on digits. People type numbers many ways, so this accepts:

- a Chinese mobile, ``1[3-9]`` and nine more digits (``139 1234 5678``), with or without
  ``86`` / ``+86`` / ``0086`` in front;
- a Chinese landline with its area code and trunk ``0`` (``021-5555 0101``, ``0755 1234 5678``);
- any number with its country code: ``+`` (or ``00``) and 8 to 15 digits in all.

Spaces, dashes, dots and brackets are ignored. The console's forms and the API's schemas use
these checks, so both refuse the same input with the same reasons.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, validate
from sqlalchemy import or_

from server.models import Contact
from server.services.search import contains_pattern

#: Separators people put into phone numbers.
_SEPARATORS = re.compile(r"[\s\-.()·（）]")
#: A Chinese mobile number without the country code.
CHINESE_MOBILE = re.compile(r"1[3-9]\d{9}")
#: A Chinese landline with its trunk 0 and area code (10 to 12 digits in all).
_CHINESE_LANDLINE = re.compile(r"0[1-9]\d{8,10}")
#: What may follow +86: a mobile, Beijing's 10 and eight digits, or another area's number.
_CHINESE_NATIONAL = re.compile(r"1[3-9]\d{9}|10\d{8}|[2-9]\d{8,10}")
#: E.164: a plus, a country code not starting with 0, and at most 15 digits in all.
_E164 = re.compile(r"\+[1-9]\d{7,14}")
#: Longest e-mail address (RFC 5321's path limit).
MAX_EMAIL_LENGTH = 254

_EMAIL = validate.Email()


class InvalidContactDetail(ValueError):
    """The text is not a phone number (or e-mail address) we can use."""


def normalise_phone(text: str) -> str:
    """Return ``text`` as an E.164 number, or raise ``InvalidContactDetail``."""
    compact = _SEPARATORS.sub("", text or "")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif compact.startswith("86") and CHINESE_MOBILE.fullmatch(compact[2:]):
        compact = "+" + compact
    if CHINESE_MOBILE.fullmatch(compact):
        return "+86" + compact
    if _CHINESE_LANDLINE.fullmatch(compact):
        return "+86" + compact[1:]
    if not _E164.fullmatch(compact):
        raise InvalidContactDetail(text)
    if compact.startswith("+86") and not _CHINESE_NATIONAL.fullmatch(compact[3:]):
        raise InvalidContactDetail(text)
    return compact


def is_phone(text: str) -> bool:
    """Return True when ``text`` is a phone number ``normalise_phone`` accepts."""
    try:
        normalise_phone(text)
    except InvalidContactDetail:
        return False
    return True


def normalise_email(text: str) -> str:
    """Return ``text`` trimmed as an e-mail address to store, or raise ``InvalidContactDetail``."""
    address = (text or "").strip()
    if len(address) > MAX_EMAIL_LENGTH:
        raise InvalidContactDetail(text)
    try:
        _EMAIL(address)
    except ValidationError:
        raise InvalidContactDetail(text) from None
    return address


def phone_search_digits(text: str) -> str | None:
    """Return the digits to look for when a search looks like (part of) a phone number."""
    compact = _SEPARATORS.sub("", text or "").lstrip("+")
    return compact if len(compact) >= 4 and compact.isdigit() else None


def phone_matches(text: str) -> Any:
    """Return the condition "a contact's phone contains ``text``", however it was typed.

    ``139 1234 5678`` finds ``+8613912345678``: the digits are looked for too.
    """
    by_phone = Contact.phone.ilike(contains_pattern(text), escape="\\")
    digits = phone_search_digits(text)
    if digits and digits != text:
        by_phone = or_(by_phone, Contact.phone.ilike(contains_pattern(digits), escape="\\"))
    return by_phone
