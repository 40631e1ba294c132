"""Use cases for completion sheets: dump the order, render, sign, store, verify, resend.

The sheet is a pure function of the primitive dict :func:`sheet_data` builds from committed
data (``pdf/`` renders it and knows nothing of the database). Rendering happens in the
background worker (the ``request_completion_sheet`` outbox task), never while a web
request waits.

One sheet per completion event: rendering the same completion again returns the stored
sheet (same bytes), a reopened and re-completed order gets the next revision, and every
revision stays retrievable. The SHA-256 of the stored PDF is kept on the sheet's row.
"""

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from pdf.labels import language_of
from pdf.render import Resource
from pdf.render_process import shared_render_process
from pdf.sheet import render_html
from pdf.signing import (
    SigningIdentity,
    ensure_development_identity,
    http_timestamper,
    identity_from,
    sign_pdf,
)
from pdf.verify import SignatureCheck, verify_pdf
from server.config import Settings
from server.extensions import db
from server.models import (
    Attachment,
    AttachmentKind,
    CompletionSheet,
    OutboxMessage,
    User,
    WorkOrder,
    WorkOrderEvent,
)
from server.models.base import utcnow
from server.services.errors import ServiceError
from server.services.field_reports import current_report, parts_of
from server.services.workflow_registry import definition_for
from server.storage import BlobStore, new_key

#: The workflow action that asks for a sheet (and the outbox action that renders it).
ACTION = "request_completion_sheet"
#: Alphabet of document ids: lowercase letters and digits without look-alikes (0/o, 1/l).
_ID_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"
#: 20 characters of 32 symbols: 100 random bits, short enough to type from paper.
_ID_LENGTH = 20


class NoCompletion(ServiceError):
    """The order has not been completed, so there is nothing to put on a sheet."""

    status = 409


class TooManyResends(ServiceError):
    """The sheet was sent again too often lately (RELIABILITY I2: no mail bombing)."""

    status = 429


#: Resends per order in any 24 hours: enough for a typo in an address, not for a flood.
MAX_RESENDS_PER_DAY = 3


def new_document_id() -> str:
    """Return a random public document id."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def customer_page_url(order: WorkOrder) -> str:
    """Issue a link to the customer's own job page (``/r/<token>``) and return its URL."""
    from flask import current_app

    from server.services.customer_portal import issue_customer_link

    issued = issue_customer_link(order, None)
    return f"{current_app.config['FIELDWORK_SETTINGS'].base_url}{issued.path}"


def verify_url(settings: Settings, document_id: str) -> str:
    """Return the public verification page of a document."""
    return f"{settings.base_url}/verify/{document_id}"


def completion_transitions(order: WorkOrder) -> set[str]:
    """Return the names of the transitions whose actions ask for a completion sheet."""
    definition = definition_for(order.workflow_name, order.workflow_version)
    return {t.name for t in definition.transitions if any(a.name == ACTION for a in t.actions)}


def completion_event(order: WorkOrder) -> WorkOrderEvent | None:
    """Return the event of the order's latest completion, if it was ever completed."""
    names = completion_transitions(order)
    if not names:
        return None
    return db.session.scalar(
        select(WorkOrderEvent)
        .where(WorkOrderEvent.work_order_id == order.id, WorkOrderEvent.transition.in_(names))
        .order_by(WorkOrderEvent.id.desc())
        .limit(1)
    )


def latest_sheet(order: WorkOrder) -> CompletionSheet | None:
    """Return the order's newest completion sheet, if any."""
    return db.session.scalar(
        select(CompletionSheet)
        .where(CompletionSheet.work_order_id == order.id)
        .order_by(CompletionSheet.revision.desc())
        .limit(1)
    )


def sheets_of(order: WorkOrder) -> list[CompletionSheet]:
    """Return every revision of the order's sheet, newest first."""
    return list(
        db.session.scalars(
            select(CompletionSheet)
            .where(CompletionSheet.work_order_id == order.id)
            .order_by(CompletionSheet.revision.desc())
        )
    )


def sheet_by_document_id(document_id: str) -> CompletionSheet | None:
    """Return the sheet with public id ``document_id``, if any."""
    if not 8 <= len(document_id) <= 32:
        return None
    return db.session.scalar(
        select(CompletionSheet).where(CompletionSheet.document_id == document_id)
    )


def sheet_bytes(sheet: CompletionSheet, store: BlobStore) -> bytes:
    """Return the exact stored bytes of a sheet."""
    return store.get(sheet.storage_key)


