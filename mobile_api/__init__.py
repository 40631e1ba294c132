"""``/api/mobile/v1``: the technicians' phone app API (a versioned contract of its own)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mobile", __name__)


def _register_views() -> None:
    from mobile_api import auth, jobs, me, media, openapi, uploads  # noqa: F401  (routes on bp)


_register_views()

from server.auth.bearer import install_bearer_security  # noqa: E402
from server.models import TokenAudience  # noqa: E402

install_bearer_security(bp, TokenAudience.MOBILE, realm="mobile")
