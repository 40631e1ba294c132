"""A gunicorn logger whose access log leaves out secrets that travel in URLs and headers.

A customer link's token is the whole credential of its job page (``/r/<token>…``) and a
document id under ``/verify/<id>`` opens that document, so neither may sit in clear in an
access log; nor may ``token=``/``access_token=`` query values, bearer tokens or cookies
should a custom ``--access-logformat`` ask for those headers.

Run gunicorn with ``--logger-class server.gunicorn_logging.RedactingLogger``.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

#: What replaces a secret.
REDACTED = "…"

#: ``/r/<token>`` and ``/verify/<id>`` (a ``/`` may come percent-encoded): the segment after.
_SECRET_SEGMENT = re.compile(r"((?:/|%2[fF])(?:r|verify)(?:/|%2[fF]))[^/?#\s\"]+")
#: Query parameters that carry tokens.
_SECRET_PARAMETER = re.compile(
    r"((?:^|[?&;])(?:token|access_token|refresh_token)=)[^&;#\s\"]*", re.IGNORECASE
)
#: Header and environ atoms whose whole value is a secret (``{authorization}i`` …).
_SECRET_ATOMS = frozenset(
    {
        "{authorization}i",
        "{cookie}i",
        "{set-cookie}o",
        "{http_authorization}e",
        "{http_cookie}e",
    }
)


def redact_url(text: str) -> str:
    """Return ``text`` with link tokens, document ids and token parameters replaced."""
    text = _SECRET_SEGMENT.sub(rf"\g<1>{REDACTED}", text)
    return _SECRET_PARAMETER.sub(rf"\g<1>{REDACTED}", text)


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with secrets taken out of every access-log atom."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """Return gunicorn's atoms (``r``, ``U``, ``q``, ``f``, ``{…}i`` …), redacted."""
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key.lower() in _SECRET_ATOMS:
                atoms[key] = REDACTED
            elif isinstance(value, str):
                # The request line, path, query, referer and their environ copies alike.
                atoms[key] = redact_url(value)
        return atoms
