"""The mobile API's own schemas: a versioned contract for app developers, every field described."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from server.business_time import HISTORIC_FIRST_DAY, Day, Instant
from server.models import AvailabilityStatus, DevicePlatform

MAX_ID = 2**31 - 1
LOCALES = ("en", "zh_CN")
#: Jobs a page of ``GET /jobs`` unless the phone asks for another size.
JOB_PAGE_SIZE = 50


def _version_field(**kwargs: Any) -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={
            "description": "The job's `version` you last saw (required; stale → 409).",
            "example": 3,
        },
        **kwargs,
    )


class LocationSchema(Schema):
    """Where the phone was (WGS 84)."""

    latitude = fields.Float(
        required=True, validate=validate.Range(min=-90, max=90), metadata={"example": 31.2304}
    )
    longitude = fields.Float(
        required=True, validate=validate.Range(min=-180, max=180), metadata={"example": 121.4737}
    )
    accuracy_m = fields.Float(
        validate=validate.Range(min=0, max=100_000),
        allow_none=True,
        metadata={"description": "Horizontal accuracy in metres."},
    )


# --- Devices and me ------------------------------------------------------------------------


class DeviceRegisterSchema(Schema):
    """Register the phone for push notifications (or refresh its token)."""

    push_token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=4096),
        metadata={"description": "FCM registration token of this install."},
    )
    platform = fields.Enum(
        DevicePlatform,
        by_value=True,
        required=True,
        validate=validate.OneOf(
            [DevicePlatform.ANDROID, DevicePlatform.IOS],
            error="Browsers register with POST /devices/web-push.",
        ),
        metadata={"description": "`android` or `ios` (browsers: `POST /devices/web-push`)."},
    )
    app_version = fields.String(
        validate=validate.Length(max=40), allow_none=True, metadata={"example": "2.3.1"}
    )
    locale = fields.String(
        validate=validate.OneOf(LOCALES),
        load_default="zh_CN",
        metadata={"description": "Language of notifications: `en` or `zh_CN`."},
    )


class DeviceSchema(Schema):
    """A registered phone."""

    id = fields.Integer(metadata={"description": "Use it to unregister: DELETE /devices/{id}."})
    platform = fields.Enum(DevicePlatform, by_value=True)
    app_version = fields.String(allow_none=True)
    locale = fields.String(allow_none=True)
    is_active = fields.Boolean(metadata={"description": "False once push stopped working."})
    last_seen_at = Instant()


class WebPushKeysSchema(Schema):
    """The subscription's keys, as the browser's ``PushSubscription.toJSON()`` gives them."""

    p256dh = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^B[A-Za-z0-9_-]{86}=?\Z", error="Not a base64url P-256 public key (65 bytes)."
        ),
        metadata={"description": "The browser's ECDH public key: 65 bytes, base64url."},
    )
    auth = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9_-]{22}(==)?\Z", error="Not a base64url 16-byte secret."
        ),
        metadata={"description": "The subscription's authentication secret: 16 bytes, base64url."},
    )


class WebPushSubscriptionSchema(Schema):
    """Register this browser for Web Push: what ``PushSubscription.toJSON()`` returns."""

    endpoint = fields.String(
        required=True,
        validate=[
            validate.Length(max=2048),
            validate.Regexp(r"^https?://", error="Not an http(s) URL."),
        ],
        metadata={
            "description": "The push service URL of the subscription; must be https.",
            "example": "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91b…",
        },
    )
    expiration_time = fields.Float(
        data_key="expirationTime",
        allow_none=True,
        load_default=None,
        metadata={"description": "Accepted and ignored: a 404/410 from the push service ends it."},
    )
    keys = fields.Nested(WebPushKeysSchema, required=True)
    app_version = fields.String(
        validate=validate.Length(max=40), allow_none=True, metadata={"example": "2.3.1"}
    )
    locale = fields.String(
        validate=validate.OneOf(LOCALES),
        load_default="zh_CN",
        metadata={"description": "Language of notifications: `en` or `zh_CN`."},
    )


class WebPushKeySchema(Schema):
    """The server's VAPID public key, for ``pushManager.subscribe``."""

    application_server_key = fields.String(
        metadata={
            "description": "Pass as `applicationServerKey` (uncompressed P-256 point, base64url)."
        }
    )


