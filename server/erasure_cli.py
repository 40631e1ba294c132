"""``flask --app server erase …`` and ``storage sweep-orphans``: forgetting data for good."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from server.extensions import db
from server.storage import BlobStore

erase_cli = AppGroup("erase", help="Erase a customer or a work order and all their files.")
storage_cli = AppGroup("storage", help="Look after the file store.")


def _store() -> BlobStore:
    store: BlobStore = current_app.extensions["fieldwork.blob_store"]
    return store


def _finish(what: str, keys: list[str]) -> None:
    """Commit, then delete the files (never before: a rollback must keep them)."""
    from server.logs import security_event
    from server.services.erasure import delete_blobs

    db.session.commit()
    left = delete_blobs(_store(), keys)
    security_event("data.erased", object=what, files=len(keys))
    click.echo(f"Erased {what}: {len(keys) - len(left)} files deleted.")
    if left:
        click.echo(f"{len(left)} files could not be deleted now; the orphan sweep will.")


@erase_cli.command("customer")
@click.argument("customer_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_customer_command(customer_id: int, yes: bool) -> None:
    """Erase a customer: their file, every order, photo, signature and completion sheet."""
    from server.models import Customer, WorkOrder
    from server.services.erasure import erase_customer

    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise click.ClickException(f"No customer {customer_id}.")
    orders = len(
        db.session.scalars(select(WorkOrder.id).where(WorkOrder.customer_id == customer_id)).all()
    )
    if not yes:
        click.confirm(
            f"Erase customer {customer_id} ({customer.name}) and {orders} orders for good?",
            abort=True,
        )
    _finish(f"customer={customer_id}", erase_customer(customer))


@erase_cli.command("work-order")
@click.argument("number")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_work_order_command(number: str, yes: bool) -> None:
    """Erase one work order with its history, photos, signatures and completion sheets."""
    from server.models import WorkOrder
    from server.services.erasure import erase_work_orders

    order = db.session.scalar(select(WorkOrder).where(WorkOrder.number == number.strip()))
    if order is None:
        raise click.ClickException(f"No work order {number}.")
    if not yes:
        click.confirm(f"Erase work order {order.number} for good?", abort=True)
    _finish(f"work_order={order.id}", erase_work_orders([order.id]))


@storage_cli.command("sweep-orphans")
@click.option("--dry-run", is_flag=True, help="List the orphans without deleting them.")
def sweep_orphans_command(dry_run: bool) -> None:
    """Delete stored files that no row names (older than an hour); print their keys."""
    from server.services.erasure import sweep_orphan_blobs

    orphans = sweep_orphan_blobs(_store(), dry_run=dry_run)
    for key in orphans:
        click.echo(key)
    verb = "would be deleted" if dry_run else "deleted"
    click.echo(f"{len(orphans)} orphaned files {verb}.", err=True)