def sheet_filename(sheet: CompletionSheet) -> str:
    """Return the file name a sheet is attached and downloaded as."""
    return f"{sheet.work_order.number}-r{sheet.revision}.pdf"


# --- The primitive dict ---------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _timeline(order: WorkOrder, completion: WorkOrderEvent) -> list[dict[str, Any]]:
    events = [e for e in order.events if e.id <= completion.id]
    assigned = [e for e in events if e.kind == "WorkOrderAssigned" or e.transition == "assign"]
    arrived = [e for e in events if e.transition == "arrive"]
    steps: list[dict[str, Any]] = [{"key": "created", "at": _iso(order.created_at)}]
    if assigned:
        steps.append({"key": "assigned", "at": _iso(assigned[-1].occurred_at)})
    visit_arrivals = [v.arrived_at for v in order.visits if v.arrived_at is not None]
    if arrived:
        steps.append({"key": "arrived", "at": _iso(arrived[-1].occurred_at)})
    elif visit_arrivals:
        steps.append({"key": "arrived", "at": _iso(max(visit_arrivals))})
    steps.append({"key": "completed", "at": _iso(completion.occurred_at)})
    return steps


def _attachments(order: WorkOrder, completion: WorkOrderEvent, kind: AttachmentKind) -> list[Any]:
    return list(
        db.session.scalars(
            select(Attachment)
            .where(
                Attachment.work_order_id == order.id,
                Attachment.kind == kind,
                Attachment.created_at <= completion.occurred_at,
            )
            .order_by(Attachment.id)
        )
    )


def _signature(signatures: Sequence[Attachment], roles: tuple[str | None, ...]) -> Any:
    found = [s for s in signatures if s.signer_role in roles]
    if not found:
        return None
    last = found[-1]
    return {
        "key": last.display_key or last.storage_key,
        "name": last.signer_name,
        "signed_at": _iso(last.captured_at or last.created_at),
    }


def sheet_data(
    order: WorkOrder,
    completion: WorkOrderEvent,
    settings: Settings,
    *,
    document_id: str,
    revision: int,
) -> dict[str, Any]:
    """Dump the order as the primitive dict ``pdf.sheet.render_html`` renders."""
    language = language_of(order.customer.preferred_locale)
    report = current_report(order)
    template = {item["key"]: item for item in order.category.checklist}
    checklist = []
    for answer in report.checklist if report else []:
        item = template.get(answer.get("key"), {})
        label = item.get(language) or item.get("en") or answer.get("key") or answer.get("item")
        checklist.append({"label": label, "answer": answer.get("answer"), "ok": answer.get("ok")})
    photos = [
        {"key": photo.display_key, "caption": photo.caption}
        for photo in _attachments(order, completion, AttachmentKind.PHOTO)
        if photo.display_key  # the ≤ 1,600 px copy; an original is never put in a sheet
    ]
    signatures = _attachments(order, completion, AttachmentKind.SIGNATURE)
    technician = completion.actor or order.assignee
    asset = order.asset
    return {
        "document_id": document_id,
        "revision": revision,
        "locale": language,
        "page_size": settings.pdf_page_size,
        "timezone": settings.timezone,
        "verify_url": verify_url(settings, document_id),
        "company": {
            "name": settings.company_name,
            "logo_key": "company-logo" if settings.company_logo else None,
        },
        "order": {
            "number": order.number,
            "title": order.title,
            "category": order.category.name(language),
            "description": order.description,
        },
        "customer": {"name": order.customer.name},
        "site": (
            {"label": order.site.label, "address": order.site.address} if order.site else None
        ),
        "asset": (
            {
                "name": " ".join(p for p in (asset.manufacturer, asset.kind) if p) or None,
                "model": asset.model,
                "serial_number": asset.serial_number,
            }
            if asset
            else None
        ),
        "timeline": _timeline(order, completion),
        "technician": {"name": technician.display_name} if technician else None,
        "work_performed": report.work_notes if report else None,
        "checklist": checklist,
        "parts": [
            {"part_number": p.part_number, "description": p.description, "quantity": p.quantity}
            for p in parts_of(order)
        ],
        "labour_minutes": report.labour_minutes if report else None,
        "resolution": {
            "code": completion.data.get("resolution_code")
            or (report.resolution_code if report else None),
            "note": completion.data.get("resolution_note"),
        },
        "photos": photos,
        "signatures": {
            "customer": _signature(signatures, ("customer", None)),
            "technician": _signature(signatures, ("technician",)),
        },
    }


