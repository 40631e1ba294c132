"""``/api/v1``: the integration API for dispatch systems, CRMs and scripts."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__)


def _register_views() -> None:
    from server.api import (  # noqa: F401  (each module adds its routes to bp)
        auth,
        categories,
        customers,
        openapi,
        recommendations,
        technicians,
        webhooks,
        work_orders,
    )


_register_views()

from server.auth.bearer import install_bearer_security  # noqa: E402
from server.models import TokenAudience  # noqa: E402

install_bearer_security(bp, TokenAudience.API, realm="api")
