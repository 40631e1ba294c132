"""All models, imported so that metadata and relationships are complete."""

from server.models.attachments import Attachment
from server.models.auth import ApiToken, ConsoleSession, User
from server.models.categories import Category
from server.models.customer_portal import (
    CustomerLink,
    FollowUpTask,
    IntakeMessage,
    MaintenanceOccurrence,
    MaintenancePlan,
    ProblemReport,
    Survey,
)
from server.models.customers import Asset, Contact, Customer, CustomerEvent, Site
from server.models.deadlines import (
    BusinessCalendar,
    CalendarDay,
    ClockPause,
    DeadlineClock,
    DeadlinePolicy,
    EscalationRecord,
    EscalationStep,
    WorkOrderOwner,
)
from server.models.devices import Device
from server.models.dispatch import (
    AutoAssignMode,
    DispatchOffer,
    DispatchPolicy,
    OfferStatus,
    TechnicianPosition,
)
from server.models.documents import CompletionSheet
from server.models.enums import (
    AttachmentKind,
    AvailabilityStatus,
    Channel,
    CrewRole,
    CustomerTier,
    DevicePlatform,
    MessagePreference,
    OutboxStatus,
    Priority,
    Role,
    TokenAudience,
    TokenKind,
    VisitStatus,
)
from server.models.outbox import Delivery, OutboxMessage
from server.models.preferences import NotificationPreference
from server.models.scheduling import PeriodicRun, SchedulerLease
from server.models.sync import IdempotencyRecord, JobFeedCounter, JobFeedEntry, JobListPage
from server.models.technicians import (
    Certification,
    TechnicianAvailability,
    TechnicianProfile,
    TechnicianSkill,
    WorkingHours,
)
from server.models.timers import WorkflowTimerRun, WorkflowTimerSchedule
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
    "BusinessCalendar",
    "CalendarDay",
    "ClockPause",
    "DeadlineClock",
    "DeadlinePolicy",
    "EscalationRecord",
    "EscalationStep",
    "WorkOrderOwner",
    "ApiToken",
    "Asset",
    "Attachment",
    "AttachmentKind",
    "AutoAssignMode",
    "DispatchOffer",
    "DispatchPolicy",
    "OfferStatus",
    "TechnicianPosition",
    "AvailabilityStatus",
    "Category",
    "Certification",
    "Channel",
    "Comment",
    "CompletionSheet",
    "ConsoleSession",
    "Contact",
    "CrewRole",
    "Customer",
    "CustomerEvent",
    "CustomerLink",
    "CustomerTier",
    "Delivery",
    "Device",
    "DevicePlatform",
    "FieldReport",
    "FollowUpTask",
    "IdempotencyRecord",
    "IntakeMessage",
    "JobFeedCounter",
    "JobListPage",
    "JobFeedEntry",
    "MaintenanceOccurrence",
    "MaintenancePlan",
    "MessagePreference",
    "NotificationPreference",
    "OutboxMessage",
    "OutboxStatus",
    "PartUsage",
    "PeriodicRun",
    "Priority",
    "ProblemReport",
    "Role",
    "SchedulerLease",
    "Site",
    "Survey",
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
    "WorkflowTimerRun",
    "WorkflowTimerSchedule",
    "WorkOrderEvent",
    "WorkOrderNumberSequence",
    "WorkingHours",
]
