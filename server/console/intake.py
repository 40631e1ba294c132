"""Intake: a new work order from a phone call or an e-mail, in under a minute."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import DateTimeLocalField, SelectChoice

from server.body_limits import accepts_body
from server.business_time import local_instant
from server.console import bp
from server.console.forms import IntakeForm, priority_choices
from server.console.helpers import locale_code, office_only
from server.extensions import blob_store, db
from server.models import Category, Contact, Customer, MessagePreference, Site, WorkOrder
from server.services.attachments import AttachmentRejected, add_photo
from server.services.contact_details import normalise_email, normalise_phone, phone_matches
from server.services.customers import create_customer
from server.services.errors import InvalidInput
from server.services.search import contains_pattern
from server.services.work_orders import create_work_order

#: Most customers the search-as-you-type list shows.
SEARCH_LIMIT = 10
#: Largest photo accepted at intake.
MAX_PHOTO_BYTES = 10 * 1024 * 1024
#: A call's photos all together: the app's ceiling (a few phone photos).
MAX_INTAKE_BODY = 32 * 1024 * 1024


def search_customers(text: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """Return customers whose name, contact phone or site address contains ``text``."""
    pattern = contains_pattern(text)
    by_phone = exists().where(Contact.customer_id == Customer.id, phone_matches(text))
    by_address = exists().where(
        Site.customer_id == Customer.id, Site.address.ilike(pattern, escape="\\")
    )
    return list(
        db.session.scalars(
            select(Customer)
            .where(or_(Customer.name.ilike(pattern, escape="\\"), by_phone, by_address))
            .options(selectinload(Customer.contacts), selectinload(Customer.sites))
            .order_by(Customer.name, Customer.id)
            .limit(limit)
        )
    )


@bp.get("/intake/customers")
@office_only
def intake_customer_search() -> str:
    """Return the customers matching what the dispatcher typed (an htmx fragment)."""
    text = (request.args.get("customer_query") or request.args.get("q") or "").strip()
    too_short = len(text) < 2 and text.isascii()  # one Chinese character is a real query
    if not text or too_short or len(text) > 200 or "\x00" in text:
        return render_template("console/intake/_customers.html", customers=[], text=text)
    return render_template(
        "console/intake/_customers.html", customers=search_customers(text), text=text
    )


def _customer_with_sites(customer_id: int) -> Customer | None:
    return db.session.scalar(
        select(Customer)
        .where(Customer.id == customer_id)
        .options(selectinload(Customer.sites).selectinload(Site.assets))
    )


@bp.get("/intake/customers/<int:customer_id>/pickers")
@office_only
def intake_pickers(customer_id: int) -> str:
    """Return the chosen customer with site and asset pickers (an htmx fragment)."""
    customer = _customer_with_sites(customer_id)
    if customer is None:
        abort(404)
    return render_template(
        "console/intake/_pickers.html", customer=customer, site_id="", asset_id="", errors={}
    )


def _categories() -> list[Category]:
    return list(
        db.session.scalars(
            select(Category).where(Category.is_active.is_(True)).order_by(Category.code)
        )
    )


def _prepare(form: IntakeForm, categories: list[Category]) -> None:
    locale = locale_code()
    form.category_id.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(
            str(c.id), c.name(locale), render_kw={"data-default-priority": c.default_priority.value}
        )
        for c in categories
    ]
    form.priority.choices = priority_choices()


def _to_utc(field: DateTimeLocalField) -> datetime | None:
    """Return the field's wall-clock time as UTC, or None when empty or refused."""
    if field.data is None or field.errors:
        return None
    return local_instant(field.data, ZoneInfo(str(get_timezone())))


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 9 else None


def find_duplicate(site_id: int, category_id: int) -> WorkOrder | None:
    """Return an open order at the same site in the same category, if there is one."""
    return db.session.scalar(
        select(WorkOrder)
        .where(
            WorkOrder.site_id == site_id,
            WorkOrder.category_id == category_id,
            WorkOrder.closed_at.is_(None),
        )
        .order_by(WorkOrder.id.desc())
        .limit(1)
    )


