"""Use cases of maintenance plans: recurring work generated ahead as work orders.

A plan's RFC 5545 rule (python-dateutil) is read in the plan's time zone. Generation is
idempotent: each occurrence is claimed with ``INSERT … ON CONFLICT (plan_id, occurs_on) DO
NOTHING`` before its order is created, in the same transaction, so re-running after a
restart, or two schedulers at once, never makes a second order for a day.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr
from sqlalchemy import select

from server.extensions import db, dialect_insert
from server.models import (
    Asset,
    Category,
    Channel,
    Customer,
    MaintenanceOccurrence,
    MaintenancePlan,
    Site,
    User,
    WorkOrder,
)
from server.models.base import utcnow
from server.services.errors import InvalidInput
from server.services.work_orders import create_work_order

#: A rule is ``KEY=VALUE`` parts separated by ``;``, optionally after ``RRULE:``; no DTSTART.
_RULE_TEXT = re.compile(r"^(RRULE:)?[A-Z]+=[A-Z0-9,+\-:]+(;[A-Z]+=[A-Z0-9,+\-:]+)*$")
#: At most one visit a day: the occurrence's day is its identity.
_ALLOWED_FREQUENCIES = {YEARLY, MONTHLY, WEEKLY, DAILY}
#: Longest horizon a plan may have.
MAX_HORIZON_DAYS = 366


def parse_rule(text: str, starts_at: datetime, timezone: str) -> rrule:
    """Return the rule ``text`` starting at ``starts_at``, read in ``timezone``.

    Raises:
        ValueError: the text is not a daily-or-slower RFC 5545 RRULE.
    """
    text = (text or "").strip().upper()
    if not _RULE_TEXT.match(text):
        raise ValueError("Write one RRULE such as FREQ=MONTHLY;BYMONTHDAY=1 (no DTSTART).")
    local_start = starts_at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    try:
        rule = rrulestr(text.removeprefix("RRULE:"), dtstart=local_start)
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"Not a valid RRULE: {error}") from None
    if not isinstance(rule, rrule) or rule._freq not in _ALLOWED_FREQUENCIES:
        raise ValueError("Plans repeat daily, weekly, monthly or yearly.")
    return rule


def _check_plan(data: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    customer = db.session.get(Customer, data.get("customer_id"))
    if customer is None:
        errors["customer_id"] = ["No such customer."]
    site = db.session.get(Site, data["site_id"]) if data.get("site_id") else None
    if data.get("site_id") and (site is None or site.customer_id != data.get("customer_id")):
        errors["site_id"] = ["No such site for this customer."]
    if data.get("asset_id"):
        asset = db.session.get(Asset, data["asset_id"])
        if asset is None or site is None or asset.site_id != site.id:
            errors["asset_id"] = ["No such asset at this site."]
    category = db.session.get(Category, data.get("category_id"))
    if category is None or not category.is_active:
        errors["category_id"] = ["No such active category."]
    timezone = data.get("timezone") or "Asia/Shanghai"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = ["Unknown time zone."]
    else:
        starts_at = data.get("starts_at")
        if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
            errors["starts_at"] = ["Give the first visit as a date and time with a zone."]
        else:
            try:
                parse_rule(data.get("rrule", ""), starts_at, timezone)
            except ValueError as error:
                errors["rrule"] = [str(error)]
    horizon = data.get("horizon_days", 60)
    if not isinstance(horizon, int) or not 1 <= horizon <= MAX_HORIZON_DAYS:
        errors["horizon_days"] = [f"From 1 to {MAX_HORIZON_DAYS} days."]
    if not (data.get("title") or "").strip():
        errors["title"] = ["Give the plan a title."]
    return errors


def create_maintenance_plan(data: Mapping[str, Any], actor: User | None) -> MaintenancePlan:
    """Create a maintenance plan for an asset or a site."""
    errors = _check_plan(data)
    if errors:
        raise InvalidInput(errors)
    fields = {
        name: data[name]
        for name in (
            "customer_id",
            "site_id",
            "asset_id",
            "category_id",
            "rrule",
            "starts_at",
            "timezone",
            "duration_minutes",
            "horizon_days",
            "checklist",
        )
        if name in data
    }
    fields["rrule"] = str(fields["rrule"]).strip().upper().removeprefix("RRULE:")
    plan = MaintenancePlan(title=data["title"].strip(), **fields)
    db.session.add(plan)
    db.session.flush()
    return plan


def occurrences_between(plan: MaintenancePlan, start: datetime, end: datetime) -> list[datetime]:
    """Return the plan's visits from ``start`` to ``end`` (inclusive), as aware UTC instants."""
    zone = ZoneInfo(plan.timezone)
    rule = parse_rule(plan.rrule, plan.starts_at, plan.timezone)
    local_start = start.astimezone(zone).replace(tzinfo=None)
    local_end = end.astimezone(zone).replace(tzinfo=None)
    return [
        moment.replace(tzinfo=zone).astimezone(start.tzinfo)
        for moment in rule.between(local_start, local_end, inc=True)
    ]


