"""Use cases for work orders: create, edit, list, and move through the workflow."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.orm import selectinload

from server.extensions import db
from server.models import (
    Asset,
    Attachment,
    AttachmentKind,
    Category,
    Channel,
    CrewRole,
    Customer,
    FieldReport,
    OutboxMessage,
    PartUsage,
    Priority,
    Role,
    Site,
    TechnicianSkill,
    User,
    Visit,
    VisitCrewMember,
    VisitStatus,
    WorkOrder,
    WorkOrderEvent,
)
from server.models.base import utcnow
from server.services.deadline_policies import (
    apply_clock_changes,
    recompute_clocks,
    start_initial_clocks,
)
from server.services.deadlines import default_deadlines
from server.services.errors import InvalidInput, Refused, VersionConflict
from server.services.field_reports import checklist_item_answered
from server.services.job_feed import note_order_changed, record_job_change, technicians_of
from server.services.numbering import next_work_order_number
from server.services.ownership import record_first_owner
from server.services.search import contains_pattern
from server.services.webhooks import enqueue_webhooks
from server.services.workflow_registry import definition_for
from server.services.workflow_timers import schedule_timers
from workflows import (
    Actor,
    Decision,
    OrderFacts,
    Reason,
    available_transitions,
    decide,
)

#: Fields a dispatcher may change with ``update_work_order``.
EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "priority",
        "site_id",
        "asset_id",
        "requested_start_at",
        "requested_end_at",
        "scheduled_start_at",
        "scheduled_end_at",
    }
)

#: Workflow actions that change the order itself, applied in the transition's UPDATE.
#: Every other action is a side effect and goes to the outbox.
_STAMP_FIELDS = {"completed_at", "closed_at", "cancelled_at"}


def workflow_actor(user: User | None) -> Actor:
    """Return the engine's view of ``user`` (None is the system)."""
    if user is None:
        return Actor(id=None, role="system", locale="en")
    # Admins act with a manager's rights in every workflow; definitions name no admin role.
    role = Role.MANAGER if user.role is Role.ADMIN else user.role
    return Actor(id=user.id, role=str(role), locale=user.locale)


