"""Files attached to work orders: photos, signatures, documents, completion PDFs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.base import UTCDateTime, enum_values, utcnow
from server.models.enums import AttachmentKind
from server.models.work_orders import WorkOrder


class Attachment(db.Model):
    """Metadata of a stored file; the bytes live in storage under ``storage_key``."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_order_kind", "work_order_id", "kind"),
        # A phone names each capture with a UUID; a retry with the same one is a replay.
        UniqueConstraint("uploaded_by_id", "client_id"),
    )

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The order.
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    #: The visit it was captured on.
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="SET NULL"))
    #: Photo, signature, document or PDF.
    kind: Mapped[AttachmentKind] = mapped_column(
        Enum(AttachmentKind, values_callable=enum_values, native_enum=False, length=20)
    )
    #: MIME type decided from the content, not from the client.
    content_type: Mapped[str] = mapped_column(String(100))
    #: Size in bytes.
    size: Mapped[int]
    #: Hex SHA-256 of the stored bytes.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: Server-generated storage key of the original bytes; user file names never reach it.
    storage_key: Mapped[str] = mapped_column(String(200))
    #: Key of the re-encoded copy without metadata (photos: at most 1,600 px), if any.
    display_key: Mapped[str | None] = mapped_column(String(200))
    #: Key of the thumbnail, if any.
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    #: Pixel width of the original image.
    width: Mapped[int | None]
    #: Pixel height of the original image.
    height: Mapped[int | None]
    #: The phone's own id for this capture (a UUID), so retries are recognised.
    client_id: Mapped[str | None] = mapped_column(String(64))
    #: Who signed (signatures only).
    signer_name: Mapped[str | None] = mapped_column(String(120))
    #: ``customer`` or ``technician`` (signatures only).
    signer_role: Mapped[str | None] = mapped_column(String(20))
    #: File name shown on download (sanitized).
    filename: Mapped[str | None] = mapped_column(String(200))
    #: Caption shown under the photo.
    caption: Mapped[str | None] = mapped_column(String(300))
    #: Who uploaded it.
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: When the phone captured it (phone clock).
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Where it was captured, if the technician allowed location.
    latitude: Mapped[float | None]
    #: Where it was captured, if the technician allowed location.
    longitude: Mapped[float | None]
    #: When the server stored it.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    work_order: Mapped[WorkOrder] = relationship(back_populates="attachments")
