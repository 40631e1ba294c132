"""Workflow timers fire once per stay in a state, at the right time, from an indexed schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import OutboxMessage, Priority, Role, WorkOrderEvent
from server.services.work_orders import apply_transition
from server.services.workflow_timers import fire_due_timers

#: A Tuesday, 10:00 in Shanghai: working time by any calendar.
TUESDAY_10 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture
def people(create_user):
    return create_user(Role.DISPATCHER), create_user(Role.TECHNICIAN)


def assigned(create_work_order, create_category, people, workflow="repair", **fields):
    dispatcher, tech = people
    category = create_category(workflow_name=workflow)
    order = create_work_order(category=category, actor=dispatcher, **fields)
    apply_transition(
        order, "assign", dispatcher, {"assignee_id": tech.id}, order.version, now=TUESDAY_10
    )
    return order


def timer_events(order):
    return db.session.scalars(
        select(WorkOrderEvent).where(
            WorkOrderEvent.work_order_id == order.id, WorkOrderEvent.kind == "TimerFired"
        )
    ).all()


def outbox_actions(order):
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.work_order_id == order.id)
        .order_by(OutboxMessage.id)
    )
    return [(m.action, m.payload["timer"]) for m in messages if "timer" in m.payload]


def test_an_emergency_nobody_accepts_goes_to_on_call_and_is_escalated_once(
    create_work_order, create_category, create_user, people
):
    manager = create_user(Role.MANAGER)
    on_call = create_user(Role.TECHNICIAN)
    on_call.technician_profile.is_on_call = True
    order = assigned(
        create_work_order, create_category, people, "emergency_callout", priority="emergency"
    )
    assert fire_due_timers(TUESDAY_10 + timedelta(minutes=4, seconds=59)) == 0
    assert timer_events(order) == []

    assert fire_due_timers(TUESDAY_10 + timedelta(minutes=5)) == 1
    [event] = timer_events(order)
    assert event.data["timer"] == "not_accepted"
    db.session.refresh(order)
    assert order.assignee_id == on_call.id
    [notify] = [
        m
        for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.work_order_id == order.id)
        )
        if m.payload.get("timer") == "not_accepted"
    ]
    assert notify.payload["params"]["template"] == "deadline_escalated"
    assert notify.payload["params"]["user_ids"] == [order.owner_id, manager.id]
    # Later sweeps in the same stay change nothing; the new assignee's stay has its own timer.
    assert fire_due_timers(TUESDAY_10 + timedelta(minutes=9)) == 0
    assert len(timer_events(order)) == 1


def test_a_repair_not_accepted_tells_the_dispatcher_and_raises_the_priority(
    create_work_order, create_category, people
):
    order = assigned(create_work_order, create_category, people, priority="normal")
    version = order.version
    assert fire_due_timers(TUESDAY_10 + timedelta(minutes=59)) == 0
    assert fire_due_timers(TUESDAY_10 + timedelta(hours=1)) == 1
    db.session.refresh(order)
    assert order.priority is Priority.HIGH
    assert order.version == version + 1  # phones and the console see the change
    [(action, _timer)] = outbox_actions(order)
    assert action == "notify"


def test_accepting_in_time_cancels_the_timer(create_work_order, create_category, people):
    order = assigned(create_work_order, create_category, people)
    _dispatcher, tech = people
    apply_transition(
        order, "accept", tech, {}, order.version, now=TUESDAY_10 + timedelta(minutes=30)
    )
    assert fire_due_timers(TUESDAY_10 + timedelta(days=1)) == 0
    assert timer_events(order) == []


def test_a_second_stay_in_the_state_gets_its_own_timer(create_work_order, create_category, people):
    dispatcher, tech = people
    order = assigned(create_work_order, create_category, people, priority="low")
    assert fire_due_timers(TUESDAY_10 + timedelta(hours=1)) == 1
    later = TUESDAY_10 + timedelta(hours=2)
    apply_transition(order, "unassign", dispatcher, {}, order.version, now=later)
    apply_transition(
        order, "assign", dispatcher, {"assignee_id": tech.id}, order.version, now=later
    )
    assert fire_due_timers(later + timedelta(minutes=30)) == 0
    # 12:00 plus one working hour, across the office calendar's lunch break (12:00-13:00).
    assert fire_due_timers(later + timedelta(hours=1)) == 0
    assert fire_due_timers(later + timedelta(hours=1, minutes=59)) == 0
    assert fire_due_timers(later + timedelta(hours=2)) == 1
    assert len(timer_events(order)) == 2
    db.session.refresh(order)
    assert order.priority is Priority.HIGH  # low → normal → high


def test_the_sweep_reads_only_what_is_due(
    create_work_order, create_category, people, count_queries
):
    for _ in range(20):
        assigned(create_work_order, create_category, people)
    with count_queries() as statements:
        assert fire_due_timers(TUESDAY_10 + timedelta(minutes=10)) == 0
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
