"""Messages per second through the outbox relay, embedded and on the real queue.

Run: ``python -m bench.outbox [--messages 3000] [--broker redis://127.0.0.1:6379/0]``.

Each run makes a throw-away PostgreSQL database (and one SQLite file), queues webhook
messages for a receiver on loopback that answers at once, starts real ``flask worker``
processes and times how long they take to deliver everything:

- embedded: one worker process, its relay thread feeding FIELDWORK_WORKER_THREADS threads;
- queue: two worker processes on Dramatiq over the broker (Redis by default).

The deadline sweep over 1,000,000 open orders is ``python -m bench.deadlines``; with
``--sweep`` this script runs it too.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "FIELDWORK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


class Receiver:
    """Counts webhook deliveries (by delivery id) and answers 200 at once."""

    def __init__(self) -> None:
        self.delivered: set[str] = set()
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests += 1
                receiver.delivered.add(self.headers["Fieldwork-Delivery"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def create_database() -> tuple[str, str]:
    name = f"fieldwork_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(database_url: str, instance: Path, receiver_url: str, messages: int) -> None:
    """Migrate and queue ``messages`` webhook messages."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from server import create_app
    from server.extensions import db
    from server.models import OutboxMessage, OutboxStatus
    from server.models.base import utcnow
    from server.services.webhooks import create_webhook

    app = create_app(
        {
            "FIELDWORK_DATABASE_URL": database_url,
            "FIELDWORK_INSTANCE_PATH": str(instance),
            "FIELDWORK_SECRET_KEY": "bench",
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        subscription = create_webhook({"url": receiver_url, "events": ["work_order.created"]})
        now = utcnow()
        db.session.execute(
            insert(OutboxMessage),
            [
                {
                    "action": "webhook",
                    "payload": {"subscription_id": subscription.id, "event": {"n": n}},
                    "status": OutboxStatus.PENDING,
                    "available_at": now,
                    "attempts": 0,
                    "created_at": now,
                }
                for n in range(messages)
            ],
        )
        db.session.commit()
        db.engine.dispose()


def drain(
    database_url: str, instance: Path, receiver: Receiver, messages: int, **env: str
) -> float:
    """Start the workers; return the seconds until every message was delivered."""
    workers = int(env.pop("WORKERS", "1"))
    environment = {
        **os.environ,
        "FIELDWORK_DATABASE_URL": database_url,
        "FIELDWORK_INSTANCE_PATH": str(instance),
        "FIELDWORK_SECRET_KEY": "bench",
        "FIELDWORK_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on loopback
        **env,
    }
    started = time.perf_counter()
    processes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "flask", "--app", "server", "worker"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        while len(receiver.delivered) < messages:
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"only {len(receiver.delivered)} of {messages} in 600 s")
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)


def measure(label: str, database_url: str, messages: int, **env: str) -> None:
    receiver = Receiver()
    instance = Path(tempfile.mkdtemp())
    prepare(database_url, instance, receiver.url, messages)
    seconds = drain(database_url, instance, receiver, messages, **env)
    duplicates = receiver.requests - len(receiver.delivered)
    print(
        f"{label:<44} {messages:>6} messages  {seconds:6.2f} s  "
        f"{messages / seconds:7.0f} msg/s  (duplicates {duplicates})",
        flush=True,
    )
    receiver.server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--sweep", action="store_true", help="also run bench.deadlines")
    args = parser.parse_args()
    print(f"outbox throughput, {os.cpu_count()} cores; process start-up included", flush=True)
    threads = str(args.threads)

    sqlite_file = Path(tempfile.mkdtemp()) / "bench.db"
    measure(
        f"SQLite, embedded, 1 worker x {threads} threads",
        f"sqlite:///{sqlite_file}",
        args.messages,
        FIELDWORK_WORKER_THREADS=threads,
    )
    for label, env in (
        (f"PostgreSQL, embedded, 1 worker x {threads} threads", {}),
        (f"PostgreSQL, embedded, 2 workers x {threads} threads", {"WORKERS": "2"}),
        (
            f"PostgreSQL, queue ({args.broker.split(':')[0]}), 2 workers x {threads}",
            {"WORKERS": "2", "FIELDWORK_BROKER_URL": args.broker},
        ),
    ):
        name, url = create_database()
        try:
            measure(label, url, args.messages, FIELDWORK_WORKER_THREADS=threads, **env)
        finally:
            drop_database(name)
    if args.sweep:
        subprocess.run([sys.executable, "-m", "bench.deadlines"], cwd=ROOT, check=True)  # noqa: S603


if __name__ == "__main__":
    main()
