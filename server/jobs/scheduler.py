"""Periodic jobs, declared as data, fired by APScheduler under a leadership lease.

Any number of ``flask --app server scheduler`` processes may run; only the holder of the
lease fires jobs. The lease is a row renewed with a conditional UPDATE; when its holder dies
it expires and another process takes it with a new epoch. Each job also claims its period in
``periodic_runs`` with a conditional UPDATE, so even two leaders overlapping for a moment
(a paused process waking up) cannot run one period twice.

A period whose window passes with no tick (the leader blocked on the database, or being
replaced) is not run late: the next period's run covers it, because every job works from
``now`` (due timers, expired offers, old rows), never from the period it was scheduled for.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from server.extensions import db, sqlite_write_intent
from server.jobs.followup_tasks import plan_calls_job, send_surveys_job
from server.jobs.imap_intake import poll_imap_job
from server.models import ApiToken, Device, IdempotencyRecord, PeriodicRun, SchedulerLease
from server.models.base import utcnow

log = logging.getLogger("fieldwork.scheduler")

#: How long a lease lasts without renewal.
LEASE_TTL = timedelta(seconds=30)
#: Phones silent this long are forgotten.
DEVICE_RETENTION = timedelta(days=270)
#: How often the leader renews (well inside the TTL).
RENEW_EVERY = timedelta(seconds=10)


@dataclass(frozen=True)
class PeriodicJob:
    """A job that runs once per period."""

    id: str
    every: timedelta
    run: Callable[[datetime], int]


def holder_name() -> str:
    """Return this process's name for the lease."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def acquire_lease(
    holder: str,
    now: datetime | None = None,
    name: str = "scheduler",
    ttl: timedelta = LEASE_TTL,
) -> int | None:
    """Take or renew the lease; return the epoch when ``holder`` leads, else None. Commits."""
    now = now or utcnow()
    sqlite_write_intent.set(True)
    renewed = db.session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            SchedulerLease.holder == holder,
            SchedulerLease.expires_at > now,
        )
        .values(expires_at=now + ttl)
        .returning(SchedulerLease.epoch)
    ).scalar_one_or_none()
    if renewed is None:
        renewed = db.session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == name, SchedulerLease.expires_at <= now)
            .values(holder=holder, epoch=SchedulerLease.epoch + 1, expires_at=now + ttl)
            .returning(SchedulerLease.epoch)
        ).scalar_one_or_none()
    if renewed is None:
        try:
            with db.session.begin_nested():
                db.session.execute(
                    insert(SchedulerLease).values(
                        name=name, holder=holder, epoch=1, expires_at=now + ttl
                    )
                )
            renewed = 1
        except IntegrityError:
            renewed = None  # someone else leads
    db.session.commit()
    return renewed


def claim_period(job: PeriodicJob, now: datetime) -> datetime | None:
    """Claim the job's current period; return its start, or None if it already ran."""
    seconds = int(job.every.total_seconds())
    start = datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)
    claimed = db.session.execute(
        update(PeriodicRun)
        .where(PeriodicRun.job_id == job.id, PeriodicRun.period_start < start)
        .values(period_start=start, finished_at=None)
    ).rowcount  # type: ignore[attr-defined]
    if not claimed:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(PeriodicRun).values(job_id=job.id, period_start=start))
            claimed = 1
        except IntegrityError:
            claimed = 0
    db.session.commit()
    return start if claimed else None


def run_due(jobs: list[PeriodicJob], holder: str, now: datetime | None = None) -> list[str]:
    """As leader, run every job whose period has not run yet; return the ids that ran."""
    now = now or utcnow()
    if acquire_lease(holder, now) is None:
        return []
    ran = []
    for job in jobs:
        if claim_period(job, now) is None:
            continue
        try:
            count = job.run(now)
            db.session.commit()
            # INFO says what a job did; a run that found nothing to do is DEBUG.
            log.log(logging.INFO if count else logging.DEBUG, "periodic job %s: %s", job.id, count)
        except Exception:  # noqa: BLE001 - one failing job must not stop the others
            db.session.rollback()
            log.exception("periodic job %s failed", job.id)
            continue
        db.session.execute(
            update(PeriodicRun).where(PeriodicRun.job_id == job.id).values(finished_at=utcnow())
        )
        db.session.commit()
        ran.append(job.id)
    return ran


# --- The jobs -------------------------------------------------------------------------------


