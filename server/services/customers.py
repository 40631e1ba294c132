"""Use cases for customers, their contacts, sites and assets.

Every change to a customer's own details or contacts is recorded in their history
(``CustomerEvent``): who changed which field from what to what, as work orders record theirs.
Consent to messages is given or withdrawn with ``message_consent`` (True / False); the
customer keeps the time it was given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.extensions import db
from server.models import (
    Asset,
    Contact,
    Customer,
    CustomerEvent,
    Delivery,
    Device,
    MessagePreference,
    OutboxMessage,
    OutboxStatus,
    Site,
    User,
    WorkOrder,
)
from server.models.base import utcnow
from server.services.job_feed import note_order_changed

#: A customer's own fields a use case may change.
CUSTOMER_FIELDS = (
    "name",
    "tier",
    "preferred_locale",
    "is_company",
    "notes",
    "preferred_channel",
    "message_consent_at",
)
#: A contact's fields.
CONTACT_FIELDS = ("name", "phone", "email", "is_primary")
#: The channels each preference lets messages through.
CHANNELS_WANTED = {
    MessagePreference.SMS: frozenset({"sms"}),
    MessagePreference.EMAIL: frozenset({"email"}),
    MessagePreference.BOTH: frozenset({"sms", "email"}),
    MessagePreference.NONE: frozenset(),
}


def _plain(value: Any) -> Any:
    """Return ``value`` as the history stores it (JSON: text for dates and enums)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return value.value if hasattr(value, "value") else value


def wants_messages_by(customer: Customer, channel: str) -> bool:
    """Return True when the customer's preference lets messages through ``channel``."""
    return channel in CHANNELS_WANTED[customer.preferred_channel or MessagePreference.BOTH]


def _with_consent(
    fields: Mapping[str, Any], current: datetime | None, now: datetime
) -> dict[str, Any]:
    """Turn ``message_consent`` (True / False) into the time consent was given."""
    values = {k: v for k, v in fields.items() if k != "message_consent"}
    if "message_consent" in fields:
        given = bool(fields["message_consent"])
        values["message_consent_at"] = (current or now) if given else None
    return values


def record_customer_event(
    customer: Customer,
    kind: str,
    actor: User | None,
    *,
    changes: Mapping[str, list[Any]] | None = None,
    contacts: Sequence[Mapping[str, Any]] = (),
    now: datetime | None = None,
) -> CustomerEvent | None:
    """Append one entry to the customer's history (nothing when nothing changed)."""
    if not changes and not contacts and kind != "CustomerCreated":
        return None
    data: dict[str, Any] = {}
    if changes:
        data["changes"] = dict(changes)
    if contacts:
        data["contacts"] = list(contacts)
    event = CustomerEvent(
        customer_id=customer.id,
        kind=kind,
        actor_id=actor.id if actor is not None else None,
        occurred_at=now or utcnow(),
        data=data,
    )
    db.session.add(event)
    return event


def customer_history(customer: Customer, limit: int = 200) -> list[CustomerEvent]:
    """Return the customer's history, newest first."""
    return list(
        db.session.scalars(
            select(CustomerEvent)
            .where(CustomerEvent.customer_id == customer.id)
            .options(selectinload(CustomerEvent.actor))
            .order_by(CustomerEvent.id.desc())
            .limit(limit)
        )
    )


def load_customer_file(customer_id: int) -> Customer | None:
    """Return a customer with contacts, sites and their assets loaded (None if unknown)."""
    return db.session.scalar(
        select(Customer)
        .where(Customer.id == customer_id)
        .options(
            selectinload(Customer.contacts),
            selectinload(Customer.sites).selectinload(Site.assets),
        )
    )


def create_customer(
    data: Mapping[str, Any], actor: User | None, *, now: datetime | None = None
) -> Customer:
    """Create a customer with its contacts, sites and their assets."""
    now = now or utcnow()
    fields = _with_consent(
        {k: v for k, v in data.items() if k not in ("contacts", "sites")}, None, now
    )
    customer = Customer(**fields)
    customer.contacts = [Contact(**contact) for contact in data.get("contacts", [])]
    customer.sites = [build_site(site) for site in data.get("sites", [])]
    db.session.add(customer)
    db.session.flush()
    record_customer_event(
        customer,
        "CustomerCreated",
        actor,
        changes={
            name: [None, _plain(fields[name])]
            for name in CUSTOMER_FIELDS
            if fields.get(name) not in (None, "")
        },
        contacts=[_added(contact) for contact in customer.contacts],
        now=now,
    )
    db.session.flush()
    return customer


def _added(contact: Contact) -> dict[str, Any]:
    values = {name: _plain(getattr(contact, name)) for name in CONTACT_FIELDS}
    return {"contact_id": contact.id, "change": "added", "values": values}


def build_site(data: Mapping[str, Any]) -> Site:
    """Return a new site (not yet added) with its assets."""
    site = Site(**{k: v for k, v in data.items() if k != "assets"})
    site.assets = [Asset(**asset) for asset in data.get("assets", [])]
    return site


