"""Erasing a customer or an order takes every row and file with it; orphans are swept (G2).

Here with the completion-sheet fixtures: the strongest case is a completed order with its
photos (original, display copy, thumbnail), signatures and signed sheet.
"""

from __future__ import annotations

import os
from datetime import timedelta

from sqlalchemy import func, select

from server.extensions import db
from server.jobs import scheduler
from server.models import Attachment, Customer, OutboxMessage, User, WorkOrder
from server.models.base import utcnow
from server.models.documents import CompletionSheet
from server.models.enums import TokenAudience
from server.services.completion_sheets import completion_event, issue_completion_sheet
from server.services.erasure import (
    delete_blobs,
    erase_customer,
    erase_work_orders,
    sweep_orphan_blobs,
)
from server.storage import new_key


def files_of(order_id: int) -> list[str]:
    keys = []
    for row in db.session.execute(
        select(Attachment.storage_key, Attachment.display_key, Attachment.thumbnail_key).where(
            Attachment.work_order_id == order_id
        )
    ):
        keys += [k for k in row if k]
    keys += db.session.scalars(
        select(CompletionSheet.storage_key).where(CompletionSheet.work_order_id == order_id)
    ).all()
    return keys


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def completed_with_sheet(app, complete_order, phone_jpegs, store, email):
    order, _ = complete_order("en", photos=phone_jpegs[:2], email=email)
    issue_completion_sheet(order, completion_event(order), store, app.config["FIELDWORK_SETTINGS"])
    db.session.flush()
    return order


def age(store, key: str, hours: float) -> None:
    """Make a stored file look ``hours`` old."""
    path = store.root / key[0:2] / key[2:4] / key
    then = (utcnow() - timedelta(hours=hours)).timestamp()
    os.utime(path, (then, then))


def test_erasing_a_customer_leaves_none_of_their_rows_or_files(
    app, complete_order, phone_jpegs, store
):
    kept = completed_with_sheet(app, complete_order, phone_jpegs, store, "keep@example.com")
    erased = completed_with_sheet(app, complete_order, phone_jpegs, store, "erase@example.com")
    kept_files, erased_files = files_of(kept.id), files_of(erased.id)
    # 2 photos x 3 copies, 2 signatures, 1 sheet.
    assert len(erased_files) >= 9
    assert all(store.exists(key) for key in erased_files)
    customer_id, order_id = erased.customer_id, erased.id
    assert count(OutboxMessage, OutboxMessage.work_order_id == order_id) > 0

    keys = erase_customer(db.session.get(Customer, customer_id))
    db.session.flush()
    assert delete_blobs(store, keys) == []

    assert sorted(keys) == sorted(erased_files)
    assert not any(store.exists(key) for key in erased_files)
    assert db.session.get(Customer, customer_id) is None
    assert count(WorkOrder, WorkOrder.customer_id == customer_id) == 0
    assert count(Attachment, Attachment.work_order_id == order_id) == 0
    assert count(CompletionSheet, CompletionSheet.work_order_id == order_id) == 0
    # Messages to the erased customer (survey, sheet e-mail) are gone, not merely unlinked.
    assert count(OutboxMessage, OutboxMessage.payload.is_not(None)) == count(OutboxMessage)
    assert not any(
        "erase@example.com" in str(payload)
        for payload in db.session.scalars(select(OutboxMessage.payload))
    )
    # The other customer keeps everything.
    assert db.session.get(WorkOrder, kept.id) is not None
    assert all(store.exists(key) for key in kept_files)


def test_erasing_one_order_keeps_the_customer_and_their_other_orders(
    app, complete_order, phone_jpegs, store, create_work_order
):
    order = completed_with_sheet(app, complete_order, phone_jpegs, store, "one@example.com")
    sibling = create_work_order(customer=order.customer)
    files = files_of(order.id)

    delete_blobs(store, erase_work_orders([order.id]))
    db.session.flush()

    assert db.session.get(WorkOrder, order.id) is None
    assert not any(store.exists(key) for key in files)
    assert db.session.get(WorkOrder, sibling.id) is not None
    assert db.session.get(Customer, sibling.customer_id) is not None


def test_the_sweeper_removes_old_orphans_only(app, complete_order, phone_jpegs, store):
    order, _ = complete_order("en", photos=phone_jpegs[:1])
    referenced = files_of(order.id)
    old_orphan, new_orphan = new_key(), f"{new_key()}.pdf"
    store.put(old_orphan, b"left by a crash", "application/octet-stream")
    store.put(new_orphan, b"its row is not committed yet", "application/pdf")
    age(store, old_orphan, hours=2)
    for key in referenced:
        age(store, key, hours=48)

    assert sweep_orphan_blobs(store, dry_run=True) == [old_orphan]
    assert store.exists(old_orphan)

    assert sweep_orphan_blobs(store) == [old_orphan]
    assert not store.exists(old_orphan)
    assert store.exists(new_orphan)
    assert all(store.exists(key) for key in referenced)


def test_the_cli_erases_an_order_and_reports_the_sweep(app, complete_order, phone_jpegs, store):
    order, _ = complete_order("en", photos=phone_jpegs[:1])
    files = files_of(order.id)
    runner = app.test_cli_runner()

    erased = runner.invoke(args=["erase", "work-order", order.number, "--yes"])
    assert erased.exit_code == 0, erased.output
    assert f"{len(files)} files deleted" in erased.output
    assert not any(store.exists(key) for key in files)

    orphan = new_key()
    store.put(orphan, b"x", "application/octet-stream")
    age(store, orphan, hours=3)
    swept = runner.invoke(args=["storage", "sweep-orphans"])
    assert swept.exit_code == 0
    assert orphan in swept.output
    missing = runner.invoke(args=["erase", "customer", "999999999", "--yes"])
    assert missing.exit_code != 0
    assert "No customer 999999999" in missing.output


def test_the_scheduler_sweeps_orphans_daily():
    jobs = {job.id: job for job in scheduler.JOBS}
    assert jobs["storage.sweep_orphans"].every == timedelta(days=1)


def test_the_technicians_phone_drops_an_erased_order_at_its_next_pull(
    client, complete_order, phone_jpegs, store, api_headers
):
    order, _ = complete_order("en", photos=phone_jpegs[:1])
    phone = api_headers(db.session.get(User, order.assignee_id), TokenAudience.MOBILE)
    first = client.get("/api/mobile/v1/jobs", headers=phone).get_json()
    assert order.id in {job["id"] for job in first["items"]}

    delete_blobs(store, erase_work_orders([order.id]))
    db.session.flush()

    delta = client.get(f"/api/mobile/v1/jobs?since={first['sync_cursor']}", headers=phone)
    assert delta.status_code == 410  # the app answers with a full sync
    full = client.get("/api/mobile/v1/jobs", headers=phone).get_json()
    assert order.id not in {job["id"] for job in full["items"]}
    again = client.get(f"/api/mobile/v1/jobs?since={full['sync_cursor']}", headers=phone)
    assert again.status_code == 200
