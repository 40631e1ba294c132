"""Users and their credentials: API tokens and console sessions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.base import TimestampMixin, UTCDateTime, enum_values, utcnow
from server.models.enums import Role, TokenAudience, TokenKind

if TYPE_CHECKING:
    from server.models.technicians import TechnicianProfile


class User(TimestampMixin, db.Model):
    """A person who signs in: admin, manager, dispatcher or technician."""

    __tablename__ = "users"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Login name, unique, compared case-insensitively (stored lower case).
    username: Mapped[str] = mapped_column(String(64), unique=True)
    #: Name shown to colleagues and customers.
    display_name: Mapped[str] = mapped_column(String(120))
    #: Work e-mail address.
    email: Mapped[str | None] = mapped_column(String(254))
    #: Work phone number, as typed.
    phone: Mapped[str | None] = mapped_column(String(40))
    #: What the user may do.
    role: Mapped[Role] = mapped_column(
        Enum(Role, values_callable=enum_values, native_enum=False, length=20)
    )
    #: Interface language: ``en`` or ``zh_CN``.
    locale: Mapped[str] = mapped_column(String(10), default="en")
    #: IANA time zone the user sees times in; None means the deployment's zone.
    timezone: Mapped[str | None] = mapped_column(String(64))
    #: Inactive users cannot sign in and all their tokens stop working.
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Argon2id hash of the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    #: True for accounts made by ``seed-demo`` (it refuses to run over real users).
    is_demo: Mapped[bool] = mapped_column(default=False)
    #: Last successful sign-in.
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    technician_profile: Mapped[TechnicianProfile | None] = relationship(
        back_populates="user", uselist=False
    )

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        """Return True: a loaded user is an authenticated one."""
        return True

    @property
    def is_anonymous(self) -> bool:
        """Return False: anonymous visitors are not User rows."""
        return False

    def get_id(self) -> str:
        """Return the id Flask-Login keeps in the session."""
        return str(self.id)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(db.Model):
    """An opaque bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id_kind", "user_id", "kind"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Owner of the token.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: Access or refresh token.
    kind: Mapped[TokenKind] = mapped_column(
        Enum(TokenKind, values_callable=enum_values, native_enum=False, length=10)
    )
    #: The API the token is valid on.
    audience: Mapped[TokenAudience] = mapped_column(
        Enum(TokenAudience, values_callable=enum_values, native_enum=False, length=10)
    )
    #: Hex SHA-256 of the token string; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: All tokens descended from one sign-in share a family; reuse of a rotated refresh
    #: token revokes the whole family.
    family: Mapped[str] = mapped_column(String(32), index=True)
    #: When the token was issued.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: After this instant the token is refused.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Set when the token was revoked (logout, rotation, user disabled).
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Last time the token authenticated a request (access tokens only, coarse).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class ConsoleSession(db.Model):
    """A server-side console session, so logout and disabling end it for real."""

    __tablename__ = "console_sessions"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who signed in.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Hex SHA-256 of the random session id kept in the signed cookie.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Sign-in time; the absolute lifetime counts from here.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Last request seen; the idle lifetime counts from here.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Set on logout or when an admin ends the user's sessions.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
