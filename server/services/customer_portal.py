"""Use cases of the customer's job page: issue and revoke links, show one order, take reports.

A link's URL token is 32 bytes from the CSPRNG (``secrets.token_urlsafe``); only its SHA-256
is stored. We chose a random reference token over a signed id: revocation and expiry need a
row anyway, a random token cannot be forged without the signing key leaking too, and a
database dump yields no working link (RELIABILITY B6).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from server.extensions import db
from server.models import (
    Comment,
    CustomerLink,
    OutboxMessage,
    ProblemReport,
    Survey,
    User,
    VisitStatus,
    WorkOrder,
    WorkOrderEvent,
)
from server.models.base import utcnow
from server.services.errors import InvalidInput
from server.services.technician_photos import technician_photo
from server.services.workflow_registry import definition_for

#: How long a new link works.
LINK_LIFETIME = timedelta(days=30)
#: What a token looks like: 43 URL-safe base64 characters (32 bytes).
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: Longest problem description accepted.
MAX_PROBLEM_LENGTH = 4000

#: Plain-words status of each workflow state; any other state falls back on its category.
STATE_WORDS = {
    "new": "received",
    "triaged": "received",
    "planned": "received",
    "scheduled": "scheduled",
    "assigned": "scheduled",
    "accepted": "scheduled",
    "en_route": "on_the_way",
    "on_site": "working",
    "in_progress": "working",
    "investigating": "working",
    "on_hold": "waiting",
    "completed": "done",
    "resolved": "done",
    "closed": "done",
}
CATEGORY_WORDS = {
    "new": "received",
    "active": "working",
    "waiting": "waiting",
    "done": "done",
    "cancelled": "cancelled",
}


class LinkRefused(Exception):
    """The token names no usable link; ``status`` is 404 (unknown) or 410 (expired, revoked)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class IssuedLink:
    """A new link and its token (shown once: only its hash is kept)."""

    link: CustomerLink
    token: str

    @property
    def path(self) -> str:
        """Return the page's path, to be put after the public base URL."""
        return f"/r/{self.token}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue_customer_link(
    order: WorkOrder,
    actor: User | None,
    *,
    now: datetime | None = None,
    lifetime: timedelta = LINK_LIFETIME,
) -> IssuedLink:
    """Issue a new link to ``order``'s customer page."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    link = CustomerLink(
        work_order_id=order.id,
        token_hash=_digest(token),
        expires_at=now + lifetime,
        created_by_id=actor.id if actor else None,
        created_at=now,
    )
    db.session.add(link)
    db.session.flush()
    return IssuedLink(link, token)


def revoke_customer_link(link: CustomerLink, now: datetime | None = None) -> CustomerLink:
    """Revoke one link: it shows a "link no longer valid" page from now on."""
    if link.revoked_at is None:
        link.revoked_at = now or utcnow()
        db.session.flush()
    return link


def revoke_order_links(order: WorkOrder, now: datetime | None = None) -> int:
    """Revoke every live link of ``order``; return how many were revoked."""
    result = db.session.execute(
        update(CustomerLink)
        .where(CustomerLink.work_order_id == order.id, CustomerLink.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def resolve_customer_link(token: str, now: datetime | None = None) -> CustomerLink:
    """Return the live link ``token`` names, or raise ``LinkRefused``.

    The lookup is by the token's hash only, so the answer concerns exactly one order: a
    token can never reach another order or customer.
    """
    now = now or utcnow()
    if not TOKEN_PATTERN.match(token or ""):
        raise LinkRefused(404, "unknown")
    digest = _digest(token)
    link = db.session.scalar(select(CustomerLink).where(CustomerLink.token_hash == digest))
    if link is None or not hmac.compare_digest(link.token_hash, digest):
        raise LinkRefused(404, "unknown")
    if link.revoked_at is not None:
        raise LinkRefused(410, "revoked")
    if link.expires_at <= now:
        raise LinkRefused(410, "expired")
    link.last_used_at = now
    return link


def technician_short_name(display_name: str, locale: str) -> str:
    """Return how the customer page names a technician: no full name, no contact data.

    Chinese customers address a technician as 李师傅 ("Master Li"); others get the first
    word of the Latin part of the name.
    """
    if locale.startswith("zh"):
        han = [ch for ch in display_name if "\u4e00" <= ch <= "\u9fff"]
        if han:
            return f"{han[0]}师傅"
    latin = [word for word in display_name.split() if word.isascii()]
    return latin[0] if latin else display_name.split()[0] if display_name.split() else ""


def plain_status(order: WorkOrder) -> str:
    """Return the order's status as one of the page's plain-words keys."""
    if order.state in STATE_WORDS:
        return STATE_WORDS[order.state]
    state = definition_for(order.workflow_name, order.workflow_version).states.get(order.state)
    return CATEGORY_WORDS.get(state.category if state else "", "received")


def visible_survey(order: WorkOrder, now: datetime) -> Survey | None:
    """Return the order's survey once it is due (the page shows it from then on)."""
    survey = db.session.scalar(select(Survey).where(Survey.work_order_id == order.id))
    if survey is None or survey.due_at > now:
        return None
    return survey


