"""Use cases for photos and signatures: checked, stored crash-safely, recorded once."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from server.extensions import db
from server.images import (
    ImageBusy,
    ImageRejected,
    derive_copies,
    signature_png,
    svg_from_path_data,
)
from server.models import Attachment, AttachmentKind, Upload, User, WorkOrder
from server.models.base import utcnow
from server.services.errors import InvalidInput, QuotaExceeded, ServiceError
from server.services.job_feed import note_order_changed
from server.storage import BlobStore, new_key, sha256_hex

# --- Quotas -----------------------------------------------------------------------------------
# Any technician token could otherwise fill the disk with 20 MB photos (RELIABILITY E9, ASVS
# 5.2.4). The limits sit far above a real job (a big install has a few dozen photos) and are
# checked before any blob is written, with the counted rows locked, in the transaction of the
# insert. They count rows that exist: there is no soft delete, and a photo that is removed
# (its order deleted) frees its share at once. Read at call time, so tests may patch them.

#: Photos one work order may hold.
MAX_PHOTOS_PER_ORDER = 100
#: Bytes of photo originals one work order may hold (display copies and thumbnails are small).
MAX_PHOTO_BYTES_PER_ORDER = 500 * 1024 * 1024
#: Signatures one work order may hold (a customer and a technician, re-signed a few times).
MAX_SIGNATURES_PER_ORDER = 20
#: Bytes one user may store per ``VOLUME_WINDOW``: photos and signatures, plus the declared
#: length of resumable uploads not attached yet (they hold disk space too).
MAX_UPLOAD_BYTES_PER_DAY = 2 * 1024 * 1024 * 1024
#: The daily volume is a rolling 24 hours: no time zone to choose, no double allowance
#: around midnight, and ``Retry-After`` is simply when enough of it leaves the window.
VOLUME_WINDOW = timedelta(hours=24)
#: Resumable uploads one user may have unfinished (not all bytes arrived) and unexpired.
MAX_OPEN_UPLOADS = 20


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.4g} MB"


def _lock_row(column: Any, row_id: int) -> None:
    """Lock a row until the transaction ends, so concurrent uploads count one at a time.

    FOR NO KEY UPDATE on PostgreSQL (inserts that only reference the row are not blocked);
    SQLite's write transactions are serialised anyway.
    """
    db.session.execute(select(column).where(column == row_id).with_for_update(key_share=True))


def _check_order_quota(order: WorkOrder, kind: AttachmentKind, size: int) -> None:
    _lock_row(WorkOrder.id, order.id)
    count, total = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Attachment.size), 0)).where(
            Attachment.work_order_id == order.id, Attachment.kind == kind
        )
    ).one()
    if kind is AttachmentKind.SIGNATURE:
        if count >= MAX_SIGNATURES_PER_ORDER:
            raise QuotaExceeded(
                "too_many_signatures",
                f"Too many signatures on this work order (at most {MAX_SIGNATURES_PER_ORDER}).",
                limit=MAX_SIGNATURES_PER_ORDER,
                used=count,
            )
        return
    if count >= MAX_PHOTOS_PER_ORDER:
        raise QuotaExceeded(
            "too_many_photos",
            f"Too many photos on this work order (at most {MAX_PHOTOS_PER_ORDER}).",
            limit=MAX_PHOTOS_PER_ORDER,
            used=count,
        )
    if total + size > MAX_PHOTO_BYTES_PER_ORDER:
        raise QuotaExceeded(
            "order_photo_bytes_exceeded",
            "The photos of this work order may total at most "
            f"{_megabytes(MAX_PHOTO_BYTES_PER_ORDER)}; this one does not fit.",
            limit=MAX_PHOTO_BYTES_PER_ORDER,
            used=int(total),
            size=size,
        )


def _check_daily_volume(user: User, size: int, now: datetime, *, reserved: bool) -> None:
    """Refuse ``size`` more bytes when the user's rolling 24 hours would exceed the volume.

    With ``reserved`` the user's unattached resumable uploads count with their declared
    length until they expire (used when creating one; attaching turns it into a photo).
    """
    _lock_row(User.id, user.id)
    # (when it stops counting, bytes) for everything that counts now.
    holders: list[tuple[datetime, int]] = [
        (created_at + VOLUME_WINDOW, stored)
        for created_at, stored in db.session.execute(
            select(Attachment.created_at, Attachment.size).where(
                Attachment.uploaded_by_id == user.id,
                Attachment.created_at > now - VOLUME_WINDOW,
            )
        )
    ]
    if reserved:
        holders += [
            (expires_at, length)
            for expires_at, length in db.session.execute(
                select(Upload.expires_at, Upload.length).where(
                    Upload.user_id == user.id,
                    Upload.expires_at > now,
                    Upload.consumed_at.is_(None),
                )
            )
        ]
    used = sum(held for _, held in holders)
    excess = used + size - MAX_UPLOAD_BYTES_PER_DAY
    if excess <= 0:
        return
    if size > MAX_UPLOAD_BYTES_PER_DAY:  # waiting would not help: 413, not 429
        raise QuotaExceeded(
            "daily_upload_volume_exceeded",
            f"At most {_megabytes(MAX_UPLOAD_BYTES_PER_DAY)} may be uploaded per 24 hours.",
            limit=MAX_UPLOAD_BYTES_PER_DAY,
            used=used,
            size=size,
        )
    freed, free_at = 0, now + VOLUME_WINDOW
    for until, held in sorted(holders):
        freed += held
        if freed >= excess:
            free_at = until
            break
    raise QuotaExceeded(
        "daily_upload_volume_exceeded",
        f"At most {_megabytes(MAX_UPLOAD_BYTES_PER_DAY)} may be uploaded per 24 hours; "
        "try again later (see Retry-After).",
        limit=MAX_UPLOAD_BYTES_PER_DAY,
        used=used,
        size=size,
        retry_after=max(1, math.ceil((free_at - now).total_seconds())),
    )


def check_upload_quota(user: User, length: int, now: datetime) -> None:
    """Refuse a new resumable upload of ``length`` bytes when the user is over a quota."""
    _lock_row(User.id, user.id)
    open_uploads = db.session.scalars(
        select(Upload.expires_at).where(
            Upload.user_id == user.id, Upload.expires_at > now, Upload.completed_at.is_(None)
        )
    ).all()
    if len(open_uploads) >= MAX_OPEN_UPLOADS:
        soonest = min(open_uploads)
        raise QuotaExceeded(
            "too_many_open_uploads",
            f"At most {MAX_OPEN_UPLOADS} unfinished uploads at a time; finish or delete one.",
            limit=MAX_OPEN_UPLOADS,
            used=len(open_uploads),
            retry_after=max(1, math.ceil((soonest - now).total_seconds())),
        )
    _check_daily_volume(user, length, now, reserved=True)


class AttachmentRejected(ServiceError):
    """The file is not an acceptable image (type, size, content)."""

    def __init__(self, error: ImageRejected, status: int = 422) -> None:
        super().__init__(f"image_{error.code}", error.message)
        self.status = 415 if error.code in ("not_an_image", "type_not_allowed") else status


class ImageProcessingBusy(ServiceError):
    """The server had no memory to spare for decoding the image in time; retry shortly."""

    status = 503

    def __init__(self, error: ImageBusy) -> None:
        # ``headers`` reaches the problem response (server.errors passes details through).
        super().__init__(
            f"image_{error.code}", error.message, headers={"Retry-After": str(error.retry_after)}
        )
        self.retry_after = error.retry_after


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
    for the orphan sweeper. A replay (same ``client_id``) is answered before any quota
    check; a new photo over a quota raises ``QuotaExceeded`` before anything is written.
    """
    sha256 = sha256_hex(data)
    found = _existing(actor, meta.get("client_id"))
    if found is not None:
        return _replay_or_conflict(found, order, sha256)
    try:
        # One decode for the checks, the display copy and the thumbnail (made from it).
        derived = derive_copies(data)
    except ImageRejected as error:
        raise AttachmentRejected(error) from None
    except ImageBusy as error:
        raise ImageProcessingBusy(error) from None
    image, (display, thumbnail) = derived.image, derived.copies
    # User before order, always: the same lock order everywhere cannot deadlock.
    _check_daily_volume(actor, len(data), utcnow(), reserved=False)
    _check_order_quota(order, AttachmentKind.PHOTO, len(data))
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
        except ImageBusy as error:
            raise ImageProcessingBusy(error) from None
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
    _check_daily_volume(actor, len(data), utcnow(), reserved=False)
    _check_order_quota(order, AttachmentKind.SIGNATURE, len(data))
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
