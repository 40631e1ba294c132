"""``/api/v1/work-orders``: create, find, edit, assign and move work orders."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, g, jsonify, request
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from server.api import bp
from server.api.fields import MAX_ID, DelimitedList, Id, PageArgsSchema, Ref, Text
from server.auth.permissions import Capability, get_work_order, work_orders_scope
from server.business_time import Instant
from server.extensions import db
from server.models import Channel, Priority, WorkOrder, WorkOrderEvent
from server.operations import operation
from server.problems import Problem, json_body, load_args
from server.problems import validate as validate_data
from server.services.work_orders import (
    SORT_COLUMNS,
    InvalidCursor,
    apply_transition,
    create_work_order,
    describe_transitions,
    list_work_orders,
    update_work_order,
)
from server.services.workflow_registry import definition_for

SORTS = tuple(SORT_COLUMNS) + tuple(f"-{name}" for name in SORT_COLUMNS)


# --- Input ----------------------------------------------------------------------------------


class WorkOrderCreateSchema(Schema):
    """A new work order."""

    category_id = Id(required=True)
    customer_id = Id(required=True)
    title = Text(200, required=True)
    description = Text(10_000, allow_none=True)
    priority = fields.Enum(Priority, by_value=True)
    channel = fields.Enum(Channel, by_value=True, load_default=Channel.API)
    site_id = Id(allow_none=True)
    asset_id = Id(allow_none=True)
    requested_start_at = Instant(allow_none=True)
    requested_end_at = Instant(allow_none=True)


class WorkOrderUpdateSchema(Schema):
    """Changes to a work order; ``expected_version`` (or ``If-Match``) guards against overwrites."""

    expected_version = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID))
    title = Text(200)
    description = Text(10_000, allow_none=True)
    priority = fields.Enum(Priority, by_value=True)
    site_id = Id(allow_none=True)
    asset_id = Id(allow_none=True)
    requested_start_at = Instant(allow_none=True)
    requested_end_at = Instant(allow_none=True)
    scheduled_start_at = Instant(allow_none=True)
    scheduled_end_at = Instant(allow_none=True)


class AssignSchema(Schema):
    """Whom to assign, at which version of the order."""

    technician_id = Id(required=True)
    expected_version = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID))


class UnassignSchema(Schema):
    """Take the order back from its technician."""

    expected_version = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID))
    reason = Text(500)


class TransitionSchema(Schema):
    """A workflow step with its input."""

    transition = Text(60, required=True)
    expected_version = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID))
    input = fields.Dict(keys=fields.String(validate=validate.Length(max=60)), load_default=dict)


class WorkOrderListArgsSchema(PageArgsSchema):
    """Filters, search and sort for the work order list."""

    state = DelimitedList(fields.String(validate=validate.Length(max=40)))
    category = DelimitedList(fields.String(validate=validate.Length(max=40)))
    priority = DelimitedList(fields.Enum(Priority, by_value=True))
    channel = DelimitedList(fields.Enum(Channel, by_value=True))
    assignee_id = fields.Integer(
        validate=validate.Range(min=0, max=MAX_ID),
        metadata={"description": "0 lists unassigned orders"},
    )
    customer_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    number = Text(20)
    created_from = Instant()
    created_to = Instant()
    q = Text(100, metadata={"description": "Search number, title, description, customer name"})
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(SORTS))


# --- Output ---------------------------------------------------------------------------------


class DeadlineSchema(Schema):
    """One deadline clock."""

    due_at = Instant(allow_none=True)
    met_at = Instant(allow_none=True)
    breached_at = Instant(allow_none=True)


class CategoryRefSchema(Schema):
    """The category of an order."""

    id = fields.Integer()
    code = fields.String()
    name_en = fields.String()
    name_zh = fields.String()


class SiteRefSchema(Schema):
    """Where the work is."""

    id = fields.Integer()
    address = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)


class UserRefSchema(Schema):
    """A person."""

    id = fields.Integer()
    display_name = fields.String()


class WorkOrderSchema(Schema):
    """A work order."""

    id = fields.Integer()
    number = fields.String()
    category = fields.Nested(CategoryRefSchema)
    workflow_name = fields.String()
    workflow_version = fields.Integer()
    state = fields.String()
    priority = fields.Enum(Priority, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    title = fields.String()
    description = fields.String(allow_none=True)
    customer = fields.Nested(Ref)
    site = fields.Nested(SiteRefSchema, allow_none=True)
    asset_id = fields.Integer(allow_none=True)
    requested_start_at = Instant(allow_none=True)
    requested_end_at = Instant(allow_none=True)
    scheduled_start_at = Instant(allow_none=True)
    scheduled_end_at = Instant(allow_none=True)
    assignee = fields.Nested(UserRefSchema, allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    deadlines = fields.Method("dump_deadlines")
    completed_at = Instant(allow_none=True)
    closed_at = Instant(allow_none=True)
    created_at = Instant()
    updated_at = Instant()
    version = fields.Integer()

    def dump_deadlines(self, order: WorkOrder) -> dict[str, Any]:
        """Group the deadline columns by clock."""
        return {
            clock: DeadlineSchema().dump(
                {
                    "due_at": getattr(order, f"{clock}_by"),
                    "met_at": getattr(order, f"{clock}_met_at"),
                    "breached_at": getattr(order, f"{clock}_breached_at"),
                }
            )
            for clock in ("respond", "arrive", "resolve")
        }


class WorkOrderEventSchema(Schema):
    """One history entry."""

    id = fields.Integer()
    kind = fields.String()
    transition = fields.String(allow_none=True)
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    occurred_at = Instant()
    data = fields.Dict()


class WorkOrderDetailSchema(WorkOrderSchema):
    """A work order with its history."""

    events = fields.List(fields.Nested(WorkOrderEventSchema))


class ReasonSchema(Schema):
    """Why a step is not possible now."""

    code = fields.String()
    message = fields.String()
    field = fields.String(allow_none=True)


class InputFieldSchema(Schema):
    """What a step asks for."""

    name = fields.String()
    type = fields.String()
    required = fields.Boolean()
    max_length = fields.Integer(allow_none=True)
    values = fields.List(fields.String())
    label = fields.String()


class AvailableTransitionSchema(Schema):
    """A step the caller may take, or could take once the reasons are resolved."""

    name = fields.String()
    label = fields.String()
    target = fields.String()
    enabled = fields.Boolean()
    reasons = fields.List(fields.Nested(ReasonSchema))
    input = fields.List(fields.Nested(InputFieldSchema))


class AvailableTransitionListSchema(Schema):
    """The steps available on a work order now."""

    state = fields.String()
    version = fields.Integer()
    items = fields.List(fields.Nested(AvailableTransitionSchema))


class WorkOrderListSchema(Schema):
    """A page of work orders."""

    items = fields.List(fields.Nested(WorkOrderSchema))
    next_cursor = fields.String(allow_none=True)


# --- Views ----------------------------------------------------------------------------------

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def expected_version(data: dict[str, Any]) -> int:
    """Return the version the client based its change on (body or ``If-Match``), or 428."""
    version = data.pop("expected_version", None)
    header = request.headers.get("If-Match")
    if version is None and header:
        match = _ETAG.match(header)
        if not match:
            raise Problem(400, "bad_if_match", 'If-Match must be the version, e.g. "3".')
        version = int(match.group(1))
    if version is None:
        raise Problem(
            428,
            "version_required",
            "Send expected_version (or If-Match) with the version you loaded.",
        )
    return int(version)


def _detail(order_id: int) -> Response:
    order = get_work_order(g.api_user, order_id)
    events = db.session.scalars(
        select(WorkOrderEvent)
        .where(WorkOrderEvent.work_order_id == order.id)
        .order_by(WorkOrderEvent.id)
    )
    body = WorkOrderDetailSchema().dump(order) | {
        "events": WorkOrderEventSchema(many=True).dump(list(events))
    }
    response = jsonify(body)
    response.headers["ETag"] = f'"{order.version}"'
    return response


@bp.get("/work-orders")
@operation(
    "List work orders with filters, search, sort and cursor pagination.",
    capability=Capability.WORK_ORDERS_READ,
    args=WorkOrderListArgsSchema(),
    response=WorkOrderListSchema(),
    tag="work-orders",
    errors=(422,),
)
def list_work_orders_view() -> Response:
    """List the work orders the caller may see."""
    args = load_args(WorkOrderListArgsSchema())
    try:
        page = list_work_orders(
            work_orders_scope(g.api_user),
            args,
            sort=args["sort"],
            cursor=args.get("cursor"),
            limit=args["limit"],
        )
    except InvalidCursor:
        raise Problem(
            422,
            "validation_failed",
            "Invalid cursor.",
            errors={"cursor": ["Invalid or expired cursor; start from the first page."]},
        ) from None
    return jsonify(
        WorkOrderListSchema().dump({"items": page.items, "next_cursor": page.next_cursor})
    )


@bp.post("/work-orders")
@operation(
    "Create a work order.",
    capability=Capability.WORK_ORDERS_CREATE,
    body=WorkOrderCreateSchema(),
    response=WorkOrderDetailSchema(),
    status=201,
    tag="work-orders",
    errors=(415, 422),
)
def create_work_order_view() -> tuple[Response, int]:
    """Open a work order in its category's workflow."""
    data = validate_data(WorkOrderCreateSchema(), json_body())
    order = create_work_order(data, g.api_user)
    db.session.commit()
    return _detail(order.id), 201


