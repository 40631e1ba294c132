"""Technicians' phones, for push notifications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db
from server.models.base import TimestampMixin, UTCDateTime, enum_values, utcnow
from server.models.enums import DevicePlatform


class Device(TimestampMixin, db.Model):
    """A phone registered for push notifications."""

    __tablename__ = "devices"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose phone it is.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: FCM registration token; for ``web``, the Web Push subscription's endpoint URL.
    push_token: Mapped[str] = mapped_column(String(4096), unique=True)
    #: Android, iOS, or web (a browser's Web Push subscription).
    platform: Mapped[DevicePlatform] = mapped_column(
        Enum(DevicePlatform, values_callable=enum_values, native_enum=False, length=10)
    )
    #: Version of the app, e.g. ``2.3.1``.
    app_version: Mapped[str | None] = mapped_column(String(40))
    #: Language of notifications on this phone.
    locale: Mapped[str | None] = mapped_column(String(10))
    #: Last time the phone talked to us.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: False once the push service reported the token (subscription) dead.
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Web Push only: the browser's P-256 ECDH public key (``keys.p256dh``), base64url.
    webpush_p256dh: Mapped[str | None] = mapped_column(String(100))
    #: Web Push only: the subscription's 16-byte authentication secret (``keys.auth``), base64url.
    webpush_auth: Mapped[str | None] = mapped_column(String(40))