class StatusUpdateSchema(Schema):
    """What the technician is doing now, shown on the dispatch board."""

    status = fields.String(
        required=True,
        validate=validate.OneOf(["available", "on_break", "travelling", "training", "off_shift"]),
        metadata={"description": "`travelling` covers driving back to base."},
    )
    note = fields.String(validate=validate.Length(max=500), allow_none=True)


class StatusSchema(Schema):
    """The technician's current status."""

    status = fields.Enum(AvailabilityStatus, by_value=True)
    since = Instant()
    note = fields.String(allow_none=True)


class MeSchema(Schema):
    """The signed-in technician."""

    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    locale = fields.String(metadata={"description": "Language of labels and reasons."})
    status = fields.Nested(StatusSchema, allow_none=True)


class ChannelChoiceSchema(Schema):
    """How one topic reaches the technician."""

    push = fields.Boolean(metadata={"description": "Push to the technician's phones."})
    email = fields.Boolean(metadata={"description": "E-mail the technician."})


class NotificationPreferencesSchema(Schema):
    """What the technician wants to be told. Emergency assignments are always pushed."""

    new_jobs = fields.Nested(
        ChannelChoiceSchema, metadata={"description": "A job was assigned to me."}
    )
    job_changes = fields.Nested(
        ChannelChoiceSchema,
        metadata={"description": "One of my jobs changed (rescheduled, cancelled, …)."},
    )
    alerts = fields.Nested(
        ChannelChoiceSchema,
        metadata={"description": "Deadline warnings and escalations about my jobs."},
    )
    digest = fields.Nested(
        ChannelChoiceSchema, metadata={"description": "The daily summary of my jobs."}
    )


# --- Jobs ------------------------------------------------------------------------------------


def _page_token_in_range(value: str) -> None:
    """Refuse a page token whose job id no row can have (it would overflow the id column)."""
    head = value.split(":", 1)[0]
    if head.isdigit() and int(head) > MAX_ID:  # the pattern reports any other shape
        raise ValidationError("Not a page of this list: pass `next_page` as it was given.")


class JobListArgsSchema(Schema):
    """A full sync (pages of jobs) or a delta sync (`since`)."""

    since = fields.String(
        validate=validate.Regexp(r"^\d{1,12}$"),
        metadata={
            "description": "The `sync_cursor` of your last sync: returns only what changed "
            "after it, plus removed ids. 410 when too old: do a full sync."
        },
    )
    scope = fields.String(
        load_default="active",
        validate=validate.OneOf(["active", "today", "upcoming", "recent"]),
        metadata={
            "description": "Full sync only. `active`: everything not closed; `today`, "
            "`upcoming` (scheduled after today), `recent` (closed in the "
            "last 14 days)."
        },
    )
    page = fields.String(
        validate=[validate.Regexp(r"^\d{1,12}:\d{1,12}$"), _page_token_in_range],
        metadata={"description": "`next_page` of the previous page."},
    )
    limit = fields.Integer(
        load_default=JOB_PAGE_SIZE,
        validate=validate.Range(min=1, max=200),
        metadata={
            "description": f"Jobs a page (delta: changes a pull), 1-200; {JOB_PAGE_SIZE} when "
            "left out. Keep the default when you poll: that first page is served from the "
            "server's copy while nothing changed."
        },
    )


class CategorySchema(Schema):
    """The kind of request."""

    code = fields.String(metadata={"example": "HVAC-REPAIR"})
    name = fields.String(metadata={"description": "In the technician's language."})


