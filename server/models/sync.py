"""The per-technician job feed behind the phone's delta sync, and idempotency records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import UTCDateTime, utcnow


class JobFeedCounter(db.Model):
    """The last feed sequence number handed out for one technician.

    Writers bump it with a conditional UPDATE in the same transaction as the change, which
    locks the row until commit: one technician's sequence numbers commit in order, so a
    reader that has seen number N has seen every number below it.
    """

    __tablename__ = "job_feed_counters"

    #: The technician.
    technician_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    #: Highest sequence number used.
    last_seq: Mapped[int] = mapped_column(default=0)
    #: Entries up to this number were pruned; older cursors get 410 Gone.
    pruned_through: Mapped[int] = mapped_column(default=0)


class JobFeedEntry(db.Model):
    """A change to one of a technician's jobs: changed (upsert) or gone from their list."""

    __tablename__ = "job_feed_entries"
    __table_args__ = (UniqueConstraint("technician_id", "seq"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose feed.
    technician_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: Position in that technician's feed (1, 2, 3, …).
    seq: Mapped[int]
    #: The order that changed.
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    #: ``upsert`` (changed or new) or ``remove`` (no longer theirs to see).
    change: Mapped[str] = mapped_column(String(10))
    #: When it was recorded.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobListPage(db.Model):
    """A technician's first page of ``GET /jobs``, as sent, kept while its ETag still holds.

    The ETag names everything the page is made of (technician, language, feed position,
    scope, page size, local day), so a stored page whose ETag equals the one computed now
    is the page the request would build: phones that poll get it without the list query.
    """

    __tablename__ = "job_list_pages"

    #: Whose page.
    technician_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    #: Which list: ``active``, ``today``, ``upcoming`` or ``recent``.
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: The ETag the page was sent with.
    etag: Mapped[str] = mapped_column(String(64))
    #: The JSON body, byte for byte.
    body: Mapped[bytes] = mapped_column(LargeBinary)
    #: When it was built.
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdempotencyRecord(db.Model):
    """The first response to a mutating call made with an ``Idempotency-Key``."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotency_records_expires_at", "expires_at"),
    )

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Keys are scoped to the user who sent them.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: The client's key.
    key: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: ``running`` until the first response is stored, then ``done``.
    status: Mapped[str] = mapped_column(String(10), default="running")
    #: When the first request started (a running record older than the lease is abandoned).
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: HTTP status of the first response.
    response_status: Mapped[int | None]
    #: Content type of the first response.
    response_content_type: Mapped[str | None] = mapped_column(String(100))
    #: Body of the first response.
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Extra headers to replay (JSON object as text), e.g. ``Location``.
    response_headers: Mapped[str | None] = mapped_column(Text)
    #: Kept until then (at least 7 days).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
