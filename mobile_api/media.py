"""Photos and signatures of a job: uploads that survive retries, downloads for the crew."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request
from sqlalchemy import select

from mobile_api import bp
from mobile_api.jobs import photo_url
from mobile_api.schemas import (
    PhotoSchema,
    PhotoUploadSchema,
    SignatureSchema,
    SignatureUploadSchema,
)
from server.auth.permissions import Capability, get_work_order
from server.extensions import blob_store, db
from server.idempotency import idempotent
from server.images import MAX_BYTES
from server.models import Attachment, AttachmentKind, WorkOrder
from server.operations import operation
from server.problems import Problem, load_json, problem_response, validate
from server.services.attachments import add_photo, add_signature
from server.services.errors import QuotaExceeded
from server.services.workflow_registry import definition_for

#: A photo upload: the image plus the form fields around it.
PHOTO_REQUEST_LIMIT = MAX_BYTES + 256 * 1024


#: How quota refusals are documented on the operations that store files.
QUOTA_DESCRIPTION = (
    " Quotas: 413 `too_many_photos`, `order_photo_bytes_exceeded` or `too_many_signatures` "
    "when the job is full (100 photos, 500 MB of photos, 20 signatures; `limit` and `used` in "
    "the body); 429 `daily_upload_volume_exceeded` with `Retry-After` when you stored more "
    "than 2 GB in the last 24 hours. A replay of a stored file is never refused."
)
#: How image decoding refusals are documented on the operations that take images.
DECODE_DESCRIPTION = (
    " 422 `too_many_pixels` when decoding the image would take more memory than one upload "
    "may use (send a smaller image, or a JPEG); 503 `image_busy` with `Retry-After` while "
    "the server is decoding other images: retry then, with the same `Idempotency-Key`."
)


@bp.errorhandler(QuotaExceeded)
def _quota_exceeded(error: QuotaExceeded) -> Response:
    """Answer a quota refusal; a 429 says in ``Retry-After`` when to try again."""
    headers = {} if error.retry_after is None else {"Retry-After": str(error.retry_after)}
    return problem_response(
        Problem(error.status, error.code, error.message, headers=headers, **error.details)
    )


def open_job(job_id: int) -> WorkOrder:
    """Load the caller's job for adding files; a closed job is a 409."""
    order = get_work_order(g.api_user, job_id)
    definition = definition_for(order.workflow_name, order.workflow_version)
    if definition.states[order.state].category in ("done", "cancelled"):
        raise Problem(
            409, "job_closed", "The job is closed; nothing can be added to it.", state=order.state
        )
    return order


def photo_body(order: WorkOrder, photo: Attachment) -> dict[str, Any]:
    """Return a photo as the API shows it."""
    return {
        "id": photo.id,
        "client_id": photo.client_id,
        "caption": photo.caption,
        "captured_at": photo.captured_at,
        "width": photo.width,
        "height": photo.height,
        "url": photo_url(order.id, photo.id),
        "thumbnail_url": photo_url(order.id, photo.id, thumbnail=True),
        "created_at": photo.created_at,
    }


@bp.post("/jobs/<int:job_id>/photos")
@idempotent
@operation(
    "Upload a photo of the job (multipart/form-data).",
    capability=Capability.MOBILE_USE,
    body=PhotoUploadSchema(),
    body_content_type="multipart/form-data",
    response=PhotoSchema(),
    status=201,
    tag="media",
    errors=(404, 409, 413, 415, 422, 429, 503),
    max_body=PHOTO_REQUEST_LIMIT,
    description=(
        "The content decides the type (JPEG, PNG, WebP), not the file name or Content-Type. "
        "The original is kept; people are served a copy without metadata, at most 1,600 px, "
        "and a thumbnail. Sending the same `client_id` again returns the stored photo with 200."
        + QUOTA_DESCRIPTION
        + DECODE_DESCRIPTION
    ),
)
def upload_photo(job_id: int) -> tuple[Response, int]:
    """Store a photo once, however often the phone retries."""
    order = open_job(job_id)
    upload = request.files.get("file")
    if upload is None:
        raise Problem(
            422,
            "validation_failed",
            "Attach the image as the `file` part.",
            errors={"file": ["Missing file."]},
        )
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise Problem(413, "request_too_large", "A photo may be at most 20 MB.")
    meta = validate(PhotoUploadSchema(exclude=("file",)), request.form.to_dict())
    meta["client_id"] = str(meta["client_id"])
    stored = add_photo(order, data, meta, g.api_user, blob_store())
    return jsonify(PhotoSchema().dump(photo_body(order, stored.attachment))), (
        201 if stored.created else 200
    )


