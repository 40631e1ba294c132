"""Use cases for photos and signatures: checked, stored crash-safely, recorded once."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.images import (
    ImageRejected,
    derive_display,
    derive_thumbnail,
    inspect_image,
    signature_png,
    svg_from_path_data,
)
from server.models import Attachment, AttachmentKind, User, WorkOrder
from server.services.errors import InvalidInput, ServiceError
from server.services.job_feed import note_order_changed
from server.storage import BlobStore, new_key, sha256_hex


class AttachmentRejected(ServiceError):
    """The file is not an acceptable image (type, size, content)."""

    def __init__(self, error: ImageRejected, status: int = 422) -> None:
        super().__init__(f"image_{error.code}", error.message)
        self.status = 415 if error.code in ("not_an_image", "type_not_allowed") else status


class ClientIdConflict(ServiceError):
    """The phone reused a capture id for different content."""

    status = 422


@dataclass(frozen=True)
class Stored:
    """The attachment and whether this call created it (False: a replay)."""

    attachment: Attachment
    created: bool


def _existing(user: User, client_id: str | None) -> Attachment | None:
    if client_id is None:
        return None
    return db.session.scalar(
        select(Attachment).where(
            Attachment.uploaded_by_id == user.id, Attachment.client_id == client_id
        )
    )


def _replay_or_conflict(found: Attachment, order: WorkOrder, sha256: str) -> Stored:
    if found.work_order_id != order.id or found.sha256 != sha256:
        raise ClientIdConflict(
            "client_id_reused", "This client_id already names a different file; use a new one."
        )
    return Stored(found, created=False)


def add_photo(
    order: WorkOrder, data: bytes, meta: Mapping[str, Any], actor: User, store: BlobStore
) -> Stored:
    """Check and store a photo with a metadata-free display copy and a thumbnail.

    The bytes are written (fsync'ed, atomically renamed) before the row is flushed, so a
    committed row always has its files; a crash in between leaves only unreferenced blobs
    for the orphan sweeper.
    """
    sha256 = sha256_hex(data)
    found = _existing(actor, meta.get("client_id"))
    if found is not None:
        return _replay_or_conflict(found, order, sha256)
    try:
        image = inspect_image(data)
        display, thumbnail = derive_display(data), derive_thumbnail(data)
    except ImageRejected as error:
        raise AttachmentRejected(error) from None
    key = new_key()
    store.put(key, data, image.content_type)
    store.put(f"{key}.display", display, "image/jpeg")
    store.put(f"{key}.thumb", thumbnail, "image/jpeg")
    latitude, longitude = meta.get("latitude"), meta.get("longitude")
    if latitude is None and image.exif_location is not None:
        # Kept as proof of presence in an access-controlled column, never in served files.
        latitude, longitude = image.exif_location
    photo = Attachment(
        work_order_id=order.id,
        visit_id=order.current_visit.id if order.current_visit else None,
        kind=AttachmentKind.PHOTO,
        content_type=image.content_type,
        size=len(data),
        sha256=sha256,
        storage_key=key,
        display_key=f"{key}.display",
        thumbnail_key=f"{key}.thumb",
        width=image.width,
        height=image.height,
        client_id=meta.get("client_id"),
        caption=meta.get("caption"),
        uploaded_by_id=actor.id,
        captured_at=meta.get("captured_at"),
        latitude=latitude,
        longitude=longitude,
    )
    db.session.add(photo)
    db.session.flush()
    note_order_changed(order)
    return Stored(photo, created=True)


def add_signature(
    order: WorkOrder, meta: Mapping[str, Any], actor: User, store: BlobStore
) -> Stored:
    """Store a signature from the app's pad: a PNG, or path data we turn into our own SVG."""
    if meta.get("png_base64"):
        try:
            data = base64.b64decode(meta["png_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput({"png_base64": ["Not valid base64."]}) from None
        try:
            image = signature_png(data)
        except ImageRejected as error:
            raise AttachmentRejected(error) from None
        content_type, width, height = "image/png", image.width, image.height
    else:
        svg = meta["svg"]
        try:
            data = svg_from_path_data(svg["path_data"], svg["width"], svg["height"]).encode()
        except ImageRejected as error:
            raise AttachmentRejected(error) from None
        content_type, width, height = "image/svg+xml", svg["width"], svg["height"]
    sha256 = sha256_hex(data)
    found = _existing(actor, meta.get("client_id"))
    if found is not None:
        return _replay_or_conflict(found, order, sha256)
    key = new_key()
    store.put(key, data, content_type)
    signature = Attachment(
        work_order_id=order.id,
        visit_id=order.current_visit.id if order.current_visit else None,
        kind=AttachmentKind.SIGNATURE,
        content_type=content_type,
        size=len(data),
        sha256=sha256,
        storage_key=key,
        display_key=key,
        width=width,
        height=height,
        client_id=meta.get("client_id"),
        signer_name=meta["signer_name"],
        signer_role=meta["signer_role"],
        uploaded_by_id=actor.id,
        captured_at=meta.get("signed_at"),
        latitude=meta.get("latitude"),
        longitude=meta.get("longitude"),
    )
    db.session.add(signature)
    db.session.flush()
    note_order_changed(order)
    return Stored(signature, created=True)