def update_customer(
    customer: Customer,
    changes: Mapping[str, Any],
    actor: User | None,
    *,
    now: datetime | None = None,
) -> Customer:
    """Change a customer's own fields (contacts and sites have their own use cases)."""
    edit_customer_details(customer, changes, None, actor, now=now)
    return customer


def edit_customer_details(
    customer: Customer,
    changes: Mapping[str, Any],
    contacts: Sequence[Mapping[str, Any]] | None,
    actor: User | None,
    *,
    now: datetime | None = None,
) -> CustomerEvent | None:
    """Change a customer's details and, when given, their whole list of contacts, at once.

    ``contacts`` is the list as it should be: an entry with an ``id`` changes that
    contact, one without adds a contact, and a contact not listed is removed. At most one
    contact is primary. The history gets one entry for the whole edit.
    """
    now = now or utcnow()
    values = _with_consent(changes, customer.message_consent_at, now)
    unknown = set(values) - set(CUSTOMER_FIELDS)
    if unknown:
        raise ValueError(f"not a customer field: {sorted(unknown)}")
    renamed = "name" in values and values["name"] != customer.name
    changed: dict[str, list[Any]] = {}
    for name, value in values.items():
        old = getattr(customer, name)
        if old != value:
            changed[name] = [_plain(old), _plain(value)]
            setattr(customer, name, value)
    contact_changes = _replace_contacts(customer, contacts) if contacts is not None else []
    if changed or contact_changes:
        customer.updated_at = now
    db.session.flush()
    event = record_customer_event(
        customer, "CustomerUpdated", actor, changes=changed, contacts=contact_changes, now=now
    )
    db.session.flush()
    if renamed:
        # Phones show the customer's name on their open jobs: tell them.
        open_orders = db.session.execute(
            select(WorkOrder).where(
                WorkOrder.customer_id == customer.id, WorkOrder.closed_at.is_(None)
            )
        ).scalars()
        for order in open_orders:
            note_order_changed(order)
    return event


