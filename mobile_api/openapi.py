"""``/api/mobile/v1/openapi.json``: the phone API's OpenAPI 3 document."""

from __future__ import annotations

from flask import Response, current_app, jsonify

from mobile_api import bp
from server.idempotency import POLICY
from server.openapi import build_openapi
from server.operations import operation

DESCRIPTION = (
    "The API of the Fieldwork technician app. Sign in with POST /auth/token (technicians "
    "only) and send `Authorization: Bearer <access_token>`. Errors are "
    "application/problem+json with a stable `code`; 422 answers carry `errors` by field or "
    "`reasons` in the technician's language.\n\n**Offline and retries.** " + POLICY + "\n\n"
    "**Sync.** GET /jobs without `since` is a full sync in pages; keep `sync_cursor` and pass "
    "it as `since` for the changes after it (changed jobs and removed ids). 410 means the "
    "cursor is too old: do a full sync."
)


@bp.get("/openapi.json")
@operation("This OpenAPI document.", public=True, tag="meta")
def openapi_document() -> Response:
    """Serve the OpenAPI document of ``/api/mobile/v1``."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return jsonify(
        build_openapi(app, "mobile", "/api/mobile/v1", "Fieldwork mobile API", DESCRIPTION)
    )
