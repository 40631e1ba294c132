"""Resumable uploads (tus): a file arriving in chunks before it becomes an attachment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import UTCDateTime, utcnow


class Upload(db.Model):
    """An upload in progress; its bytes so far live in ``<instance>/uploads/<id>.part``."""

    __tablename__ = "uploads"
    __table_args__ = (
        # A phone names each capture with a UUID; creating it again is a replay.
        UniqueConstraint("user_id", "client_id"),
        Index("ix_uploads_expires_at", "expires_at"),
    )

    #: Server-generated key (32 hex characters); it is also the name of the partial file.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: Who uploads it; nobody else may see or touch it.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: Size of the whole file in bytes, declared when the upload was created.
    length: Mapped[int]
    #: Bytes received and durably stored so far; only a conditional UPDATE advances it.
    offset: Mapped[int] = mapped_column(default=0)
    #: The phone's own id for this capture (a UUID), so a repeated creation is recognised.
    client_id: Mapped[str | None] = mapped_column(String(64))
    #: Hex SHA-256 of the whole file as the phone declared it; checked before attaching.
    declared_sha256: Mapped[str | None] = mapped_column(String(64))
    #: When the upload was created.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: After this the upload is gone (404) and the sweeper removes it; each chunk extends it.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the last byte arrived (offset reached length).
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When it was attached to a job; its bytes then live on as the attachment.
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The photo made from it, so a repeated attach returns that photo.
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="SET NULL")
    )
