"""Deadline policies pick limits; the workflow starts, pauses, resumes and stops the clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import (
    BusinessCalendar,
    CalendarDay,
    CustomerTier,
    DeadlineClock,
    DeadlinePolicy,
    Priority,
    Role,
    WorkOrderOwner,
)
from server.services.deadline_policies import clock_history
from server.services.ownership import hand_off_work_order, owner_chain
from server.services.work_orders import apply_transition, create_work_order, update_work_order

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """Return a Shanghai wall-clock time as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def world(db_session, create_user, create_customer, create_category):
    dispatcher = create_user(Role.DISPATCHER)
    tech = create_user(Role.TECHNICIAN)
    customer = create_customer()
    vip = create_customer(tier=CustomerTier.VIP)
    repair = create_category(required_skill=None)
    emergency = create_category(
        workflow_name="emergency_callout", default_priority=Priority.EMERGENCY, required_skill=None
    )
    complaint = create_category(workflow_name="complaint", required_skill=None)

    def open_order(category, now, *, who=None, customer_=None, **fields):
        cust = customer_ or customer
        data = {
            "category_id": category.id,
            "customer_id": cust.id,
            "title": "空调不制冷",
            "site_id": cust.sites[0].id,
        } | fields
        return create_work_order(data, who if who is not None else dispatcher, now=now)

    return {
        "dispatcher": dispatcher,
        "tech": tech,
        "customer": customer,
        "vip": vip,
        "repair": repair,
        "emergency": emergency,
        "complaint": complaint,
        "open": open_order,
    }


def step(order, name, actor, now, **payload):
    return apply_transition(order, name, actor, payload, order.version, now=now).order


def test_the_shipped_calendar_has_the_chinese_holidays_and_make_up_days(db_session):
    office = db.session.scalar(select(BusinessCalendar).where(BusinessCalendar.code == "cn-office"))
    assert office.is_default
    assert office.timezone == "Asia/Shanghai"
    days = {d.day: d for d in db.session.scalars(select(CalendarDay))}
    assert days[date(2026, 10, 1)].name_zh == "国庆节"
    assert not days[date(2026, 10, 1)].is_working
    assert days[date(2026, 10, 10)].is_working  # 调休: Saturday worked
    assert days[date(2026, 2, 14)].is_working
    assert days[date(2026, 2, 28)].is_working
    assert days[date(2027, 2, 8)].is_provisional
    assert not days[date(2026, 2, 18)].is_provisional
    names = set(db.session.scalars(select(DeadlinePolicy.name_en)))
    assert {"Emergency", "Normal request", "Consultation", "Complaint – major"} <= names


def test_an_emergency_is_due_in_10_and_45_minutes_around_the_clock(world):
    at = local("2026-10-01 23:50")  # a holiday, at night: emergencies do not wait
    order = world["open"](world["emergency"], at)
    assert order.respond_by == at + timedelta(minutes=10)
    assert order.arrive_by == at + timedelta(minutes=45)
    assert order.resolve_by == at + timedelta(hours=4)


def test_a_vip_emergency_is_tighter(world):
    at = local("2026-03-02 10:00")
    order = world["open"](world["emergency"], at, customer_=world["vip"])
    assert order.respond_by == at + timedelta(minutes=5)
    assert order.arrive_by == at + timedelta(minutes=30)


def test_a_normal_request_counts_working_hours_over_the_weekend(world):
    order = world["open"](world["repair"], local("2026-03-06 17:30"))  # Friday evening
    assert order.respond_by == local("2026-03-09 09:30")
    assert order.resolve_by == local("2026-03-09 11:30")
    assert order.arrive_by is None  # no arrival promise for normal requests
    vip = world["open"](world["repair"], local("2026-03-06 17:30"), customer_=world["vip"])
    assert vip.respond_by == local("2026-03-06 18:00")


def test_golden_week_and_its_make_up_saturday_move_the_deadline(world):
    order = world["open"](world["repair"], local("2026-09-30 17:00"))
    assert order.respond_by == local("2026-09-30 18:00")
    assert order.resolve_by == local("2026-10-08 11:00")
    late = world["open"](world["repair"], local("2026-10-09 17:00"))
    assert late.resolve_by == local("2026-10-10 11:00")  # Saturday 10 October is worked


