"""Signed documents issued for work orders: the completion sheets customers keep."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.base import UTCDateTime, utcnow
from server.models.work_orders import WorkOrder


class CompletionSheet(db.Model):
    """One signed revision of an order's completion sheet; the PDF lives in storage.

    Every completion of an order issues the next revision; a reopened and re-completed
    order gets a new one and the old ones stay retrievable. The SHA-256 of the exact
    stored bytes is kept here, with the order, so any copy can be checked against it.
    """

    __tablename__ = "completion_sheets"
    # Also the index behind "latest revision of an order".
    __table_args__ = (UniqueConstraint("work_order_id", "revision"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public, random, unguessable id printed on the sheet and used by ``/verify/<id>``.
    document_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: The order the sheet records.
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    #: The completion event it records; one sheet per completion (rendering is idempotent).
    completion_event_id: Mapped[int] = mapped_column(
        ForeignKey("work_order_events.id", ondelete="CASCADE"), unique=True
    )
    #: 1 for the first completion, 2 after a reopen and re-completion, …
    revision: Mapped[int]
    #: Hex SHA-256 of the stored, signed PDF: the reference every copy is checked against.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: Storage key of the signed PDF.
    storage_key: Mapped[str] = mapped_column(String(200))
    #: Size of the PDF in bytes.
    size: Mapped[int]
    #: Number of pages.
    page_count: Mapped[int]
    #: Language it was rendered in: ``en`` or ``zh_CN``.
    locale: Mapped[str] = mapped_column(String(10))
    #: Page size: ``A4`` or ``Letter``.
    page_size: Mapped[str] = mapped_column(String(10), default="A4")
    #: Hex SHA-256 of the certificate that signed it.
    signer_fingerprint: Mapped[str] = mapped_column(String(64))
    #: True when the signature carries an RFC 3161 timestamp.
    is_timestamped: Mapped[bool] = mapped_column(default=False)
    #: When it was rendered and signed (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    work_order: Mapped[WorkOrder] = relationship()