def completion_sheet(order: WorkOrder) -> Any | None:
    """Return the order's latest completion sheet, when that feature is installed."""
    try:
        from server.services.completion_sheets import latest_sheet
    except ImportError:
        return None
    return latest_sheet(order)


@dataclass(frozen=True)
class CustomerView:
    """What the customer page shows about one order (and nothing else)."""

    number: str
    title: str
    status: str
    address: str | None
    technician_name: str | None
    #: The technician's photo is shown (only alongside their name, and if there is one).
    technician_photo: bool
    arrival_start: datetime | None
    arrival_end: datetime | None
    survey: Survey | None
    has_completion_sheet: bool


def describe_order_for_customer(
    order: WorkOrder, locale: str, now: datetime | None = None
) -> CustomerView:
    """Return the customer's view of ``order`` in ``locale``."""
    now = now or utcnow()
    status = plain_status(order)
    visit = order.current_visit
    technician = None
    has_photo = False
    if status == "on_the_way" and order.assignee is not None:
        technician = technician_short_name(order.assignee.display_name, locale)
        has_photo = technician_photo(order.assignee) is not None
    start = end = None
    if status in ("scheduled", "on_the_way"):
        start = (visit.planned_start_at if visit else None) or order.scheduled_start_at
        end = (visit.planned_end_at if visit else None) or order.scheduled_end_at
    if visit is not None and visit.status is VisitStatus.CANCELLED:
        start = end = None
    return CustomerView(
        number=order.number,
        title=order.title,
        status=status,
        address=order.site.address if order.site else None,
        technician_name=technician,
        technician_photo=has_photo,
        arrival_start=start,
        arrival_end=end,
        survey=visible_survey(order, now),
        has_completion_sheet=completion_sheet(order) is not None,
    )


def report_problem(
    link: CustomerLink, description: str, contact_phone: str | None, now: datetime | None = None
) -> ProblemReport:
    """Record a problem the customer reports and tell the order's owner."""
    now = now or utcnow()
    description = (description or "").strip()
    errors: dict[str, list[str]] = {}
    if not description:
        errors["description"] = ["Tell us what is wrong."]
    elif len(description) > MAX_PROBLEM_LENGTH:
        errors["description"] = [f"At most {MAX_PROBLEM_LENGTH} characters."]
    phone = (contact_phone or "").strip() or None
    if phone is not None and (len(phone) > 40 or not re.fullmatch(r"[0-9+()\- ]{5,40}", phone)):
        errors["contact_phone"] = ["Not a phone number."]
    if errors:
        raise InvalidInput(errors)
    report = ProblemReport(
        work_order_id=link.work_order_id,
        description=description,
        contact_phone=phone,
        customer_link_id=link.id,
        created_at=now,
    )
    db.session.add(report)
    db.session.add(
        Comment(
            work_order_id=link.work_order_id,
            body=f"[customer page] {description}" + (f"\n☎ {phone}" if phone else ""),
            is_internal=True,
            created_at=now,
            updated_at=now,
        )
    )
    event = WorkOrderEvent(
        work_order_id=link.work_order_id,
        kind="CustomerReportedProblem",
        occurred_at=now,
        data={"problem_report_channel": "customer_page"},
    )
    db.session.add(event)
    db.session.flush()
    db.session.add(
        OutboxMessage(
            action="notify",
            payload={
                "params": {"to": "owner", "channels": ["push"], "template": "customer_problem"},
                "problem_report_id": report.id,
            },
            work_order_id=link.work_order_id,
            event_id=event.id,
            created_at=now,
            available_at=now,
        )
    )
    db.session.flush()
    return report
