"""Use cases of the ways in without an account: the public request form and the mailbox.

Both find (or create) the customer by e-mail address or phone, open a work order in the
chosen category and keep the files sent along. E-mails are read once each
(their Message-ID is unique); a reply to our acknowledgement, or an e-mail from the
customer naming the order's number in its subject, becomes a comment on that order.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy import func, select
from werkzeug.utils import secure_filename

from server.extensions import db
from server.images import ImageBusy, ImageRejected, derive_copies
from server.models import (
    Attachment,
    AttachmentKind,
    Category,
    Channel,
    Comment,
    Contact,
    Customer,
    IntakeMessage,
    OutboxMessage,
    Site,
    WorkOrder,
    WorkOrderEvent,
)
from server.models.base import utcnow
from server.services.attachments import ImageProcessingBusy
from server.services.customers import create_customer
from server.services.errors import InvalidInput
from server.services.work_orders import create_work_order
from server.storage import BlobStore, new_key, sha256_hex

#: Files kept per request or e-mail, and the size of each.
MAX_FILES = 10
MAX_FILE_BYTES = 15 * 1024 * 1024
#: Document types kept as they are (anything else that is not an image is dropped).
DOCUMENT_TYPES = {"application/pdf": ".pdf", "text/plain": ".txt"}
#: Work order numbers as they appear in subjects.
NUMBER_PATTERN = re.compile(r"\bWO-\d{4}-\d{6}\b")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_PHONE = re.compile(r"^[0-9+()\- ]{5,40}$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class IncomingFile:
    """A file sent with a request: its name as given, declared type and bytes."""

    filename: str
    content_type: str
    data: bytes


def language_of(*texts: str | None) -> str:
    """Guess the customer's language from what they wrote."""
    return "zh_CN" if any(_CJK.search(text or "") for text in texts) else "en"


def keep_file(order: WorkOrder, upload: IncomingFile, store: BlobStore) -> Attachment | None:
    """Store one file under a server key: images re-encoded, PDFs and text kept, others dropped.

    Raises ``ImageProcessingBusy`` when the server had no memory to spare for decoding the
    image in time: the form answers 503, the mailbox job retries; nothing is dropped.
    """
    if not upload.data or len(upload.data) > MAX_FILE_BYTES:
        return None
    sha256 = sha256_hex(upload.data)
    key = new_key()
    name = secure_filename(upload.filename or "")[:200] or None
    try:
        derived = derive_copies(upload.data)  # one decode for checks, display and thumbnail
    except ImageBusy as error:
        raise ImageProcessingBusy(error) from None
    except ImageRejected:
        content_type = upload.content_type.split(";")[0].strip().lower()
        if content_type not in DOCUMENT_TYPES:
            return None
        store.put(key, upload.data, content_type)
        attachment = Attachment(
            work_order_id=order.id,
            kind=AttachmentKind.DOCUMENT,
            content_type=content_type,
            size=len(upload.data),
            sha256=sha256,
            storage_key=key,
            filename=name,
        )
    else:
        image, (display, thumbnail) = derived.image, derived.copies
        store.put(key, upload.data, image.content_type)
        store.put(f"{key}.display", display, "image/jpeg")
        store.put(f"{key}.thumb", thumbnail, "image/jpeg")
        attachment = Attachment(
            work_order_id=order.id,
            kind=AttachmentKind.PHOTO,
            content_type=image.content_type,
            size=len(upload.data),
            sha256=sha256,
            storage_key=key,
            display_key=f"{key}.display",
            thumbnail_key=f"{key}.thumb",
            width=image.width,
            height=image.height,
            filename=name,
        )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def find_or_create_customer(
    *,
    name: str,
    email_address: str | None,
    phone: str | None,
    address: str | None,
    locale: str,
) -> tuple[Customer, Site | None]:
    """Return the customer with this e-mail or phone (else a new one) and its site at ``address``.

    A new customer gets the name and contact details given; a known one keeps its own.
    """
    contact = None
    if email_address:
        contact = db.session.scalar(
            select(Contact)
            .where(func.lower(Contact.email) == email_address.lower())
            .order_by(Contact.id)
        )
    if contact is None and phone:
        contact = db.session.scalar(
            select(Contact).where(Contact.phone == phone).order_by(Contact.id)
        )
    if contact is not None:
        customer = contact.customer
    else:
        customer = create_customer(
            {
                "name": name[:200],
                "preferred_locale": locale,
                "contacts": [
                    {"name": name[:120], "email": email_address, "phone": phone, "is_primary": True}
                ],
            },
            None,
        )
    site = None
    if address:
        site = next((s for s in customer.sites if s.address.strip() == address.strip()), None)
        if site is None:
            site = Site(address=address[:300])
            customer.sites.append(site)
            db.session.flush()
    return customer, site


