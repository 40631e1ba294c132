"""Use cases for customers, their contacts, sites and assets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.extensions import db
from server.models import Asset, Contact, Customer, Site, User, WorkOrder
from server.services.job_feed import note_order_changed


def load_customer_file(customer_id: int) -> Customer | None:
    """Return a customer with contacts, sites and their assets loaded (None if unknown)."""
    return db.session.scalar(
        select(Customer)
        .where(Customer.id == customer_id)
        .options(
            selectinload(Customer.contacts),
            selectinload(Customer.sites).selectinload(Site.assets),
        )
    )


def create_customer(data: Mapping[str, Any], actor: User | None) -> Customer:
    """Create a customer with its contacts, sites and their assets."""
    fields = {k: v for k, v in data.items() if k not in ("contacts", "sites")}
    customer = Customer(**fields)
    customer.contacts = [Contact(**contact) for contact in data.get("contacts", [])]
    customer.sites = [build_site(site) for site in data.get("sites", [])]
    db.session.add(customer)
    db.session.flush()
    return customer


def build_site(data: Mapping[str, Any]) -> Site:
    """Return a new site (not yet added) with its assets."""
    site = Site(**{k: v for k, v in data.items() if k != "assets"})
    site.assets = [Asset(**asset) for asset in data.get("assets", [])]
    return site


def update_customer(customer: Customer, changes: Mapping[str, Any], actor: User | None) -> Customer:
    """Change a customer's own fields (contacts and sites have their own use cases)."""
    renamed = "name" in changes and changes["name"] != customer.name
    for name, value in changes.items():
        setattr(customer, name, value)
    db.session.flush()
    if renamed:
        # Phones show the customer's name on their open jobs: tell them.
        open_orders = db.session.execute(
            select(WorkOrder).where(
                WorkOrder.customer_id == customer.id, WorkOrder.closed_at.is_(None)
            )
        ).scalars()
        for order in open_orders:
            note_order_changed(order)
    return customer


def add_site(customer: Customer, data: Mapping[str, Any], actor: User | None) -> Site:
    """Add a site (with assets) to a customer."""
    site = build_site(data)
    customer.sites.append(site)
    db.session.flush()
    return site


def add_asset(site: Site, data: Mapping[str, Any], actor: User | None) -> Asset:
    """Add an asset to a site."""
    asset = Asset(**data)
    site.assets.append(asset)
    db.session.flush()
    return asset


def add_contact(customer: Customer, data: Mapping[str, Any], actor: User | None) -> Contact:
    """Add a contact to a customer."""
    contact = Contact(**data)
    customer.contacts.append(contact)
    db.session.flush()
    return contact
