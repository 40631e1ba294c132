"""The deadline sweep's cost follows what is due, not how many orders are open.

Run: ``python -m bench.deadlines [--orders 1000000] [--due-percent 1]``. On a throw-away
PostgreSQL database (created and dropped here) it bulk-loads ``--orders`` open orders with a
running respond clock each, ``--due-percent`` of them past their warning and breach, and
times one full sweep (every due step recorded, notified and rescheduled, committed batch by
batch) plus an idle sweep (nothing due). Then it loads as many open orders again with the
same number due, and times the same sweeps over twice the open orders.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

LOAD_ORDERS = """
INSERT INTO work_orders (number, category_id, workflow_name, workflow_version, state,
    state_entered_at, priority, channel, title, customer_id, owner_id, created_by_id,
    respond_by, created_at, updated_at, version)
SELECT 'WO-B-' || lpad(g::text, 9, '0'), %(category)s, 'repair', 1, 'new',
    %(now)s - interval '2 hours', 'normal', 'phone', 'Bench order ' || g, %(customer)s,
    %(user)s, %(user)s, %(now)s + interval '1 hour', %(now)s - interval '2 hours',
    %(now)s - interval '2 hours', 1
FROM generate_series(%(first)s::int, %(last)s::int) AS g
"""

# The first ``due`` orders of the range are past warning and breach; the others warn at
# some minute of the next 30 days.
LOAD_CLOCKS = """
INSERT INTO deadline_clocks (work_order_id, kind, policy_id, within, is_working_time,
    warn_percent, started_at, paused_total_seconds, paused_counted_seconds, due_at, warn_at,
    next_check_at)
SELECT w.id, 'respond', %(policy)s, '1h', false, 80, s.started, 0, 0,
    s.started + interval '1 hour', s.started + interval '48 minutes',
    s.started + interval '48 minutes'
FROM work_orders AS w
CROSS JOIN LATERAL (
    SELECT CASE
        WHEN substr(w.number, 6)::int < %(first)s + %(due)s THEN %(now)s - interval '2 hours'
        ELSE %(now)s + (1 + substr(w.number, 6)::int %% 43200) * interval '1 minute'
    END AS started
) AS s
WHERE w.number BETWEEN 'WO-B-' || lpad(%(first)s::text, 9, '0')
                   AND 'WO-B-' || lpad(%(last)s::text, 9, '0')
