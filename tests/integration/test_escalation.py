"""Time travel through the escalation ladders: each step fires once, on time, in order."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import OutboxMessage, Priority, Role, WorkOrder
from server.services.deadline_policies import load_calendar
from server.services.escalation import escalation_history, sweep_deadlines
from server.services.work_orders import apply_transition, create_work_order
from workflows.calendars import add_working_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = timedelta(minutes=1)


def local(text: str) -> datetime:
    """Return a Shanghai wall-clock time as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class Ladder:
    """Sweeps at chosen instants and collects the escalation notifications of one order."""

    def __init__(self, order_id: int) -> None:
        self.order_id = order_id
        self.seen: set[int] = set()

    def sweep(self, now: datetime) -> list[tuple[str, str, int, list[int]]]:
        sweep_deadlines(now)
        rows = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.work_order_id == self.order_id, OutboxMessage.action == "notify")
            .order_by(OutboxMessage.id)
        ).all()
        new = [r for r in rows if r.id not in self.seen and "escalation" in r.payload]
        self.seen |= {r.id for r in rows}
        return [
            (
                r.payload["escalation"]["clock"],
                r.payload["escalation"]["trigger"],
                r.payload["escalation"]["after_minutes"],
                r.payload["params"]["user_ids"],
            )
            for r in new
        ]


@pytest.fixture
def people(db_session, create_user):
    dispatcher = create_user(Role.DISPATCHER)
    manager = create_user(Role.MANAGER)
    on_call = []
    for _ in range(2):
        tech = create_user(Role.TECHNICIAN)
        tech.technician_profile.is_on_call = True
        on_call.append(tech)
    db.session.flush()
    return {"dispatcher": dispatcher, "manager": manager, "on_call": on_call}


def test_an_emergency_climbs_its_ladder_minute_by_minute(people, create_category, create_customer):
    category = create_category(
        workflow_name="emergency_callout", default_priority=Priority.EMERGENCY, required_skill=None
    )
    customer = create_customer()
    dispatcher, manager = people["dispatcher"], people["manager"]
    start = local("2026-10-01 02:00")  # a holiday night: 24x7 all the same
    order = create_work_order(
        {"category_id": category.id, "customer_id": customer.id, "title": "停电 power cut"},
        dispatcher,
        now=start,
    )
    ladder = Ladder(order.id)
    fired = []
    assignees = {}
    for minute in range(0, 301):
        for clock, trigger, after, users in ladder.sweep(start + minute * MINUTE):
            fired.append((minute, clock, trigger, after))
            assert users[0] == dispatcher.id  # the first owner hears of every step
            if trigger == "breach" or after == 15:
                assert manager.id in users  # supervisor (no one named: managers), manager
        assignees[minute] = db.session.get(WorkOrder, order.id).assignee_id
    assert fired == [
        (8, "respond", "warning", 0),
        (10, "respond", "breach", 0),
        (25, "respond", "after_breach", 15),
        (36, "arrive", "warning", 0),
        (40, "respond", "after_breach", 30),
        (45, "arrive", "breach", 0),
        (60, "arrive", "after_breach", 15),
        (75, "arrive", "after_breach", 30),
        (192, "resolve", "warning", 0),
        (240, "resolve", "breach", 0),
        (255, "resolve", "after_breach", 15),
    ]
    first, second = people["on_call"]
    assert assignees[39] is None
    assert assignees[40] == first.id  # no one had it: assigned to the on-call technician
    assert assignees[75] == second.id  # still not there: reassigned to the other one
    order = db.session.get(WorkOrder, order.id)
    assert order.respond_breached_at == start + 10 * MINUTE
    assert order.arrive_breached_at == start + 45 * MINUTE
    history = escalation_history(order.id)
    assert len(history) == len(fired)
    assert history[1][0].outcome["raise_priority"] == "already_highest"
    # Sweeping again much later changes nothing.
    assert ladder.sweep(start + timedelta(days=3)) == []