class SiteSchema(Schema):
    """Where to go."""

    id = fields.Integer()
    address = fields.String(
        allow_none=True, metadata={"description": "Street address; null once the job is closed."}
    )
    district = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True, metadata={"description": "Null once closed."})
    longitude = fields.Float(allow_none=True, metadata={"description": "Null once closed."})
    access_notes = fields.String(
        allow_none=True,
        metadata={"description": "Door codes, parking; null once the job is closed."},
    )


class DeadlinesSchema(Schema):
    """When the promises to the customer fall due (UTC)."""

    respond_by = Instant(allow_none=True)
    arrive_by = Instant(allow_none=True)
    resolve_by = Instant(allow_none=True)


class JobSummarySchema(Schema):
    """A job in the list."""

    id = fields.Integer()
    number = fields.String(metadata={"example": "WO-2026-000123"})
    state = fields.String(metadata={"example": "assigned"})
    state_label = fields.String(metadata={"description": "In the technician's language."})
    priority = fields.String(metadata={"description": "emergency, high, normal or low"})
    title = fields.String()
    category = fields.Nested(CategorySchema)
    customer_name = fields.String()
    site = fields.Nested(SiteSchema, allow_none=True)
    scheduled_start_at = Instant(allow_none=True)
    scheduled_end_at = Instant(allow_none=True)
    deadlines = fields.Nested(DeadlinesSchema)
    version = fields.Integer(metadata={"description": "Send it back as expected_version."})
    updated_at = Instant()


class JobListSchema(Schema):
    """A page of a full sync, or the changes of a delta sync."""

    items = fields.List(
        fields.Nested(JobSummarySchema), metadata={"description": "Jobs to store (new or changed)."}
    )
    removed = fields.List(
        fields.Integer(),
        metadata={"description": "Job ids to delete from the phone (reassigned away, cancelled)."},
    )
    next_page = fields.String(
        allow_none=True, metadata={"description": "Full sync: pass as `page` for more."}
    )
    has_more = fields.Boolean(
        metadata={"description": "Delta sync: call again with the new sync_cursor for the rest."}
    )
    sync_cursor = fields.String(metadata={"description": "Keep it; pass as `since` next time."})


class ContactSchema(Schema):
    """Whom to call."""

    name = fields.String()
    phone = fields.String(
        allow_none=True,
        metadata={"description": "Only while the job is open: null once it is closed."},
    )
    email = fields.String(
        allow_none=True,
        metadata={"description": "Only while the job is open: null once it is closed."},
    )
    is_primary = fields.Boolean()


class CustomerSchema(Schema):
    """The customer."""

    id = fields.Integer()
    name = fields.String()
    preferred_locale = fields.String()
    contacts = fields.List(fields.Nested(ContactSchema))


class ServiceVisitSchema(Schema):
    """An earlier job on the same equipment."""

    number = fields.String()
    title = fields.String()
    completed_at = Instant(allow_none=True)
    resolution_code = fields.String(allow_none=True)


class AssetSchema(Schema):
    """The equipment, with its last 10 service visits."""

    id = fields.Integer()
    kind = fields.String(allow_none=True)
    manufacturer = fields.String(allow_none=True)
    model = fields.String()
    serial_number = fields.String(allow_none=True)
    installed_on = Day(first=HISTORIC_FIRST_DAY, allow_none=True)
    warranty_ends_on = Day(allow_none=True)
    history = fields.List(fields.Nested(ServiceVisitSchema))


class ChecklistItemSchema(Schema):
    """A checklist item and the answer saved so far."""

    key = fields.String()
    label = fields.String()
    answer = fields.String(allow_none=True)
    ok = fields.Boolean(allow_none=True)


class ReasonSchema(Schema):
    """Why a step is not possible now, in the technician's language."""

    code = fields.String(metadata={"example": "guard.photos_at_least"})
    message = fields.String()
    field = fields.String(allow_none=True)


