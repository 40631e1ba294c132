"""The real queue for scale-out workers: Dramatiq over Redis or RabbitMQ.

The outbox stays the source of truth. A relay claims due rows (a lease in the database,
``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and sends each row's id to the queue; a worker
thread takes it from the queue and runs the same task code as the embedded runner
(:func:`server.jobs.relay.run_message`). A queue message only says "run row N under claim
C": if the claim has moved on (the lease ran out and another relay took the row), the stale
queue message does nothing. So a message the broker redelivers, or one lost with a killed
worker, can neither run a task twice at once nor be forgotten: the lease brings it back.

Dramatiq rather than Celery: a smaller library with one clear delivery model (at-least-once,
acks after the actor returns), Redis and RabbitMQ brokers maintained in the same project,
and a ``Worker`` class we can run inside ``flask worker`` next to the relay thread. Its own
retries are switched off (``max_retries=0``): backoff, jitter and dead-lettering are the
outbox's, identical in both modes. Delayed delivery is never used: timers live in the
database and the scheduler (Redis-based brokers redeliver long-delayed messages).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

log = logging.getLogger("fieldwork.queue")

#: Prefix of the Dramatiq queue that carries outbox message ids.
QUEUE_PREFIX = "fieldwork-outbox"
#: The actor's name on the wire; keep it stable across releases.
ACTOR_NAME = "fieldwork.run_outbox_message"
#: How long a queue message waits before its worker gives up (ms): far beyond any task.
TIME_LIMIT_MS = 15 * 60 * 1000


def make_broker(url: str) -> Any:
    """Return a Dramatiq broker for ``redis://``/``rediss://`` or ``amqp://``/``amqps://``."""
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        from dramatiq.brokers.redis import RedisBroker

        # A dead worker's unacknowledged messages return to the queue after this heartbeat.
        return RedisBroker(url=url, namespace="fieldwork", heartbeat_timeout=15_000)
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    raise ValueError(
        f"FIELDWORK_BROKER_URL must be redis://, rediss://, amqp:// or amqps://, not {scheme}://"
    )


def queue_name(database_url: str) -> str:
    """Return the queue of the deployment on ``database_url``.

    Outbox ids mean something only in their own database, so deployments (and test runs)
    sharing a broker each get their own queue, named after the database (password left out).
    """
    from sqlalchemy.engine import make_url

    where = make_url(database_url).render_as_string(hide_password=True)
    return f"{QUEUE_PREFIX}-{hashlib.sha256(where.encode()).hexdigest()[:12]}"


class OutboxQueue:
    """The outbox actor bound to one broker and one Flask app."""

    def __init__(self, app: Flask, broker: Any) -> None:
        import dramatiq

        self.app = app
        self.broker = broker
        self.queue_name = queue_name(app.config["SQLALCHEMY_DATABASE_URI"])

        def run_outbox_message(message_id: int, claim: str) -> None:
            from server.extensions import sqlite_write_intent
            from server.jobs.relay import run_message

            sqlite_write_intent.set(True)
            with app.app_context():
                run_message(message_id, claim)

        self.actor: Any = dramatiq.Actor(
            run_outbox_message,
            queue_name=self.queue_name,
            actor_name=ACTOR_NAME,
            priority=0,
            broker=broker,
            options={"max_retries": 0, "time_limit": TIME_LIMIT_MS},
        )

    def submit(self, message_id: int, claim: str) -> None:
        """Put one claimed outbox message on the queue."""
        self.actor.send(message_id, claim)

    def start_consumers(self, threads: int) -> Callable[[], None]:
        """Start ``threads`` worker threads on this process; return the function that stops them."""
        from dramatiq import Worker

        worker = Worker(self.broker, queues={self.queue_name}, worker_threads=threads)
        worker.start()
        log.info("queue consumers started: %s threads on %s", threads, type(self.broker).__name__)

        def stop() -> None:
            worker.stop()
            self.broker.close()

        return stop