@pytest.mark.parametrize(
    ("severity", "resolve_by"),
    [
        ("general", "2026-09-28 10:00"),  # 3 working days, over Mid-Autumn
        ("important", "2026-10-09 10:00"),  # 7 working days, over Golden Week
        ("major", "2026-10-20 10:00"),  # 15 working days, with Saturday 10 October
    ],
)
def test_a_complaints_severity_sets_its_resolution_limit(world, severity, resolve_by):
    start = local("2026-09-22 10:00")
    order = world["open"](world["complaint"], start)
    assert order.respond_by == local("2026-09-22 14:00")  # first contact within 3 working hours
    assert order.resolve_by == local("2026-09-28 10:00")  # general until triaged
    order = step(
        order, "triage", world["dispatcher"], start + timedelta(minutes=5), severity=severity
    )
    assert order.severity == severity
    assert order.resolve_by == local(resolve_by)
    assert order.respond_by == local("2026-09-22 14:00")


def test_first_contact_stops_the_respond_clock_as_met(world):
    start = local("2026-09-22 10:00")
    order = world["open"](world["complaint"], start)
    order = step(order, "triage", world["dispatcher"], start, severity="general")
    order = step(
        order,
        "contact_customer",
        world["dispatcher"],
        start + timedelta(hours=1),
        channel="phone",
        note="called",
    )
    respond = next(c for c in clock_history(order) if c.kind == "respond")
    assert respond.stopped_at == start + timedelta(hours=1)
    assert respond.outcome == "met"
    assert respond.next_check_at is None
    assert order.respond_met_at == start + timedelta(hours=1)


def test_on_hold_pauses_the_resolve_clock_and_the_pause_is_in_the_history(world):
    dispatcher, tech = world["dispatcher"], world["tech"]
    start = local("2026-03-02 09:00")  # Monday
    order = world["open"](world["repair"], start)
    assert order.resolve_by == local("2026-03-02 12:00")
    order = step(order, "assign", dispatcher, start, assignee_id=tech.id)
    order = step(order, "accept", tech, start + timedelta(minutes=10))
    order = step(order, "arrive", tech, start + timedelta(minutes=40))
    order = step(order, "start_work", tech, start + timedelta(minutes=45))
    paused_at = local("2026-03-02 10:00")
    order = step(order, "put_on_hold", tech, paused_at, reason="waiting_for_parts")
    resolve = next(c for c in clock_history(order) if c.kind == "resolve")
    assert resolve.paused_at == paused_at
    assert order.resolve_by is None
    assert resolve.next_check_at is None
    # Parts arrive the next morning: the night did not count, nor did 09:00-10:00 Tuesday.
    resumed_at = local("2026-03-03 10:00")
    order = step(order, "resume_work", dispatcher, resumed_at)
    db.session.refresh(resolve)
    assert resolve.paused_at is None
    assert resolve.paused_total_seconds == 24 * 3600
    assert resolve.paused_counted_seconds == 8 * 3600  # one working day
    assert order.resolve_by == local("2026-03-03 12:00")
    assert [(p.paused_at, p.resumed_at, p.state) for p in resolve.pauses] == [
        (paused_at, resumed_at, "on_hold")
    ]


def test_a_priority_change_moves_the_due_times(world):
    start = datetime.now(UTC).replace(microsecond=0)
    order = world["open"](world["repair"], start)
    order = update_work_order(
        order, {"priority": Priority.EMERGENCY}, world["dispatcher"], order.version
    )
    assert order.respond_by == start + timedelta(minutes=10)
    assert order.arrive_by is None  # the repair workflow started no arrive clock
    assert order.resolve_by == start + timedelta(hours=4)


def test_a_cancelled_order_stops_its_clocks(world):
    start = local("2026-03-02 10:00")
    order = world["open"](world["repair"], start)
    step(order, "cancel", world["dispatcher"], start + timedelta(minutes=5), reason="duplicate")
    clocks = db.session.scalars(
        select(DeadlineClock).where(DeadlineClock.work_order_id == order.id)
    ).all()
    assert {c.outcome for c in clocks} == {"cancelled"}
    assert all(c.next_check_at is None for c in clocks)


