"""Transitions per second through the workflow engine and the services, on SQLite and PostgreSQL.

Run: ``python -m bench.workflow [--orders 200]``. Each transition is a real use case: load
the order, build the guard facts, decide, conditional UPDATE, history event, outbox rows, and
one commit, as a request would do it.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

STEPS = [
    ("triage", "dispatcher", {}),
    ("assign", "dispatcher", "assignee"),
    ("accept", "technician", {}),
    ("start_travel", "technician", {}),
    ("arrive", "technician", {}),
    ("start_work", "technician", {}),
    ("put_on_hold", "technician", {"reason": "waiting_for_parts"}),
    ("resume_work", "technician", {}),
]


def run(database_url: str, orders: int) -> float:
    """Apply every step to ``orders`` orders and return transitions per second."""
    from flask_migrate import upgrade

    from server import create_app
    from server.extensions import db
    from server.models import Category, Role, WorkOrder
    from server.services.customers import create_customer
    from server.services.users import create_technician_profile, create_user
    from server.services.work_orders import apply_transition, create_work_order

    app = create_app(
        {
            "FIELDWORK_DATABASE_URL": database_url,
            "FIELDWORK_INSTANCE_PATH": tempfile.mkdtemp(),
            "FIELDWORK_SECRET_KEY": "bench",
        }
    )
    with app.app_context():
        upgrade()
        dispatcher = create_user(
            username="bench-d", password="", role=Role.DISPATCHER, password_hash="-"
        )
        tech = create_user(username="bench-t", password="", role=Role.TECHNICIAN, password_hash="-")
        create_technician_profile(tech, skills=[("hvac", 5)])
        category = Category(
            code="BENCH",
            name_en="Bench",
            name_zh="基准",
            workflow_name="repair",
            required_skill="hvac",
        )
        db.session.add(category)
        customer = create_customer({"name": "Bench"}, actor=None)
        ids = [
            create_work_order(
                {"category_id": category.id, "customer_id": customer.id, "title": f"Bench {i}"},
                dispatcher,
            ).id
            for i in range(orders)
        ]
        db.session.commit()
        actors = {"dispatcher": dispatcher.id, "technician": tech.id}
        started = time.perf_counter()
        count = 0
        for name, role, payload in STEPS:
            for order_id in ids:
                order = db.session.get(WorkOrder, order_id)
                actor = db.session.get(type(dispatcher), actors[role])
                body = {"assignee_id": tech.id} if payload == "assignee" else payload
                apply_transition(order, name, actor, body, order.version)
                db.session.commit()
                count += 1
        elapsed = time.perf_counter() - started
        db.engine.dispose()
    return count / elapsed


def main() -> None:
    """Print transitions per second for each database that is available."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rate = run(f"sqlite:///{Path(folder) / 'bench.db'}", args.orders)
        print(f"sqlite      {rate:8.1f} transitions/s  ({args.orders} orders x {len(STEPS)} steps)")
    admin = make_url(args.postgres)
    name = f"fieldwork_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(
            admin.set(drivername="postgresql").render_as_string(False), autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        print(f"postgresql  not reachable ({error.__class__.__name__}); skipped")
        return
    try:
        url = admin.set(drivername="postgresql+psycopg", database=name).render_as_string(False)
        rate = run(url, args.orders)
        print(f"postgresql  {rate:8.1f} transitions/s  ({args.orders} orders x {len(STEPS)} steps)")
    finally:
        with psycopg.connect(
            admin.set(drivername="postgresql").render_as_string(False), autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
