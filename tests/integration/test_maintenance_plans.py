"""Maintenance plans generate their visits ahead, once, whatever restarts or schedulers do."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import dispose
from tests.integration.races import make_app

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: "Now" for these tests: Monday 23 November 2026, 08:00 in Shanghai.
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI).astimezone(UTC)


def _seed_plan(app, *, rrule="FREQ=WEEKLY;BYDAY=MO", horizon_days=30):
    """Commit a customer with a site and asset, a PM category and a weekly plan; return its id."""
    from server.extensions import db
    from server.models import Category
    from server.services.customers import create_customer
    from server.services.maintenance_plans import create_maintenance_plan

    with app.app_context():
        category = Category(
            code="PM",
            name_en="Preventive maintenance",
            name_zh="定期保养",
            workflow_name="preventive_maintenance",
        )
        db.session.add(category)
        customer = create_customer(
            {
                "name": "Acme Facilities",
                "sites": [{"address": "上海市徐汇区漕溪北路88号", "assets": [{"model": "GMV6"}]}],
            },
            actor=None,
        )
        site = customer.sites[0]
        plan = create_maintenance_plan(
            {
                "customer_id": customer.id,
                "site_id": site.id,
                "asset_id": site.assets[0].id,
                "category_id": category.id,
                "title": "Chiller service",
                "rrule": rrule,
                "starts_at": datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI),
                "timezone": "Asia/Shanghai",
                "horizon_days": horizon_days,
                "checklist": [{"key": "filters", "en": "Clean filters", "zh_CN": "清洗滤网"}],
            },
            actor=None,
        )
        db.session.commit()
        return plan.id


def _generate(app, now):
    from server.extensions import db, sqlite_write_intent
    from server.jobs.scheduler import generate_maintenance_job

    with app.app_context():
        sqlite_write_intent.set(True)
        created = generate_maintenance_job(now)
        db.session.commit()
        return created


def _visits(app):
    from server.extensions import db
    from server.models import MaintenanceOccurrence, WorkOrder

    with app.app_context():
        rows = db.session.execute(
            select(MaintenanceOccurrence.occurs_on, WorkOrder.requested_start_at, WorkOrder.title)
            .join(WorkOrder, MaintenanceOccurrence.work_order_id == WorkOrder.id)
            .order_by(MaintenanceOccurrence.occurs_on)
        ).all()
        orders = db.session.scalar(select(func.count()).select_from(WorkOrder))
        return rows, orders


@pytest.fixture
def database_url(databases):
    return databases.create()


def test_a_plan_generates_its_horizon_once_and_again_after_a_restart(database_url, tmp_path):
    first = make_app(database_url, tmp_path, migrate=True)
    _seed_plan(first)

    created = _generate(first, NOW)
    again = _generate(first, NOW)
    rows, orders = _visits(first)
    dispose(first)

    assert created == 5
    assert again == 0
    assert [day.isoformat() for day, _, _ in rows] == [
        "2026-11-23",
        "2026-11-30",
        "2026-12-07",
        "2026-12-14",
        "2026-12-21",
    ]
    assert orders == 5
    # 09:00 in Shanghai is 01:00 UTC.
    assert rows[0][1] == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert rows[0][2] == "Chiller service · 2026-11-23"

    restarted = make_app(database_url, tmp_path)  # a new process: new app, engine, session
    try:
        assert _generate(restarted, NOW) == 0
        assert _generate(restarted, NOW + timedelta(days=7)) == 1  # the horizon moved a week
        rows, orders = _visits(restarted)
    finally:
        dispose(restarted)
    assert orders == 6
    assert len({day for day, _, _ in rows}) == 6
    assert rows[-1][0].isoformat() == "2026-12-28"


def test_two_schedulers_generating_at_once_make_each_visit_once(database_url, tmp_path):
    app = make_app(database_url, tmp_path, migrate=True)
    _seed_plan(app, rrule="FREQ=DAILY", horizon_days=14)
    results: list[int] = []
    errors: list[BaseException] = []

    def run():
        try:
            results.append(_generate(app, NOW))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows, orders = _visits(app)
    dispose(app)

    assert errors == []
    assert sum(results) == orders == len(rows) == 14  # 23 Nov .. 6 Dec
    assert len({day for day, _, _ in rows}) == 14


def test_the_order_carries_the_plans_checklist_and_shows_in_the_customer_file(db_session, app):
    from server.extensions import db
    from server.models import MaintenancePlan
    from server.services.maintenance_plans import generate_plan_orders, upcoming_maintenance

    plan_id = _seed_plan_in_session()
    plan = db.session.get(MaintenancePlan, plan_id)

    [order, *_] = generate_plan_orders(plan, NOW)

    assert "Clean filters / 清洗滤网" in order.description
    upcoming = upcoming_maintenance(plan.customer_id, NOW.date())
    assert [visit.occurs_on.isoformat() for visit in upcoming] == ["2026-12-01", "2027-01-01"]
    assert upcoming[0].work_order_id == order.id
    assert order.asset_id == plan.asset_id
    assert order.site_id == plan.site_id


def _seed_plan_in_session():
    from server.extensions import db
    from server.models import Category
    from server.services.customers import create_customer
    from server.services.maintenance_plans import create_maintenance_plan

    category = Category(
        code="PM-T", name_en="PM", name_zh="保养", workflow_name="preventive_maintenance"
    )
    db.session.add(category)
    customer = create_customer(
        {"name": "Acme", "sites": [{"address": "x 1", "assets": [{"model": "GMV6"}]}]}, actor=None
    )
    site = customer.sites[0]
    return create_maintenance_plan(
        {
            "customer_id": customer.id,
            "site_id": site.id,
            "asset_id": site.assets[0].id,
            "category_id": category.id,
            "title": "Chiller service",
            "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
            "starts_at": datetime(2026, 1, 1, 9, 0, tzinfo=SHANGHAI),
            "checklist": [{"key": "filters", "en": "Clean filters", "zh_CN": "清洗滤网"}],
        },
        actor=None,
    ).id


@pytest.mark.parametrize(
    ("rrule", "message"),
    [
        ("FREQ=HOURLY", "daily, weekly, monthly or yearly"),
        ("DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "no DTSTART"),
        ("every monday", "FREQ=MONTHLY"),
        ("FREQ=WEEKLY;BYDAY=XX", "Not a valid RRULE"),
    ],
)
def test_a_bad_rule_is_refused_with_a_message(db_session, rrule, message):
    from server.services.errors import InvalidInput
    from server.services.maintenance_plans import create_maintenance_plan

    with pytest.raises(InvalidInput) as refused:
        create_maintenance_plan(
            {
                "customer_id": 0,
                "category_id": 0,
                "title": "x",
                "rrule": rrule,
                "starts_at": NOW,
            },
            actor=None,
        )
    assert "rrule" in refused.value.details["errors"]
    assert message in refused.value.details["errors"]["rrule"][0]
