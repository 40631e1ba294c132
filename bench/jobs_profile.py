"""Where one ``GET /api/mobile/v1/jobs`` spends its time, in process, with cProfile.

Run: ``python -m bench.jobs_profile [--orders 200000] [--technicians 2000] [--requests 2000]
[--keep DBNAME]``. Loads the data of ``bench.mobile_sync`` (same plan, same loader) into a
throw-away PostgreSQL database, or reuses the one named by ``--keep`` (created and kept on
the first run, so later runs skip the load), then serves ``--requests`` requests of random
technicians through the Flask test client and prints the CPU time per request and the
functions that cost the most. No HTTP server, no wrk: this is for finding hot spots;
``bench.mobile_sync`` is the measurement.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.mobile_sync import (
    JOBS_PATH,
    finish_load,
    load_orders,
    load_people,
    make_plan,
    migrate,
)


def main() -> None:
    """Load (or reuse) the data, then profile requests."""
    parser = argparse.ArgumentParser(prog="python -m bench.jobs_profile", description=__doc__)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--technicians", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--keep", help="database name to create once and reuse")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    plan = make_plan(args.technicians, [args.orders], 2024)
    admin = make_url(args.postgres).set(drivername="postgresql")
    name = args.keep or f"fieldwork_profile_{random.randrange(1 << 32):08x}"
    dsn = admin.set(database=name).render_as_string(hide_password=False)
    url = admin.set(drivername="postgresql+psycopg", database=name).render_as_string(False)
    admin_dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    work = Path(tempfile.mkdtemp(prefix="fieldwork-profile-"))
    try:
        if not exists:
            migrate(url, work)
            with psycopg.connect(dsn) as conn:
                load_people(conn, plan)
                load_orders(conn, plan, 1, plan.total)
                finish_load(conn, plan)
            print(f"loaded {args.orders:,} orders into {name}")
        profile(url, work, plan.tokens, args.requests, args.top)
    finally:
        if not args.keep:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def profile(url: str, work: Path, tokens: list[str], requests: int, top: int) -> None:
    """Serve ``requests`` GET /jobs of random technicians under cProfile; print the figures."""
    from server import create_app

    app = create_app(
        {
            "FIELDWORK_DATABASE_URL": url,
            "FIELDWORK_INSTANCE_PATH": str(work / "instance"),
            "FIELDWORK_SECRET_KEY": "bench",
        }
    )
    client = app.test_client()
    rnd = random.Random(1)
    for token in rnd.sample(tokens, 50):  # warm the caches and the pool
        client.get(JOBS_PATH, headers={"Authorization": f"Bearer {token}"})
    picks = [rnd.choice(tokens) for _ in range(requests)]
    profiler = cProfile.Profile()
    cpu, wall = time.process_time(), time.perf_counter()
    profiler.enable()
    for token in picks:
        response = client.get(JOBS_PATH, headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 200:
            raise SystemExit(f"GET /jobs answered {response.status_code}")
    profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    each_cpu, each_wall = cpu / requests * 1000, wall / requests * 1000
    print(f"{requests} requests: {each_cpu:.2f} ms CPU, {each_wall:.2f} ms wall each (profiled)")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
