"""What each user wants to be told, and how."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.extensions import db


class NotificationPreference(db.Model):
    """One user's choice for one topic; a topic without a row uses the defaults."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "topic"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Whose preference it is.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: A topic of ``server.services.notification_preferences.TOPICS``.
    topic: Mapped[str] = mapped_column(String(40))
    #: Push to the user's phones.
    push: Mapped[bool] = mapped_column(default=True)
    #: E-mail the user.
    email: Mapped[bool] = mapped_column(default=True)
