"""Real ``flask worker`` and scheduler processes: crashes, several workers, the real queue.

Each test builds its own database, starts the processes the way an operator does, and
counts what a webhook receiver on loopback gets. Receivers de-duplicate by the
``Fieldwork-Delivery`` id, as the webhook documentation tells integrators to (the outbox
is at-least-once: a worker killed after sending and before recording sends again).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from server.extensions import db
from server.models import Delivery, OutboxMessage, OutboxStatus
from server.models.base import utcnow
from server.services.webhooks import create_webhook
from tests.conftest import dispose
from tests.integration.races import make_app

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


class Receiver:
    """A webhook receiver on 127.0.0.1 that records every POST by its delivery id."""

    def __init__(self) -> None:
        self.deliveries: list[str] = []
        self.bodies: dict[str, dict] = {}
        #: Called with the delivery id before answering (a test may kill the sender here).
        self.on_request = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                delivery = self.headers["Fieldwork-Delivery"]
                receiver.deliveries.append(delivery)
                receiver.bodies[delivery] = json.loads(body)
                if receiver.on_request is not None:
                    receiver.on_request(delivery)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app(databases, tmp_path):
    """An app on a fresh, migrated database of its own (the processes share it)."""
    application = make_app(databases.create(), tmp_path, migrate=True)
    yield application
    dispose(application)


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


class Processes:
    """Start ``flask`` commands against one database; stop them all at the end."""

    def __init__(self, database_url: str, instance: Path, **env: str) -> None:
        self.env = {
            **os.environ,
            "FIELDWORK_DATABASE_URL": database_url,
            "FIELDWORK_INSTANCE_PATH": str(instance),
            "FIELDWORK_SECRET_KEY": "process-test-secret",
            "PYTHONPATH": str(ROOT),
            "FIELDWORK_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on loopback
            **env,
        }
        self.running: list[subprocess.Popen] = []

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, *args],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.running.append(process)
        return process

    def worker(self, **env: str) -> subprocess.Popen:
        return self.start("-m", "flask", "--app", "server", "worker", **env)

    def stop_all(self) -> list[str]:
        """SIGTERM every process still alive, wait, and return what each wrote to stderr."""
        for process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        errors = []
        for process in self.running:
            try:
                _, stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                _, stderr = process.communicate()
            errors.append(stderr.decode(errors="replace"))
        return errors


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def queue_webhooks(app, url: str, count: int) -> list[int]:
    """Commit ``count`` webhook outbox messages for one subscription; return their ids."""
    with app.app_context():
        subscription = create_webhook({"url": url, "events": ["work_order.created"]})
        now = utcnow()
        rows = [
            {
                "action": "webhook",
                "payload": {
                    "subscription_id": subscription.id,
                    "event": {"kind": "work_order.created", "n": n},
                },
                "status": OutboxStatus.PENDING,
                "available_at": now,
                "attempts": 0,
                "created_at": now,
            }
            for n in range(count)
        ]
        db.session.execute(insert(OutboxMessage), rows)
        db.session.commit()
        ids = list(db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))
        db.session.remove()
    return ids


def outbox_counts(app) -> Counter:
    with app.app_context():
        counts = Counter(
            {
                status: n
                for status, n in db.session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                )
            }
        )
        db.session.remove()
    return counts


def test_worker_killed_between_sending_and_recording_sends_again_once(app, tmp_path, receiver):
    """H7: SIGKILL after the webhook left but before the outbox recorded it."""
    [message_id] = queue_webhooks(app, receiver.url, 1)
    processes = Processes(
        app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, FIELDWORK_OUTBOX_LEASE_SECONDS="2"
    )
    try:
        first = processes.worker()

        def kill_the_sender(_delivery: str) -> None:
            if receiver.on_request is not None:
                receiver.on_request = None
                os.kill(first.pid, signal.SIGKILL)

        receiver.on_request = kill_the_sender
        assert first.wait(timeout=60) == -signal.SIGKILL
        assert receiver.deliveries == [str(message_id)]
        assert outbox_counts(app)[OutboxStatus.PROCESSING] == 1  # held by the dead worker

        processes.worker()  # the replacement takes the row once the dead worker's lease ends
        wait_until(lambda: outbox_counts(app)[OutboxStatus.DONE] == 1, 60, "the redelivery")
    finally:
        errors = processes.stop_all()
    # Sent twice under the same delivery id, so the receiver applies it once.
    assert receiver.deliveries == [str(message_id), str(message_id)]
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message.attempts == 2
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 1
        db.session.remove()
    assert "Traceback" not in errors[-1], errors[-1]


def test_embedded_worker_threads_deliver_every_message_once(app, tmp_path, receiver):
    ids = queue_webhooks(app, receiver.url, 120)
    processes = Processes(
        app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, FIELDWORK_WORKER_THREADS="4"
    )
    try:
        processes.worker()
        processes.worker()  # on SQLite it waits for the relay lease; on PostgreSQL both claim
        wait_until(lambda: outbox_counts(app)[OutboxStatus.DONE] == len(ids), 90, "delivery")
    finally:
        errors = processes.stop_all()
    assert sorted(map(int, receiver.deliveries)) == ids
    assert all("Traceback" not in error for error in errors), errors


HEARTBEAT_SCHEDULER = """
import sys
from datetime import timedelta