"""


def add_escalation_setup(prefix: str) -> tuple[Any, Any, Any, Any]:
    """Add (and flush, not commit) what a deadline sweep needs; return the four rows.

    A dispatcher and a manager named ``<prefix>-dispatcher`` / ``<prefix>-manager``, a repair
    category ``<PREFIX>-SLA`` with a one-hour respond policy whose ladder notifies the
    dispatcher at the warning and the supervisor at the breach, and a customer. Shared by
    this benchmark and the two-scheduler race test, so both sweep the same ladder. Call it
    inside an app context.
    """
    from server.extensions import db
    from server.models import Category, DeadlinePolicy, EscalationStep, Role
    from server.services.customers import create_customer
    from server.services.users import create_user

    dispatcher = create_user(
        username=f"{prefix}-dispatcher", password="", role=Role.DISPATCHER, password_hash="-"
    )
    create_user(username=f"{prefix}-manager", password="", role=Role.MANAGER, password_hash="-")
    code = f"{prefix.upper()}-SLA"
    category = Category(code=code, name_en="AC repair", name_zh="空调维修", workflow_name="repair")
    customer = create_customer({"name": "王建国"}, actor=None)
    policy = DeadlinePolicy(name_en=code, name_zh=code, category_code=code, respond_within="1h")
    policy.steps = [
        EscalationStep(clock="respond", trigger="warning", actions=["notify_dispatcher"]),
        EscalationStep(clock="respond", trigger="breach", actions=["notify_supervisor"]),
    ]
    db.session.add_all([category, policy])
    db.session.flush()
    return dispatcher, category, customer, policy


def _seed(app: Any) -> dict[str, int]:
    """Commit the escalation setup; return the ids the bulk load refers to."""
    from server.extensions import db

    with app.app_context():
        user, category, customer, policy = add_escalation_setup("bench")
        db.session.commit()
        return {
            "category": category.id,
            "customer": customer.id,
            "user": user.id,
            "policy": policy.id,
        }


def _load(dsn: str, ids: dict[str, int], first: int, count: int, due: int) -> float:
    """Insert ``count`` orders and clocks numbered from ``first``; return seconds taken."""
    started = time.perf_counter()
    params = ids | {"now": NOW, "first": first, "last": first + count - 1, "due": due}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(LOAD_ORDERS, params)
        conn.execute(LOAD_CLOCKS, params)
        conn.execute("ANALYZE work_orders")
        conn.execute("ANALYZE deadline_clocks")
    return time.perf_counter() - started


REARM = """
DELETE FROM escalation_records;
DELETE FROM outbox_messages;
UPDATE deadline_clocks SET next_check_at = warn_at, breached_at = NULL WHERE id = ANY(%(ids)s);
"""


def _measure(app, dsn: str, repeats: int) -> dict[str, Any]:
    """Time the due-clock query, full sweeps (re-armed between runs) and an idle sweep."""
    from server.extensions import db
    from server.services.escalation import sweep_all

    with psycopg.connect(dsn) as conn:
        plan = conn.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM deadline_clocks "
            "WHERE next_check_at <= %s ORDER BY next_check_at, id LIMIT 200",
            (NOW,),
        ).fetchone()[0][0]
        open_orders = conn.execute(
            "SELECT count(*) FROM work_orders WHERE closed_at IS NULL"
        ).fetchone()[0]
        due_ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM deadline_clocks WHERE next_check_at <= %s", (NOW,)
            )
        ]
        due = len(due_ids)
    fulls = []
    with app.app_context():
        for attempt in range(repeats):
            if attempt:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    for statement in REARM.strip().split(";\n"):
                        conn.execute(statement.rstrip(";"), {"ids": due_ids})
            started = time.perf_counter()
            clocks = sweep_all(NOW, commit=db.session.commit)
            fulls.append(time.perf_counter() - started)
            if clocks != due:
                raise RuntimeError(f"swept {clocks} clocks, expected {due}")
        started = time.perf_counter()
        idle_clocks = sweep_all(NOW, commit=db.session.commit)
        idle = time.perf_counter() - started
    if idle_clocks:
        raise RuntimeError("an idle sweep found due clocks")
    return {
        "open": open_orders,
        "due": due,
        "query_ms": plan["Execution Time"],
        "scan": plan["Plan"]["Plans"][0]["Node Type"] if "Plans" in plan["Plan"] else "?",
        "full_s": statistics.median(fulls),
        "best_s": min(fulls),
        "idle_ms": idle * 1000,
    }


def run(url: str, dsn: str, orders: int, due_percent: float, repeats: int = 3) -> None:
    """Load, sweep, double, sweep again; print the figures."""
    from flask_migrate import upgrade

    from server import create_app

    app = create_app(
        {
            "FIELDWORK_DATABASE_URL": url,
            "FIELDWORK_INSTANCE_PATH": tempfile.mkdtemp(),
            "FIELDWORK_SECRET_KEY": "bench",
        }
    )
    with app.app_context():
        upgrade(revision="heads")
    ids = _seed(app)
    due = int(orders * due_percent / 100)
    print(f"loading {orders:,} open orders ({due:,} due) …", flush=True)
    seconds = _load(dsn, ids, 1, orders, due)
    print(f"  loaded in {seconds:.1f} s ({orders / seconds:,.0f} orders/s)")
    first = _measure(app, dsn, repeats)
    print(f"loading {orders:,} more open orders ({due:,} due again) …", flush=True)
    seconds = _load(dsn, ids, orders + 1, orders, due)
    print(f"  loaded in {seconds:.1f} s ({orders / seconds:,.0f} orders/s)")
    second = _measure(app, dsn, repeats)
    print()
    print(
        f"{'open orders':>12} {'due':>8} {'due query':>10} {'plan':>16} "
        f"{'sweep (median)':>15} {'best':>7} {'per due':>8} {'idle sweep':>11}"
    )
    for row in (first, second):
        print(
            f"{row['open']:>12,} {row['due']:>8,} {row['query_ms']:>8.2f}ms "
            f"{row['scan']:>16} {row['full_s']:>14.2f}s {row['best_s']:>6.2f}s "
            f"{row['full_s'] / max(row['due'], 1) * 1e6:>6.0f}µs {row['idle_ms']:>9.2f}ms"
        )
    ratio = second["full_s"] / first["full_s"]
    print(f"\nsweep at 2x open orders / at 1x (medians of {repeats}): {ratio:.2f} (flat: 1.0)")
    with app.app_context():
        from server.extensions import db

        db.engine.dispose()


def main() -> None:
    """Create a throw-away PostgreSQL database, run the benchmark, drop the database."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--due-percent", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3, help="sweeps timed per size")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    admin = make_url(args.postgres)
    admin_dsn = admin.set(drivername="postgresql").render_as_string(False)
    name = f"fieldwork_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = admin.set(drivername="postgresql+psycopg", database=name).render_as_string(False)
        dsn = admin.set(drivername="postgresql", database=name).render_as_string(False)
        run(url, dsn, args.orders, args.due_percent, args.repeats)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
