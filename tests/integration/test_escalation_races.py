"""Two schedulers sweeping the same due deadlines: each escalation step happens exactly once."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bench.deadlines import add_escalation_setup
from tests.conftest import dispose
from tests.integration.races import make_app

#: Orders with due deadlines, per engine (SQLite serializes writers; keep its run short).
ORDERS = {"postgresql": 10_000, "sqlite": 1_000}
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.slow


@pytest.fixture
def race_app(databases, tmp_path):
    app = make_app(databases.create(), tmp_path, migrate=True)
    yield app
    dispose(app)


def seed_due_orders(app, count: int) -> None:
    """Commit ``count`` open orders whose respond clocks are past warning and breach."""
    from server.extensions import db
    from server.models import (
        DeadlineClock,
        WorkOrder,
    )

    with app.app_context():
        dispatcher, category, customer, policy = add_escalation_setup("race")
        started = NOW - timedelta(hours=2)
        orders = [
            {
                "number": f"WO-2026-{index:06d}",
                "category_id": category.id,
                "workflow_name": "repair",
                "workflow_version": 1,
                "state": "new",
                "state_entered_at": started,
                "priority": "normal",
                "channel": "phone",
                "title": f"空调不制冷 {index}",
                "customer_id": customer.id,
                "owner_id": dispatcher.id,
                "created_by_id": dispatcher.id,
                "respond_by": started + timedelta(hours=1),
                "created_at": started,
                "updated_at": started,
                "version": 1,
            }
            for index in range(1, count + 1)
        ]
        db.session.execute(insert(WorkOrder.__table__), orders)
        ids = db.session.scalars(select(WorkOrder.id).where(WorkOrder.category_id == category.id))
        clocks = [
            {
                "work_order_id": order_id,
                "kind": "respond",
                "policy_id": policy.id,
                "within": "1h",
                "is_working_time": False,
                "warn_percent": 80,
                "started_at": started,
                "paused_total_seconds": 0,
                "paused_counted_seconds": 0,
                "due_at": started + timedelta(hours=1),
                "warn_at": started + timedelta(minutes=48),
                "next_check_at": started + timedelta(minutes=48),
            }
            for order_id in ids
        ]
        db.session.execute(insert(DeadlineClock.__table__), clocks)
        db.session.commit()


def sweep_until_done(claim: bool) -> int:
    """Sweep with this process's (or thread's) own connection; return the steps it did."""
    from sqlalchemy.exc import OperationalError

    from server.extensions import db, sqlite_write_intent
    from server.services.escalation import sweep_deadlines

    sqlite_write_intent.set(True)
    steps = 0
    while True:
        try:
            batch = sweep_deadlines(NOW, claim=claim)
            db.session.commit()
        except OperationalError:  # a deadlock victim: its batch rolled back, try again
            db.session.rollback()
            continue
        steps += batch.steps
        if batch.clocks == 0:
            return steps


def process_sweeper(database_url: str, instance: str, claim: bool, barrier, results) -> None:
    """Run in a separate process: one scheduler sweeping until nothing is due."""
    app = make_app(database_url, Path(instance))
    with app.app_context():
        barrier.wait()
        results.put(sweep_until_done(claim))
    dispose(app)


def check_exactly_once(app, count: int, steps_done: list[int]) -> None:
    from server.extensions import db
    from server.models import DeadlineClock, EscalationRecord, OutboxMessage

    with app.app_context():
        records = db.session.scalar(select(func.count()).select_from(EscalationRecord))
        pairs = db.session.scalar(
            select(func.count()).select_from(
                select(EscalationRecord.clock_id, EscalationRecord.step_id).distinct().subquery()
            )
        )
        notifications = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.action == "notify")
        )
        left = db.session.scalar(
            select(func.count())
            .select_from(DeadlineClock)
            .where(DeadlineClock.next_check_at.is_not(None))
        )
        unbreached = db.session.scalar(
            select(func.count())
            .select_from(DeadlineClock)
            .where(DeadlineClock.breached_at.is_(None))
        )
    assert records == pairs == 2 * count  # warning and breach, once per clock
    assert notifications == 2 * count  # no step notified twice, none forgotten
    assert sum(steps_done) == 2 * count
    assert left == 0
    assert unbreached == 0


@pytest.mark.parametrize("claim", [True, False], ids=["skip-locked", "constraint-only"])
def test_two_schedulers_escalate_each_step_exactly_once(race_app, tmp_path, request, claim):
    engine = request.config.getoption("--db")
    count = ORDERS[engine]
    seed_due_orders(race_app, count)
    if engine == "postgresql":
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(2)
        results = context.Queue()
        url = race_app.config["SQLALCHEMY_DATABASE_URI"]
        workers = [
            context.Process(
                target=process_sweeper,
                args=(url, str(tmp_path / f"s{index}"), claim, barrier, results),
            )
            for index in range(2)
        ]
        for worker in workers:
            worker.start()
        steps_done = [results.get(timeout=120) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
            assert worker.exitcode == 0
    else:
        barrier = threading.Barrier(2)
        steps_done = [0, 0]

        def run(index: int) -> None:
            with race_app.app_context():
                barrier.wait()
                steps_done[index] = sweep_until_done(claim)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    check_exactly_once(race_app, count, steps_done)
