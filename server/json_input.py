"""JSON request bodies, parsed once and bounded in depth before anything reads them.

Every ``request.get_json`` in the app (the views' ``json_body`` and the sign-in limiter's
username lookup alike) goes through this provider, and Werkzeug caches the result for the
request, so a body is parsed once. Python's parser recurses: ``[`` × 10,000 would raise
``RecursionError`` (a 500 with a traceback) and a few hundred levels would still make every
recursive walk over the data expensive. No request of ours nests deeper than a few levels.
"""

from __future__ import annotations

import json
from typing import Any

from flask import g, has_app_context
from flask.json.provider import DefaultJSONProvider

#: Deepest nesting of arrays and objects a request body may have.
MAX_DEPTH = 32


class JSONTooDeep(ValueError):
    """The body nests arrays or objects deeper than ``MAX_DEPTH``."""


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Return how deeply ``value`` nests, counting at most to ``limit + 1`` (no recursion)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def bounded_loads(text: str | bytes, **kwargs: Any) -> Any:
    """Parse JSON, refusing bodies nested deeper than ``MAX_DEPTH`` with ``JSONTooDeep``."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JSONTooDeep(f"The body nests deeper than {MAX_DEPTH} levels.") from None
    if nesting_depth(value) > MAX_DEPTH:
        raise JSONTooDeep(f"The body nests deeper than {MAX_DEPTH} levels.")
    return value


def json_failure() -> str | None:
    """Return why this request's JSON body could not be parsed, if it could not."""
    return g.get("json_failure") if has_app_context() else None


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider with bounded parsing; remembers why a body was refused."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse ``s``; on failure note the reason for this request and re-raise."""
        try:
            return bounded_loads(s, **kwargs)
        except ValueError as error:
            if has_app_context():
                g.json_failure = str(error) if isinstance(error, JSONTooDeep) else "invalid"
            raise