def _check_references(
    customer_id: int | None, site_id: int | None, asset_id: int | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    site = db.session.get(Site, site_id) if site_id is not None else None
    if site_id is not None and (site is None or site.customer_id != customer_id):
        errors["site_id"] = ["No such site for this customer."]
    if asset_id is not None:
        asset = db.session.get(Asset, asset_id)
        if asset is None or site is None or asset.site_id != site.id:
            errors["asset_id"] = ["No such asset at this site."]
    return errors


def create_work_order(
    data: Mapping[str, Any], actor: User | None, now: datetime | None = None
) -> WorkOrder:
    """Open a work order in its category's workflow, with a number and deadlines."""
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    category = db.session.scalar(select(Category).where(Category.id == data["category_id"]))
    if category is None or not category.is_active:
        errors["category_id"] = ["No such active category."]
    customer = db.session.get(Customer, data["customer_id"])
    if customer is None:
        errors["customer_id"] = ["No such customer."]
    errors.update(_check_references(data["customer_id"], data.get("site_id"), data.get("asset_id")))
    _check_window(data, errors)
    if errors or category is None:
        raise InvalidInput(errors)
    definition = definition_for(category.workflow_name)
    priority = Priority(data.get("priority") or category.default_priority)
    is_office = actor is not None and actor.role is not Role.TECHNICIAN
    order = WorkOrder(
        number=next_work_order_number(now),
        category=category,
        workflow_name=definition.name,
        workflow_version=definition.version,
        state=definition.initial,
        state_entered_at=now,
        priority=priority,
        channel=Channel(data.get("channel", Channel.API)),
        title=data["title"],
        description=data.get("description"),
        customer_id=data["customer_id"],
        site_id=data.get("site_id"),
        asset_id=data.get("asset_id"),
        requested_start_at=data.get("requested_start_at"),
        requested_end_at=data.get("requested_end_at"),
        created_by_id=actor.id if actor else None,
        # The first person who takes the request owns it until it closes.
        owner_id=actor.id if is_office and actor else None,
        created_at=now,
        updated_at=now,
        **default_deadlines(priority, now),
    )
    db.session.add(order)
    db.session.flush()
    _record_event(order, "WorkOrderCreated", actor, data={"channel": str(order.channel)}, at=now)
    if order.owner_id is not None and actor is not None:
        record_first_owner(order, actor, now, "intake")
    start_initial_clocks(order, definition, now)
    schedule_timers(order, definition, order.state, now)
    # Categories whose dispatch policy says "assign" go to their best technician at once.
    from server.services.dispatch import dispatch_new_order  # it builds on this module

    dispatch_new_order(order, now)
    return order


def _check_window(data: Mapping[str, Any], errors: dict[str, list[str]]) -> None:
    for prefix in ("requested", "scheduled"):
        start, end = data.get(f"{prefix}_start_at"), data.get(f"{prefix}_end_at")
        if start and end and end <= start:
            errors[f"{prefix}_end_at"] = ["The end must be after the start."]


def _record_event(
    order: WorkOrder,
    kind: str,
    actor: User | None,
    *,
    data: Mapping[str, Any] | None = None,
    transition: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    at: datetime | None = None,
    captured_at: datetime | None = None,
) -> WorkOrderEvent:
    event = WorkOrderEvent(
        work_order_id=order.id,
        kind=kind,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor.id if actor else None,
        occurred_at=at or utcnow(),
        captured_at=captured_at.astimezone(UTC) if captured_at else None,
        data=dict(data or {}),
    )
    db.session.add(event)
    db.session.flush()
    enqueue_webhooks(order, event)
    return event


def plan_work_order(
    order: WorkOrder,
    actor: User,
    technician_id: int | None,
    start: datetime | None,
    expected_version: int,
    *,
    default_length: timedelta = timedelta(hours=1),
    context: Mapping[str, Any] | None = None,
) -> WorkOrder:
    """Plan ``order`` from the board: move its time, then assign, reassign or unassign it.

    A new ``start`` keeps the job's planned length (``default_length`` when it has none); the
    technician change goes through the workflow like any other assignment.
    """
    if order.version != expected_version:
        raise VersionConflict(order.version)
    context = context or {"source": "board"}
    if start is not None:
        length = (
            order.scheduled_end_at - order.scheduled_start_at
            if order.scheduled_start_at and order.scheduled_end_at
            else default_length
        )
        update_work_order(
            order,
            {"scheduled_start_at": start, "scheduled_end_at": start + length},
            actor,
            order.version,
        )
    if technician_id is None:
        if order.assignee_id is not None:
            apply_transition(order, "unassign", actor, {}, order.version, context=context)
    elif order.assignee_id is None:
        apply_transition(
            order, "assign", actor, {"assignee_id": technician_id}, order.version, context=context
        )
    elif order.assignee_id != technician_id:
        apply_transition(
            order, "reassign", actor, {"assignee_id": technician_id}, order.version, context=context
        )
    return order


#: Append an event to an order's history (and announce it to webhook subscribers).
record_event = _record_event


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if hasattr(value, "value") else value


def update_work_order(
    order: WorkOrder, changes: Mapping[str, Any], actor: User | None, expected_version: int
) -> WorkOrder:
    """Change an order's editable fields, refusing a stale ``expected_version``."""
    if order.version != expected_version:
        raise VersionConflict(order.version)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput({name: ["This field cannot be changed here."] for name in unknown})
    merged = {name: getattr(order, name) for name in EDITABLE_FIELDS} | dict(changes)
    errors = _check_references(order.customer_id, merged["site_id"], merged["asset_id"])
    _check_window(merged, errors)
    if errors:
        raise InvalidInput(errors)
    changed = {}
    for name, value in changes.items():
        old = getattr(order, name)
        if old != value:
            changed[name] = [_json_value(old), _json_value(value)]
            setattr(order, name, value)
    if changed:
        order.updated_at = utcnow()
        db.session.flush()  # the versioned UPDATE: a concurrent writer makes it fail
        _record_event(order, "WorkOrderUpdated", actor, data={"changes": changed})
        if "priority" in changed:
            recompute_clocks(order, utcnow())
        note_order_changed(order)
    return order


def order_facts(order: WorkOrder, candidate: User | None = None) -> OrderFacts:
    """Summarize ``order`` for the workflow guards (``candidate``: who would be assigned)."""
    assignee_id = candidate.id if candidate else order.assignee_id
    skills: dict[str, int] = {}
    if assignee_id is not None:
        skills = dict(
            db.session.execute(
                select(TechnicianSkill.skill, TechnicianSkill.level).where(
                    TechnicianSkill.technician_id == assignee_id
                )
            ).all()
        )
    photo_count = db.session.scalar(
        select(func.count()).where(
            Attachment.work_order_id == order.id, Attachment.kind == AttachmentKind.PHOTO
        )
    )
    # Only the customer's sign-off counts: a technician's own signature is theirs, not the
    # customer's (signatures from before roles were recorded are the customer's).
    has_signature = db.session.scalar(
        select(
            exists().where(
                Attachment.work_order_id == order.id,
                Attachment.kind == AttachmentKind.SIGNATURE,
                or_(Attachment.signer_role == "customer", Attachment.signer_role.is_(None)),
            )
        )
    )
    report = db.session.scalar(
        select(FieldReport)
        .where(FieldReport.work_order_id == order.id)
        .order_by(FieldReport.id.desc())
    )
    answers = report.checklist if report else []
    template = [item["key"] for item in order.category.checklist]
    answered = {a.get("key") for a in answers if checklist_item_answered(a)}
    parts = db.session.scalar(select(exists().where(PartUsage.work_order_id == order.id)))
    approved = db.session.scalar(
        select(
            exists().where(
                WorkOrderEvent.work_order_id == order.id,
                WorkOrderEvent.kind == "WorkOrderApproved",
            )
        )
    )
    fields: dict[str, object] = {}
    if report and report.resolution_code:
        fields["resolution_code"] = report.resolution_code
    return OrderFacts(
        state=order.state,
        category_code=order.category.code,
        priority=str(order.priority),
        assignee_id=assignee_id,
        assignee_skills=skills,
        required_skill=order.category.required_skill,
        required_skill_level=order.category.required_skill_level,
        photo_count=photo_count or 0,
        has_customer_signature=bool(has_signature),
        # Against the category's checklist when it has one, else whatever was answered.
        checklist_total=len(template) if template else len(answers),
        checklist_done=len(answered & set(template)) if template else len(answered),
        parts_recorded=bool(parts),
        manager_approved=bool(approved),
        fields=fields,
    )


def describe_reason(reason: Reason, locale: str) -> dict[str, Any]:
    """Return why a step is refused, as plain data in ``locale``."""
    return {"code": reason.code, "message": reason.text(locale), "field": reason.field}


def describe_transitions(order: WorkOrder, user: User) -> list[dict[str, Any]]:
    """Return the steps ``user`` could take on ``order`` now, in their language.

    Disabled steps are included with the reasons they are off, so the phone and the console
    can show what is missing.
    """
    definition = definition_for(order.workflow_name, order.workflow_version)
    locale = user.locale
    options = available_transitions(definition, order_facts(order), workflow_actor(user))
    return [
        {
            "name": option.name,
            "label": option.label(locale),
            "target": option.target,
            "enabled": option.enabled,
            "reasons": [describe_reason(reason, locale) for reason in option.reasons],
            "input": [
                {
                    "name": spec.name,
                    "type": spec.type,
                    "required": spec.required,
                    "max_length": spec.max_length,
                    "values": list(spec.values),
                    "label": spec.labels.text(locale) if spec.labels else spec.name,
                }
                for spec in option.input
            ],
        }
        for option in options
    ]


@dataclass(frozen=True)
class TransitionResult:
    """What applying a transition did."""

    order: WorkOrder
    event: WorkOrderEvent
    outbox: list[OutboxMessage]


def apply_transition(
    order: WorkOrder,
    transition: str,
    actor: User | None,
    payload: Mapping[str, Any],
    expected_version: int,
    *,
    captured_at: datetime | None = None,
    context: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> TransitionResult:
    """Move ``order`` through ``transition`` if the workflow allows it, exactly once.

    The state change is one conditional UPDATE on the order's id and ``expected_version``;
    of several concurrent callers with the same version exactly one matches a row, the
    others get ``VersionConflict`` and change nothing.
    """
    now = now or utcnow()
    if order.version != expected_version:
        raise VersionConflict(order.version)
    definition = definition_for(order.workflow_name, order.workflow_version)
    engine_actor = workflow_actor(actor)
    candidate = None
    if "assignee_id" in payload:
        candidate = db.session.get(User, payload["assignee_id"])
        if candidate is None or candidate.role is not Role.TECHNICIAN or not candidate.is_active:
            raise InvalidInput({"assignee_id": ["No such active technician."]})
    facts = order_facts(order, candidate)
    outcome = decide(definition, facts, transition, engine_actor, payload)
    if not isinstance(outcome, Decision):
        reasons = [describe_reason(r, engine_actor.locale) for r in outcome.reasons]
        raise Refused("transition_refused", reasons[0]["message"], reasons=reasons)
    values, side_effects = _split_actions(order, outcome, payload, now)
    values.update(state=outcome.to_state, state_entered_at=now, updated_at=now)
    if order.closed_at is not None and not definition.states[outcome.to_state].is_terminal:
        # Reopened: open again for every list, sweep and phone that only looks at open orders.
        values["closed_at"] = None
    if order.owner_id is None and actor is not None and actor.role is not Role.TECHNICIAN:
        values["owner_id"] = actor.id
    severity = outcome.event.data.get("severity")
    if severity is not None and severity != order.severity:
        values["severity"] = str(severity)
    previous_assignee = order.assignee_id
    result = db.session.execute(
        update(WorkOrder)
        .where(WorkOrder.id == order.id, WorkOrder.version == expected_version)
        .values(version=WorkOrder.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.expire(order)
        raise VersionConflict(order.version)
    db.session.expire(order)
    if "owner_id" in values and actor is not None:
        record_first_owner(order, actor, now, "first_taken")
    apply_clock_changes(order, outcome, definition, actor, now)
    if "severity" in values:
        recompute_clocks(order, now)
    category = definition.states[outcome.to_state].category
    _update_visit(order, outcome, now, category)
    schedule_timers(order, definition, outcome.to_state, now)
    data: dict[str, Any] = {k: _json_value(v) for k, v in outcome.event.data.items()}
    data.update({k: _json_value(v) for k, v in (context or {}).items()})
    if captured_at is not None:
        data["captured_at"] = captured_at.isoformat()
    event = _record_event(
        order,
        outcome.event.kind,
        actor,
        data=data,
        transition=outcome.transition,
        from_state=outcome.from_state,
        to_state=outcome.to_state,
        at=now,
        captured_at=captured_at,
    )
    # What happened travels with each message: one sent late still tells of this event,
    # not of the state the order has reached by then.
    happened = {
        "kind": outcome.event.kind,
        "from_state": outcome.from_state,
        "to_state": outcome.to_state,
        "occurred_at": now.isoformat(),
        "actor_id": actor.id if actor is not None else None,
        **({"scheduled_for": data["scheduled_for"]} if data.get("scheduled_for") else {}),
    }
    messages = [
        OutboxMessage(
            action=action.name,
            payload={
                "params": dict(action.params),
                "transition": outcome.transition,
                "event": happened,
            },
            work_order_id=order.id,
            event_id=event.id,
            created_at=now,
            available_at=now,
        )
        for action in side_effects
    ]
    db.session.add_all(messages)
    db.session.flush()
    _announce_to_phones(order, previous_assignee, category)
    return TransitionResult(order, event, messages)


def _announce_to_phones(order: WorkOrder, previous_assignee: int | None, category: str) -> None:
    """Put the change in the job feeds: gone for whoever lost the job, changed for the rest."""
    holders = technicians_of(order.id, order.assignee_id)
    lost = {previous_assignee} - {order.assignee_id, None}
    if category == "cancelled":
        lost |= holders
    record_job_change(order.id, upsert_for=holders - lost, remove_for=lost)


#: Visit times stamped by workflow actions.
_VISIT_STAMPS = {"en_route_at": "travel_started_at", "arrived_at": "arrived_at"}


def _update_visit(order: WorkOrder, decision: Decision, now: datetime, category: str) -> None:
    """Keep the current visit in step: its lead and crew, travel, arrival and departure."""
    visit = order.current_visit
    names = {action.name for action in decision.actions}
    if "set_assignee_from_payload" in names and order.assignee_id is not None:
        if visit is None:
            visit = Visit(
                sequence=len(order.visits) + 1,
                status=VisitStatus.PLANNED,
                planned_start_at=order.scheduled_start_at,
                planned_end_at=order.scheduled_end_at,
            )
            order.visits.append(visit)
        visit.lead_technician_id = order.assignee_id
        visit.crew = [m for m in visit.crew if m.role is not CrewRole.LEAD]
        visit.crew.append(VisitCrewMember(technician_id=order.assignee_id, role=CrewRole.LEAD))
    if visit is None:
        return
    if "clear_assignee" in names:
        visit.lead_technician_id = None
        visit.crew = [m for m in visit.crew if m.role is not CrewRole.LEAD]
    for action in decision.actions:
        column = _VISIT_STAMPS.get(str(action.params.get("field", "")))
        if action.name == "stamp" and column:
            setattr(visit, column, now)
            visit.status = VisitStatus.IN_PROGRESS
    finished = any(
        a.name == "stamp" and a.params.get("field") == "completed_at" for a in decision.actions
    )
    if finished or category in ("done", "cancelled"):
        visit.departed_at = visit.departed_at or now
        visit.status = VisitStatus.CANCELLED if category == "cancelled" else VisitStatus.DONE
    db.session.flush()


def _split_actions(
    order: WorkOrder, decision: Decision, payload: Mapping[str, Any], now: datetime
) -> tuple[dict[str, Any], list[Any]]:
    """Turn data-changing actions into column values; return the rest as side effects."""
    values: dict[str, Any] = {}
    side_effects = []
    for action in decision.actions:
        params = action.params
        if action.name == "set_assignee_from_payload":
            values["assignee_id"] = payload["assignee_id"]
        elif action.name == "clear_assignee":
            values["assignee_id"] = None
        elif action.name == "stamp" and params.get("field") in _STAMP_FIELDS:
            column = "closed_at" if params["field"] == "cancelled_at" else params["field"]
            values[column] = now
        elif action.name == "stop_clock" and params.get("clock") in (
            "respond",
            "arrive",
            "resolve",
        ):
            clock = params["clock"]
            if getattr(order, f"{clock}_met_at") is None:
                values[f"{clock}_met_at"] = now
        elif action.name in ("stamp", "start_clock", "pause_clock", "resume_clock", "stop_clock"):
            continue  # recorded in the event; visits and deadline policies keep the details
        else:
            side_effects.append(action)
    return values, side_effects


# --- Listing --------------------------------------------------------------------------------

#: Sort keys the list accepts (``-`` prefix: descending).
SORT_COLUMNS = {
    "created_at": WorkOrder.created_at,
    "updated_at": WorkOrder.updated_at,
    "number": WorkOrder.number,
}


class InvalidCursor(ValueError):
    """The pagination cursor was not made by us for this sort."""


@dataclass(frozen=True)
class Page:
    """One page of a list and the cursor of the next one."""

    items: Sequence[WorkOrder]
    next_cursor: str | None


def _encode_cursor(sort: str, order: WorkOrder) -> str:
    value = getattr(order, sort.lstrip("-"))
    raw = json.dumps([sort, _json_value(value), order.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, value, last_id = json.loads(raw)
        if cursor_sort != sort or not isinstance(last_id, int):
            raise InvalidCursor("cursor belongs to another sort order")
        if sort.lstrip("-") in ("created_at", "updated_at"):
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise InvalidCursor("bad cursor")
        elif not isinstance(value, str):
            raise InvalidCursor("bad cursor")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCursor("bad cursor") from error
    return value, last_id


def filter_work_orders(
    query: Select[tuple[WorkOrder]], filters: Mapping[str, Any]
) -> Select[tuple[WorkOrder]]:
    """Apply the list filters (state, category, priority, assignee, customer, dates, text)."""
    if filters.get("state"):
        query = query.where(WorkOrder.state.in_(filters["state"]))
    if filters.get("category"):
        query = query.join(Category, WorkOrder.category_id == Category.id).where(
            Category.code.in_(filters["category"])
        )
    if filters.get("priority"):
        query = query.where(WorkOrder.priority.in_(filters["priority"]))
    if filters.get("channel"):
        query = query.where(WorkOrder.channel.in_(filters["channel"]))
    if "assignee_id" in filters:
        assignee = filters["assignee_id"]
        query = query.where(
            WorkOrder.assignee_id.is_(None) if assignee == 0 else WorkOrder.assignee_id == assignee
        )
    if filters.get("customer_id") is not None:
        query = query.where(WorkOrder.customer_id == filters["customer_id"])
    if filters.get("number"):
        query = query.where(WorkOrder.number == filters["number"])
    if filters.get("created_from") is not None:
        query = query.where(WorkOrder.created_at >= filters["created_from"])
    if filters.get("created_to") is not None:
        query = query.where(WorkOrder.created_at < filters["created_to"])
    if filters.get("q"):
        pattern = contains_pattern(filters["q"])
        customer_match = exists().where(
            Customer.id == WorkOrder.customer_id, Customer.name.ilike(pattern, escape="\\")
        )
        query = query.where(
            or_(
                WorkOrder.number.ilike(pattern, escape="\\"),
                WorkOrder.title.ilike(pattern, escape="\\"),
                WorkOrder.description.ilike(pattern, escape="\\"),
                customer_match,
            )
        )
    return query


def list_work_orders(
    query: Select[tuple[WorkOrder]],
    filters: Mapping[str, Any],
    *,
    sort: str = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """Return one page of the orders in ``query`` matching ``filters``, keyset-paginated."""
    column = SORT_COLUMNS[sort.lstrip("-")]
    descending = sort.startswith("-")
    query = filter_work_orders(query, filters)
    if cursor:
        value, last_id = _decode_cursor(cursor, sort)
        if descending:
            query = query.where(or_(column < value, and_(column == value, WorkOrder.id < last_id)))
        else:
            query = query.where(or_(column > value, and_(column == value, WorkOrder.id > last_id)))
    ordering = (
        (column.desc(), WorkOrder.id.desc()) if descending else (column.asc(), WorkOrder.id.asc())
    )
    query = (
        query.options(
            selectinload(WorkOrder.category),
            selectinload(WorkOrder.customer),
            selectinload(WorkOrder.site),
            selectinload(WorkOrder.assignee),
        )
        .order_by(*ordering)
        .limit(limit + 1)
    )
    rows = list(db.session.scalars(query))
    next_cursor = _encode_cursor(sort, rows[limit - 1]) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)
