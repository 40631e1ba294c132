"""Technician profiles: skills, certifications, working hours and availability."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.models.auth import User
from server.models.base import TimestampMixin, UTCDateTime, enum_values, utcnow
from server.models.enums import AvailabilityStatus


class TechnicianProfile(TimestampMixin, db.Model):
    """What dispatching needs to know about a technician beyond their user account."""

    __tablename__ = "technician_profiles"

    #: The technician's user account (one profile per technician user).
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: Team the technician belongs to (e.g. ``puxi``).
    team: Mapped[str | None] = mapped_column(String(40), index=True)
    #: Region the technician covers (e.g. ``pudong``).
    region: Mapped[str | None] = mapped_column(String(40))
    #: Where the technician starts and ends the day.
    home_address: Mapped[str | None] = mapped_column(String(300))
    #: Latitude of the home base, WGS 84 degrees.
    home_latitude: Mapped[float | None]
    #: Longitude of the home base, WGS 84 degrees.
    home_longitude: Mapped[float | None]
    #: On call for emergencies outside working hours.
    is_on_call: Mapped[bool] = mapped_column(default=False)
    #: The most jobs a dispatcher should give them in one day.
    max_jobs_per_day: Mapped[int] = mapped_column(default=6)
    #: Blob key of the portrait shown to customers while en route: a metadata-free JPEG of
    #: at most 320 px derived from the upload, never the upload itself. None: no photo.
    photo_key: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship(back_populates="technician_profile")
    skills: Mapped[list[TechnicianSkill]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="TechnicianSkill.skill"
    )
    certifications: Mapped[list[Certification]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="Certification.expires_on"
    )
    working_hours: Mapped[list[WorkingHours]] = relationship(
        back_populates="profile",
        cascade="all, delete-orphan",
        order_by="(WorkingHours.weekday, WorkingHours.starts_at)",
    )


class TechnicianSkill(db.Model):
    """A skill and the level (1 = trainee … 5 = expert) a technician holds it at."""

    __tablename__ = "technician_skills"
    __table_args__ = (UniqueConstraint("technician_id", "skill"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The technician.
    technician_id: Mapped[int] = mapped_column(
        ForeignKey("technician_profiles.user_id", ondelete="CASCADE")
    )
    #: Skill code, e.g. ``hvac``, ``electrical``.
    skill: Mapped[str] = mapped_column(String(40), index=True)
    #: Level from 1 (trainee) to 5 (expert).
    level: Mapped[int]

    profile: Mapped[TechnicianProfile] = relationship(back_populates="skills")


class Certification(db.Model):
    """A licence or certificate a technician holds, with its expiry date."""

    __tablename__ = "certifications"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The technician.
    technician_id: Mapped[int] = mapped_column(
        ForeignKey("technician_profiles.user_id", ondelete="CASCADE"), index=True
    )
    #: Name of the certificate, e.g. 低压电工作业证.
    name: Mapped[str] = mapped_column(String(200))
    #: Certificate number, if recorded.
    number: Mapped[str | None] = mapped_column(String(80))
    #: Last day the certificate is valid.
    expires_on: Mapped[date | None]

    profile: Mapped[TechnicianProfile] = relationship(back_populates="certifications")


class WorkingHours(db.Model):
    """One weekly working period, in the deployment's time zone."""

    __tablename__ = "working_hours"

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The technician.
    technician_id: Mapped[int] = mapped_column(
        ForeignKey("technician_profiles.user_id", ondelete="CASCADE"), index=True
    )
    #: Day of the week, 0 = Monday.
    weekday: Mapped[int]
    #: Local start time.
    starts_at: Mapped[time]
    #: Local end time.
    ends_at: Mapped[time]

    profile: Mapped[TechnicianProfile] = relationship(back_populates="working_hours")


class TechnicianAvailability(db.Model):
    """A period in which a technician is in one availability state (newest wins)."""

    __tablename__ = "technician_availability"
    __table_args__ = (Index("ix_technician_availability_tech_start", "technician_id", "starts_at"),)

    #: Surrogate key.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: The technician.
    technician_id: Mapped[int] = mapped_column(
        ForeignKey("technician_profiles.user_id", ondelete="CASCADE")
    )
    #: What the technician is doing.
    status: Mapped[AvailabilityStatus] = mapped_column(
        Enum(AvailabilityStatus, values_callable=enum_values, native_enum=False, length=20)
    )
    #: When this state began (or begins, for planned leave).
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When it ends; None while open-ended.
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Free text, e.g. the reason for leave.
    note: Mapped[str | None] = mapped_column(Text)
    #: Who recorded it (the technician from the phone, or a dispatcher).
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