def cleanup_idempotency(now: datetime) -> int:
    """Forget idempotency records past their retention."""
    result = db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def cleanup_tokens(now: datetime) -> int:
    """Delete tokens that expired more than a day ago."""
    result = db.session.execute(
        delete(ApiToken).where(ApiToken.expires_at < now - timedelta(days=1))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune_job_feed(now: datetime) -> int:
    """Drop job feed entries older than the sync retention."""
    from server.services.job_feed import RETENTION, prune_feed

    return prune_feed(now - RETENTION)


def prune_devices(now: datetime) -> int:
    """Forget phones not seen for 270 days (FCM treats their tokens as stale)."""
    result = db.session.execute(delete(Device).where(Device.last_seen_at < now - DEVICE_RETENTION))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def sweep_uploads(now: datetime) -> int:
    """Remove expired resumable uploads and their partial files."""
    from server.services.uploads import sweep_expired_uploads

    return int(sweep_expired_uploads(now))


def sweep_orphan_blobs_job(now: datetime) -> int:
    """Delete stored files that no row names: left by a crash or a failed erasure."""
    from server.extensions import blob_store
    from server.services.erasure import sweep_orphan_blobs

    return len(sweep_orphan_blobs(blob_store(), now=now))


def sweep_deadlines_job(now: datetime) -> int:
    """Fire the deadline warnings, breaches and escalation steps that are due, batch by batch."""
    from server.services.escalation import sweep_all

    return sweep_all(now, commit=db.session.commit)


def generate_maintenance_job(now: datetime) -> int:
    """Generate maintenance plans' orders for their horizons (idempotent)."""
    from server.services.maintenance_plans import generate_maintenance_orders

    return generate_maintenance_orders(now)


def dispatch_offers_job(now: datetime) -> int:
    """Pass declined or unaccepted automatic assignments to the next candidate."""
    from server.services.dispatch import expire_unaccepted_offers

    return expire_unaccepted_offers(now)


def fire_workflow_timers(now: datetime) -> int:
    """Fire the workflow timers that are due (only those: the schedule is indexed)."""
    from server.services.workflow_timers import fire_due_timers

    return fire_due_timers(now, commit=db.session.commit)


def queue_digests(now: datetime) -> int:
    """Queue the morning digest e-mails (the period starts at 00:00 UTC, 08:00 in China)."""
    from server.jobs.digest import queue_daily_digests

    return queue_daily_digests(now)


#: The periodic jobs, with stable dotted ids.
JOBS = [
    PeriodicJob("workflows.timers", timedelta(minutes=1), fire_workflow_timers),
    PeriodicJob("cleanup.idempotency", timedelta(hours=1), cleanup_idempotency),
    PeriodicJob("cleanup.tokens", timedelta(hours=6), cleanup_tokens),
    PeriodicJob("sync.prune_feed", timedelta(hours=6), prune_job_feed),
    PeriodicJob("uploads.sweep", timedelta(hours=1), sweep_uploads),
    PeriodicJob("storage.sweep_orphans", timedelta(days=1), sweep_orphan_blobs_job),
    PeriodicJob("devices.prune", timedelta(days=1), prune_devices),
    PeriodicJob("deadlines.sweep", timedelta(minutes=1), sweep_deadlines_job),
    PeriodicJob("intake.imap", timedelta(minutes=1), poll_imap_job),
    PeriodicJob("followups.send_surveys", timedelta(minutes=15), send_surveys_job),
    PeriodicJob("followups.plan_calls", timedelta(days=1), plan_calls_job),
    PeriodicJob("maintenance.generate", timedelta(hours=1), generate_maintenance_job),
    PeriodicJob("dispatch.offers", timedelta(minutes=1), dispatch_offers_job),
    PeriodicJob("digest.daily", timedelta(days=1), queue_digests),
]


def run_scheduler(app: Flask) -> None:
    """Run APScheduler in the foreground: every tick, the leader runs what is due."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    holder = holder_name()

    def tick() -> None:
        with app.app_context():
            try:
                run_due(JOBS, holder)
            except Exception:  # noqa: BLE001 - the database may be restarting; try next tick
                db.session.rollback()
                log.exception("scheduler tick failed")

    # APScheduler announces every tick ("Running job", "executed successfully") at INFO.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        tick,
        "interval",
        seconds=RENEW_EVERY.total_seconds(),
        id="scheduler.tick",
        max_instances=1,
        coalesce=True,
        next_run_time=utcnow(),
    )
    log.info("scheduler %s started", holder)
    scheduler.start()