def public_categories() -> list[Category]:
    """Return the categories the public form offers (active ones)."""
    return list(
        db.session.scalars(
            select(Category).where(Category.is_active.is_(True)).order_by(Category.id)
        )
    )


def submit_public_request(
    data: dict[str, str | None],
    files: Sequence[IncomingFile],
    store: BlobStore,
    now: datetime | None = None,
) -> WorkOrder:
    """Open a work order from the public form (``category_id``, ``description``, contact…)."""
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    category = None
    if (data.get("category_id") or "").isdigit():
        category = db.session.get(Category, int(data["category_id"] or 0))
    if category is None or not category.is_active:
        errors["category_id"] = ["Choose what the request is about."]
    description = (data.get("description") or "").strip()
    if len(description) < 10:
        errors["description"] = ["Describe the problem in a few words (at least 10 characters)."]
    elif len(description) > 4000:
        errors["description"] = ["At most 4000 characters."]
    name = (data.get("name") or "").strip()
    if not name or len(name) > 120:
        errors["name"] = ["Tell us your name."]
    email_address = (data.get("email") or "").strip() or None
    phone = (data.get("phone") or "").strip() or None
    if email_address and (len(email_address) > 254 or not _EMAIL.match(email_address)):
        errors["email"] = ["Not an e-mail address."]
    if phone and not _PHONE.match(phone):
        errors["phone"] = ["Not a phone number."]
    if not email_address and not phone:
        errors["phone"] = ["Give a phone number or an e-mail address so we can reach you."]
    address = (data.get("address") or "").strip()
    if not address or len(address) > 300:
        errors["address"] = ["Tell us where the work is (at most 300 characters)."]
    if len(files) > MAX_FILES:
        errors["photos"] = [f"At most {MAX_FILES} photos."]
    if errors or category is None:
        raise InvalidInput(errors)
    locale = data.get("locale") or language_of(description, name, address)
    customer, site = find_or_create_customer(
        name=name, email_address=email_address, phone=phone, address=address, locale=locale
    )
    order = create_work_order(
        {
            "category_id": category.id,
            "customer_id": customer.id,
            "site_id": site.id if site else None,
            "title": description.splitlines()[0][:200],
            "description": description,
            "channel": Channel.WEB,
        },
        None,
        now=now,
    )
    for upload in files:
        keep_file(order, upload, store)
    return order


# --- E-mail ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundEmail:
    """The parts of an e-mail intake needs."""

    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str
    references: tuple[str, ...]
    files: tuple[IncomingFile, ...] = field(default=())


def _ids(value: str | None) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def _plain_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        text = str(body.get_content())
    except (LookupError, ValueError):  # unknown charset or broken encoding
        payload = body.get_payload(decode=True)
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if body.get_content_subtype() == "html":
        text = re.sub(r"<[^>]+>", " ", text)
    return text


