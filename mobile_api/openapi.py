"""``/api/mobile/v1/openapi.json``: the phone API's OpenAPI 3 document."""

from __future__ import annotations

from typing import Any

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


def _job_links(job_id: str) -> dict[str, dict[str, Any]]:
    """Where an answer naming a job leads: read it, and what the phone sends about it."""
    path = {"job_id": job_id}
    return {
        "GetJob": {"operationId": "get_job", "parameters": path},
        "SaveReport": {"operationId": "save_report", "parameters": path},
        "UploadPhoto": {"operationId": "upload_photo", "parameters": path},
        "AttachUploadedPhoto": {"operationId": "attach_uploaded_photo", "parameters": path},
        "UploadSignature": {"operationId": "upload_signature", "parameters": path},
    }


def _photo_links(job_id: str, photo_id: str) -> dict[str, dict[str, Any]]:
    """Where an answer naming a photo leads: the file and its thumbnail."""
    path = {"job_id": job_id, "photo_id": photo_id}
    return {
        "GetPhoto": {"operationId": "get_photo", "parameters": path},
        "GetPhotoThumbnail": {"operationId": "get_photo_thumbnail", "parameters": path},
    }


def _detail_links() -> dict[str, dict[str, Any]]:
    """Where a job's full answer leads: its next step with the current version, its files."""
    job = "$request.path.job_id"
    return (
        _job_links(job)
        | {
            "MoveJob": {
                "operationId": "move_job",
                "parameters": {"job_id": job},
                "requestBody": {
                    "transition": "$response.body#/transitions/0/name",
                    "expected_version": "$response.body#/version",
                },
            },
            "SaveReport": {
                "operationId": "save_report",
                "parameters": {"job_id": job},
                "requestBody": {"expected_version": "$response.body#/report/version"},
            },
            "GetSignature": {
                "operationId": "get_signature",
                "parameters": {"job_id": job, "signature_id": "$response.body#/signatures/0/id"},
            },
        }
        | _photo_links(job, "$response.body#/photos/0/id")
    )


_UPLOAD_ID = "$response.header.Location#regex:/uploads/([^/?#]+)$"

#: OpenAPI links: which answer feeds which request (the app and stateful tests follow them).
LINKS: dict[str, dict[str, dict[str, Any]]] = {
    "list_jobs": _job_links("$response.body#/items/0/id")
    | {
        "MoveJob": {
            "operationId": "move_job",
            "parameters": {"job_id": "$response.body#/items/0/id"},
            "requestBody": {"expected_version": "$response.body#/items/0/version"},
        },
        "NextPage": {
            "operationId": "list_jobs",
            "parameters": {"page": "$response.body#/next_page"},
        },
        "ChangesSince": {
            "operationId": "list_jobs",
            "parameters": {"since": "$response.body#/sync_cursor"},
        },
    },
    "get_job": _detail_links(),
    "move_job": _detail_links(),
    "save_report": {
        "GetJob": {"operationId": "get_job", "parameters": {"job_id": "$request.path.job_id"}},
        "SaveReport": {
            "operationId": "save_report",
            "parameters": {"job_id": "$request.path.job_id"},
            "requestBody": {"expected_version": "$response.body#/version"},
        },
    },
    "upload_photo": _photo_links("$request.path.job_id", "$response.body#/id"),
    "attach_uploaded_photo": _photo_links("$request.path.job_id", "$response.body#/id"),
    "upload_signature": {
        "GetSignature": {
            "operationId": "get_signature",
            "parameters": {"job_id": "$request.path.job_id", "signature_id": "$response.body#/id"},
        },
    },
    "create_upload": {
        "AppendToUpload": {
            "operationId": "append_to_upload",
            "parameters": {"upload_id": _UPLOAD_ID},
        },
        "DeleteUpload": {"operationId": "delete_upload", "parameters": {"upload_id": _UPLOAD_ID}},
    },
    "add_device": {
        "RemoveDevice": {
            "operationId": "remove_device",
            "parameters": {"device_id": "$response.body#/id"},
        },
    },
    "get_notification_preferences": {
        "ChangeNotificationPreferences": {
            "operationId": "change_notification_preferences",
            "requestBody": "$response.body",
        },
    },
}


@bp.get("/openapi.json")
@operation("This OpenAPI document.", public=True, tag="meta")
def openapi_document() -> Response:
    """Serve the OpenAPI document of ``/api/mobile/v1``."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return jsonify(
        build_openapi(
            app, "mobile", "/api/mobile/v1", "Fieldwork mobile API", DESCRIPTION, links=LINKS
        )
    )
