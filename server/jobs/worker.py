"""``flask worker``: the relay loop and the job runner it feeds.

One relay thread claims due outbox rows and hands their ids to a runner:

- embedded (no ``FIELDWORK_BROKER_URL``): a pool of threads in this process, no other
  service needed;
- queue (``FIELDWORK_BROKER_URL=redis://…`` or ``amqp://…``): the ids go onto a Dramatiq
  queue and this process's consumer threads (and those of every other worker) run them.

Either way the task code is :func:`server.jobs.relay.run_message`. On PostgreSQL any number
of workers claim side by side (``SKIP LOCKED``); on SQLite exactly one relay runs, the holder
of the ``outbox.relay`` lease, and the others wait for it.
"""

from __future__ import annotations

import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Protocol

from flask import Flask
from sqlalchemy import func, select

from server.extensions import db, sqlite_write_intent
from server.jobs import relay
from server.models import OutboxMessage, OutboxStatus
from server.models.base import utcnow

log = logging.getLogger("fieldwork.worker")

#: Name of the lease that makes one relay the only one on SQLite.
RELAY_LEASE = "outbox.relay"


def relay_lease_ttl(app: Flask) -> timedelta:
    """Return how long the SQLite relay's lease lasts: the outbox lease, within 3–30 s."""
    seconds = app.config["FIELDWORK_SETTINGS"].outbox_lease_seconds
    return timedelta(seconds=min(max(seconds, 3), 30))


class Runner(Protocol):
    """Where the relay hands claimed messages."""

    def capacity(self) -> int:
        """Return how many more messages this runner should be given now."""

    def submit(self, message_id: int, claim: str) -> None:
        """Run (or queue) one claimed message."""

    def close(self) -> None:
        """Finish what was handed over, then release the threads."""


class ThreadRunner:
    """The embedded runner: ``threads`` threads in this process."""

    def __init__(self, app: Flask, threads: int) -> None:
        self.app = app
        self.threads = threads
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="outbox")
        self.lock = threading.Lock()
        self.in_flight = 0

    def capacity(self) -> int:
        """Return the idle threads."""
        with self.lock:
            return self.threads - self.in_flight

    def submit(self, message_id: int, claim: str) -> None:
        """Run the message on a pool thread."""
        with self.lock:
            self.in_flight += 1
        self.pool.submit(self._run, message_id, claim)

    def _run(self, message_id: int, claim: str) -> None:
        sqlite_write_intent.set(True)  # a context variable: each pool thread sets its own
        try:
            with self.app.app_context():
                relay.run_message(message_id, claim)
        except Exception:  # noqa: BLE001 - the lease brings the message back; keep the thread
            log.exception("outbox message %s could not be run", message_id)
        finally:
            with self.lock:
                self.in_flight -= 1

    def close(self) -> None:
        """Wait for the running tasks, then stop the threads."""
        self.pool.shutdown(wait=True)


class QueueRunner:
    """The scale-out runner: a Dramatiq queue, consumed by every worker process's threads."""

    def __init__(self, app: Flask, broker_url: str, threads: int) -> None:
        from server.jobs.queue import OutboxQueue, make_broker

        self.queue = OutboxQueue(app, make_broker(broker_url))
        self.stop_consumers = self.queue.start_consumers(threads)
        #: Rows this relay may have on the queue at once; more waits in the database.
        self.high_water = threads * 4
        self.claimer = relay.worker_name()

    def capacity(self) -> int:
        """Return how many more rows this relay may put on the queue."""
        # Rows this relay claimed and the queue has not finished: counted in the database,
        # because whichever process's consumer runs them, they finish there.
        queued = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PROCESSING,
                OutboxMessage.locked_by == self.claimer,
            )
        )
        db.session.commit()
        return self.high_water - int(queued or 0)

    def submit(self, message_id: int, claim: str) -> None:
        """Send the message's id to the queue."""
        self.queue.submit(message_id, claim)

    def close(self) -> None:
        """Stop this process's consumer threads (queued messages stay for the others)."""
        self.stop_consumers()


def _make_runner(app: Flask, threads: int) -> Runner:
    broker_url = app.config["FIELDWORK_SETTINGS"].broker_url
    if broker_url:
        with app.app_context():
            return QueueRunner(app, broker_url, threads)
    return ThreadRunner(app, threads)


def work(
    app: Flask,
    stop: threading.Event,
    *,
    idle_sleep: float = 1.0,
    threads: int | None = None,
) -> None:
    """Relay due messages to the runner until ``stop`` is set; then drain and return."""
    import server.jobs.tasks  # noqa: F401  (registers the tasks)
    from server.jobs.scheduler import acquire_lease

    threads = threads or app.config["FIELDWORK_SETTINGS"].worker_threads
    runner = _make_runner(app, threads)
    claimer = relay.worker_name()
    with app.app_context():
        single_relay = db.engine.dialect.name == "sqlite"
    lease_renewed_at: datetime | None = None
    lease_ttl = relay_lease_ttl(app)
    log.info("worker %s started (%s, %s threads)", claimer, type(runner).__name__, threads)
    try:
        while not stop.is_set():
            handed, free = 0, 1
            try:
                with app.app_context():
                    sqlite_write_intent.set(True)
                    if single_relay and (
                        lease_renewed_at is None or utcnow() - lease_renewed_at > lease_ttl / 3
                    ):
                        if acquire_lease(claimer, name=RELAY_LEASE, ttl=lease_ttl) is None:
                            lease_renewed_at = None
                            stop.wait(idle_sleep)
                            continue
                        lease_renewed_at = utcnow()
                    free = runner.capacity()
                    if free > 0:
                        for message_id in relay.claim(claimer, limit=min(free, 100)):
                            runner.submit(message_id, claimer)
                            handed += 1
            except Exception:  # noqa: BLE001 - a failing batch (database restart) must not end the loop
                log.exception("relay batch failed; retrying shortly")
            if not handed:
                stop.wait(idle_sleep if free > 0 else min(idle_sleep, 0.05))
    finally:
        runner.close()
        log.info("worker %s stopped", claimer)


def run_forever(app: Flask) -> None:
    """Run the worker in the foreground until SIGINT or SIGTERM (``flask worker``)."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with suppress(KeyboardInterrupt):
        work(app, stop)
