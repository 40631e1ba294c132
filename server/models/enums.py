"""The closed sets of values the models store, as string enums."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user may do, from most to least power."""

    ADMIN = "admin"
    MANAGER = "manager"
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"


class CustomerTier(StrEnum):
    """Service tier; VIP and key customers get tighter deadlines."""

    VIP = "vip"
    KEY = "key"
    STANDARD = "standard"


class MessagePreference(StrEnum):
    """How a customer wants to hear from us about their jobs."""

    SMS = "sms"
    EMAIL = "email"
    BOTH = "both"
    NONE = "none"


class Priority(StrEnum):
    """How urgent a work order is."""

    EMERGENCY = "emergency"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


#: Sort rank of each priority, most urgent first.
PRIORITY_RANK = {Priority.EMERGENCY: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class Channel(StrEnum):
    """How the request reached us."""

    PHONE = "phone"
    EMAIL = "email"
    WEB = "web"
    PORTAL = "portal"
    API = "api"


class AvailabilityStatus(StrEnum):
    """What a technician is doing now, as shown on the dispatch board."""

    AVAILABLE = "available"
    ON_BREAK = "on_break"
    TRAVELLING = "travelling"
    TRAINING = "training"
    OFF_SHIFT = "off_shift"
    ON_LEAVE = "on_leave"


class VisitStatus(StrEnum):
    """Where one visit of a work order stands."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class CrewRole(StrEnum):
    """A technician's part in a visit."""

    LEAD = "lead"
    HELPER = "helper"


class AttachmentKind(StrEnum):
    """What an attached file is."""

    PHOTO = "photo"
    SIGNATURE = "signature"
    DOCUMENT = "document"
    PDF = "pdf"


class DevicePlatform(StrEnum):
    """Phone platforms the app runs on."""

    ANDROID = "android"
    IOS = "ios"
    #: A browser (the installable technicians' app) with a Web Push subscription.
    WEB = "web"


class TokenKind(StrEnum):
    """Access tokens authenticate calls; refresh tokens get new access tokens."""

    ACCESS = "access"
    REFRESH = "refresh"


class TokenAudience(StrEnum):
    """Which API a token was issued for; a token works on that API only."""

    API = "api"
    MOBILE = "mobile"


class OutboxStatus(StrEnum):
    """Delivery state of an outbox message."""

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"
    DEAD = "dead"
