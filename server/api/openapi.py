"""``/api/v1/openapi.json``: the integration API's OpenAPI 3 document."""

from __future__ import annotations

from flask import Response, current_app, jsonify

from server.api import bp
from server.openapi import build_openapi
from server.operations import operation


@bp.get("/openapi.json")
@operation("This OpenAPI document.", public=True, tag="meta")
def openapi_document() -> Response:
    """Serve the OpenAPI document of ``/api/v1``."""
    return jsonify(
        build_openapi(
            current_app._get_current_object(),
            "api",
            "/api/v1",  # type: ignore[attr-defined]
            "Fieldwork integration API",
        )
    )