@bp.get("/work-orders/<int:order_id>")
@operation(
    "Get a work order with its history.",
    capability=Capability.WORK_ORDERS_READ,
    response=WorkOrderDetailSchema(),
    tag="work-orders",
    errors=(404,),
)
def get_work_order_view(order_id: int) -> Response:
    """Return a work order and every event of its history."""
    return _detail(order_id)


@bp.patch("/work-orders/<int:order_id>")
@operation(
    "Change a work order's details (optimistic concurrency).",
    capability=Capability.WORK_ORDERS_EDIT,
    body=WorkOrderUpdateSchema(),
    response=WorkOrderDetailSchema(),
    tag="work-orders",
    errors=(404, 409, 415, 422, 428),
)
def update_work_order_view(order_id: int) -> Response:
    """Edit a work order if nobody changed it since the caller loaded it."""
    order = get_work_order(g.api_user, order_id)
    data = validate_data(WorkOrderUpdateSchema(), json_body())
    version = expected_version(data)
    update_work_order(order, data, g.api_user, version)
    db.session.commit()
    return _detail(order_id)


def _assign_transition(order: WorkOrder) -> str:
    definition = definition_for(order.workflow_name, order.workflow_version)
    for name in ("assign", "reassign"):
        transition = definition.transition(name)
        if transition is not None and order.state in transition.sources:
            return name
    raise Problem(
        409,
        "transition_not_available",
        f"An order in state '{order.state}' cannot be assigned.",
        state=order.state,
        current_version=order.version,
    )