def sheet_resources(
    sheet: dict[str, Any], signatures: Sequence[Attachment], store: BlobStore, settings: Settings
) -> dict[str, Resource]:
    """Load the stored files a sheet shows (display copies, signatures, the logo)."""
    types = {s.display_key or s.storage_key: s.content_type for s in signatures}
    resources: dict[str, Resource] = {}
    for photo in sheet["photos"]:
        resources[photo["key"]] = Resource(store.get(photo["key"]), "image/jpeg")
    for signature in sheet["signatures"].values():
        if signature:
            key = signature["key"]
            resources[key] = Resource(store.get(key), types.get(key, "image/png"))
    if settings.company_logo:
        path = Path(settings.company_logo)
        content_type = mimetypes.guess_type(path.name)[0] or "image/png"
        resources["company-logo"] = Resource(path.read_bytes(), content_type)
    return resources


# --- Signing --------------------------------------------------------------------------------


def signing_identity(settings: Settings) -> SigningIdentity:
    """Return the identity that signs sheets: the configured PKCS#12, else the dev one."""
    if settings.signing_p12:
        return identity_from(settings.signing_p12, settings.signing_password)
    p12, password = ensure_development_identity(settings.instance_path)
    return identity_from(p12, password)


@dataclass(frozen=True)
class RenderedSheet:
    """A signed PDF ready to store."""

    data: bytes
    page_count: int
    fingerprint: str
    timestamped: bool


def render_signed(
    sheet: dict[str, Any],
    resources: dict[str, Resource],
    settings: Settings,
    timestamper: Any = None,
) -> RenderedSheet:
    """Render the sheet dict to a signed PDF (timestamped when a TSA is configured).

    WeasyPrint runs in this process's render process (``pdf.render_process``); signing runs
    here. Raises ``RenderFailed`` when the renderer fails or breaks its budget.
    """
    rendered = shared_render_process().render(render_html(sheet), resources)
    identity = signing_identity(settings)
    if timestamper is None and settings.tsa_url:
        timestamper = http_timestamper(settings.tsa_url)
    signed = sign_pdf(
        rendered.data,
        identity,
        seal_box=rendered.seal_box,
        timestamper=timestamper,
        reason=f"Completion sheet {sheet['order']['number']} revision {sheet['revision']}",
        location=settings.base_url,
    )
    return RenderedSheet(signed, rendered.page_count, identity.fingerprint, timestamper is not None)


def issue_completion_sheet(
    order: WorkOrder,
    completion: WorkOrderEvent,
    store: BlobStore,
    settings: Settings,
    *,
    timestamper: Any = None,
) -> CompletionSheet:
    """Render, sign and store the sheet of one completion, once; flush, never commit.

    Asked again for the same completion it returns the stored sheet unchanged. Two workers
    racing on one completion: the unique completion id lets one row in; the other's
    transaction fails and its outbox message is retried, finding the stored sheet.
    """
    found = db.session.scalar(
        select(CompletionSheet).where(CompletionSheet.completion_event_id == completion.id)
    )
    if found is not None:
        return found
    last = db.session.scalar(
        select(func.max(CompletionSheet.revision)).where(CompletionSheet.work_order_id == order.id)
    )
    revision = (last or 0) + 1
    document_id = new_document_id()
    data = sheet_data(order, completion, settings, document_id=document_id, revision=revision)
    signatures = _attachments(order, completion, AttachmentKind.SIGNATURE)
    resources = sheet_resources(data, signatures, store, settings)
    rendered = render_signed(data, resources, settings, timestamper)
    key = f"{new_key()}.pdf"
    store.put(key, rendered.data, "application/pdf")  # bytes before the row (crash-safe)
    sheet = CompletionSheet(
        document_id=document_id,
        work_order_id=order.id,
        completion_event_id=completion.id,
        revision=revision,
        sha256=_sha256(rendered.data),
        storage_key=key,
        size=len(rendered.data),
        page_count=rendered.page_count,
        locale=data["locale"],
        page_size=data["page_size"],
        signer_fingerprint=rendered.fingerprint,
        is_timestamped=rendered.timestamped,
        created_at=utcnow(),
    )
    db.session.add(sheet)
    db.session.flush()
    return sheet


