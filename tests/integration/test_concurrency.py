"""Exactly one winner when many dispatchers apply the same transition at the same version."""

from __future__ import annotations

import multiprocessing
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.conftest import dispose
from tests.integration.races import (
    assign_call,
    make_app,
    process_contender,
    race_in_threads,
    seed_race,
)

RACES = 50
THREADS = 20
PROCESSES = 4


@pytest.fixture
def race_app(databases, tmp_path):
    app = make_app(databases.create(), tmp_path, migrate=True)
    yield app
    dispose(app)


def history_of(app, order_id):
    from server.extensions import db
    from server.models import OutboxMessage, WorkOrder, WorkOrderEvent

    with app.app_context():
        order = db.session.get(WorkOrder, order_id)
        assigned = db.session.scalars(
            select(WorkOrderEvent).where(
                WorkOrderEvent.work_order_id == order_id, WorkOrderEvent.kind == "WorkOrderAssigned"
            )
        ).all()
        outbox = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.work_order_id == order_id)
        )
        return order.state, order.assignee_id, order.version, assigned, outbox


def check_single_winner(app, order_id, statuses, winners_by_index):
    counts = Counter(statuses)
    assert counts[200] == 1, counts
    assert counts[409] == len(statuses) - 1, counts
    state, assignee, version, assigned, outbox = history_of(app, order_id)
    winner = winners_by_index[statuses.index(200)]
    assert (state, assignee, version) == ("assigned", winner, 2)
    assert len(assigned) == 1
    assert assigned[0].actor_id is not None
    return outbox


def test_twenty_threads_assigning_at_once_have_exactly_one_winner(race_app):
    data = seed_race(race_app, RACES, THREADS)
    outbox_sizes = set()
    for order_id in data["orders"]:
        statuses = race_in_threads(
            THREADS,
            lambda i, order_id=order_id: assign_call(
                race_app, data["token"], order_id, data["techs"][i]
            ),
        )
        outbox_sizes.add(check_single_winner(race_app, order_id, statuses, data["techs"]))
    # The same single set of actions for every race: never doubled, never missing.
    assert len(outbox_sizes) == 1
    assert outbox_sizes.pop() >= 1


def test_four_processes_assigning_at_once_have_exactly_one_winner(race_app, tmp_path):
    database_url = race_app.config["SQLALCHEMY_DATABASE_URI"]
    data = seed_race(race_app, RACES, PROCESSES)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(
            target=process_contender,
            args=(
                database_url,
                str(tmp_path / f"p{index}"),
                data["token"],
                data["orders"],
                data["techs"][index],
                barrier,
                results,
                index,
            ),
        )
        for index in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=300) for _ in range(RACES * PROCESSES)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    by_order: dict[int, list[int]] = {order_id: [0] * PROCESSES for order_id in data["orders"]}
    for order_id, index, status in outcomes:
        by_order[order_id][index] = status
    outbox_sizes = {
        check_single_winner(race_app, order_id, statuses, data["techs"])
        for order_id, statuses in by_order.items()
    }
    assert len(outbox_sizes) == 1


def test_several_relay_workers_handle_each_outbox_message_exactly_once(race_app):
    from collections import Counter

    from server.extensions import db
    from server.jobs import relay
    from server.models import OutboxMessage, OutboxStatus

    handled = Counter()

    def count(message):
        handled[message.id] += 1

    with race_app.app_context():
        db.session.add_all(OutboxMessage(action="race_count", payload={}) for _ in range(300))
        db.session.commit()
    relay.TASKS["race_count"] = count
    try:

        def work(index):
            with race_app.app_context():
                while relay.run_once(f"worker-{index}", limit=10):
                    pass
            return 0

        race_in_threads(4, work)
    finally:
        del relay.TASKS["race_count"]
    assert len(handled) == 300
    assert set(handled.values()) == {1}
    with race_app.app_context():
        done = db.session.scalar(
            db.select(db.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.DONE)
        )
    assert done == 300
