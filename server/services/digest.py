"""The morning digest for the office: what is open, what is late, what nobody has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from server.extensions import db
from server.models import WorkOrder
from server.services.workflow_registry import definition_for


@dataclass(frozen=True)
class DailySummary:
    """Figures over every open work order at one moment."""

    open_orders: int
    unassigned: int
    breached: int
    due_today: int
    #: Open orders per state, keyed by the state's label in the summary's language.
    by_state: dict[str, int]


def daily_summary(now: datetime, day_end: datetime, locale: str = "en") -> DailySummary:
    """Count the open orders: unassigned, past a deadline, due to resolve before ``day_end``."""
    open_ = WorkOrder.closed_at.is_(None)
    overdue = or_(
        WorkOrder.respond_breached_at.is_not(None),
        WorkOrder.arrive_breached_at.is_not(None),
        WorkOrder.resolve_breached_at.is_not(None),
        WorkOrder.resolve_by < now,
    )
    totals = db.session.execute(
        select(
            func.count(),
            func.count().filter(WorkOrder.assignee_id.is_(None)),
            func.count().filter(overdue),
            func.count().filter(WorkOrder.resolve_by >= now, WorkOrder.resolve_by < day_end),
        ).where(open_)
    ).one()
    by_state: dict[str, int] = {}
    rows = db.session.execute(
        select(WorkOrder.workflow_name, WorkOrder.workflow_version, WorkOrder.state, func.count())
        .where(open_)
        .group_by(WorkOrder.workflow_name, WorkOrder.workflow_version, WorkOrder.state)
    ).all()
    for workflow, version, state, count in rows:
        found = definition_for(workflow, version).states.get(state)
        label = found.labels.text(locale) if found else state
        by_state[label] = by_state.get(label, 0) + int(count)
    return DailySummary(
        open_orders=totals[0],
        unassigned=totals[1],
        breached=totals[2],
        due_today=totals[3],
        by_state=dict(sorted(by_state.items(), key=lambda item: -item[1])),
    )