def _claim_occurrence(plan: MaintenancePlan, day: date) -> int | None:
    """Insert the occurrence row unless it exists; return its id when this call made it."""
    statement = (
        dialect_insert(MaintenanceOccurrence)
        .values(plan_id=plan.id, occurs_on=day, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["plan_id", "occurs_on"])
        .returning(MaintenanceOccurrence.id)
    )
    return db.session.execute(statement).scalar_one_or_none()


def _describe_checklist(plan: MaintenancePlan) -> str:
    lines = [
        f"- {item.get('en', item.get('key', ''))} / {item.get('zh_CN', '')}".rstrip(" /")
        for item in plan.checklist
    ]
    return "Checklist / 检查项目:\n" + "\n".join(lines) if lines else ""


def generate_plan_orders(plan: MaintenancePlan, now: datetime | None = None) -> list[WorkOrder]:
    """Create the orders of ``plan``'s visits within its horizon that have none yet."""
    now = now or utcnow()
    if not plan.is_active:
        return []
    created = []
    zone = ZoneInfo(plan.timezone)
    for moment in occurrences_between(plan, now, now + timedelta(days=plan.horizon_days)):
        day = moment.astimezone(zone).date()
        occurrence_id = _claim_occurrence(plan, day)
        if occurrence_id is None:
            continue  # generated before (or by a concurrent scheduler)
        order = create_work_order(
            {
                "category_id": plan.category_id,
                "customer_id": plan.customer_id,
                "site_id": plan.site_id,
                "asset_id": plan.asset_id,
                "title": f"{plan.title} · {day.isoformat()}",
                "description": _describe_checklist(plan) or None,
                "requested_start_at": moment,
                "requested_end_at": moment + timedelta(minutes=plan.duration_minutes),
                "channel": Channel.API,
            },
            None,
            now=now,
        )
        occurrence = db.session.get(MaintenanceOccurrence, occurrence_id)
        assert occurrence is not None  # noqa: S101 - inserted just above in this transaction
        occurrence.work_order_id = order.id
        created.append(order)
    db.session.flush()
    return created


def generate_maintenance_orders(now: datetime | None = None) -> int:
    """Generate ahead for every active plan; return how many orders were created."""
    now = now or utcnow()
    plans = db.session.scalars(
        select(MaintenancePlan)
        .where(MaintenancePlan.is_active.is_(True))
        .order_by(MaintenancePlan.id)
    ).all()
    return sum(len(generate_plan_orders(plan, now)) for plan in plans)


def upcoming_maintenance(
    customer_id: int, today: date, limit: int = 50
) -> list[MaintenanceOccurrence]:
    """Return a customer's generated visits from ``today`` on (the customer file shows them)."""
    return list(
        db.session.scalars(
            select(MaintenanceOccurrence)
            .join(MaintenancePlan, MaintenanceOccurrence.plan_id == MaintenancePlan.id)
            .where(MaintenancePlan.customer_id == customer_id)
            .where(MaintenanceOccurrence.occurs_on >= today)
            .order_by(MaintenanceOccurrence.occurs_on, MaintenanceOccurrence.id)
            .limit(limit)
        )
    )
