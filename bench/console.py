"""Response time of the console's work order list with 100,000 orders on PostgreSQL.

Run: ``python -m bench.console [--orders 100000] [--repeat 20]``. Needs PostgreSQL
(``FIELDWORK_TEST_POSTGRES_URL`` or ``postgresql://postgres@127.0.0.1:5432/postgres``).

What it does, in one throw-away database ``fieldwork_bench_console_<hex>``:

1. builds the schema with the real migrations and bulk-loads with COPY a dispatcher, 50
   technicians, eight categories, 5,000 customers with a site each and ``--orders`` work
   orders spread over two years (open ones assigned and planned, the rest closed);
2. signs in through the login form (CSRF and all) and requests the list's first page in
   process, as the browser would, for the plain list and for the common filters;
3. prints, per variant, the median and 95th-percentile response time and the number of SQL
   statements the request ran.

The database is dropped at the end, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import random
import re
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import make_url

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "bench-console-password"  # noqa: S105 (throw-away database)
STATES = [("new", 10), ("triaged", 5), ("assigned", 15), ("accepted", 10), ("in_progress", 10)]
CATEGORIES = ["HVAC", "BOILER", "HEATER", "ELEC", "LEAK", "FRIDGE", "LIFT", "GENERAL"]
VARIANTS = [
    ("first page", "/work-orders"),
    ("search 'not cooling'", "/work-orders?q=not+cooling"),
    ("state=assigned, priority=high", "/work-orders?state=assigned&priority=high"),
    ("deadline=at_risk", "/work-orders?deadline=at_risk"),
    ("deadline=breached", "/work-orders?deadline=breached"),
    ("technician 7, last 30 days", "/work-orders?technician=7&from={from_day}"),
    ("unassigned, oldest first", "/work-orders?technician=0&sort=created_at"),
]


def admin_url() -> str:
    """Return the URL of a PostgreSQL database we may create the bench database from."""
    import os

    url = os.environ.get("FIELDWORK_TEST_POSTGRES_URL", ADMIN_URL)
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def throwaway_database() -> Iterator[str]:
    """Create a database, yield its SQLAlchemy URL, drop it afterwards."""
    name = f"fieldwork_bench_console_{secrets.token_hex(4)}"
    admin = make_url(admin_url())
    with psycopg.connect(admin.render_as_string(False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin.render_as_string(False), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load(url: str, orders: int) -> None:
    """Bulk-load users, categories, customers and ``orders`` work orders with COPY."""
    from server.auth.passwords import hash_password

    rng = random.Random(7)
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        stamp = now.isoformat()
        hashed = hash_password(PASSWORD)
        with cur.copy(
            "COPY users (username, display_name, role, locale, is_active, password_hash,"
            " is_demo, created_at, updated_at) FROM STDIN"
        ) as copy:
            copy.write_row(
                (
                    "bench-dispatcher",
                    "Bench Dispatcher",
                    "dispatcher",
                    "en",
                    True,
                    hashed,
                    False,
                    stamp,
                    stamp,
                )
            )
            for i in range(50):
                copy.write_row(
                    (
                        f"btech{i:02d}",
                        f"Technician {i:02d}",
                        "technician",
                        "zh_CN",
                        True,
                        "-",
                        False,
                        stamp,
                        stamp,
                    )
                )
        cur.execute(
            "INSERT INTO technician_profiles (user_id, max_jobs_per_day, is_on_call, created_at,"
            " updated_at) SELECT id, 6, false, now(), now() FROM users WHERE role='technician'"
        )
        for code in CATEGORIES:
            cur.execute(
                "INSERT INTO categories (code, name_en, name_zh, default_priority, workflow_name,"
                " required_skill_level, checklist, is_active, created_at, updated_at)"
                " VALUES (%s, %s, %s, 'normal', 'repair', 1, '[]', true, now(), now())",
                (code, f"{code.title()} repair", f"{code}维修"),
            )
        with cur.copy(
            "COPY customers (name, tier, preferred_locale, is_company, created_at,"
            " updated_at) FROM STDIN"
        ) as copy:
            for i in range(5000):
                copy.write_row((f"客户 {i:05d}", "standard", "zh_CN", False, stamp, stamp))
        cur.execute(
            "INSERT INTO sites (customer_id, address, latitude, longitude, created_at, updated_at)"
            " SELECT id, '上海市徐汇区漕溪北路' || id || '号', 31.2, 121.45, now(), now()"
            " FROM customers"
        )
        techs = [r[0] for r in cur.execute("SELECT id FROM users WHERE role='technician'")]
        categories = [r[0] for r in cur.execute("SELECT id FROM categories")]
        customers = [r[0] for r in cur.execute("SELECT id FROM customers ORDER BY id")]
        sites = dict(cur.execute("SELECT customer_id, id FROM sites").fetchall())
        open_states, weights = zip(*STATES, strict=True)
        start = now - timedelta(days=730)
        issues = ["not cooling", "no hot water", "leaking", "loud noise", "error E4", "dead"]
        columns = (
            "number, category_id, workflow_name, workflow_version, state, state_entered_at,"
            " priority, channel, title, description, customer_id, site_id, assignee_id,"
            " respond_by, arrive_by, resolve_by, scheduled_start_at, closed_at, version,"
            " created_at, updated_at"
        )
        with cur.copy(f"COPY work_orders ({columns}) FROM STDIN") as copy:
            for i in range(orders):
                created = start + (now - start) * (i / orders)
                is_open = i >= orders - orders // 20  # the newest 5 % are open
                state = rng.choices(open_states, weights)[0] if is_open else "closed"
                assignee = rng.choice(techs) if state not in ("new", "triaged") else None
                customer = rng.choice(customers)
                copy.write_row(
                    (
                        f"WO-{created.year}-{i + 1:06d}",
                        rng.choice(categories),
                        "repair",
                        1,
                        state,
                        created,
                        rng.choices(["emergency", "high", "normal", "low"], [3, 17, 65, 15])[0],
                        rng.choice(["phone", "email", "web", "portal", "api"]),
                        f"空调 {rng.choice(issues)} #{i}",
                        "Customer called about the unit.",
                        customer,
                        sites[customer],
                        assignee,
                        created + timedelta(hours=1),
                        created + timedelta(hours=4),
                        created + timedelta(hours=rng.choice([8, 24, 72])),
                        created + timedelta(hours=2) if assignee else None,
                        None if is_open else created + timedelta(days=2),
                        1,
                        created,
                        created,
                    )
                )
        cur.execute(
            "INSERT INTO work_order_events (work_order_id, kind, occurred_at, data)"
            " SELECT id, 'WorkOrderCreated', created_at, '{}' FROM work_orders"
        )
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")


def statements_recorder(statements: list[str]) -> Any:
    """Return an engine listener appending each statement to ``statements``."""

    def record(*args: Any) -> None:
        statements.append(args[2])

    return record


def measure(app: Any, repeat: int) -> list[tuple[str, float, float, int, int]]:
    """Sign in and time each list variant; return (name, median ms, p95 ms, SQL, rows)."""
    from server.extensions import db

    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    signed_in = client.post(
        "/login",
        data={"username": "bench-dispatcher", "password": PASSWORD, "csrf_token": token},
    )
    if signed_in.status_code != 302:
        raise SystemExit(f"sign-in failed with {signed_in.status_code}")
    from_day = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()
    results = []
    with app.app_context():
        engine = db.engine
    for name, path in VARIANTS:
        path = path.format(from_day=from_day)
        statements: list[str] = []
        record = statements_recorder(statements)
        for _ in range(3):  # warm caches and the connection pool
            client.get(path)
        timings = []
        rows = 0
        for _ in range(repeat):
            statements.clear()
            event.listen(engine, "before_cursor_execute", record)
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            event.remove(engine, "before_cursor_execute", record)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")
            rows = response.get_data(as_text=True).count("data-order=")
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        results.append((name, statistics.median(timings), p95, len(statements), rows))
    return results


def main() -> None:
    """Load the data, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    from tests.integration.races import make_app

    with throwaway_database() as url, tempfile.TemporaryDirectory() as instance:
        started = time.perf_counter()
        app = make_app(url, Path(instance), migrate=True)
        load(make_url(url).set(drivername="postgresql").render_as_string(False), args.orders)
        print(f"loaded {args.orders:,} work orders in {time.perf_counter() - started:.1f} s")
        results = measure(app, args.repeat)
        print(f"{'variant':34} {'median ms':>10} {'p95 ms':>8} {'SQL':>4} {'rows':>5}")
        for name, median, p95, sql, rows in results:
            print(f"{name:34} {median:10.1f} {p95:8.1f} {sql:4d} {rows:5d}")
        from server.extensions import db

        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