class InputFieldSchema(Schema):
    """A value the step asks for."""

    name = fields.String()
    type = fields.String(
        metadata={"description": "string, text, integer, number, boolean, datetime or enum"}
    )
    required = fields.Boolean()
    max_length = fields.Integer(allow_none=True)
    values = fields.List(fields.String(), metadata={"description": "Choices of an enum."})
    label = fields.String()


class TransitionOptionSchema(Schema):
    """A step the technician can take (or could, once the reasons are resolved)."""

    name = fields.String(metadata={"example": "accept"})
    label = fields.String()
    target = fields.String()
    enabled = fields.Boolean()
    reasons = fields.List(fields.Nested(ReasonSchema))
    input = fields.List(fields.Nested(InputFieldSchema))


class PartSchema(Schema):
    """A part used."""

    part_number = fields.String(required=True, validate=validate.Length(min=1, max=60))
    description = fields.String(validate=validate.Length(max=300), allow_none=True)
    quantity = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=10_000)
    )


class ChecklistAnswerSchema(Schema):
    """An answer to a checklist item."""

    class Meta:
        """The rule for "answered", stated in the OpenAPI document."""

        description = (
            "An item counts as answered (for `checklist_done` and the completion check) when "
            "`ok` is `true` or `false`, or when `answer` is a text that is not blank. "
            '`{"key": "safety", "ok": true}` is answered; `ok: null` with no `answer`, '
            "or an empty or blank `answer` alone, leaves the item open. Items are matched to "
            "the job's checklist by `key`; a key the checklist does not have is refused."
        )

    key = fields.String(required=True, validate=validate.Length(min=1, max=60))
    answer = fields.String(
        validate=validate.Length(max=500),
        allow_none=True,
        metadata={"description": "Free text (a reading, a remark); not blank to count alone."},
    )
    ok = fields.Boolean(
        allow_none=True,
        metadata={"description": "The tick (`true`) or cross (`false`); either counts."},
    )


class ReportSchema(Schema):
    """The field report saved so far."""

    work_notes = fields.String(allow_none=True)
    checklist = fields.List(fields.Nested(ChecklistAnswerSchema))
    parts = fields.List(fields.Nested(PartSchema))
    labour_minutes = fields.Integer(allow_none=True)
    resolution_code = fields.String(allow_none=True)
    follow_up_needed = fields.Boolean()
    version = fields.Integer(
        metadata={
            "description": "Send as expected_version to avoid overwriting another device's save."
        }
    )
    updated_at = Instant()


class ReportUpdateSchema(Schema):
    """Save the field report (a draft until the job is completed)."""

    work_notes = fields.String(validate=validate.Length(max=20_000), allow_none=True)
    checklist = fields.List(fields.Nested(ChecklistAnswerSchema), validate=validate.Length(max=200))
    parts = fields.List(
        fields.Nested(PartSchema),
        validate=validate.Length(max=200),
        metadata={"description": "Replaces the list of parts."},
    )
    labour_minutes = fields.Integer(
        strict=True, validate=validate.Range(min=0, max=10_080), allow_none=True
    )
    resolution_code = fields.String(
        validate=validate.Length(max=32), allow_none=True, metadata={"example": "replaced_part"}
    )
    follow_up_needed = fields.Boolean()
    expected_version = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "The report's version (optional)."},
    )


class PhotoSchema(Schema):
    """A photo of the job (served without metadata, at most 1,600 px)."""

    id = fields.Integer()
    client_id = fields.String(allow_none=True)
    caption = fields.String(allow_none=True)
    captured_at = Instant(allow_none=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    url = fields.String(metadata={"description": "The display copy (JPEG)."})
    thumbnail_url = fields.String()
    created_at = Instant()


class PhotoUploadSchema(Schema):
    """A photo upload (multipart/form-data)."""

    file = fields.Raw(
        required=True,
        metadata={
            "type": "string",
            "format": "binary",
            "description": "JPEG, PNG or WebP, ≤ 20 MB.",
        },
    )
    client_id = fields.UUID(
        required=True,
        metadata={"description": "The phone's id for this capture; a retry with it is a replay."},
    )
    caption = fields.String(validate=validate.Length(max=300))
    captured_at = Instant(metadata={"description": "Phone clock, with offset."})
    latitude = fields.Float(validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(validate=validate.Range(min=-180, max=180))


class SvgSignatureSchema(Schema):
    """Signature-pad strokes as SVG path data."""

    path_data = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200_000),
        metadata={"example": "M10 10 L20 25 L30 12"},
    )
    width = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=4000))
    height = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=4000))


