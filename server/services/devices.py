"""Use cases for technicians' phones and their own availability status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.models import AvailabilityStatus, Device, TechnicianAvailability, User
from server.models.base import utcnow
from server.services.errors import NotFound


def register_device(user: User, data: Mapping[str, Any]) -> tuple[Device, bool]:
    """Register a phone's push token, or refresh it; a token moves to its current user."""
    user_id = user.id
    device = db.session.scalar(select(Device).where(Device.push_token == data["push_token"]))
    created = device is None
    if device is None:
        device = Device(push_token=data["push_token"], user_id=user_id)
        db.session.add(device)
    device.user_id = user_id
    device.platform = data["platform"]
    device.app_version = data.get("app_version")
    device.locale = data.get("locale")
    device.is_active = True
    device.last_seen_at = utcnow()
    db.session.flush()
    return device, created


def unregister_device(user: User, device_id: int) -> None:
    """Stop pushing to one of the user's phones."""
    device = db.session.get(Device, device_id)
    if device is None or device.user_id != user.id:
        raise NotFound("not_found", "No such device.")
    db.session.delete(device)
    db.session.flush()


def set_availability(user: User, status: str, note: str | None) -> TechnicianAvailability:
    """Record what the technician is doing now; the previous status ends."""
    now = utcnow()
    current = current_availability(user)
    if current is not None and current.ends_at is None:
        current.ends_at = now
    row = TechnicianAvailability(
        technician_id=user.id,
        status=AvailabilityStatus(status),
        starts_at=now,
        note=note,
        recorded_by_id=user.id,
    )
    db.session.add(row)
    db.session.flush()
    return row


def current_availability(user: User) -> TechnicianAvailability | None:
    """Return the technician's latest status, if any."""
    return db.session.scalar(
        select(TechnicianAvailability)
        .where(
            TechnicianAvailability.technician_id == user.id,
            TechnicianAvailability.starts_at <= utcnow(),
        )
        .order_by(TechnicianAvailability.starts_at.desc(), TechnicianAvailability.id.desc())
        .limit(1)
    )
