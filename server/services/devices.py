"""Use cases for technicians' phones (FCM tokens, Web Push subscriptions) and their status."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from server.extensions import db
from server.models import (
    AvailabilityStatus,
    Device,
    DevicePlatform,
    TechnicianAvailability,
    User,
)
from server.models.base import utcnow
from server.notify.outbound_http import is_public_address
from server.services.errors import InvalidInput, NotFound


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


def register_web_push(
    user: User, data: Mapping[str, Any], *, allow_loopback: bool = False
) -> tuple[Device, bool]:
    """Register a browser's Web Push subscription, or refresh it; it moves to its current user.

    The endpoint must be https on a host name or a public address (the server will POST to
    it); ``allow_loopback`` also admits ``http://`` on this machine, for tests.
    """
    endpoint = str(data["endpoint"])
    errors = endpoint_problems(endpoint, allow_loopback)
    keys = data["keys"]
    p256dh, auth = keys["p256dh"].rstrip("="), keys["auth"].rstrip("=")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), base64.urlsafe_b64decode(p256dh + "=")
        )
    except (ValueError, binascii.Error):
        errors["keys.p256dh"] = ["Not a point on the P-256 curve."]
    if errors:
        raise InvalidInput(errors)
    device, created = register_device(
        user,
        {
            "push_token": endpoint,
            "platform": DevicePlatform.WEB,
            "app_version": data.get("app_version"),
            "locale": data.get("locale"),
        },
    )
    device.webpush_p256dh, device.webpush_auth = p256dh, auth
    db.session.flush()
    return device, created


def endpoint_problems(endpoint: str, allow_loopback: bool) -> dict[str, list[str]]:
    """Say what makes ``endpoint`` unfit to push to (empty when it is fine)."""
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return {"endpoint": ["Not a push service URL."]}
    try:
        address = ipaddress.ip_address(host) if host else None
    except ValueError:
        address = None
    loopback = host == "localhost" or (address is not None and address.is_loopback)
    if not host or parts.username or parts.password or parts.fragment:
        return {"endpoint": ["Not a push service URL."]}
    if loopback and allow_loopback:
        return {}
    if parts.scheme != "https":
        return {"endpoint": ["Use an https push service URL."]}
    if loopback or (address is not None and not is_public_address(host)):
        return {"endpoint": ["Push service URLs must not point at internal addresses."]}
    return {}
