"""All models, imported so that metadata and relationships are complete."""

from server.models.attachments import Attachment
from server.models.auth import ApiToken, ConsoleSession, User
from server.models.categories import Category
from server.models.customers import Asset, Contact, Customer, Site
from server.models.devices import Device
from server.models.enums import (
    AttachmentKind,
    AvailabilityStatus,
    Channel,
    CrewRole,
    CustomerTier,
    DevicePlatform,
    OutboxStatus,
    Priority,
    Role,
    TokenAudience,
    TokenKind,
    VisitStatus,
)
from server.models.outbox import Delivery, OutboxMessage
from server.models.scheduling import PeriodicRun, SchedulerLease
from server.models.sync import IdempotencyRecord, JobFeedCounter, JobFeedEntry
from server.models.technicians import (
    Certification,
    TechnicianAvailability,
    TechnicianProfile,
    TechnicianSkill,
    WorkingHours,
)
from server.models.uploads import Upload
from server.models.webhooks import WebhookSubscription
from server.models.work_orders import (
    Comment,
    FieldReport,
    PartUsage,
    Visit,
    VisitCrewMember,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderNumberSequence,
)

__all__ = [
    "ApiToken",
    "Asset",
    "Attachment",
    "AttachmentKind",
    "AvailabilityStatus",
    "Category",
    "Certification",
    "Channel",
    "Comment",
    "ConsoleSession",
    "Contact",
    "CrewRole",
    "Customer",
    "CustomerTier",
    "Delivery",
    "Device",
    "DevicePlatform",
    "FieldReport",
    "IdempotencyRecord",
    "JobFeedCounter",
    "JobFeedEntry",
    "OutboxMessage",
    "OutboxStatus",
    "PartUsage",
    "PeriodicRun",
    "Priority",
    "Role",
    "SchedulerLease",
    "Site",
    "TechnicianAvailability",
    "TechnicianProfile",
    "TechnicianSkill",
    "TokenAudience",
    "TokenKind",
    "Upload",
    "User",
    "Visit",
    "VisitCrewMember",
    "VisitStatus",
    "WebhookSubscription",
    "WorkOrder",
    "WorkOrderEvent",
    "WorkOrderNumberSequence",
    "WorkingHours",
]
