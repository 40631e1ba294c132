"""Erasing a customer or a work order for good, and sweeping files no row names (G2).

A customer who asks to be forgotten (PIPL art. 47) leaves nothing behind: the rows of their
orders go with the order through the schema's ``ON DELETE CASCADE`` (history, visits,
clocks, report, photos, signatures, sheets, links, surveys); what a cascade cannot reach is
deleted here: queued and sent messages and mailbox records that carry their contact
details, and the stored files (originals, display copies, thumbnails, completion sheets).

Files are deleted after the commit, never before: a rollback must not take the files of
rows that stay. A file that cannot be deleted then is an orphan like one left by a crash
between writing a file and its row, and ``sweep_orphan_blobs`` removes it later.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, String, column, delete, inspect, select, table

from server.extensions import db
from server.models import Attachment, Customer, OutboxMessage, WorkOrder
from server.models.base import utcnow
from server.models.customer_portal import IntakeMessage
from server.models.documents import CompletionSheet
from server.services.job_feed import force_full_sync, forget_job_list_pages, technicians_of
from server.storage import BlobStore, StorageError

log = logging.getLogger("fieldwork.erasure")

#: Every column that names a blob of the file store, by table. A new one must be added
#: here, or backups would not check its files and the sweeper would delete them
#: (tests/integration/test_backup.py guards this).
BLOB_KEY_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "attachments": ("storage_key", "display_key", "thumbnail_key"),
    "completion_sheets": ("storage_key",),
    "technician_profiles": ("photo_key",),
}

#: A file younger than this may belong to a row not committed yet (files are written
#: before their rows), so the sweeper leaves it alone.
ORPHAN_GRACE = timedelta(hours=1)


def referenced_blob_keys(connection: Connection) -> dict[str, str]:
    """Return every blob key the rows name, with the first ``table.column`` naming it."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    found: dict[str, str] = {}
    for table_name, columns in BLOB_KEY_COLUMNS.items():
        if table_name not in tables:
            continue  # a backup of an older schema revision
        present = {c["name"] for c in inspector.get_columns(table_name)}
        for column_name in columns:
            if column_name not in present:
                continue
            keys = connection.scalars(
                select(column(column_name, String))
                .select_from(table(table_name))
                .where(column(column_name, String).is_not(None))
            )
            for key in keys:
                found.setdefault(str(key), f"{table_name}.{column_name}")
    return found


def erase_work_orders(order_ids: Sequence[int]) -> list[str]:
    """Delete the orders and everything about them; return the blob keys to delete.

    The caller commits, then passes the keys to ``delete_blobs``.
    """
    if not order_ids:
        return []
    ids = list(order_ids)
    keys: list[str] = []
    for storage, display, thumbnail in db.session.execute(
        select(Attachment.storage_key, Attachment.display_key, Attachment.thumbnail_key).where(
            Attachment.work_order_id.in_(ids)
        )
    ):
        keys += [k for k in (storage, display, thumbnail) if k]
    keys += db.session.scalars(
        select(CompletionSheet.storage_key).where(CompletionSheet.work_order_id.in_(ids))
    ).all()
    db.session.flush()
    phones: set[int] = set()
    for order_id, assignee_id in db.session.execute(
        select(WorkOrder.id, WorkOrder.assignee_id).where(WorkOrder.id.in_(ids))
    ):
        phones |= technicians_of(order_id, assignee_id)
    force_full_sync(phones)
    forget_job_list_pages()
    # Not reached by the cascade (their link is SET NULL) but they hold contact details,
    # and a queued survey or reminder must not go out to someone who was erased.
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.work_order_id.in_(ids)))
    db.session.execute(delete(IntakeMessage).where(IntakeMessage.work_order_id.in_(ids)))
    db.session.execute(delete(WorkOrder).where(WorkOrder.id.in_(ids)))
    db.session.expire_all()  # loaded objects of erased rows must not be flushed back
    return keys


def erase_customer(customer: Customer) -> list[str]:
    """Delete the customer, their whole file and every order; return the blob keys."""
    customer_id = customer.id
    order_ids = db.session.scalars(
        select(WorkOrder.id).where(WorkOrder.customer_id == customer_id)
    ).all()
    keys = erase_work_orders(order_ids)
    # Contacts, sites, assets, maintenance plans and portal rows go by cascade.
    db.session.execute(delete(Customer).where(Customer.id == customer_id))
    db.session.expire_all()
    log.info(
        "customer %s erased with %d orders and %d files", customer_id, len(order_ids), len(keys)
    )
    return keys


def delete_blobs(store: BlobStore, keys: Iterable[str]) -> list[str]:
    """Delete the blobs (after the commit that erased their rows); return those left.

    A blob that cannot be deleted now is an orphan: the sweeper removes it later.
    """
    left = []
    for key in keys:
        try:
            store.delete(key)
        except StorageError:
            log.warning("could not delete blob %s; the orphan sweep will", key, exc_info=True)
            left.append(key)
    return left


def sweep_orphan_blobs(
    store: BlobStore, *, now: datetime | None = None, dry_run: bool = False
) -> list[str]:
    """Delete the files no row names and older than ``ORPHAN_GRACE``; return their keys."""
    cutoff = (now or utcnow()) - ORPHAN_GRACE
    # Keys are listed before the rows are read: a file written meanwhile is younger than
    # the cutoff, and a row committed meanwhile names a file that was already listed.
    stored = list(store.keys())
    referenced = referenced_blob_keys(db.session.connection())
    orphans = []
    for key in stored:
        if key in referenced:
            continue
        try:
            if store.modified_at(key) > cutoff:
                continue
        except StorageError:
            continue  # deleted meanwhile
        orphans.append(key)
    if not dry_run:
        left = set(delete_blobs(store, orphans))
        orphans = [key for key in orphans if key not in left]
    if orphans:
        log.info("orphan sweep %s %d files", "found" if dry_run else "removed", len(orphans))
    return orphans