def render_on_demand(order: WorkOrder, store: BlobStore, settings: Settings) -> CompletionSheet:
    """Return the sheet of the order's latest completion, issuing it if needed."""
    completion = completion_event(order)
    if completion is None:
        raise NoCompletion("not_completed", f"{order.number} has not been completed yet.")
    return issue_completion_sheet(order, completion, store, settings)


def _sha256(data: bytes) -> str:
    from pdf.verify import sha256_hex

    return sha256_hex(data)


# --- Resend ---------------------------------------------------------------------------------


def resend_sheet(order: WorkOrder, actor: User | None) -> OutboxMessage:
    """Queue the completion e-mail with the latest sheet again (a new delivery); flush.

    At most ``MAX_RESENDS_PER_DAY`` times per order in any 24 hours (``TooManyResends``).
    """
    sheet = latest_sheet(order)
    completion = (
        db.session.get(WorkOrderEvent, sheet.completion_event_id) if sheet else None
    ) or completion_event(order)
    if completion is None:
        raise NoCompletion("not_completed", f"{order.number} has not been completed yet.")
    now = utcnow()
    recent = db.session.scalar(
        select(func.count())
        .select_from(WorkOrderEvent)
        .where(
            WorkOrderEvent.work_order_id == order.id,
            WorkOrderEvent.kind == "CompletionSheetResent",
            WorkOrderEvent.occurred_at > now - timedelta(hours=24),
        )
    )
    if (recent or 0) >= MAX_RESENDS_PER_DAY:
        raise TooManyResends(
            "too_many_resends",
            f"{order.number}: the sheet was sent again {recent} times in the last 24 hours.",
            limit=MAX_RESENDS_PER_DAY,
        )
    event = WorkOrderEvent(
        work_order_id=order.id,
        kind="CompletionSheetResent",
        actor_id=actor.id if actor else None,
        occurred_at=now,
        data={"document_id": sheet.document_id if sheet else None},
    )
    db.session.add(event)
    db.session.flush()
    message = OutboxMessage(
        action=ACTION,
        payload={"params": {}, "completion_event_id": completion.id, "resend": True},
        work_order_id=order.id,
        event_id=event.id,
        created_at=now,
        available_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message


# --- Verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """The full verdict on a file: its signature and how it compares with what we stored."""

    check: SignatureCheck
    #: The stored sheet it claims to be (by hash, else by the id in its metadata).
    sheet: CompletionSheet | None
    #: The file's bytes are exactly the stored sheet's.
    hash_matches: bool
    #: The newest revision of that order's sheet.
    latest_revision: int | None

    @property
    def is_latest(self) -> bool:
        """Return True when the matching sheet is the order's newest revision."""
        return self.sheet is not None and self.sheet.revision == self.latest_revision

    @property
    def ok(self) -> bool:
        """Return True when the file is an original we issued."""
        return self.check.ok and self.hash_matches

    @property
    def modified(self) -> bool:
        """Return True when the file is not the bytes we signed and stored."""
        return self.check.modified or (self.sheet is not None and not self.hash_matches)


def verify_document(data: bytes, settings: Settings) -> Verification:
    """Check a PDF someone holds against our signature and the stored sheets."""
    identity = signing_identity(settings)
    check = verify_pdf(data, identity.trust_roots_der, [identity.fingerprint])
    sheet = db.session.scalar(
        select(CompletionSheet).where(CompletionSheet.sha256 == check.sha256).limit(1)
    )
    if sheet is None and check.document_id:
        sheet = sheet_by_document_id(check.document_id)
    if sheet is not None and not check.signed_by_us and check.intact:
        # Signed by an earlier key of ours: the stored row remembers which one.
        check = verify_pdf(
            data, identity.trust_roots_der, [identity.fingerprint, sheet.signer_fingerprint]
        )
    latest = None
    if sheet is not None:
        latest = db.session.scalar(
            select(func.max(CompletionSheet.revision)).where(
                CompletionSheet.work_order_id == sheet.work_order_id
            )
        )
    return Verification(
        check=check,
        sheet=sheet,
        hash_matches=sheet is not None and sheet.sha256 == check.sha256,
        latest_revision=latest,
    )


def verify_stored(sheet: CompletionSheet, store: BlobStore, settings: Settings) -> Verification:
    """Check the stored copy of a sheet (what ``/verify/<document_id>`` shows)."""
    return verify_document(sheet_bytes(sheet, store), settings)