def _replace_contacts(
    customer: Customer, wanted: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Make the customer's contacts the ``wanted`` list; return what changed, per contact."""
    existing = {contact.id: contact for contact in customer.contacts}
    kept: set[int] = set()
    changes: list[dict[str, Any]] = []
    primary_seen = False
    for entry in wanted:
        values = {name: entry.get(name) for name in CONTACT_FIELDS if name in entry}
        if values.get("is_primary"):
            values["is_primary"], primary_seen = not primary_seen, True
        contact = existing.get(entry["id"]) if entry.get("id") is not None else None
        if contact is None:
            contact = Contact(**values)
            customer.contacts.append(contact)
            db.session.flush()
            changes.append(_added(contact))
            kept.add(contact.id)
            continue
        kept.add(contact.id)
        diff = {}
        for name, value in values.items():
            old = getattr(contact, name)
            if old != value:
                diff[name] = [_plain(old), _plain(value)]
                setattr(contact, name, value)
        if diff:
            changes.append({"contact_id": contact.id, "change": "changed", "changes": diff})
    for contact_id, contact in existing.items():
        if contact_id not in kept:
            values = {name: _plain(getattr(contact, name)) for name in CONTACT_FIELDS}
            changes.append({"contact_id": contact_id, "change": "removed", "values": values})
            customer.contacts.remove(contact)
    return changes


def add_site(customer: Customer, data: Mapping[str, Any], actor: User | None) -> Site:
    """Add a site (with assets) to a customer."""
    site = build_site(data)
    customer.sites.append(site)
    db.session.flush()
    return site


def add_asset(site: Site, data: Mapping[str, Any], actor: User | None) -> Asset:
    """Add an asset to a site."""
    asset = Asset(**data)
    site.assets.append(asset)
    db.session.flush()
    return asset


def add_contact(customer: Customer, data: Mapping[str, Any], actor: User | None) -> Contact:
    """Add a contact to a customer (a primary one takes over from the previous primary)."""
    changes: list[dict[str, Any]] = []
    if data.get("is_primary"):
        for other in customer.contacts:
            if other.is_primary:
                other.is_primary = False
                change = {"is_primary": [True, False]}
                changes.append({"contact_id": other.id, "change": "changed", "changes": change})
    contact = Contact(**data)
    customer.contacts.append(contact)
    db.session.flush()
    record_customer_event(customer, "CustomerUpdated", actor, contacts=[*changes, _added(contact)])
    db.session.flush()
    return contact


def update_contact(contact: Contact, changes: Mapping[str, Any], actor: User | None) -> Contact:
    """Change one contact (a primary one takes over from the previous primary)."""
    customer = contact.customer
    wanted = [
        {"id": c.id, **({k: v for k, v in changes.items()} if c.id == contact.id else {})}
        for c in customer.contacts
    ]
    if changes.get("is_primary"):
        for entry in wanted:
            entry["is_primary"] = entry["id"] == contact.id
    edit_customer_details(customer, {}, wanted, actor)
    return contact


def remove_contact(contact: Contact, actor: User | None) -> None:
    """Remove one contact from its customer."""
    customer = contact.customer
    edit_customer_details(
        customer, {}, [{"id": c.id} for c in customer.contacts if c.id != contact.id], actor
    )


# --- The customer's message log ---------------------------------------------------------------

#: Outbox actions that send messages to people (the others render PDFs, escalate, call hooks).
MESSAGE_ACTIONS = ("notify", "intake_ack", "send_survey", "request_completion_sheet")
#: Actions whose only messages go to the customer.
CUSTOMER_ACTIONS = frozenset({"intake_ack", "send_survey", "request_completion_sheet"})
#: What the log says of a delivery record's status.
DELIVERY_STATUS = {
    "sent": "sent",
    "recorded": "recorded",
    "failed": "failed",
    "dead_token": "failed",
    "refused": "refused",
}


@dataclass(frozen=True)
class LoggedMessage:
    """One message about a customer's jobs: to whom, how, what about, and what became of it."""

    at: datetime
    work_order_id: int | None
    order_number: str | None
    #: ``customer`` (the customer's contacts) or ``staff`` (technicians, dispatchers …).
    audience: str
    #: ``email`` or ``push``.
    channel: str | None
    #: An e-mail address, or the person whose phone or browser got the push.
    recipient: str | None
    #: The workflow template or the kind of e-mail (``technician_en_route``, ``intake_ack``).
    kind: str
    #: ``queued``, ``retrying``, ``sent``, ``recorded`` (push without a provider), ``failed``
    #: or ``refused`` (the customer wants nothing on this channel).
    status: str
    #: The provider's message id, or why it failed or was refused.
    detail: str | None


def _kind(message: OutboxMessage) -> str:
    if message.action == "request_completion_sheet":
        return "completion_sheet"
    if message.action == "send_survey":
        return "followup_survey"
    if message.action == "intake_ack":
        return "intake_ack"
    return str(message.payload.get("params", {}).get("template") or message.action)


def _audience(message: OutboxMessage) -> str:
    to = message.payload.get("params", {}).get("to")
    return "customer" if message.action in CUSTOMER_ACTIONS or to == "customer" else "staff"


def customer_message_log(customer: Customer, limit: int = 200) -> list[LoggedMessage]:
    """Return every e-mail and push about the customer's jobs, newest first.

    Each delivery record is one line; a message not yet delivered to anybody (queued,
    retrying, dead-lettered) is one line too. Reads at most ``limit`` of each.
    """
    orders = select(WorkOrder.id).where(WorkOrder.customer_id == customer.id)
    delivered = db.session.execute(
        select(Delivery, OutboxMessage, WorkOrder.number)
        .join(OutboxMessage, OutboxMessage.id == Delivery.outbox_message_id)
        .join(WorkOrder, WorkOrder.id == OutboxMessage.work_order_id)
        .where(
            OutboxMessage.work_order_id.in_(orders),
            OutboxMessage.action.in_(MESSAGE_ACTIONS),
            Delivery.channel.in_(("email", "push")),
        )
        .order_by(Delivery.id.desc())
        .limit(limit)
    ).all()
    waiting = db.session.execute(
        select(OutboxMessage, WorkOrder.number)
        .join(WorkOrder, WorkOrder.id == OutboxMessage.work_order_id)
        .where(
            OutboxMessage.work_order_id.in_(orders),
            OutboxMessage.action.in_(MESSAGE_ACTIONS),
            OutboxMessage.status != OutboxStatus.DONE,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    device_ids = {
        int(d.recipient.split(":", 1)[1])
        for d, _m, _n in delivered
        if d.channel == "push"
        and d.recipient.startswith("device:")
        and d.recipient.split(":", 1)[1].isdigit()
    }
    people = (
        dict(
            db.session.execute(
                select(Device.id, User.display_name)
                .join(User, User.id == Device.user_id)
                .where(Device.id.in_(device_ids))
            ).all()
        )
        if device_ids
        else {}
    )
    entries = []
    for delivery, message, number in delivered:
        recipient = delivery.recipient
        if delivery.channel == "push" and recipient.startswith("device:"):
            device = recipient.split(":", 1)[1]
            recipient = people.get(int(device), recipient) if device.isdigit() else recipient
        entries.append(
            LoggedMessage(
                at=delivery.created_at,
                work_order_id=message.work_order_id,
                order_number=number,
                audience=_audience(message),
                channel=delivery.channel,
                recipient=recipient,
                kind=_kind(message),
                status=DELIVERY_STATUS.get(delivery.status, delivery.status),
                detail=delivery.error or delivery.external_id,
            )
        )
    for message, number in waiting:
        if message.status is OutboxStatus.DEAD:
            status = "failed"
        elif message.last_error:
            status = "retrying"
        else:
            status = "queued"
        entries.append(
            LoggedMessage(
                at=message.created_at,
                work_order_id=message.work_order_id,
                order_number=number,
                audience=_audience(message),
                channel=None,
                recipient=None,
                kind=_kind(message),
                status=status,
                detail=message.last_error,
            )
        )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]
