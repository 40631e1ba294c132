"""One scheduler leads at a time, and each periodic job runs once per period."""

from __future__ import annotations

from datetime import timedelta

from server.extensions import db
from server.jobs import scheduler
from server.models import IdempotencyRecord, Role
from server.models.base import utcnow


def test_only_one_scheduler_holds_the_lease_until_it_expires(db_session):
    now = utcnow()
    assert scheduler.acquire_lease("host-a:1", now) == 1
    assert scheduler.acquire_lease("host-b:2", now) is None
    assert scheduler.acquire_lease("host-a:1", now + timedelta(seconds=10)) == 1  # renewed
    later = now + timedelta(seconds=10) + scheduler.LEASE_TTL + timedelta(seconds=1)
    assert scheduler.acquire_lease("host-b:2", later) == 2  # a new term
    assert scheduler.acquire_lease("host-a:1", later) is None


def test_a_periodic_job_runs_once_per_period_whoever_leads(db_session):
    runs = []
    job = scheduler.PeriodicJob("test.count", timedelta(hours=1), lambda now: runs.append(now) or 1)
    now = utcnow().replace(minute=5)
    assert scheduler.run_due([job], "host-a:1", now) == ["test.count"]
    assert scheduler.run_due([job], "host-a:1", now + timedelta(minutes=10)) == []
    # A second scheduler that takes over within the same hour does not repeat it.
    takeover = now + timedelta(minutes=20)
    db.session.execute(db.update(scheduler.SchedulerLease).values(expires_at=takeover))
    assert scheduler.run_due([job], "host-b:2", takeover + timedelta(seconds=1)) == []
    assert scheduler.run_due([job], "host-b:2", now + timedelta(hours=1)) == ["test.count"]
    assert len(runs) == 2


def test_a_failing_job_does_not_stop_the_others(db_session):
    def broken(now):
        raise RuntimeError("boom")

    ok = []
    jobs = [
        scheduler.PeriodicJob("test.broken", timedelta(hours=1), broken),
        scheduler.PeriodicJob("test.ok", timedelta(hours=1), lambda now: ok.append(1) or 1),
    ]
    assert scheduler.run_due(jobs, "host-a:1") == ["test.ok"]


def test_cleanup_forgets_expired_idempotency_keys(db_session, create_user):
    user = create_user(Role.TECHNICIAN)
    now = utcnow()
    db.session.add_all(
        [
            IdempotencyRecord(
                user_id=user.id, key="old", fingerprint="f", expires_at=now - timedelta(seconds=1)
            ),
            IdempotencyRecord(
                user_id=user.id, key="new", fingerprint="f", expires_at=now + timedelta(days=7)
            ),
        ]
    )
    db.session.flush()
    assert scheduler.cleanup_idempotency(now) == 1
    assert [r.key for r in db.session.scalars(db.select(IdempotencyRecord))] == ["new"]


def test_every_shipped_periodic_job_runs(db_session):
    assert {job.id for job in scheduler.JOBS} >= {"cleanup.idempotency", "uploads.sweep"}
    assert sorted(scheduler.run_due(scheduler.JOBS, "host-a:1")) == sorted(
        j.id for j in scheduler.JOBS
    )


def test_phones_silent_for_270_days_are_forgotten(db_session, create_user):
    from server.models import Device

    tech = create_user(Role.TECHNICIAN)
    now = utcnow()
    db.session.add_all(
        [
            Device(
                user_id=tech.id,
                push_token="silent",
                platform="android",
                last_seen_at=now - timedelta(days=271),
            ),
            Device(
                user_id=tech.id,
                push_token="recent",
                platform="android",
                last_seen_at=now - timedelta(days=3),
            ),
        ]
    )
    db.session.flush()
    assert scheduler.prune_devices(now) == 1
    assert [d.push_token for d in db.session.scalars(db.select(Device))] == ["recent"]


def test_the_scheduler_logs_at_info_what_its_jobs_did_not_that_they_looked(db_session, caplog):
    import logging

    jobs = [
        scheduler.PeriodicJob("test.idle", timedelta(hours=1), lambda now: 0),
        scheduler.PeriodicJob("test.busy", timedelta(hours=1), lambda now: 3),
    ]
    caplog.set_level(logging.INFO, logger="fieldwork.scheduler")
    assert sorted(scheduler.run_due(jobs, "host-a:1")) == ["test.busy", "test.idle"]
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert said == ["periodic job test.busy: 3"]