from server import create_app
from server.extensions import db
from server.jobs import scheduler
from server.models import OutboxMessage

subscription_id = int(sys.argv[1])


def heartbeat(now):
    # One webhook per period: the receiver sees which periods fired, and how often.
    period = int(now.timestamp()) // 2
    db.session.add(OutboxMessage(action="webhook", payload={
        "subscription_id": subscription_id,
        "event": {"kind": "heartbeat", "period": period},
    }))
    return 1


scheduler.RENEW_EVERY = timedelta(seconds=0.2)
# Only the heartbeat: this drill is about the lease and the period claims, not the real jobs.
scheduler.JOBS[:] = [scheduler.PeriodicJob("test.heartbeat", timedelta(seconds=2), heartbeat)]
scheduler.run_scheduler(create_app())
"""


def _broker_urls() -> list[str]:
    return ["redis://127.0.0.1:6379/0", "amqp://guest:guest@127.0.0.1:5672/%2F"]


@pytest.mark.parametrize("broker_url", _broker_urls(), ids=["redis", "rabbitmq"])
def test_queue_workers_and_schedulers_handle_each_message_once(app, tmp_path, receiver, broker_url):
    """2 workers on the real queue (one killed and replaced) + 2 schedulers, 1,000 messages.

    On SQLite one relay feeds the queue (the others wait for its lease) while every worker's
    threads consume it; on PostgreSQL every worker's relay claims too.
    """
    ids = queue_webhooks(app, receiver.url, 1000)
    with app.app_context():
        from server.models import WebhookSubscription

        subscription_id = db.session.scalar(select(WebhookSubscription.id))
        db.session.remove()
    processes = Processes(
        app.config["SQLALCHEMY_DATABASE_URI"],
        tmp_path,
        FIELDWORK_BROKER_URL=broker_url,
        FIELDWORK_WORKER_THREADS="4",
        FIELDWORK_OUTBOX_LEASE_SECONDS="5",
    )
    script = tmp_path / "heartbeat_scheduler.py"
    script.write_text(HEARTBEAT_SCHEDULER)
    started = time.monotonic()
    try:
        doomed = processes.worker()
        processes.worker()
        for _ in range(2):
            processes.start(str(script), str(subscription_id))
        wait_until(lambda: len(receiver.deliveries) >= 300, 90, "the first 300 deliveries")
        doomed.send_signal(signal.SIGKILL)  # its claimed and queued rows come back by lease
        processes.worker()
        wait_until(
            lambda: {int(d) for d in receiver.deliveries} >= set(ids), 120, "all 1,000 messages"
        )
        # Let the schedulers run a while longer than the workers needed.
        time.sleep(max(0.0, 15 - (time.monotonic() - started)))
    finally:
        errors = processes.stop_all()
    delivered = Counter(receiver.deliveries)
    assert {int(d) for d in delivered} >= set(ids)
    # Only what the killed worker had in hand may arrive twice (and is de-duplicated by id).
    assert sum(n - 1 for n in delivered.values()) <= 4 * 4
    with app.app_context():
        per_message = db.session.execute(
            select(Delivery.outbox_message_id, func.count()).group_by(Delivery.outbox_message_id)
        ).all()
        assert all(n == 1 for _, n in per_message)
        assert len(per_message) >= len(ids)
        db.session.remove()
    periods = [
        body["event"]["period"]
        for body in receiver.bodies.values()
        if body["event"]["kind"] == "heartbeat"
    ]
    assert len(periods) >= 4, errors[2:]
    assert len(set(periods)) == len(periods), "a period fired twice"
    # A period whose whole window passes while the leader waits for the database (three
    # workers write hard here) is coalesced into the next run, as APScheduler's coalesce
    # does; but the schedulers must keep firing through the drill, not stop.
    span = max(periods) - min(periods) + 1
    assert len(periods) >= span * 0.5, f"fired {len(periods)} of {span} periods"
    assert all("Traceback" not in error for error in errors[1:]), errors


def test_lease_setting_rejects_nonsense():
    from server.config import load_settings

    with pytest.raises(ValueError, match="FIELDWORK_OUTBOX_LEASE_SECONDS"):
        load_settings({"FIELDWORK_OUTBOX_LEASE_SECONDS": "soon"}, overrides={})
    settings = load_settings({"FIELDWORK_WORKER_THREADS": "8"}, overrides={})
    assert settings.worker_threads == 8
    assert timedelta(seconds=settings.outbox_lease_seconds) == timedelta(minutes=5)
