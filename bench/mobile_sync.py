"""Throughput and latency of the phone's job list, ``GET /api/mobile/v1/jobs``, over HTTP.

Run: ``python -m bench.mobile_sync [--orders 200000] [--grow-to 1000000]
[--technicians 2000] [--quick]``. Needs PostgreSQL and ``wrk`` (apt package ``wrk``).

What it does, in one throw-away database ``fieldwork_bench_<hex>``:

1. builds the schema with the real migrations, then bulk-loads with COPY (not the ORM) a
   dispatcher, the technicians with profiles and one mobile access token each, categories,
   customers with a site each, and the newest ``--orders`` work orders: every technician
   holds 15-40 open jobs (assigned … in progress), the rest are closed or cancelled history
   spread over all technicians; every order has its visit with the assignee as lead (and a
   helper on some), as the services create them;
2. serves the app with gunicorn (gthread) and, as the yardstick, ``bench.bare_app`` (one
   primary-key lookup with raw psycopg) with the same worker settings, and measures both
   with ``wrk`` at each connection count; every ``GET /jobs`` request carries the token of a
   random technician (a Lua script). Before ``GET /jobs`` is measured every technician
   fetches their page once, as phones that poll have (the page is then kept until
   something on it changes); ``GET /jobs?limit=49``, a size never kept, measures the page
   built on every request. The three are measured in interleaved rounds (``--rounds``,
   3) and each figure is the median, so a slow spell of the shared machine does not land
   on one endpoint only;
3. backfills older history up to ``--grow-to`` orders (the open jobs stay the same, so every
   technician's page is the same) and measures again.

It prints the figures and the target checks (PASS/FAIL); it never fails on a missed target.
The database is dropped at the end, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
JOBS_PATH = "/api/mobile/v1/jobs"
JOBS_LABEL = "GET /jobs"
#: A page size other than the default: such pages are built on every request, never kept.
BUILT_LIMIT = 49
BUILT_LABEL = f"GET /jobs?limit={BUILT_LIMIT}"

#: Targets: GET /jobs against the bare endpoint, and between the two data sizes.
MIN_RATIO_TO_BARE = 0.25
MAX_P99_MS_AT_8 = 50.0
SIZE_RPS_TOLERANCE = 0.80  # req/s at the big size >= 80 % of the small size
SIZE_P99_TOLERANCE = 1.25  # p99 at the big size <= 125 % of the small size (or + 5 ms)
SIZE_P99_SLACK_MS = 5.0

#: Orders per calendar year of the synthetic history (keeps numbers at 6 digits).
ORDERS_PER_YEAR = 250_000
#: Rows per COPY batch (bounds memory; each batch is three COPY statements).
CHUNK = 50_000

OPEN_STATES = [
    ("assigned", 35, "planned"),
    ("accepted", 25, "planned"),
    ("en_route", 10, "in_progress"),
    ("on_site", 10, "in_progress"),
    ("in_progress", 20, "in_progress"),
]
PRIORITIES = [("emergency", 3), ("high", 17), ("normal", 65), ("low", 15)]
CHANNELS = [("phone", 50), ("email", 10), ("web", 20), ("portal", 15), ("api", 5)]
CATEGORIES = [
    ("HVAC-REPAIR", "Air conditioning repair", "空调维修", "hvac"),
    ("BOILER-REPAIR", "Boiler repair", "锅炉维修", "heating"),
    ("WATER-HEATER", "Water heater repair", "热水器维修", "plumbing"),
    ("ELEC-FAULT", "Electrical fault", "电气故障", "electrical"),
    ("PLUMB-LEAK", "Leak repair", "漏水维修", "plumbing"),
    ("FRIDGE-REPAIR", "Refrigeration repair", "制冷维修", "refrigeration"),
    ("LIFT-FAULT", "Lift fault", "电梯故障", "lifts"),
    ("GENERAL", "General repair", "综合维修", None),
]
CHECKLIST = [
    {"key": "isolate", "en": "Power isolated", "zh_CN": "已断电"},
    {"key": "inspect", "en": "Unit inspected", "zh_CN": "已检查设备"},
    {"key": "test", "en": "Tested after repair", "zh_CN": "维修后已测试"},
    {"key": "clean", "en": "Work area cleaned", "zh_CN": "已清理现场"},
    {"key": "explain", "en": "Work explained to customer", "zh_CN": "已向客户说明"},
]
ISSUES = [
    "not cooling",
    "no hot water",
    "tripping the breaker",
    "leaking under the unit",
    "making a loud noise",
    "error code E4 on display",
    "will not start",
    "intermittent fault",
]
DESCRIPTIONS = [
    "Customer reports the unit stopped working this morning. Access through the side gate; "
    "call the contact 30 minutes before arrival.",
    "Second call about the same fault. Previous visit replaced the fuse; the problem came back "
    "after two days. Bring a spare control board.",
    "Office building, 3rd floor plant room. Ask reception for the key. Parking in the "
    "basement, level B2.",
    "Elderly customer, please be patient and explain the work. Dog in the garden.",
    "Tenant reports water on the floor next to the unit. Landlord approved repairs up to the "
    "usual limit; anything more needs a quote first.",
]


def _weighted(options: list[tuple[Any, ...]]) -> tuple[list[Any], list[int]]:
    return [o[0] for o in options], [o[1] for o in options]


# --- The data plan -----------------------------------------------------------------------------


@dataclass
class Plan:
    """What the bench database holds: sizes, who has which open job, the timeline."""

    technicians: int
    total: int  # orders at the largest size; ids run 1..total, newest highest
    customers: int
    now: datetime
    start: datetime
    open_by_id: dict[int, int] = field(default_factory=dict)  # order id -> technician id
    year_firsts: list[int] = field(default_factory=list)  # first order id of each year
    years: list[int] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # raw access tokens, one a technician

    @property
    def technician_ids(self) -> range:
        """User ids of the technicians (user 1 is the dispatcher)."""
        return range(2, self.technicians + 2)

    def created_at(self, order_id: int) -> datetime:
        """Return when an order was created (ids grow with time)."""
        span = (self.now - self.start).total_seconds()
        return self.start + timedelta(seconds=span * (order_id - 1) / self.total)

    def number(self, order_id: int) -> str:
        """Return the public number ``WO-<year>-<6 digits>`` of an order."""
        index = bisect.bisect_right(self.year_firsts, order_id) - 1
        return f"WO-{self.years[index]}-{order_id - self.year_firsts[index] + 1:06d}"


def make_plan(technicians: int, sizes: list[int], seed: int) -> Plan:
    """Decide every technician's open jobs and the timeline for the largest size."""
    rnd = random.Random(seed)
    total = max(sizes)
    now = datetime.now(UTC).replace(microsecond=0)
    years_back = max(1, math.ceil(total / ORDERS_PER_YEAR))
    plan = Plan(
        technicians=technicians,
        total=total,
        customers=max(500, total // 20),
        now=now,
        start=now - timedelta(days=365 * years_back),
    )
    # Year boundaries in id space, so numbers count from 1 in each year.
    span = (now - plan.start).total_seconds()
    for year in range(plan.start.year, now.year + 1):
        jan1 = max(datetime(year, 1, 1, tzinfo=UTC), plan.start)
        first = math.ceil((jan1 - plan.start).total_seconds() / span * total) + 1
        if first <= total and (not plan.year_firsts or first > plan.year_firsts[-1]):
            plan.year_firsts.append(first)
            plan.years.append(year)
    bounds = plan.year_firsts[1:] + [total + 1]
    if any(b - f > 999_999 for f, b in zip(plan.year_firsts, bounds, strict=True)):
        raise SystemExit("more than 999,999 orders in one year: numbers would not fit")
    # Open jobs: 15-40 per technician, among the newest orders (twice as many ids as open
    # jobs, the others in that window closed), so each size holds all of them.
    holders = [tech for tech in plan.technician_ids for _ in range(rnd.randint(15, 40))]
    smallest = min(sizes)
    if len(holders) > smallest:
        raise SystemExit(
            f"{len(holders)} open jobs do not fit in {smallest} orders: "
            "raise --orders or lower --technicians"
        )
    window = min(smallest, 2 * len(holders))
    open_ids = rnd.sample(range(total - window + 1, total + 1), len(holders))
    rnd.shuffle(holders)
    plan.open_by_id = dict(zip(open_ids, holders, strict=True))
    # From the seeded generator, so a kept database (bench.jobs_profile --keep) matches.
    plan.tokens = [f"fwa_{rnd.getrandbits(192):048x}" for _ in plan.technician_ids]
    return plan


# --- Loading with COPY -------------------------------------------------------------------------

WO_COLUMNS = (
    "id, number, category_id, workflow_name, workflow_version, state, state_entered_at, "
    "priority, channel, title, description, customer_id, site_id, scheduled_start_at, "
    "scheduled_end_at, assignee_id, owner_id, created_by_id, respond_by, respond_met_at, "
    "arrive_by, arrive_met_at, resolve_by, resolve_met_at, completed_at, closed_at, version, "
    "created_at, updated_at"
)
VISIT_COLUMNS = (
    "id, work_order_id, sequence, status, lead_technician_id, planned_start_at, planned_end_at, "
    "travel_started_at, arrived_at, departed_at, created_at, updated_at"
)
CREW_COLUMNS = "id, visit_id, technician_id, role"
SEQUENCES = {
    "users": "users_id_seq",
    "categories": "categories_id_seq",
    "customers": "customers_id_seq",
    "sites": "sites_id_seq",
    "work_orders": "work_orders_id_seq",
    "visits": "visits_id_seq",
    "visit_crew_members": "visit_crew_members_id_seq",
    "api_tokens": "api_tokens_id_seq",
}


def load_people(conn: psycopg.Connection[Any], plan: Plan) -> None:
    """Load the dispatcher, technicians, profiles, tokens, categories, customers and sites."""
    now, rnd = plan.now, random.Random(1)
    with conn.cursor() as cur:
        with cur.copy(
            "COPY users (id, username, display_name, email, role, locale, is_active, "
            "password_hash, is_demo, created_at, updated_at) FROM STDIN"
        ) as copy:
            copy.write_row(
                (1, "dispatch", "Dispatch", None, "dispatcher", "en", True, "-", False, now, now)
            )
            for n, uid in enumerate(plan.technician_ids, 1):
                locale = "zh_CN" if n % 3 else "en"
                row = (uid, f"tech{n:05d}", f"Technician {n}", f"tech{n}@example.com")
                copy.write_row((*row, "technician", locale, True, "-", False, now, now))
        with cur.copy(
            "COPY technician_profiles (user_id, team, region, is_on_call, max_jobs_per_day, "
            "created_at, updated_at) FROM STDIN"
        ) as copy:
            for uid in plan.technician_ids:
                team = f"team{uid % 40:02d}"
                copy.write_row((uid, team, f"region{uid % 8}", uid % 10 == 0, 6, now, now))
        with cur.copy(
            "COPY api_tokens (id, user_id, kind, audience, token_hash, family, created_at, "
            "expires_at) FROM STDIN"
        ) as copy:
            expires = now + timedelta(days=3650)
            for uid, raw in zip(plan.technician_ids, plan.tokens, strict=True):
                digest = hashlib.sha256(raw.encode()).hexdigest()
                family = secrets.token_hex(16)
                copy.write_row((uid, uid, "access", "mobile", digest, family, now, expires))
        with cur.copy(
            "COPY job_feed_counters (technician_id, last_seq, pruned_through) FROM STDIN"
        ) as copy:
            for uid in plan.technician_ids:
                copy.write_row((uid, 0, 0))
        with cur.copy(
            "COPY categories (id, code, name_en, name_zh, default_priority, workflow_name, "
            "required_skill, required_skill_level, checklist, is_active, created_at, updated_at) "
            "FROM STDIN"
        ) as copy:
            checklist = json.dumps(CHECKLIST, ensure_ascii=False)
            for cid, (code, en, zh, skill) in enumerate(CATEGORIES, 1):
                copy.write_row(
                    (cid, code, en, zh, "normal", "repair", skill, 2, checklist, True, now, now)
                )
        with cur.copy(
            "COPY customers (id, name, tier, preferred_locale, is_company, notes, created_at, "
            "updated_at) FROM STDIN"
        ) as copy:
            for cid in range(1, plan.customers + 1):
                company = cid % 4 == 0
                name = f"Customer {cid} Ltd" if company else f"客户 {cid}"
                tier = "vip" if cid % 50 == 0 else "key" if cid % 10 == 0 else "standard"
                copy.write_row((cid, name, tier, "zh_CN", company, None, now, now))
        with cur.copy(
            "COPY sites (id, customer_id, label, address, district, city, latitude, longitude, "
            "access_notes, created_at, updated_at) FROM STDIN"
        ) as copy:
            for sid in range(1, plan.customers + 1):
                lat = 31.0 + rnd.random() * 0.5
                lon = 121.2 + rnd.random() * 0.6
                address = f"{sid} Nanjing Road, Building {sid % 30}, Room {sid % 900 + 100}"
                district = f"District {sid % 16}"
                notes = "Ring the bell twice" if sid % 5 == 0 else None
                row = (sid, sid, "Main", address, district, "Shanghai", lat, lon, notes, now, now)
                copy.write_row(row)


def _order_rows(
    plan: Plan, lo: int, hi: int, rnd: random.Random
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Return the work order, visit and crew rows of order ids ``lo..hi``."""
    state_names, state_weights = _weighted(OPEN_STATES)
    visit_status = {name: status for name, _, status in OPEN_STATES}
    prio_names, prio_weights = _weighted(PRIORITIES)
    chan_names, chan_weights = _weighted(CHANNELS)
    now, hour, day = plan.now, timedelta(hours=1), timedelta(days=1)
    techs = plan.technicians
    orders, visits, crew = [], [], []
    for oid in range(lo, hi + 1):
        created = plan.created_at(oid)
        category = rnd.randrange(len(CATEGORIES))
        customer = 1 + rnd.randrange(plan.customers)
        title = f"{CATEGORIES[category][1]}: {ISSUES[rnd.randrange(len(ISSUES))]}"
        description = DESCRIPTIONS[rnd.randrange(len(DESCRIPTIONS))]
        priority = rnd.choices(prio_names, prio_weights)[0]
        channel = rnd.choices(chan_names, chan_weights)[0]
        respond_by, arrive_by, resolve_by = created + 2 * hour, created + day, created + 3 * day
        assignee = plan.open_by_id.get(oid)
        travel = arrived = departed = None
        if assignee is not None:
            state = rnd.choices(state_names, state_weights)[0]
            step = state_names.index(state)
            start = (now + rnd.randint(-48, 24 * 14) * hour).replace(minute=0, second=0)
            end = start + 2 * hour
            entered = max(created, now - timedelta(minutes=rnd.randint(5, 2880)))
            respond_met = created + timedelta(minutes=30) if step >= 1 else None
            arrive_met = resolve_met = completed = closed = None
            if step >= 2:
                travel = entered
            if step >= 3:
                arrive_met = arrived = entered
            version, status = 2 + step, visit_status[state]
        else:
            assignee = 2 + rnd.randrange(techs)
            cancelled = rnd.random() < 0.07
            state = "cancelled" if cancelled else "closed"
            start = (created + day).replace(minute=0, second=0)
            end = start + 2 * hour
            closed = min(created + rnd.randint(4, 240) * hour, now)
            completed = None if cancelled else max(created, closed - hour)
            respond_met = created + timedelta(minutes=30)
            arrive_met = None if cancelled else min(created + 20 * hour, closed)
            resolve_met = completed if completed and completed <= resolve_by else None
            entered = closed
            travel, arrived, departed = arrive_met, arrive_met, closed
            version, status = (3, "cancelled") if cancelled else (9, "done")
        orders.append(
            (
                oid,
                plan.number(oid),
                category + 1,
                "repair",
                1,
                state,
                entered,
                priority,
                channel,
                title,
                description,
                customer,
                customer,
                start,
                end,
                assignee,
                assignee,
                1,
                respond_by,
                respond_met,
                arrive_by,
                arrive_met,
                resolve_by,
                resolve_met,
                completed,
                closed,
                version,
                created,
                entered,
            )
        )
        visits.append(
            (oid, oid, 1, status, assignee, start, end, travel, arrived, departed, created, entered)
        )
        crew.append((2 * oid - 1, oid, assignee, "lead"))
        if rnd.random() < 0.05:
            helper = 2 + (assignee - 2 + 1 + rnd.randrange(techs - 1)) % techs
            crew.append((2 * oid, oid, helper, "helper"))
    return orders, visits, crew


def load_orders(conn: psycopg.Connection[Any], plan: Plan, lo: int, hi: int) -> int:
    """COPY orders ``lo..hi`` with their visits and crews; return the number of orders."""
    rnd = random.Random(lo)
    with conn.cursor() as cur:
        for first in range(lo, hi + 1, CHUNK):
            last = min(hi, first + CHUNK - 1)
            orders, visits, crew = _order_rows(plan, first, last, rnd)
            for table, columns, rows in (
                ("work_orders", WO_COLUMNS, orders),
                ("visits", VISIT_COLUMNS, visits),
                ("visit_crew_members", CREW_COLUMNS, crew),
            ):
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # noqa: S608
                    for row in rows:
                        copy.write_row(row)
    return hi - lo + 1


def finish_load(conn: psycopg.Connection[Any], plan: Plan) -> None:
    """Move the id sequences past the loaded rows, number sequences too, and ANALYZE."""
    for table, sequence in SEQUENCES.items():
        conn.execute(
            f"SELECT setval('{sequence}', COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"  # noqa: S608
        )
    conn.execute("DELETE FROM work_order_number_sequences")
    for year, first, bound in zip(
        plan.years, plan.year_firsts, plan.year_firsts[1:] + [plan.total + 1], strict=True
    ):
        conn.execute(
            "INSERT INTO work_order_number_sequences (year, last_value) VALUES (%s, %s)",
            (year, bound - first),
        )
    conn.commit()
    conn.autocommit = True
    try:
        conn.execute("VACUUM ANALYZE")
    finally:
        conn.autocommit = False


# --- Servers and wrk ---------------------------------------------------------------------------


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(app: str, env: dict[str, str], workers: int, threads: int, log: Path) -> Iterator[str]:
    """Serve ``app`` with gunicorn (gthread) until the block ends; yield its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--log-level",
        "warning",
        app,
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"gunicorn {app} exited ({process.returncode}):\n{tail}")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {app} did not answer /healthz within 90 s")
            time.sleep(0.3)
        yield base
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


LUA_COMMON = """
local counter = 1
function setup(thread)
  thread:set("thread_id", counter)
  counter = counter + 1
end
function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d status_errors=%d socket_errors=%d "
    .. "p50_us=%d p90_us=%d p99_us=%d max_us=%d\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""

LUA_JOBS = """
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
request = function()
  local token = tokens[math.random(#tokens)]
  return wrk.format("GET", "%(path)s", {["Authorization"] = "Bearer " .. token})
end
"""

LUA_BARE = """
request = function()
  return wrk.format("GET", "/row/" .. math.random(%(lo)d, %(hi)d))
end
"""


@dataclass
class Result:
    """One wrk run."""

    endpoint: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def run_wrk(
    base: str, script: Path, connections: int, seconds: int, endpoint: str, threads: int = 2
) -> Result:
    """Run wrk against ``base`` with ``script`` and return its figures."""
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "60s",
        "--latency",
        "-s",
        str(script),
        base,
    ]
    output = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, check=True, timeout=seconds + 120
    ).stdout
    line = next((x for x in output.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"no result line in wrk output:\n{output}")
    values = dict(item.split("=") for item in line.split()[1:])
    figures = {key: int(value) for key, value in values.items()}
    return Result(
        endpoint=endpoint,
        connections=connections,
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=figures["status_errors"] + figures["socket_errors"],
    )


# --- In-process look at one request ------------------------------------------------------------


@dataclass
class RequestProfile:
    """What one ``GET /jobs`` does in the database."""

    statements: int
    items: float
    list_query_ms: float
    plan: str


def profile_request(
    database_url: str, instance: Path, plan: Plan, samples: int = 20
) -> RequestProfile:
    """Count the SQL statements of one built ``GET /jobs``; EXPLAIN ANALYZE its list query."""
    from sqlalchemy import event

    from server import create_app
    from server.extensions import db

    app = create_app(
        {
            "FIELDWORK_DATABASE_URL": database_url,
            "FIELDWORK_INSTANCE_PATH": str(instance),
            "FIELDWORK_SECRET_KEY": "bench",
        }
    )
    captured: list[tuple[str, Any]] = []

    def _count(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    client = app.test_client()
    rnd = random.Random(7)
    items, statements = [], []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _count)
        try:
            for n, token in enumerate(rnd.sample(plan.tokens, min(samples, len(plan.tokens)))):
                captured.clear()
                # A size never kept: the page is built, as on a phone's first poll.
                response = client.get(
                    f"{JOBS_PATH}?limit={BUILT_LIMIT}",
                    headers={"Authorization": f"Bearer {token}"},
                )
                if response.status_code != 200:
                    raise RuntimeError(
                        f"GET /jobs answered {response.status_code}: {response.data}"
                    )
                items.append(len(response.get_json()["items"]))
                if n:  # the first request of a process also loads caches
                    statements.append(len(captured))
            list_sql, params = next(
                (s, p) for s, p in captured if "ORDER BY work_orders.id" in s and "LIMIT" in s
            )
        finally:
            event.remove(db.engine, "before_cursor_execute", _count)
        with db.engine.connect() as conn:
            lines = [
                row[0]
                for row in conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + list_sql, params
                ).all()
            ]
        db.engine.dispose()
    execution = next((x for x in lines if x.startswith("Execution Time")), "0 ms")
    return RequestProfile(
        statements=max(statements) if statements else 0,
        items=sum(items) / len(items),
        list_query_ms=float(execution.split(":")[1].split()[0]) if ":" in execution else 0.0,
        plan="\n".join(lines),
    )


# --- The run -----------------------------------------------------------------------------------


@dataclass
class Phase:
    """Figures measured at one data size."""

    orders: int
    load_seconds: float
    results: list[Result]
    profile: RequestProfile


def measure(
    args: argparse.Namespace,
    plan: Plan,
    database_url: str,
    dsn: str,
    work: Path,
    id_range: tuple[int, int],
) -> list[Result]:
    """Measure the bare endpoint and ``GET /jobs`` at each connection count."""
    tokens = work / "tokens.txt"
    tokens.write_text("\n".join(plan.tokens) + "\n")
    jobs_lua = work / "jobs.lua"
    jobs_lua.write_text(LUA_COMMON + LUA_JOBS % {"tokens": tokens, "path": JOBS_PATH})
    bare_lua = work / "bare.lua"
    bare_lua.write_text(LUA_COMMON + LUA_BARE % {"lo": id_range[0], "hi": id_range[1]})
    instance = work / "instance"
    instance.mkdir(exist_ok=True)
    env = {
        "FIELDWORK_DATABASE_URL": database_url,
        "FIELDWORK_INSTANCE_PATH": str(instance),
        "FIELDWORK_SECRET_KEY": "bench-secret-key",
        "FIELDWORK_BENCH_DSN": dsn,
        "PYTHONPATH": str(ROOT),
    }
    built_lua = work / "jobs_built.lua"
    built_lua.write_text(
        LUA_COMMON + LUA_JOBS % {"tokens": tokens, "path": f"{JOBS_PATH}?limit={BUILT_LIMIT}"}
    )
    print(f"  host load average before measuring: {os.getloadavg()[0]:.2f}", flush=True)
    endpoints = (
        ("bare /row/<id>", "bench.bare_app:app", bare_lua),
        (JOBS_LABEL, "server:create_app()", jobs_lua),
        (BUILT_LABEL, "server:create_app()", built_lua),
    )
    log = work / "gunicorn.log"
    with (
        gunicorn("bench.bare_app:app", env, args.workers, args.threads, log) as bare_base,
        gunicorn("server:create_app()", env, args.workers, args.threads, log) as app_base,
    ):
        prime(app_base, plan.tokens)
        bases = {"bench.bare_app:app": bare_base, "server:create_app()": app_base}
        for label, app, script in endpoints:
            run_wrk(bases[app], script, max(args.connections), args.warmup, label)
        # Interleaved rounds, each figure the median: a shared VM's slow spells hit every
        # endpoint alike instead of whichever ran at the time.
        runs: dict[tuple[str, int], list[Result]] = {}
        for round_ in range(1, args.rounds + 1):
            for connections in args.connections:
                for label, app, script in endpoints:
                    result = run_wrk(bases[app], script, connections, args.duration, label)
                    runs.setdefault((label, connections), []).append(result)
                    print(
                        f"  round {round_}  {label:<20} c={connections:<3} {result.rps:8.1f} "
                        f"req/s  p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms"
                        + (f"  ERRORS {result.errors}" if result.errors else ""),
                        flush=True,
                    )
    return [_median(found) for found in runs.values()]


def _median(results: list[Result]) -> Result:
    """Return the run of median req/s, with the median p50 and p99 of all runs."""
    middle = sorted(results, key=lambda r: r.rps)[len(results) // 2]
    return Result(
        endpoint=middle.endpoint,
        connections=middle.connections,
        rps=middle.rps,
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        errors=sum(r.errors for r in results),
    )


def prime(base: str, tokens: list[str]) -> None:
    """Fetch every technician's page once, as their phones did before the measurement.

    The first page is kept as sent until something on it changes (``job_list_pages``), so
    a server whose phones poll serves most requests from there; this is that steady state.
    ``GET /jobs?limit=49`` (never kept: not the default size) measures the page built
    every time.
    """
    started = time.perf_counter()

    def fetch(token: str) -> None:
        request = urllib.request.Request(  # noqa: S310 - loopback
            base + JOBS_PATH, headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(fetch, tokens))
    print(
        f"  primed: each of {len(tokens):,} technicians fetched their first page once "
        f"({time.perf_counter() - started:.1f} s)",
        flush=True,
    )


def _bare_for(results: list[Result], connections: int) -> Result:
    return next(
        r for r in results if r.endpoint.startswith("bare") and r.connections == connections
    )


def report(plan: Plan, phases: list[Phase], args: argparse.Namespace) -> None:
    """Print the table and the target checks."""
    print()
    print(
        f"Data: {plan.technicians:,} technicians, {len(plan.open_by_id):,} open jobs "
        f"({len(plan.open_by_id) / plan.technicians:.1f} a technician), "
        f"{plan.customers:,} customers/sites; one visit per order, assignee as lead, "
        "a helper on 5 %"
    )
    for phase in phases:
        print(
            f"  {phase.orders:>9,} orders: loaded in {phase.load_seconds:6.1f} s; a page built "
            f"runs {phase.profile.statements} SQL statements, "
            f"{phase.profile.items:.1f} items a page, "
            f"list query {phase.profile.list_query_ms:.2f} ms (EXPLAIN ANALYZE)"
        )
    print()
    header = f"{'orders':>10} | {'endpoint':<20} | {'conns':>5} | {'req/s':>8} | "
    header += f"{'p50 ms':>8} | {'p99 ms':>8} | {'ratio to bare':>13} | errors"
    print(header)
    print("-" * len(header))
    for phase in phases:
        for r in phase.results:
            bare = _bare_for(phase.results, r.connections)
            ratio = "" if r is bare else f"{r.rps / bare.rps:.3f}"
            print(
                f"{phase.orders:>10,} | {r.endpoint:<20} | {r.connections:>5} | {r.rps:>8.1f} | "
                f"{r.p50_ms:>8.2f} | {r.p99_ms:>8.2f} | {ratio:>13} | {r.errors}"
            )
    print()
    print(
        f"Targets are checked on {JOBS_LABEL} (the page phones poll, kept while unchanged); "
        f"{BUILT_LABEL} is the page built on every request, for the record."
    )
    for phase in phases:
        for r in phase.results:
            if r.endpoint.startswith("bare"):
                continue
            _check(
                r.errors == 0, f"{phase.orders:,} orders, {r.endpoint} c={r.connections}: no errors"
            )
            if r.endpoint != JOBS_LABEL:
                continue
            bare = _bare_for(phase.results, r.connections)
            ratio = r.rps / bare.rps
            _check(
                ratio >= MIN_RATIO_TO_BARE,
                f"{phase.orders:,} orders, c={r.connections}: GET /jobs req/s = {ratio:.3f} x bare "
                f"(target >= {MIN_RATIO_TO_BARE})",
            )
            if r.connections == 8:
                _check(
                    r.p99_ms <= MAX_P99_MS_AT_8,
                    f"{phase.orders:,} orders, c=8: GET /jobs p99 = {r.p99_ms:.1f} ms "
                    f"(target <= {MAX_P99_MS_AT_8:.0f} ms)",
                )
    if len(phases) == 2:
        small, big = phases
        for a in small.results:
            if a.endpoint != JOBS_LABEL:
                continue
            b = next(
                x
                for x in big.results
                if x.endpoint == a.endpoint and x.connections == a.connections
            )
            _check(
                b.rps >= SIZE_RPS_TOLERANCE * a.rps,
                f"c={a.connections}: GET /jobs req/s at {big.orders:,} = {b.rps / a.rps:.2f} x "
                f"at {small.orders:,} (target >= {SIZE_RPS_TOLERANCE})",
            )
            limit = max(SIZE_P99_TOLERANCE * a.p99_ms, a.p99_ms + SIZE_P99_SLACK_MS)
            _check(
                b.p99_ms <= limit,
                f"c={a.connections}: GET /jobs p99 at {big.orders:,} = {b.p99_ms:.1f} ms vs "
                f"{a.p99_ms:.1f} ms at {small.orders:,} (target <= {limit:.1f} ms)",
            )
    if args.explain:
        for phase in phases:
            print(f"\nList query plan at {phase.orders:,} orders:\n{phase.profile.plan}")


def _check(ok: bool, text: str) -> None:
    print(f"{'PASS' if ok else 'FAIL'}  {text}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.mobile_sync",
        description="GET /api/mobile/v1/jobs over HTTP (gunicorn + wrk) on PostgreSQL.",
    )
    parser.add_argument("--orders", type=int, help="orders in phase 1 (default 200,000)")
    parser.add_argument(
        "--grow-to", type=int, help="orders in phase 2 (default 1,000,000; 0 skips phase 2)"
    )
    parser.add_argument("--technicians", type=int, help="technicians (default 2,000)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 20,000 -> 100,000 orders, 200 techs"
    )
    parser.add_argument("--duration", type=int, help="seconds per wrk run (default 15)")
    parser.add_argument("--warmup", type=int, help="seconds of wrk warm-up (default 5)")
    parser.add_argument(
        "--connections",
        type=lambda text: [int(x) for x in text.split(",")],
        default=[8, 64],
        help="comma-separated wrk connection counts (default 8,64)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds; figures are medians (3)"
    )
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers (default 5)")
    parser.add_argument("--threads", type=int, default=2, help="threads a worker (default 2)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--explain", action="store_true", help="print the list query plans")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "FIELDWORK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="an admin database URL to create the bench database from",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "orders": 20_000 if quick else 200_000,
        "grow_to": 100_000 if quick else 1_000_000,
        "technicians": 200 if quick else 2_000,
        "duration": 5 if quick else 15,
        "warmup": 2 if quick else 5,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.grow_to and args.grow_to <= args.orders:
        parser.error("--grow-to must be larger than --orders (or 0)")
    return args


def _sigterm(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Build the data, measure at each size, print the figures, drop the database."""
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: install the 'wrk' package "
            "(apt-get install -y wrk, or `make bench-deps`)"
        )
    signal.signal(signal.SIGTERM, _sigterm)
    sizes = [args.orders] + ([args.grow_to] if args.grow_to else [])
    plan = make_plan(args.technicians, sizes, args.seed)
    admin = make_url(args.postgres).set(drivername="postgresql")
    name = f"fieldwork_bench_{secrets.token_hex(4)}"
    admin_dsn = admin.render_as_string(hide_password=False)
    dsn = admin.set(database=name).render_as_string(hide_password=False)
    database_url = admin.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    print(f"Database {name}; sizes {', '.join(f'{s:,}' for s in sizes)} orders", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="fieldwork-bench-") as folder:
            work = Path(folder)
            migrate(database_url, work)
            phases = []
            loaded = 0
            with psycopg.connect(dsn) as conn:
                started = time.perf_counter()
                load_people(conn, plan)
                for size in sizes:
                    if loaded == 0:
                        # The newest orders first: they hold every open job.
                        load_orders(conn, plan, plan.total - size + 1, plan.total)
                    else:
                        # Older history below them, as if the company had been around longer.
                        load_orders(conn, plan, plan.total - size + 1, plan.total - loaded)
                    loaded = size
                    finish_load(conn, plan)
                    seconds = time.perf_counter() - started
                    print(f"Loaded {size:,} orders in {seconds:.1f} s; measuring", flush=True)
                    profile = profile_request(database_url, work / "instance", plan)
                    results = measure(
                        args, plan, database_url, dsn, work, (plan.total - size + 1, plan.total)
                    )
                    phases.append(Phase(size, seconds, results, profile))
                    started = time.perf_counter()
            report(plan, phases, args)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(f"Dropped {name}")


def migrate(database_url: str, work: Path) -> None:
    """Build the schema with the project's migrations."""
    from flask_migrate import upgrade

    from server import create_app
    from server.extensions import db

    app = create_app(
        {
            "FIELDWORK_DATABASE_URL": database_url,
            "FIELDWORK_INSTANCE_PATH": str(work / "instance"),
            "FIELDWORK_SECRET_KEY": "bench",
        }
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted")