class SignatureUploadSchema(Schema):
    """A signature: a PNG from the pad, or its strokes as SVG path data."""

    client_id = fields.UUID(required=True)
    signer_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    signer_role = fields.String(required=True, validate=validate.OneOf(["customer", "technician"]))
    signed_at = Instant(required=True)
    latitude = fields.Float(validate=validate.Range(min=-90, max=90), allow_none=True)
    longitude = fields.Float(validate=validate.Range(min=-180, max=180), allow_none=True)
    png_base64 = fields.String(
        validate=validate.Length(min=1, max=4_000_000),
        metadata={"description": "Base64 of a PNG (≤ 4000 × 4000)."},
    )
    svg = fields.Nested(SvgSignatureSchema)

    @validates_schema
    def _one_image(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if bool(data.get("png_base64")) == bool(data.get("svg")):
            raise ValidationError("Send exactly one of png_base64 and svg.", "png_base64")


class SignatureSchema(Schema):
    """A stored signature."""

    id = fields.Integer()
    client_id = fields.String(allow_none=True)
    signer_name = fields.String()
    signer_role = fields.String()
    signed_at = Instant(attribute="captured_at", allow_none=True)
    content_type = fields.String()
    url = fields.String()


class JobDetailSchema(JobSummarySchema):
    """Everything the technician needs on site."""

    description = fields.String(allow_none=True)
    customer = fields.Nested(CustomerSchema)
    asset = fields.Nested(AssetSchema, allow_none=True)
    checklist = fields.List(fields.Nested(ChecklistItemSchema))
    transitions = fields.List(
        fields.Nested(TransitionOptionSchema),
        metadata={"description": "Steps available now; disabled ones say why."},
    )
    report = fields.Nested(ReportSchema, allow_none=True)
    photos = fields.List(fields.Nested(PhotoSchema))
    signatures = fields.List(fields.Nested(SignatureSchema))


class TransitionRequestSchema(Schema):
    """Move the job one step."""

    transition = fields.String(
        required=True, validate=validate.Length(min=1, max=60), metadata={"example": "accept"}
    )
    expected_version = _version_field()
    captured_at = Instant(
        metadata={"description": "When it happened on the phone (kept for the record)."}
    )
    location = fields.Nested(LocationSchema, allow_none=True)
    input = fields.Dict(
        keys=fields.String(validate=validate.Length(max=60)),
        load_default=dict,
        metadata={"description": "Values the step asks for (see `input` of the transition)."},
    )


# --- Resumable uploads -----------------------------------------------------------------------


class PhotoFromUploadSchema(Schema):
    """Attach a finished resumable upload to the job as a photo."""

    upload_id = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{32}\Z"),
        metadata={"description": "The last part of the upload's `Location`."},
    )
    client_id = fields.UUID(
        required=True,
        metadata={"description": "The phone's id for this capture; a retry with it is a replay."},
    )
    caption = fields.String(validate=validate.Length(max=300))
    captured_at = Instant(metadata={"description": "Phone clock, with offset."})
    latitude = fields.Float(validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(validate=validate.Range(min=-180, max=180))
    sha256 = fields.String(
        validate=validate.Regexp(r"^[0-9a-fA-F]{64}\Z"),
        metadata={"description": "Hex SHA-256 of the whole file; checked before attaching."},
    )
