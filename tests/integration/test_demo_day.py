"""The demo's technicians have a planned today; ``seed-demo --refresh-day`` moves it on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import Priority, User, Visit, WorkOrder, WorkOrderEvent
from tests.conftest import dispose

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def empty_app(databases, tmp_path):
    from server import create_app

    application = create_app(
        {
            "FIELDWORK_DATABASE_URL": databases.create(),
            "FIELDWORK_INSTANCE_PATH": str(tmp_path),
            "FIELDWORK_SECRET_KEY": "test",
            "FIELDWORK_TIMEZONE": "Asia/Shanghai",
            "TESTING": True,
        }
    )
    runner = application.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    yield application
    dispose(application)


def plan_of(username):
    tech = db.session.scalar(select(User).where(User.username == username))
    return tech, db.session.scalars(
        select(WorkOrder)
        .where(WorkOrder.assignee_id == tech.id, WorkOrder.requested_start_at.is_not(None))
        .order_by(WorkOrder.scheduled_start_at)
    ).all()


def local_day(value):
    return value.astimezone(ZONE).date()


def seed(app, now, orders=120):
    from server.seed import seed_demo

    with app.app_context():
        seed_demo(orders=orders, technicians=8, customers=30, now=now, zone=ZONE)
        db.session.commit()


def test_tech01_to_tech05_have_a_realistic_today(empty_app):
    now = datetime(2026, 12, 8, 3, 30, tzinfo=UTC)  # 11:30 in Shanghai
    seed(empty_app, now)
    with empty_app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(WorkOrder)) == 120
        for number in range(1, 6):
            tech, plan = plan_of(f"tech{number:02}")
            assert 4 <= len(plan) <= 6, tech.username
            assert {local_day(o.scheduled_start_at) for o in plan} == {local_day(now)}
            starts = [o.scheduled_start_at for o in plan]
            assert starts == sorted(starts)
            assert all(o.scheduled_end_at > o.scheduled_start_at for o in plan)
            emergencies = [o for o in plan if o.priority is Priority.EMERGENCY]
            assert len(emergencies) == 1
            assert emergencies[0].state == "assigned"
            states = [o.state for o in plan if o.priority is not Priority.EMERGENCY]
            assert states[:3] == ["completed", "in_progress", "accepted"]
            assert set(states[3:]) <= {"assigned"}
            for order in plan:
                visit = db.session.scalar(select(Visit).where(Visit.work_order_id == order.id))
                assert (visit.planned_start_at, visit.planned_end_at) == (
                    order.scheduled_start_at,
                    order.scheduled_end_at,
                )
                events = db.session.scalars(
                    select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order.id)
                ).all()
                assert all(e.occurred_at <= now for e in events)
        _tech06, none = plan_of("tech06")
        assert none == []


def test_the_phone_lists_the_day_under_today(empty_app):
    seed(empty_app, datetime.now(UTC))
    client = empty_app.test_client()
    token = client.post(
        "/api/mobile/v1/auth/token", json={"username": "tech02", "password": "fieldwork-demo"}
    ).get_json()["access_token"]
    today = client.get(
        "/api/mobile/v1/jobs?scope=today", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    with empty_app.app_context():
        _tech, plan = plan_of("tech02")
        open_ids = {o.id for o in plan if o.closed_at is None}
    assert open_ids <= {job["id"] for job in today["items"]}


def test_refresh_day_moves_the_plan_to_today_and_keeps_its_times(empty_app):
    seeded = datetime.now(UTC) - timedelta(days=3)
    seed(empty_app, seeded)
    with empty_app.app_context():
        _tech, before = plan_of("tech03")
        times = {o.id: (o.scheduled_start_at, o.respond_by, o.created_at) for o in before}
        events = {
            e.id: e.occurred_at
            for e in db.session.scalars(
                select(WorkOrderEvent).where(WorkOrderEvent.work_order_id.in_(times))
            )
        }

    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--refresh-day"])
    assert result.exit_code == 0, result.output
    assert "day(s) on, to today" in result.output

    with empty_app.app_context():
        _tech, after = plan_of("tech03")
        assert {o.id for o in after} == set(times)
        today = datetime.now(UTC).astimezone(ZONE).date()
        shift = today - local_day(seeded)
        for order in after:
            start, respond_by, created = times[order.id]
            assert order.scheduled_start_at == start + shift
            assert local_day(order.scheduled_start_at) == today
            assert order.created_at == created + shift
            if respond_by is not None:
                assert order.respond_by == respond_by + shift
        for event in db.session.scalars(
            select(WorkOrderEvent).where(WorkOrderEvent.work_order_id.in_(times))
        ):
            assert event.occurred_at == events[event.id] + shift
    again = runner.invoke(args=["seed-demo", "--refresh-day"])
    assert again.exit_code == 0
    assert "already for today" in again.output


def test_refresh_day_refuses_a_database_with_real_users_or_no_demo(empty_app):
    runner = empty_app.test_cli_runner()
    nothing = runner.invoke(args=["seed-demo", "--refresh-day"])
    assert nothing.exit_code != 0
    assert "no demo technicians" in nothing.output
    created = runner.invoke(
        args=["create-user", "--role", "admin", "--username", "ops"],
        input="a long enough password\na long enough password\n",
    )
    assert created.exit_code == 0, created.output
    refused = runner.invoke(args=["seed-demo", "--refresh-day"])
    assert refused.exit_code != 0
    assert "non-demo users" in refused.output
    quiet = runner.invoke(args=["seed-demo", "--if-empty", "--refresh-day"])
    assert quiet.exit_code == 0
    assert "not touching" in quiet.output


def test_if_empty_with_refresh_day_seeds_an_empty_database(empty_app):
    runner = empty_app.test_cli_runner()
    result = runner.invoke(
        args=[
            "seed-demo",
            "--if-empty",
            "--refresh-day",
            "--orders",
            "40",
            "--customers",
            "10",
            "--technicians",
            "6",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created 6 technicians, 10 customers, 40 work orders." in result.output
