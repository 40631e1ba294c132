"""Request-size caps per route (RELIABILITY E1).

``MAX_CONTENT_LENGTH`` is the ceiling for the whole app; each page accepts only what its
form needs: text forms ``FORM_MAX_BODY``, upload forms what their files may weigh (declared
with ``accepts_body``). The APIs cap their bodies per operation (``server/operations.py``).
A body over its cap is refused with 413 before anything is parsed or stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, request

F = TypeVar("F", bound=Callable[..., Any])

#: A page's form without files: a few text fields, a long description at most.
FORM_MAX_BODY = 1024 * 1024

#: What multipart framing and the form's text fields add to the files of an upload.
FORM_OVERHEAD = 256 * 1024


def accepts_body(max_bytes: int) -> Callable[[F], F]:
    """Let a page's view accept bodies up to ``max_bytes`` (place it under the route)."""

    def decorate(view: F) -> F:
        view.max_body = max_bytes  # type: ignore[attr-defined]
        return view

    return decorate


def install_body_limits(app: Flask) -> None:
    """Cap each page request's body before any other hook reads it.

    CSRF protection parses the form in its own ``before_request`` hook, so this one is put
    first. API views are left alone: their bearer hook applies the operation's cap.
    """

    def _limit_body() -> None:
        view = app.view_functions.get(request.endpoint or "")
        if view is None or hasattr(view, "operation"):
            return
        declared = getattr(view, "max_body", FORM_MAX_BODY)
        request.max_content_length = min(declared, app.config["MAX_CONTENT_LENGTH"])

    app.before_request_funcs.setdefault(None, []).insert(0, _limit_body)
