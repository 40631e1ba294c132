"""Text search helpers for list queries."""

from __future__ import annotations


def contains_pattern(text: str) -> str:
    r"""Return a LIKE pattern matching ``text`` anywhere, with wildcards escaped by ``\\``."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
