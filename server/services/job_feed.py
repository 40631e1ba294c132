"""The per-technician job feed: what changed on the phone's job list since its last sync.

Every change that a technician's phone must learn about appends an entry to that
technician's feed in the same transaction as the change. The feed's sequence numbers are
handed out under the technician's counter row lock, so they commit in order: a pull that
reads the counter first and then the entries up to it can never skip a change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Label,
    and_,
    bindparam,
    delete,
    insert,
    select,
    update,
)

from server.extensions import db, dialect_insert
from server.models import (
    CrewRole,
    JobFeedCounter,
    JobFeedEntry,
    JobListPage,
    Visit,
    VisitCrewMember,
    WorkOrder,
)
from server.models.base import utcnow
from server.services.counters import bump_counter

UPSERT = "upsert"
REMOVE = "remove"

#: Feed entries older than this are pruned; a cursor from before then must full-sync.
RETENTION = timedelta(days=30)


class CursorExpired(Exception):
    """The cursor is older than the feed keeps (or was never ours): do a full sync."""


@dataclass(frozen=True)
class FeedChanges:
    """What changed after a cursor: order ids to fetch again, ids to drop, the new cursor."""

    changed: list[int]
    removed: list[int]
    cursor: int
    has_more: bool


def technicians_of(order_id: int, assignee_id: int | None) -> set[int]:
    """Return who has the order on their phone: the assignee and the helpers of its visits."""
    crew = db.session.scalars(
        select(VisitCrewMember.technician_id)
        .join(Visit, VisitCrewMember.visit_id == Visit.id)
        .where(Visit.work_order_id == order_id, VisitCrewMember.role == CrewRole.HELPER)
    )
    people = set(crew)
    if assignee_id is not None:
        people.add(assignee_id)
    return people


def _next_seq(technician_id: int) -> int:
    return bump_counter(JobFeedCounter, "technician_id", technician_id, "last_seq")


def record_job_change(
    order_id: int, *, upsert_for: Iterable[int] = (), remove_for: Iterable[int] = ()
) -> None:
    """Append feed entries: the order changed for some technicians, left others' lists."""
    removed = set(remove_for)
    rows = [
        {"technician_id": tech, "seq": _next_seq(tech), "work_order_id": order_id, "change": change}
        for change, people in ((REMOVE, removed), (UPSERT, set(upsert_for) - removed))
        for tech in sorted(people)
    ]
    if rows:
        db.session.execute(insert(JobFeedEntry), rows)


def force_full_sync(technician_ids: Iterable[int]) -> None:
    """Make the technicians' phones do a full sync at their next pull.

    For an order that is erased: its feed entries go with it, so no entry could tell the
    phone to drop it. Moving the pruned mark past every cursor handed out answers the next
    delta pull 410, and the full sync that follows no longer lists the order.
    """
    for technician_id in sorted(set(technician_ids)):
        seq = _next_seq(technician_id)
        db.session.execute(
            update(JobFeedCounter)
            .where(JobFeedCounter.technician_id == technician_id)
            .values(pruned_through=seq)
        )


def note_order_changed(order: WorkOrder) -> None:
    """Tell everyone who has ``order`` on their phone that it changed."""
    record_job_change(order.id, upsert_for=technicians_of(order.id, order.assignee_id))


@dataclass(frozen=True)
class FeedPosition:
    """Where a technician's feed stands, and their kept first page of one list."""

    seq: int
    page_etag: str | None
    page_body: bytes | None


def join_feed_position(source: FromClause, technician_id: ColumnElement[int]) -> FromClause:
    """Outer-join a technician's feed counter and kept page (``kept_scope``) to ``source``.

    The sign-in check of ``GET /jobs`` reads them (``feed_position_columns``), so a phone
    polling an unchanged list costs one statement.
    """
    counters, pages = JobFeedCounter.__table__, JobListPage.__table__
    return source.outerjoin(counters, counters.c.technician_id == technician_id).outerjoin(
        pages,
        and_(pages.c.technician_id == technician_id, pages.c.scope == bindparam("kept_scope")),
    )


def feed_position_columns() -> list[Label[Any]]:
    """Return the columns ``join_feed_position`` makes available, labelled."""
    counters, pages = JobFeedCounter.__table__.c, JobListPage.__table__.c
    return [
        counters.last_seq.label("feed_seq"),
        pages.etag.label("kept_etag"),
        pages.body.label("kept_body"),
    ]


def feed_position(read: Mapping[str, Any]) -> FeedPosition:
    """Return the feed position (0 before any change) and kept page from those columns."""
    return FeedPosition(int(read["feed_seq"] or 0), read["kept_etag"], read["kept_body"])


def store_job_list_page(technician_id: int, scope: str, etag: str, body: bytes) -> None:
    """Keep a first page as sent, replacing the technician's previous one of that list."""
    values = {"etag": etag, "body": body, "rendered_at": utcnow()}
    db.session.execute(
        dialect_insert(JobListPage)
        .values(technician_id=technician_id, scope=scope, **values)
        .on_conflict_do_update(index_elements=["technician_id", "scope"], set_=values)
    )


def forget_job_list_pages() -> None:
    """Drop every stored first page (they are rebuilt on demand).

    Erasure calls it: a stored page may hold a customer's name and address even for a
    technician the order has since left, so all go rather than the ones known to hold it.
    """
    db.session.execute(delete(JobListPage))


def changes_since(technician_id: int, since: int, limit: int = 500) -> FeedChanges:
    """Return the changes after ``since``, oldest first, at most ``limit`` entries."""
    counter = db.session.scalar(
        select(JobFeedCounter).where(JobFeedCounter.technician_id == technician_id)
    )
    last = counter.last_seq if counter else 0
    pruned = counter.pruned_through if counter else 0
    if since < pruned or since > last:
        raise CursorExpired(f"cursor {since} is outside the feed ({pruned}..{last})")
    entries = db.session.execute(
        select(JobFeedEntry.seq, JobFeedEntry.work_order_id, JobFeedEntry.change)
        .where(
            JobFeedEntry.technician_id == technician_id,
            JobFeedEntry.seq > since,
            JobFeedEntry.seq <= last,
        )
        .order_by(JobFeedEntry.seq)
        .limit(limit + 1)
    ).all()
    has_more = len(entries) > limit
    entries = entries[:limit]
    final: dict[int, str] = {}
    for _seq, order_id, change in entries:
        final[order_id] = change  # the latest word on each order wins
    cursor = entries[-1][0] if has_more else last
    return FeedChanges(
        changed=sorted(o for o, c in final.items() if c == UPSERT),
        removed=sorted(o for o, c in final.items() if c == REMOVE),
        cursor=cursor,
        has_more=has_more,
    )


def prune_feed(before: datetime | None = None) -> int:
    """Delete entries older than the retention and remember how far each feed was pruned."""
    cutoff = before or utcnow() - RETENTION
    newest_old = db.session.execute(
        select(JobFeedEntry.technician_id, db.func.max(JobFeedEntry.seq))
        .where(JobFeedEntry.created_at < cutoff)
        .group_by(JobFeedEntry.technician_id)
    ).all()
    for technician_id, seq in newest_old:
        db.session.execute(
            update(JobFeedCounter)
            .where(JobFeedCounter.technician_id == technician_id)
            .values(pruned_through=seq)
        )
    result = db.session.execute(delete(JobFeedEntry).where(JobFeedEntry.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