def parse_email(raw: bytes) -> InboundEmail:
    """Parse an RFC 5322 message into what intake needs (no Message-ID: a digest of it)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # noqa: S101 - the default policy's class
    ids = _ids(str(message.get("Message-ID", "")))
    message_id = ids[0] if ids else f"<sha256-{hashlib.sha256(raw).hexdigest()}@intake>"
    name, address = parseaddr(str(message.get("From", "")))
    references = tuple(
        dict.fromkeys(
            _ids(str(message.get("In-Reply-To", ""))) + _ids(str(message.get("References", "")))
        )
    )
    files = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and len(files) < MAX_FILES:
            files.append(IncomingFile(part.get_filename() or "", part.get_content_type(), payload))
    return InboundEmail(
        message_id=message_id[:255],
        sender=address.lower()[:320],
        sender_name=name.strip() or address.split("@")[0],
        subject=" ".join(str(message.get("Subject", "")).split())[:500],
        text=_plain_text(message).strip()[:20000],
        references=references,
        files=tuple(files),
    )


def _without_quotes(text: str) -> str:
    """Drop the quoted part of a reply (lines starting with ``>``)."""
    kept = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip()


@dataclass(frozen=True)
class IntakeOutcome:
    """What reading one e-mail did: ``new_order``, ``reply`` or ``duplicate``."""

    kind: str
    order: WorkOrder | None


def email_intake_category() -> Category | None:
    """Return the category e-mailed requests open in: ``INTAKE`` if defined, else a repair one."""
    return db.session.scalar(
        select(Category)
        .where(Category.is_active.is_(True))
        .order_by((func.upper(Category.code) == "INTAKE").desc(), Category.id)
        .where((func.upper(Category.code) == "INTAKE") | (Category.workflow_name == "repair"))
    )


def _thread_order(inbound: InboundEmail) -> WorkOrder | None:
    """Return the order this e-mail answers, if any."""
    if inbound.references:
        order_id = db.session.scalar(
            select(IntakeMessage.work_order_id)
            .where(
                IntakeMessage.message_id.in_(inbound.references)
                | IntakeMessage.ack_message_id.in_(inbound.references)
            )
            .order_by(IntakeMessage.id)
        )
        if order_id is not None:
            return db.session.get(WorkOrder, order_id)
    for number in NUMBER_PATTERN.findall(inbound.subject):
        order = db.session.scalar(select(WorkOrder).where(WorkOrder.number == number))
        # A number alone is guessable: only the customer's own addresses may use it.
        if order is not None and inbound.sender and _is_contact_of(inbound.sender, order):
            return order
    return None


def _is_contact_of(address: str, order: WorkOrder) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).where(
                Contact.customer_id == order.customer_id,
                func.lower(Contact.email) == address.lower(),
            )
        )
    )


def receive_email(
    inbound: InboundEmail, store: BlobStore, *, domain: str, now: datetime | None = None
) -> IntakeOutcome:
    """Turn one e-mail into a new order (acknowledged by e-mail) or a comment on its order."""
    now = now or utcnow()
    seen = db.session.scalar(
        select(IntakeMessage).where(IntakeMessage.message_id == inbound.message_id)
    )
    if seen is not None:
        return IntakeOutcome("duplicate", None)
    order = _thread_order(inbound)
    if order is not None:
        body = _without_quotes(inbound.text) or inbound.subject or "(empty e-mail)"
        db.session.add(
            Comment(
                work_order_id=order.id,
                body=f"[e-mail from {inbound.sender}] {body}"[:20000],
                is_internal=False,
                created_at=now,
                updated_at=now,
            )
        )
        db.session.add(
            WorkOrderEvent(
                work_order_id=order.id,
                kind="CustomerEmailReceived",
                occurred_at=now,
                data={"message_id": inbound.message_id},
            )
        )
        for upload in inbound.files:
            keep_file(order, upload, store)
        db.session.add(
            IntakeMessage(
                message_id=inbound.message_id,
                work_order_id=order.id,
                kind="reply",
                sender=inbound.sender or None,
                subject=inbound.subject or None,
                received_at=now,
            )
        )
        db.session.flush()
        return IntakeOutcome("reply", order)
    return IntakeOutcome("new_order", _open_from_email(inbound, store, domain, now))


def _email_title(inbound: InboundEmail) -> str:
    first_line = inbound.text.splitlines()[0] if inbound.text else ""
    return (inbound.subject or first_line)[:200] or "E-mail request"


def _open_from_email(
    inbound: InboundEmail, store: BlobStore, domain: str, now: datetime
) -> WorkOrder:
    category = email_intake_category()
    if category is None:
        raise InvalidInput({"category_id": ["No active category takes e-mailed requests."]})
    locale = language_of(inbound.subject, inbound.text)
    customer, _site = find_or_create_customer(
        name=inbound.sender_name or inbound.sender or "?",
        email_address=inbound.sender or None,
        phone=None,
        address=None,
        locale=locale,
    )
    order = create_work_order(
        {
            "category_id": category.id,
            "customer_id": customer.id,
            "site_id": customer.sites[0].id if len(customer.sites) == 1 else None,
            "title": _email_title(inbound),
            "description": inbound.text or None,
            "channel": Channel.EMAIL,
        },
        None,
        now=now,
    )
    for upload in inbound.files:
        keep_file(order, upload, store)
    ack_id = f"<ack-{order.number}-{secrets.token_hex(8)}@{domain}>"
    db.session.add(
        IntakeMessage(
            message_id=inbound.message_id,
            work_order_id=order.id,
            kind="new_order",
            sender=inbound.sender or None,
            subject=inbound.subject or None,
            ack_message_id=ack_id,
            received_at=now,
        )
    )
    if inbound.sender:
        db.session.add(
            OutboxMessage(
                action="intake_ack",
                payload={
                    "to": inbound.sender,
                    "name": inbound.sender_name,
                    "locale": customer.preferred_locale,
                    "ack_message_id": ack_id,
                    "in_reply_to": inbound.message_id,
                    "references": list(inbound.references) + [inbound.message_id],
                    "subject": inbound.subject,
                },
                work_order_id=order.id,
                created_at=now,
                available_at=now,
            )
        )
    db.session.flush()
    return order
