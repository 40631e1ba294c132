"""The outbox relay: claim due messages, run their task, retry with backoff, dead-letter.

Claims are leases: a claimed message is ``processing`` until ``locked_until``; if its worker
dies, the lease runs out and another worker takes it. On PostgreSQL claiming skips rows
another worker holds (``FOR UPDATE SKIP LOCKED``), so any number of workers share the work
without handling a message twice at once; on SQLite writes are serialised anyway.
Tasks must be idempotent (``deliver_once``): a message whose worker died mid-way runs again.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update

from server.extensions import db, sqlite_write_intent
from server.models import Delivery, OutboxMessage, OutboxStatus
from server.models.base import utcnow

log = logging.getLogger("fieldwork.jobs")

#: A message gets this many attempts before it is dead-lettered.
MAX_ATTEMPTS = 8
#: How long a claim holds before another worker may take the message (the default of
#: FIELDWORK_OUTBOX_LEASE_SECONDS): longer than any task runs, short enough to recover soon.
LEASE = timedelta(minutes=5)
#: First retry delay; doubles per attempt, with jitter, up to MAX_BACKOFF.
BASE_BACKOFF = timedelta(seconds=10)
MAX_BACKOFF = timedelta(hours=1)

Task = Callable[[OutboxMessage], None]
#: Action name -> task. Messages whose action has no task yet stay pending, untouched.
TASKS: dict[str, Task] = {}


class RetryLater(Exception):
    """The task could not finish now (provider down, rate limited); try again later."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class PermanentFailure(Exception):
    """The task can never succeed as it is (bad payload); dead-letter it at once."""


def task(action: str) -> Callable[[Task], Task]:
    """Register the function that performs outbox messages of ``action``."""

    def register(function: Task) -> Task:
        TASKS[action] = function
        return function

    return register


def worker_name() -> str:
    """Return an id for this process and thread, shown on claimed messages."""
    return f"{os.uname().nodename}:{os.getpid()}:{threading.get_ident()}"[:64]


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Return the delay before attempt ``attempts + 1``: exponential, capped, full jitter."""
    ceiling = min(BASE_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)
    return ceiling * (0.5 + (rng or random).random() / 2)  # noqa: S311 - jitter, not secrets


def lease_length() -> timedelta:
    """Return the configured claim lease (FIELDWORK_OUTBOX_LEASE_SECONDS)."""
    settings = current_app.config.get("FIELDWORK_SETTINGS")
    return timedelta(seconds=settings.outbox_lease_seconds) if settings else LEASE


def claim(worker: str, limit: int = 20, now: datetime | None = None) -> list[int]:
    """Claim up to ``limit`` due messages for ``worker``; commit; return their ids."""
    now = now or utcnow()
    lease = lease_length()
    claimable = (
        OutboxMessage.action.in_(sorted(TASKS)),
        or_(
            (OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.available_at <= now),
            (OutboxMessage.status == OutboxStatus.PROCESSING) & (OutboxMessage.locked_until < now),
        ),
    )
    due = (
        select(OutboxMessage.id)
        .where(*claimable)
        .order_by(OutboxMessage.available_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    candidates = list(db.session.scalars(due))
    ids: list[int] = []
    if candidates:
        # The claim re-checks the condition, so a row that changed hands is not taken twice.
        ids = list(
            db.session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(candidates), *claimable)
                .values(
                    status=OutboxStatus.PROCESSING,
                    locked_until=now + lease,
                    locked_by=worker,
                    attempts=OutboxMessage.attempts + 1,
                )
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            )
        )
    db.session.commit()
    return sorted(ids)


def run_message(message_id: int, worker: str) -> OutboxStatus:
    """Run the task of one claimed message and record the outcome (one commit)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status is not OutboxStatus.PROCESSING:
        return OutboxStatus.DONE
    if message.locked_by != worker:
        return message.status  # someone reclaimed it after our lease ran out
    try:
        TASKS[message.action](message)
    except RetryLater as error:
        db.session.rollback()
        return _reschedule(message_id, str(error), error.after)
    except PermanentFailure as error:
        db.session.rollback()
        return _finish(message_id, OutboxStatus.DEAD, f"permanent: {error}")
    except Exception as error:  # noqa: BLE001 - any bug in a task is retried, then dead-lettered
        db.session.rollback()
        log.exception("task %s of outbox message %s failed", TASKS.get(message.action), message_id)
        return _reschedule(message_id, f"{type(error).__name__}: {error}", None)
    return _finish(message_id, OutboxStatus.DONE, None)


def _finish(message_id: int, status: OutboxStatus, error: str | None) -> OutboxStatus:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(status=status, processed_at=utcnow(), locked_until=None, last_error=error)
    )
    db.session.commit()
    return status


def _reschedule(message_id: int, error: str, after: float | None) -> OutboxStatus:
    message = db.session.get(OutboxMessage, message_id)
    assert message is not None  # noqa: S101 - claimed rows are never deleted
    if message.attempts >= MAX_ATTEMPTS:
        log.error(
            "outbox message %s dead after %s attempts: %s", message_id, message.attempts, error
        )
        return _finish(message_id, OutboxStatus.DEAD, error)
    delay = backoff(message.attempts)
    if after is not None:
        delay = max(delay, timedelta(seconds=after))
    message.status = OutboxStatus.PENDING
    message.available_at = utcnow() + delay
    message.locked_until = None
    message.last_error = error[:2000]
    db.session.commit()
    return OutboxStatus.PENDING


def run_once(worker: str | None = None, limit: int = 20) -> int:
    """Claim and run one batch; return how many messages were handled."""
    sqlite_write_intent.set(True)  # a worker writes: on SQLite it queues for the write lock
    worker = worker or worker_name()
    ids = claim(worker, limit)
    for message_id in ids:
        run_message(message_id, worker)
    return len(ids)


def deliver_once(
    message: OutboxMessage, channel: str, recipient: str, send: Callable[[], tuple[str, str | None]]
) -> Delivery:
    """Hand ``message`` to ``recipient`` unless that already happened; record the outcome.

    ``send`` returns ``(status, external id)``. The record commits at once, so a task that
    fails later for another recipient does not repeat this one on its retry.
    """
    found = db.session.scalar(
        select(Delivery).where(
            Delivery.outbox_message_id == message.id,
            Delivery.channel == channel,
            Delivery.recipient == recipient,
        )
    )
    if found is not None:
        return found
    status, external_id = send()
    delivery = Delivery(
        outbox_message_id=message.id,
        channel=channel,
        recipient=recipient,
        status=status,
        external_id=external_id,
    )
    db.session.add(delivery)
    db.session.commit()
    return delivery


def summary() -> dict[str, Any]:
    """Return how many messages are in each state (for the console and the CLI)."""
    rows = db.session.execute(
        select(OutboxMessage.status, db.func.count()).group_by(OutboxMessage.status)
    ).all()
    return {str(status): count for status, count in rows}