def _expected_complaint_steps(start: datetime, resolve_days: int, calendar_id: int):
    calendar = load_calendar(calendar_id)
    hours = timedelta(hours=1)

    def at(working: timedelta) -> datetime:
        return add_working_time(calendar, start, working)

    steps = [
        (at(3 * hours * 0.8), "respond", "warning", 0),
        (at(3 * hours), "respond", "breach", 0),
        (at(3 * hours) + timedelta(days=1), "respond", "after_breach", 1440),
        (at(8 * hours * resolve_days * 0.8), "resolve", "warning", 0),
        (at(8 * hours * resolve_days), "resolve", "breach", 0),
        (at(8 * hours * resolve_days) + timedelta(days=1), "resolve", "after_breach", 1440),
    ]
    return sorted(steps)


@pytest.mark.parametrize(
    ("severity", "days", "resolve_breach"),
    [
        ("general", 3, "2026-09-28 10:00"),
        ("important", 7, "2026-10-09 10:00"),
        ("major", 15, "2026-10-20 10:00"),
    ],
)
def test_a_complaint_climbs_its_ladder_in_working_time(
    people, create_category, create_customer, severity, days, resolve_breach
):
    category = create_category(
        workflow_name="complaint", default_priority=Priority.NORMAL, required_skill=None
    )
    customer = create_customer()
    dispatcher, manager = people["dispatcher"], people["manager"]
    start = local("2026-09-22 10:00")
    order = create_work_order(
        {"category_id": category.id, "customer_id": customer.id, "title": "服务态度差"},
        dispatcher,
        now=start,
    )
    order = apply_transition(
        order, "triage", dispatcher, {"severity": severity}, order.version, now=start
    ).order
    expected = _expected_complaint_steps(start, days, _calendar_id())
    assert expected[0][0] == local("2026-09-22 13:24")  # 80 % of 3 working hours
    assert local(resolve_breach) in [when for when, *_ in expected]
    ladder = Ladder(order.id)
    fired = []
    for when, clock, trigger, after in expected:
        assert ladder.sweep(when - MINUTE) == [], f"{clock} {trigger} fired early"
        new = ladder.sweep(when)
        assert [(c, t, a) for c, t, a, _ in new] == [(clock, trigger, after)]
        users = new[0][3]
        assert users[0] == dispatcher.id
        if trigger != "warning":
            assert manager.id in users
        fired.append((clock, trigger, after))
    assert ladder.sweep(start + timedelta(days=90)) == []
    assert len(escalation_history(order.id)) == len(expected) == len(fired)
    order = db.session.get(WorkOrder, order.id)
    # Each breach raised the priority one step: normal → high → emergency.
    assert order.priority == Priority.EMERGENCY
    assert order.resolve_breached_at is not None


def _calendar_id() -> int:
    from server.models import BusinessCalendar

    return db.session.scalar(
        select(BusinessCalendar.id).where(BusinessCalendar.code == "cn-office")
    )


def test_a_paused_clock_does_not_escalate_and_resumes_where_it_stopped(
    people, create_category, create_customer, create_user
):
    tech = create_user(Role.TECHNICIAN)
    dispatcher = people["dispatcher"]
    category = create_category(required_skill=None)
    customer = create_customer()
    start = local("2026-03-02 09:00")
    order = create_work_order(
        {"category_id": category.id, "customer_id": customer.id, "title": "漏水"},
        dispatcher,
        now=start,
    )

    def step(name, actor, at, **payload):
        return apply_transition(order, name, actor, payload, order.version, now=at).order

    order = step("assign", dispatcher, start, assignee_id=tech.id)
    order = step("accept", tech, start + 5 * MINUTE)
    order = step("arrive", tech, start + 30 * MINUTE)
    order = step("start_work", tech, start + 35 * MINUTE)
    order = step("put_on_hold", tech, start + 60 * MINUTE, reason="waiting_for_parts")
    ladder = Ladder(order.id)
    # Resolve was due at 12:00 Monday; while on hold nothing fires.
    assert ladder.sweep(local("2026-03-02 17:00")) == []
    order = step("resume_work", dispatcher, local("2026-03-03 09:00"))
    # 2 working hours were left: due 11:00 Tuesday; the warning (80 % of 3 hours) at 10:24.
    assert order.resolve_by == local("2026-03-03 11:00")
    assert ladder.sweep(local("2026-03-03 10:23")) == []
    assert [c[:3] for c in ladder.sweep(local("2026-03-03 10:24"))] == [("resolve", "warning", 0)]
    assert [c[:3] for c in ladder.sweep(local("2026-03-03 11:00"))] == [("resolve", "breach", 0)]
