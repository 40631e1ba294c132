"""Workflow timers: what happens when an order stays too long in a state.

Each workflow state may have timers ("not accepted within 1 working hour → tell the
dispatcher, raise the priority"). When an order enters a state, :func:`schedule_timers`
stores when its earliest timer is due; the scheduler's ``workflows.timers`` job calls
:func:`fire_due_timers`, which reads only the schedules that are due (an index on
``next_at``), fires each timer once per stay in the state (a unique row per order, timer
and stay, so two schedulers overlapping cannot fire it twice), and writes the timer's
actions to the outbox like a transition's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models import (
    OutboxMessage,
    Role,
    User,
    WorkflowTimerRun,
    WorkflowTimerSchedule,
    WorkOrder,
)
from server.services.deadline_policies import working_time_functions
from server.services.escalation import raise_priority, reassign_on_call
from server.services.workflow_registry import definition_for
from workflows import Definition, Timer, due_timers
from workflows.model import ActionCall

#: Timers handled per batch of the sweep (each batch commits).
BATCH = 500


def _next_due(
    order: WorkOrder, definition: Definition, state: str, entered_at: datetime, fired: set[str]
) -> datetime | None:
    add_working, _ = working_time_functions(order)
    due = [
        add_working(entered_at, timer.after) if timer.working else entered_at + timer.after
        for timer in definition.timers_in(state)
        if timer.name not in fired
    ]
    return min(due, default=None)


def schedule_timers(
    order: WorkOrder, definition: Definition, state: str, entered_at: datetime
) -> None:
    """Plan the timers of the order's stay in ``state`` (replacing the previous stay's)."""
    db.session.execute(
        delete(WorkflowTimerSchedule).where(WorkflowTimerSchedule.work_order_id == order.id)
    )
    next_at = _next_due(order, definition, state, entered_at, set())
    if next_at is not None:
        db.session.add(
            WorkflowTimerSchedule(
                work_order_id=order.id, state_entered_at=entered_at, next_at=next_at
            )
        )
    db.session.flush()


def fire_due_timers(now: datetime, *, commit: Callable[[], None] | None = None) -> int:
    """Fire every timer due by ``now``; return how many fired.

    The due schedules are taken in batches; ``commit`` (the scheduler job passes the
    session's) ends each batch, so a long backlog holds no locks for long. Without it the
    caller commits, and only the first batch is handled.
    """
    fired_total = 0
    while True:
        due = (
            select(WorkflowTimerSchedule)
            .where(WorkflowTimerSchedule.next_at <= now)
            .order_by(WorkflowTimerSchedule.next_at)
            .limit(BATCH)
        )
        if db.engine.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        schedules = list(db.session.scalars(due))
        for schedule in schedules:
            fired_total += _fire(schedule, now)
        db.session.flush()
        if commit is None or len(schedules) < BATCH:
            return fired_total
        commit()


def _fire(schedule: WorkflowTimerSchedule, now: datetime) -> int:
    order = db.session.get(WorkOrder, schedule.work_order_id)
    if order is None:
        return 0
    definition = definition_for(order.workflow_name, order.workflow_version)
    entered_at = schedule.state_entered_at
    if order.state_entered_at != entered_at:
        # The order moved on without replanning (written before timers existed): replan.
        schedule_timers(order, definition, order.state, order.state_entered_at)
        return 0
    fired = set(
        db.session.scalars(
            select(WorkflowTimerRun.timer).where(
                WorkflowTimerRun.work_order_id == order.id,
                WorkflowTimerRun.state_entered_at == entered_at,
            )
        )
    )
    _, working_elapsed = working_time_functions(order)
    count = 0
    for timer in due_timers(definition, order.state, entered_at, now, fired, working_elapsed):
        if _claim(order, timer, entered_at, now):
            _perform(order, timer, now)
            count += 1
        fired.add(timer.name)
    next_at = _next_due(order, definition, order.state, entered_at, fired)
    if next_at is None:
        db.session.delete(schedule)
    else:
        schedule.next_at = next_at
    db.session.flush()
    return count


def _claim(order: WorkOrder, timer: Timer, entered_at: datetime, now: datetime) -> bool:
    """Record that ``timer`` fired for this stay; False if another sweep already did."""
    try:
        with db.session.begin_nested():
            db.session.add(
                WorkflowTimerRun(
                    work_order_id=order.id,
                    timer=timer.name,
                    state_entered_at=entered_at,
                    fired_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


def _perform(order: WorkOrder, timer: Timer, now: datetime) -> None:
    """Record the timer in the order's history and request its actions."""
    from server.services.work_orders import record_event

    event = record_event(
        order,
        "TimerFired",
        None,
        data={"timer": timer.name, "state": order.state, "after": timer.after_text},
        at=now,
    )
    for action in timer.actions:
        # The same order-changing steps as the deadline escalation ladder.
        if action.name == "raise_priority":
            raise_priority(order, now, reason=f"timer:{timer.name}")
            continue
        if action.name == "reassign_on_call":
            reassign_on_call(order, now)
            continue
        if action.name == "escalate":
            # Escalating tells the order's owner and the managers, like a breached deadline.
            action = ActionCall(
                "notify",
                {
                    "to": "users",
                    "user_ids": _escalation_recipients(order),
                    "channels": ["push", "email"],
                    "template": "deadline_escalated",
                    "level": action.params.get("level", 1),
                },
            )
        db.session.add(
            OutboxMessage(
                action=action.name,
                payload={"params": dict(action.params), "timer": timer.name},
                work_order_id=order.id,
                event_id=event.id,
                created_at=now,
                available_at=now,
            )
        )


def _escalation_recipients(order: WorkOrder) -> list[int]:
    managers = db.session.scalars(
        select(User.id).where(User.role == Role.MANAGER, User.is_active.is_(True))
    ).all()
    return list(dict.fromkeys([*([order.owner_id] if order.owner_id else []), *managers]))
