"""Every permission rule of Fieldwork, in one place: role checks and object scopes.

Edges call ``require`` for what a role may do at all, and load objects through the scoped
queries here, so that an object outside the caller's scope is simply not found (404),
whether it exists or not.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Select, select, union

from server.extensions import db
from server.logs import security_event
from server.models import CrewRole, Role, User, Visit, VisitCrewMember, WorkOrder
from server.problems import Problem


class Capability(StrEnum):
    """Something a role may be allowed to do."""

    WORK_ORDERS_READ = "work_orders.read"
    WORK_ORDERS_CREATE = "work_orders.create"
    WORK_ORDERS_EDIT = "work_orders.edit"
    WORK_ORDERS_ASSIGN = "work_orders.assign"
    CUSTOMERS_READ = "customers.read"
    CUSTOMERS_WRITE = "customers.write"
    TECHNICIANS_READ = "technicians.read"
    CATEGORIES_READ = "categories.read"
    CONSOLE_USE = "console.use"
    USERS_MANAGE = "users.manage"
    MOBILE_USE = "mobile.use"
    WEBHOOKS_MANAGE = "webhooks.manage"
    REPORTS_VIEW = "reports.view"


_OFFICE = frozenset({Role.ADMIN, Role.MANAGER, Role.DISPATCHER})
_EVERYONE = frozenset(Role)

#: Which roles hold each capability. Anything not listed is denied.
GRANTS: dict[Capability, frozenset[Role]] = {
    # Technicians may read, but only orders in their scope (see ``work_orders_scope``).
    Capability.WORK_ORDERS_READ: _EVERYONE,
    Capability.WORK_ORDERS_CREATE: _OFFICE,
    Capability.WORK_ORDERS_EDIT: _OFFICE,
    Capability.WORK_ORDERS_ASSIGN: _OFFICE,
    Capability.CUSTOMERS_READ: _OFFICE,
    Capability.CUSTOMERS_WRITE: _OFFICE,
    Capability.TECHNICIANS_READ: _OFFICE,
    Capability.CATEGORIES_READ: _EVERYONE,
    Capability.CONSOLE_USE: _OFFICE,
    Capability.USERS_MANAGE: frozenset({Role.ADMIN}),
    # The phone app is the technicians' own tool.
    Capability.MOBILE_USE: frozenset({Role.TECHNICIAN}),
    Capability.WEBHOOKS_MANAGE: frozenset({Role.ADMIN}),
    # Service reports rank technicians and teams: for managers and admins only.
    Capability.REPORTS_VIEW: frozenset({Role.ADMIN, Role.MANAGER}),
}


def can(user: User, capability: Capability) -> bool:
    """Return True when ``user`` holds ``capability``."""
    return user.is_active and user.role in GRANTS.get(capability, frozenset())


def require(user: User, capability: Capability) -> None:
    """Raise a 403 problem unless ``user`` holds ``capability``."""
    if not can(user, capability):
        raise Problem(403, "forbidden", "Your role may not do this.")


def work_orders_scope(user: User, *, open_only: bool = False) -> Select[tuple[WorkOrder]]:
    """Return a query of the work orders ``user`` may see (``open_only``: not yet closed).

    A technician sees the orders assigned to them and those they help on. The two sets are
    read through their own indexes and united, so the cost follows the technician's own
    list, not the size of the table.
    """
    query = select(WorkOrder)
    if open_only:
        query = query.where(WorkOrder.closed_at.is_(None))
    if user.role is Role.TECHNICIAN:
        mine = select(WorkOrder.id).where(WorkOrder.assignee_id == user.id)
        if open_only:
            mine = mine.where(WorkOrder.closed_at.is_(None))
        helping = (
            select(Visit.work_order_id)
            .join(VisitCrewMember, VisitCrewMember.visit_id == Visit.id)
            .where(
                VisitCrewMember.technician_id == user.id,
                VisitCrewMember.role == CrewRole.HELPER,
            )
        )
        query = query.where(WorkOrder.id.in_(union(mine, helping)))
    return query


def get_work_order(user: User, order_id: int) -> WorkOrder:
    """Load a work order within ``user``'s scope, or raise 404 (never 403: no leaks)."""
    order = db.session.scalar(work_orders_scope(user).where(WorkOrder.id == order_id))
    if order is None:
        security_event("authz.denied", user_id=user.id, object=f"work_order={order_id}")
        raise Problem(404, "not_found", "No such work order.")
    return order