@bp.post("/work-orders/<int:order_id>/assign")
@operation(
    "Assign (or reassign) a technician.",
    capability=Capability.WORK_ORDERS_ASSIGN,
    body=AssignSchema(),
    response=WorkOrderDetailSchema(),
    tag="work-orders",
    errors=(404, 409, 415, 422, 428),
)
def assign_work_order_view(order_id: int) -> Response:
    """Assign a technician through the workflow's assign step."""
    order = get_work_order(g.api_user, order_id)
    data = validate_data(AssignSchema(), json_body())
    version = expected_version(data)
    apply_transition(
        order,
        _assign_transition(order),
        g.api_user,
        {"assignee_id": data["technician_id"]},
        version,
    )
    db.session.commit()
    return _detail(order_id)


@bp.post("/work-orders/<int:order_id>/unassign")
@operation(
    "Take the order back from its technician.",
    capability=Capability.WORK_ORDERS_ASSIGN,
    body=UnassignSchema(),
    response=WorkOrderDetailSchema(),
    tag="work-orders",
    errors=(404, 409, 415, 422, 428),
)
def unassign_work_order_view(order_id: int) -> Response:
    """Unassign through the workflow's unassign step."""
    order = get_work_order(g.api_user, order_id)
    data = validate_data(UnassignSchema(), json_body())
    version = expected_version(data)
    payload = {"reason": data["reason"]} if data.get("reason") else {}
    apply_transition(order, "unassign", g.api_user, payload, version)
    db.session.commit()
    return _detail(order_id)


@bp.get("/work-orders/<int:order_id>/transitions")
@operation(
    "List the workflow steps the caller may take now, with the reasons disabled ones are off.",
    capability=Capability.WORK_ORDERS_READ,
    response=AvailableTransitionListSchema(),
    tag="work-orders",
    errors=(404,),
)
def list_transitions_view(order_id: int) -> Response:
    """Show the available transitions in the caller's language."""
    user = g.api_user
    order = get_work_order(user, order_id)
    items = describe_transitions(order, user)
    body = {"state": order.state, "version": order.version, "items": items}
    return jsonify(AvailableTransitionListSchema().dump(body))


@bp.post("/work-orders/<int:order_id>/transitions")
@operation(
    "Apply a workflow transition.",
    capability=Capability.WORK_ORDERS_EDIT,
    body=TransitionSchema(),
    response=WorkOrderDetailSchema(),
    tag="work-orders",
    errors=(404, 409, 415, 422, 428),
)
def transition_work_order_view(order_id: int) -> Response:
    """Move the order through a named transition of its workflow."""
    order = get_work_order(g.api_user, order_id)
    data = validate_data(TransitionSchema(), json_body())
    version = expected_version(data)
    apply_transition(order, data["transition"], g.api_user, data["input"], version)
    db.session.commit()
    return _detail(order_id)
