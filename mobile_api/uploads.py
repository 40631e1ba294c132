"""Resumable photo uploads: tus 1.0.0 with creation, checksum and expiration, then attach.

The phone creates an upload, sends the file in chunks (each one may be retried or resumed
after asking HEAD for the offset), and attaches the finished file to a job as a photo.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid

from flask import Response, after_this_request, g, jsonify, request
from werkzeug.http import http_date

from mobile_api import bp
from mobile_api.media import DECODE_DESCRIPTION, QUOTA_DESCRIPTION, open_job, photo_body
from mobile_api.schemas import PhotoFromUploadSchema, PhotoSchema
from server.auth.permissions import Capability
from server.extensions import blob_store, db
from server.idempotency import idempotent
from server.models import Upload
from server.models.base import utcnow
from server.operations import operation
from server.problems import Problem, load_json
from server.services.uploads import (
    CHECKSUM_ALGORITHMS,
    MAX_CHUNK,
    MAX_LENGTH,
    ChecksumMismatch,
    OffsetMismatch,
    append_chunk,
    attach_upload,
    find_upload,
    remove_part,
    start_upload,
    terminate_upload,
    uploads_folder,
)

TUS_VERSION = "1.0.0"
#: What OPTIONS announces.
CAPABILITIES = {
    "Tus-Resumable": TUS_VERSION,
    "Tus-Version": TUS_VERSION,
    "Tus-Extension": "creation,checksum,expiration",
    "Tus-Max-Size": str(MAX_LENGTH),
    "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
}
#: The tus endpoints: every answer carries ``Tus-Resumable``.
_TUS_ENDPOINTS = frozenset(
    f"mobile.{name}"
    for name in (
        "upload_capabilities",
        "create_upload",
        "upload_offset",
        "append_to_upload",
        "delete_upload",
    )
)
_NUMBER = re.compile(r"\d{1,18}")
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_PROTOCOL = (
    "Every request except OPTIONS sends `Tus-Resumable: 1.0.0` (else 412 with `Tus-Version`); "
    "every answer carries `Tus-Resumable`."
)


@bp.after_request
def _tus_resumable(response: Response) -> Response:
    if request.endpoint in _TUS_ENDPOINTS:
        response.headers.setdefault("Tus-Resumable", TUS_VERSION)
    return response


def _require_tus() -> None:
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise Problem(
            412,
            "tus_version_unsupported",
            "Send Tus-Resumable: 1.0.0.",
            headers={"Tus-Version": TUS_VERSION},
        )


def _number_header(name: str) -> int:
    value = request.headers.get(name, "")
    if not _NUMBER.fullmatch(value):
        raise Problem(400, "bad_header", f"Send {name} as a number of bytes.", header=name)
    return int(value)


def _metadata() -> dict[str, str]:
    """Return ``Upload-Metadata`` (``key base64value`` pairs separated by commas), decoded."""
    pairs: dict[str, str] = {}
    for item in request.headers.get("Upload-Metadata", "").split(","):
        key, _, value = item.strip().partition(" ")
        if not key and not value:
            continue
        try:
            if not key.isascii() or key in pairs:
                raise ValueError(key)
            pairs[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, binascii.Error):
            raise Problem(
                400,
                "bad_upload_metadata",
                "Upload-Metadata must be `key base64value` pairs separated by commas.",
                header="Upload-Metadata",
            ) from None
    return pairs


def _creation_fields(metadata: dict[str, str]) -> dict[str, str | None]:
    """Return the metadata we keep; ``filename`` and unknown keys are ignored."""
    client_id = metadata.get("client_id")
    sha256 = metadata.get("sha256")
    try:
        client_id = None if client_id is None else str(uuid.UUID(client_id))
    except ValueError:
        raise Problem(
            400, "bad_upload_metadata", "client_id must be a UUID.", header="Upload-Metadata"
        ) from None
    if sha256 is not None and not _SHA256.fullmatch(sha256):
        raise Problem(
            400, "bad_upload_metadata", "sha256 must be 64 hex digits.", header="Upload-Metadata"
        )
    return {"client_id": client_id, "declared_sha256": sha256 and sha256.lower()}


def _checksum() -> tuple[str, bytes] | None:
    header = request.headers.get("Upload-Checksum")
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise Problem(
            400,
            "checksum_algorithm_unsupported",
            "Upload-Checksum algorithms: sha1, sha256.",
            headers={"Tus-Checksum-Algorithm": CAPABILITIES["Tus-Checksum-Algorithm"]},
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise Problem(
            400,
            "bad_header",
            "Upload-Checksum: <algorithm> <base64 digest>.",
            header="Upload-Checksum",
        )
    return algorithm, digest


def _location(upload: Upload) -> str:
    return f"/api/mobile/v1/uploads/{upload.id}"


def _offset_conflict(offset: int) -> Problem:
    return Problem(
        409,
        "offset_mismatch",
        "The upload is at another offset; continue from there.",
        headers={"Upload-Offset": str(offset)},
        offset=offset,
    )


@bp.route("/uploads", methods=["OPTIONS"])
@operation(
    "Discover the tus version, extensions and limits of resumable uploads.",
    capability=Capability.MOBILE_USE,
    status=204,
    tag="uploads",
    description=(
        "Answers 204 with `Tus-Version: 1.0.0`, `Tus-Extension: creation,checksum,expiration`, "
        "`Tus-Max-Size: 20971520` and `Tus-Checksum-Algorithm: sha1,sha256`."
    ),
)
def upload_capabilities() -> tuple[str, int, dict[str, str]]:
    """Announce the tus protocol features we support."""
    return "", 204, CAPABILITIES


@bp.post("/uploads", provide_automatic_options=False)
@idempotent
@operation(
    "Start a resumable photo upload (tus creation).",
    capability=Capability.MOBILE_USE,
    status=201,
    tag="uploads",
    errors=(400, 412, 413, 422, 429),
    description=(
        _PROTOCOL + " Send `Upload-Length` (1 to 20,971,520 bytes; more → 413) and, optionally, "
        "`Upload-Metadata`: comma-separated `key base64(value)` pairs, of which we read "
        "`client_id` (a UUID naming this capture), `sha256` (hex of the whole file, checked "
        "before attaching) and nothing else (`filename` is ignored). The answer is 201 with "
        "`Location` (the upload's URL) and `Upload-Expires`. Creating again with the same "
        "`client_id` (and the same length and sha256) returns the same `Location`; other "
        "values → 422 `client_id_reused`.\n\n"
        "Then: `HEAD` the Location for `Upload-Offset`, `Upload-Length` and `Upload-Expires` "
        "(404 when unknown, expired or not yours); `PATCH` it with the next chunk; `DELETE` it "
        "to give up. `OPTIONS /uploads` lists the protocol features. Finished uploads become "
        "photos with POST /jobs/{job_id}/photos/from-upload. An upload expires 24 hours after "
        "its creation or its last chunk.\n\n"
        "Quotas (429 with `Retry-After`, `limit` and `used` in the body): at most 20 unfinished "
        "uploads at a time (`too_many_open_uploads`; finish or DELETE one), and "
        "`daily_upload_volume_exceeded` when the files you stored in the last 24 hours plus "
        "your unattached uploads plus this `Upload-Length` exceed 2 GB. Creating again with "
        "the same `client_id` is never refused."
    ),
)
def create_upload() -> Response:
    """Create an upload, or find the one this capture already started."""
    _require_tus()
    if "Upload-Defer-Length" in request.headers:
        raise Problem(400, "bad_header", "Send Upload-Length; deferring it is not supported.")
    length = _number_header("Upload-Length")
    started = start_upload(g.api_user, length, utcnow(), **_creation_fields(_metadata()))
    upload = started.upload
    return Response(
        status=201,
        headers={"Location": _location(upload), "Upload-Expires": http_date(upload.expires_at)},
    )


@bp.route("/uploads/<upload_id>", methods=["HEAD"])
@operation(
    "Ask how many bytes of an upload arrived (tus HEAD).",
    capability=Capability.MOBILE_USE,
    tag="uploads",
    errors=(404, 412),
    description=_PROTOCOL + " Answers `Upload-Offset`, `Upload-Length` and `Upload-Expires`.",
)
def upload_offset(upload_id: str) -> Response:
    """Report the offset to resume from."""
    _require_tus()
    upload = find_upload(g.api_user, upload_id, utcnow())
    return Response(
        status=200,
        headers={
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.length),
            "Upload-Expires": http_date(upload.expires_at),
            "Cache-Control": "no-store",
        },
    )


@bp.patch("/uploads/<upload_id>")
@operation(
    "Send the next chunk of an upload (tus PATCH).",
    capability=Capability.MOBILE_USE,
    status=204,
    tag="uploads",
    errors=(400, 404, 409, 410, 412, 413, 415, 460),
    max_body=MAX_CHUNK,
    description=(
        _PROTOCOL + " Body: the bytes, `Content-Type: application/offset+octet-stream` (else "
        "415), at most 8 MiB per request. `Upload-Offset` must equal the offset the server has "
        "(else 409 with the current `Upload-Offset`; resume from there). Optional "
        "`Upload-Checksum: sha1|sha256 <base64 digest of this chunk>`: a mismatch answers 460 "
        "and stores nothing; another algorithm → 400. A chunk past `Upload-Length` → 413. "
        "Answers 204 with the new `Upload-Offset` and `Upload-Expires`."
    ),
)
def append_to_upload(upload_id: str) -> Response:
    """Append a chunk where the received bytes end."""
    _require_tus()
    if request.mimetype != "application/offset+octet-stream":
        raise Problem(
            415, "unsupported_media_type", "Send chunks as application/offset+octet-stream."
        )
    offset = _number_header("Upload-Offset")
    checksum = _checksum()
    now = utcnow()
    upload = find_upload(g.api_user, upload_id, now)
    if offset != upload.offset:
        raise _offset_conflict(upload.offset)
    data = request.get_data(cache=False)
    try:
        with append_chunk(upload, offset, data, uploads_folder(), now, checksum):
            db.session.commit()
    except OffsetMismatch as error:
        db.session.rollback()
        raise _offset_conflict(error.details["offset"]) from None
    except ChecksumMismatch as error:
        raise Problem(460, error.code, error.message, title="Checksum mismatch") from None
    except BaseException:
        db.session.rollback()  # never let a later commit keep an offset whose bytes failed
        raise
    return Response(
        status=204,
        headers={
            "Upload-Offset": str(upload.offset),
            "Upload-Expires": http_date(upload.expires_at),
        },
    )


@bp.delete("/uploads/<upload_id>")
@operation(
    "Give up an upload and delete what arrived (tus termination).",
    capability=Capability.MOBILE_USE,
    status=204,
    tag="uploads",
    errors=(404, 412),
    description=_PROTOCOL,
)
def delete_upload(upload_id: str) -> tuple[str, int]:
    """Delete an upload and its bytes."""
    _require_tus()
    upload = find_upload(g.api_user, upload_id, utcnow())
    terminate_upload(upload)
    db.session.commit()
    remove_part(uploads_folder(), upload_id)
    return "", 204


@bp.post("/jobs/<int:job_id>/photos/from-upload")
@idempotent
@operation(
    "Attach a finished resumable upload to the job as a photo.",
    capability=Capability.MOBILE_USE,
    body=PhotoFromUploadSchema(),
    response=PhotoSchema(),
    status=201,
    tag="uploads",
    errors=(404, 409, 410, 413, 415, 422, 429, 503),
    description=(
        "The same checks and copies as a multipart photo upload. 409 `upload_incomplete` "
        "until every byte arrived; 422 `sha256_mismatch` when the file does not match the "
        "declared `sha256` (the upload stays, to be replaced). Sending the same `client_id` "
        "again returns the stored photo with 200." + QUOTA_DESCRIPTION + DECODE_DESCRIPTION
    ),
)
def attach_uploaded_photo(job_id: int) -> tuple[Response, int]:
    """Make a photo of the job from a finished upload, once."""
    order = open_job(job_id)
    data = load_json(PhotoFromUploadSchema())
    now = utcnow()
    upload = find_upload(g.api_user, data.pop("upload_id"), now)
    declared = data.pop("sha256", None)
    data["client_id"] = str(data["client_id"])
    folder, upload_id = uploads_folder(), upload.id
    stored = attach_upload(order, upload, data, g.api_user, blob_store(), folder, now, declared)

    @after_this_request
    def _drop_part(response: Response) -> Response:
        # Runs after the commit; the attachment holds the bytes now.
        if response.status_code < 300:
            remove_part(folder, upload_id)
        return response

    return jsonify(PhotoSchema().dump(photo_body(order, stored.attachment))), (
        201 if stored.created else 200
    )
