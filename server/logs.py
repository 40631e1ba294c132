"""Application logs as JSON lines, and the security events (sign-in, sign-out, denials).

One JSON object per line rather than ``key=value`` text: values may hold spaces, quotes and
``=`` (usernames, reasons) without any quoting rules to get wrong, log shippers (journald,
Loki, Elasticsearch, CloudWatch) parse it as it is, and the JSON encoder escapes whatever
control character the neutralising below might miss, so a value can never start a new line.

Every value is neutralised too (CR, LF and other control characters become visible
backslash escapes), so a decoded value shown in a log viewer cannot forge a record either.
Callers pass ids and names, never secrets: no passwords, bearer or customer link tokens,
session ids, or phone numbers.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

#: The logger security events go to (ASVS V16: who, what, where, when).
SECURITY_LOGGER = "fieldwork.security"

#: The structured fields written after the message, in this order when present.
EVENT_FIELDS = ("event", "user_id", "route", "method", "ip", "object")

#: Attributes every ``LogRecord`` has; anything else on a record came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}

#: C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_ESCAPES = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}

#: Longest string value written; longer ones (pasted junk in a username) are cut.
MAX_VALUE_LENGTH = 256


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def neutralise(value: object) -> object:
    """Return ``value`` fit for one log line: control characters escaped, length bounded.

    Numbers, booleans and None stay as they are; anything else becomes a string.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_VALUE_LENGTH:
        text = text[:MAX_VALUE_LENGTH] + "…"
    return _CONTROL.sub(_escape, text)


def utc_timestamp(created: float) -> str:
    """Return a record's time as ISO 8601 in UTC with a ``Z``, to the millisecond."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLineFormatter(logging.Formatter):
    """Format a record as one JSON object on one line (``ts``, ``level``, ``logger``, …)."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record's line: time, level, logger, message, then the extra fields."""
        entry: dict[str, Any] = {
            "ts": utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "msg": neutralise(record.getMessage()),
        }
        extras = {
            key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES
        }
        for key in (*EVENT_FIELDS, *sorted(extras)):
            if key in extras and key not in entry:
                entry[key] = neutralise(extras[key])
        if record.exc_info:
            # Tracebacks keep their newlines inside the JSON string: still one line.
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _FieldworkHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler ``configure_logging`` installed, so a second call adds none."""


def configure_logging(level: int | str = logging.INFO) -> None:
    """Send every log record to stderr as JSON lines, once per process.

    Like ``logging.basicConfig`` this leaves a root logger alone that someone else has
    already given handlers (pytest's capture, an embedding application).
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = _FieldworkHandler()
    handler.setFormatter(JsonLineFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def _request_fields() -> dict[str, Any]:
    """Return route, method, client address and signed-in user of the current request."""
    from flask import g, has_request_context, request

    if not has_request_context():
        return {}
    from server.extensions import client_address

    # The route pattern (/r/<token>), never the path: paths carry link tokens and ids.
    fields: dict[str, Any] = {
        "route": request.url_rule.rule if request.url_rule is not None else None,
        "method": request.method,
        "ip": client_address(),
    }
    # The object a request names: its integer ids only (``order_id=12``); string arguments
    # can be secrets (customer link tokens, document ids) and are left out.
    ids = [
        f"{key}={value}"
        for key, value in (request.view_args or {}).items()
        if isinstance(value, int) and not isinstance(value, bool)
    ]
    if ids:
        fields["object"] = ",".join(ids)
    # Only a user already loaded for this request: logging must not load a session.
    user = g.get("api_user") or g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        fields["user_id"] = user.id
    return fields


def security_event(event: str, *, level: int | None = None, **fields: Any) -> None:
    """Log a security event (``auth.login.success``, ``authz.denied``, …) with its context.

    Route, method, client address and user id come from the request when there is one;
    ``fields`` add to or override them (``user_id``, ``object="work_order=12"``,
    ``username``, ``reason``). Never pass secrets. Failures and denials are warnings, the
    rest informational, unless ``level`` says otherwise.
    """
    if level is None:
        level = logging.WARNING if event.endswith((".failure", ".denied")) else logging.INFO
    extra = _request_fields() | {key: value for key, value in fields.items() if value is not None}
    extra["event"] = event
    # A field named like a LogRecord attribute (``name``, ``msg``) would make logging raise.
    extra = {
        (f"field_{key}" if key in _RECORD_ATTRIBUTES else key): value
        for key, value in extra.items()
    }
    logging.getLogger(SECURITY_LOGGER).log(level, event, extra=extra)