def test_the_first_owner_stays_owner_through_hand_offs(world, create_user):
    dispatcher, tech = world["dispatcher"], world["tech"]
    billing = create_user(Role.DISPATCHER)
    manager = create_user(Role.MANAGER)
    start = local("2026-03-02 10:00")
    order = world["open"](world["repair"], start)
    assert order.owner_id == dispatcher.id
    order = step(order, "assign", dispatcher, start, assignee_id=tech.id)
    hand_off_work_order(
        order, billing, dispatcher, "Billing question", now=start + timedelta(hours=1)
    )
    hand_off_work_order(order, manager, billing, "Needs a refund", now=start + timedelta(hours=2))
    chain = owner_chain(order.id)
    assert [(link.user_id, link.reason) for link in chain] == [
        (dispatcher.id, "intake"),
        (billing.id, "Billing question"),
        (manager.id, "Needs a refund"),
    ]
    assert [link.to_at is None for link in chain] == [False, False, True]
    db.session.refresh(order)
    assert order.owner_id == dispatcher.id


def test_a_request_that_came_in_alone_belongs_to_the_first_office_user_who_takes_it(world):
    start = local("2026-03-02 10:00")
    order = create_work_order(
        {
            "category_id": world["repair"].id,
            "customer_id": world["customer"].id,
            "title": "web form",
        },
        None,
        now=start,
    )
    assert order.owner_id is None
    order = step(order, "triage", world["dispatcher"], start + timedelta(minutes=3))
    assert order.owner_id == world["dispatcher"].id
    links = db.session.scalars(
        select(WorkOrderOwner).where(WorkOrderOwner.work_order_id == order.id)
    ).all()
    assert [(link.user_id, link.reason) for link in links] == [
        (world["dispatcher"].id, "first_taken")
    ]


def test_an_admin_added_holiday_moves_new_deadlines(world):
    from server.services.deadline_policies import remove_calendar_day, set_calendar_day

    office = db.session.scalar(select(BusinessCalendar).where(BusinessCalendar.code == "cn-office"))
    before = world["open"](world["repair"], local("2026-03-05 17:30"))  # Thursday
    assert before.respond_by == local("2026-03-06 09:30")
    set_calendar_day(office, date(2026, 3, 6), is_working=False, name_en="Typhoon", name_zh="台风")
    after = world["open"](world["repair"], local("2026-03-05 17:30"))
    assert after.respond_by == local("2026-03-09 09:30")
    set_calendar_day(office, date(2026, 3, 7), is_working=True, name_en="Make-up", name_zh="补班")
    assert world["open"](world["repair"], local("2026-03-05 17:30")).respond_by == local(
        "2026-03-07 09:30"
    )
    assert remove_calendar_day(office, date(2026, 3, 6))
    assert world["open"](world["repair"], local("2026-03-05 17:30")).respond_by == local(
        "2026-03-06 09:30"
    )


def test_the_sweep_is_a_shipped_periodic_job():
    from server.jobs.scheduler import JOBS

    sweep = next(job for job in JOBS if job.id == "deadlines.sweep")
    assert sweep.every == timedelta(minutes=1)


def test_without_any_policy_the_workflow_and_built_in_limits_apply(world):
    from sqlalchemy import update

    from server.services.deadline_policies import forget_deadline_cache

    db.session.execute(update(DeadlinePolicy).values(is_active=False))
    forget_deadline_cache()
    at = local("2026-03-07 23:00")  # Saturday night: calendar time without a policy
    emergency = world["open"](world["emergency"], at)
    assert emergency.respond_by == at + timedelta(minutes=10)  # emergency_callout.v1.yaml
    assert emergency.arrive_by == at + timedelta(minutes=45)
    repair = world["open"](world["repair"], at)
    assert repair.respond_by == at + timedelta(hours=1)  # the built-in normal-priority limits
    assert repair.resolve_by == at + timedelta(hours=72)