@bp.route("/intake", methods=["GET", "POST"])
@accepts_body(MAX_INTAKE_BODY)
@office_only
def intake() -> Response | str | tuple[str, int]:
    """Show the intake form and open the work order."""
    form = IntakeForm()
    categories = _categories()
    _prepare(form, categories)
    if request.method == "GET":
        form.channel.data = form.channel.data or "phone"
        # A new customer is written to in the language the call is taken in, until changed.
        form.new_customer_locale.data = locale_code()
    errors: dict[str, list[str]] = {}
    duplicate = None
    customer = None
    customer_id = _int(form.customer_id.data or request.args.get("customer_id"))
    site_id = _int(form.site_id.data)
    asset_id = _int(form.asset_id.data)
    if customer_id:
        customer = _customer_with_sites(customer_id)
    if request.method == "POST":
        valid = form.validate_on_submit()
        if request.form.get("csrf_token") is None or "csrf_token" in form.errors:
            abort(400)
        category_id = _int(form.category_id.data)
        if category_id is None or category_id not in {c.id for c in categories}:
            form.category_id.errors = [*form.category_id.errors, _("Choose a category.")]
            valid = False
        new_name = (form.new_customer_name.data or "").strip()
        if customer is None and not new_name:
            errors["customer"] = [_("Pick a customer from the search, or enter a new one.")]
            valid = False
        if customer is None and new_name and not (form.new_customer_address.data or "").strip():
            form.new_customer_address.errors = [
                *form.new_customer_address.errors,
                _("Enter the address where the work is done."),
            ]
            valid = False
        start, end = _to_utc(form.requested_start_at), _to_utc(form.requested_end_at)
        if start and end and end <= start:
            form.requested_end_at.errors = [
                *form.requested_end_at.errors,
                _("The end must be after the start."),
            ]
            valid = False
        photos = [f for f in form.attachments.data or [] if getattr(f, "filename", "")]
        if valid and customer is not None and site_id and category_id:
            duplicate = find_duplicate(site_id, category_id)
            if duplicate is not None and not form.confirm_duplicate.data:
                valid = False
        if valid and category_id:
            result = _create(form, customer, category_id, site_id, asset_id, start, end, photos)
            if isinstance(result, WorkOrder):
                flash(_("Work order %(number)s created.", number=result.number), "ok")
                return redirect(url_for("console.work_order_detail", order_id=result.id))
            errors = result
            if customer_id:
                customer = _customer_with_sites(customer_id)
        for name, messages in errors.items():
            field = getattr(form, name, None)
            if field is not None and name not in ("site_id", "asset_id"):
                field.errors = [*field.errors, *messages]
    status = 422 if request.method == "POST" else 200
    return render_template(
        "console/intake/form.html",
        form=form,
        categories=categories,
        customer=customer,
        site_id=str(site_id or ""),
        asset_id=str(asset_id or ""),
        errors=errors,
        duplicate=duplicate,
    ), status


def new_customer_data(form: IntakeForm) -> dict[str, Any]:
    """Return the new customer the intake form describes (phones in E.164)."""
    name = form.new_customer_name.data.strip()
    phone = (form.new_customer_phone.data or "").strip()
    other_phone = (form.new_customer_other_phone.data or "").strip()
    email = (form.new_customer_email.data or "").strip()
    contacts = []
    if phone or email:
        contacts.append(
            {
                "name": name[:120],
                "phone": normalise_phone(phone) if phone else None,
                "email": normalise_email(email) if email else None,
                "is_primary": True,
            }
        )
    if other_phone:
        contacts.append(
            {"name": name[:120], "phone": normalise_phone(other_phone), "is_primary": not contacts}
        )
    return {
        "name": name,
        "preferred_locale": form.new_customer_locale.data,
        "preferred_channel": MessagePreference(form.new_customer_channel.data),
        "message_consent": bool(form.new_customer_consent.data),
        "contacts": contacts,
        "sites": [{"address": form.new_customer_address.data.strip()}],
    }


def _create(
    form: IntakeForm,
    customer: Customer | None,
    category_id: int,
    site_id: int | None,
    asset_id: int | None,
    start: datetime | None,
    end: datetime | None,
    photos: list[Any],
) -> WorkOrder | dict[str, list[str]]:
    """Create the customer (when new), the order and its photos; return field errors."""
    try:
        with db.session.begin_nested():  # bad input leaves no half-made customer or order
            order = _create_rows(form, customer, category_id, site_id, asset_id, start, end, photos)
    except InvalidInput as error:
        return {
            {"customer_id": "customer"}.get(k, k): v
            for k, v in error.details.get("errors", {}).items()
        }
    db.session.commit()
    return order


def _create_rows(
    form: IntakeForm,
    customer: Customer | None,
    category_id: int,
    site_id: int | None,
    asset_id: int | None,
    start: datetime | None,
    end: datetime | None,
    photos: list[Any],
) -> WorkOrder:
    """Create the customer (when new), the order and its photos; raise ``InvalidInput``."""
    if customer is None:
        customer = create_customer(new_customer_data(form), current_user)
        site_id, asset_id = customer.sites[0].id, None
    data = {
        "category_id": category_id,
        "customer_id": customer.id,
        "site_id": site_id,
        "asset_id": asset_id,
        "title": form.title.data.strip(),
        "description": (form.description.data or "").strip() or None,
        "priority": form.priority.data or None,
        "channel": form.channel.data,
        "requested_start_at": start,
        "requested_end_at": end,
    }
    order = create_work_order(data, current_user)
    for upload in photos:
        payload = upload.read(MAX_PHOTO_BYTES + 1)
        if len(payload) > MAX_PHOTO_BYTES:
            raise InvalidInput({"attachments": [_("Each photo may be at most 10 MB.")]})
        try:
            add_photo(
                order,
                payload,
                {"caption": (upload.filename or "")[:300]},
                current_user,
                blob_store(),
            )
        except AttachmentRejected as error:
            raise InvalidInput(
                {
                    "attachments": [
                        _("%(name)s: %(why)s", name=upload.filename[:80], why=error.message)
                    ]
                }
            ) from None
    return order