def _attachment(order: WorkOrder, attachment_id: int, kind: AttachmentKind) -> Attachment:
    found = db.session.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id,
            Attachment.work_order_id == order.id,
            Attachment.kind == kind,
        )
    )
    if found is None:
        raise Problem(404, "not_found", "No such file on this job.")
    return found


def _file_response(key: str, content_type: str, filename: str) -> Response:
    response = Response(blob_store().get(key), mimetype=content_type)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/jobs/<int:job_id>/photos/<int:photo_id>")
@operation(
    "Download a photo (JPEG, no metadata, ≤ 1,600 px).",
    capability=Capability.MOBILE_USE,
    tag="media",
    errors=(404,),
)
def get_photo(job_id: int, photo_id: int) -> Response:
    """Serve a photo's display copy."""
    photo = _attachment(get_work_order(g.api_user, job_id), photo_id, AttachmentKind.PHOTO)
    return _file_response(photo.display_key or "", "image/jpeg", f"photo-{photo.id}.jpg")


@bp.get("/jobs/<int:job_id>/photos/<int:photo_id>/thumbnail")
@operation(
    "Download a photo's thumbnail (JPEG, ≤ 320 px).",
    capability=Capability.MOBILE_USE,
    tag="media",
    errors=(404,),
)
def get_photo_thumbnail(job_id: int, photo_id: int) -> Response:
    """Serve a photo's thumbnail."""
    photo = _attachment(get_work_order(g.api_user, job_id), photo_id, AttachmentKind.PHOTO)
    return _file_response(photo.thumbnail_key or "", "image/jpeg", f"photo-{photo.id}-thumb.jpg")


@bp.post("/jobs/<int:job_id>/signature")
@idempotent
@operation(
    "Record a signature (customer or technician) from the signature pad.",
    capability=Capability.MOBILE_USE,
    body=SignatureUploadSchema(),
    response=SignatureSchema(),
    status=201,
    tag="media",
    errors=(404, 409, 413, 415, 422, 429, 503),
    max_body=6 * 1024 * 1024,
    description="Send a PNG (base64) or the strokes as SVG path data; we build the SVG "
    "ourselves, so no markup from the phone is ever stored. Same `client_id` again → 200."
    + QUOTA_DESCRIPTION
    + DECODE_DESCRIPTION,
)
def upload_signature(job_id: int) -> tuple[Response, int]:
    """Store a signature once."""
    order = open_job(job_id)
    meta = load_json(SignatureUploadSchema())
    meta["client_id"] = str(meta["client_id"])
    stored = add_signature(order, meta, g.api_user, blob_store())
    signature = stored.attachment
    body = {
        "id": signature.id,
        "client_id": signature.client_id,
        "signer_name": signature.signer_name,
        "signer_role": signature.signer_role,
        "captured_at": signature.captured_at,
        "content_type": signature.content_type,
        "url": f"/api/mobile/v1/jobs/{order.id}/signatures/{signature.id}",
    }
    return jsonify(SignatureSchema().dump(body)), 201 if stored.created else 200


@bp.get("/jobs/<int:job_id>/signatures/<int:signature_id>")
@operation(
    "Download a signature image.", capability=Capability.MOBILE_USE, tag="media", errors=(404,)
)
def get_signature(job_id: int, signature_id: int) -> Response:
    """Serve a signature."""
    order = get_work_order(g.api_user, job_id)
    signature = _attachment(order, signature_id, AttachmentKind.SIGNATURE)
    extension = "svg" if signature.content_type == "image/svg+xml" else "png"
    return _file_response(
        signature.storage_key, signature.content_type, f"signature-{signature.id}.{extension}"
    )
