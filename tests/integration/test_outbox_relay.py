"""The outbox relay: every message runs once, failures retry with backoff, then dead-letter."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.extensions import db
from server.jobs import relay
from server.models import Delivery, OutboxMessage, OutboxStatus
from server.models.base import utcnow
from server.services.outbox import redrive_message


@pytest.fixture
def calls(monkeypatch):
    """Register a test task that records its calls and does what the test says."""
    seen = []
    behaviour = {"raise": None}

    def test_task(message):
        seen.append(message.id)
        if behaviour["raise"] is not None:
            raise behaviour["raise"]

    monkeypatch.setitem(relay.TASKS, "test_action", test_task)
    return seen, behaviour


def queue(action="test_action", **fields):
    message = OutboxMessage(action=action, payload={"params": {}}, **fields)
    db.session.add(message)
    db.session.flush()
    return message.id


def status_of(message_id):
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def test_a_due_message_runs_once_and_is_done(db_session, calls):
    seen, _ = calls
    message_id = queue()
    assert relay.run_once("w1") == 1
    assert relay.run_once("w1") == 0
    assert seen == [message_id]
    assert status_of(message_id).status is OutboxStatus.DONE


def test_messages_without_a_task_wait_untouched(db_session, calls):
    message_id = queue(action="not_built_yet")
    assert relay.run_once("w1") == 0
    assert status_of(message_id).status is OutboxStatus.PENDING


def test_retry_later_backs_off_honours_retry_after_then_dead_letters(db_session, calls):
    seen, behaviour = calls
    behaviour["raise"] = relay.RetryLater("provider down", after=120)
    message_id = queue()
    relay.run_once("w1")
    message = status_of(message_id)
    assert message.status is OutboxStatus.PENDING
    assert message.available_at >= utcnow() + timedelta(seconds=119)
    assert message.last_error == "provider down"
    for _ in range(relay.MAX_ATTEMPTS - 1):
        status_of(message_id).available_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        relay.run_once("w1")
    assert status_of(message_id).status is OutboxStatus.DEAD
    assert len(seen) == relay.MAX_ATTEMPTS
    assert redrive_message(message_id)
    behaviour["raise"] = None
    db.session.commit()
    relay.run_once("w1")
    assert status_of(message_id).status is OutboxStatus.DONE


def test_permanent_failure_is_dead_at_once(db_session, calls):
    _seen, behaviour = calls
    behaviour["raise"] = relay.PermanentFailure("bad payload")
    message_id = queue()
    relay.run_once("w1")
    message = status_of(message_id)
    assert message.status is OutboxStatus.DEAD
    assert "bad payload" in message.last_error


def test_a_bug_in_a_task_is_retried(db_session, calls):
    _seen, behaviour = calls
    behaviour["raise"] = ZeroDivisionError("oops")
    message_id = queue()
    relay.run_once("w1")
    assert status_of(message_id).status is OutboxStatus.PENDING
    assert "ZeroDivisionError" in status_of(message_id).last_error


def test_a_dead_workers_claim_expires_and_another_worker_finishes_the_job(db_session, calls):
    seen, _ = calls
    message_id = queue()
    assert relay.claim("crashed-worker") == [message_id]
    assert relay.claim("w2") == []  # the lease holds
    later = utcnow() + relay.LEASE + timedelta(seconds=1)
    assert relay.claim("w2", now=later) == [message_id]
    # The first worker comes back from the dead: it must not run the message again.
    assert relay.run_message(message_id, "crashed-worker") is OutboxStatus.PROCESSING
    assert relay.run_message(message_id, "w2") is OutboxStatus.DONE
    assert seen == [message_id]


def test_backoff_grows_and_is_capped():
    import random

    rng = random.Random(1)
    delays = [relay.backoff(n, rng) for n in range(1, 12)]
    assert delays[0] <= relay.BASE_BACKOFF
    assert delays[5] > relay.BASE_BACKOFF * 8
    assert max(delays) <= relay.MAX_BACKOFF


def test_deliver_once_does_not_send_twice(db_session, calls):
    message_id = queue()
    message = db.session.get(OutboxMessage, message_id)
    sent = []

    def send():
        sent.append(1)
        return "sent", "provider-id-1"

    first = relay.deliver_once(message, "push", "device:1", send)
    second = relay.deliver_once(message, "push", "device:1", send)
    assert sent == [1]
    assert first.id == second.id
    assert db.session.scalar(db.select(db.func.count()).select_from(Delivery)) == 1
