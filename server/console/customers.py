"""Customers: a searchable list and the customer file (one customer, one file)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from server.console import bp
from server.console.forms import CustomerDetailsForm, EraseCustomerForm
from server.console.helpers import admin_only, deadline_status, office_only
from server.console.intake import search_customers
from server.extensions import db
from server.logs import security_event
from server.models import Customer, MessagePreference, Role, WorkOrder
from server.models.base import utcnow
from server.services.contact_details import normalise_email, normalise_phone
from server.services.customers import (
    customer_history,
    customer_message_log,
    edit_customer_details,
    load_customer_file,
)
from server.services.erasure import delete_blobs, erase_customer

#: Most orders the customer file lists.
FILE_ORDERS = 500


@bp.get("/customers")
@office_only
def customer_list() -> str:
    """Search customers by name, phone or address."""
    text = (request.args.get("q") or "").strip()[:200].replace("\x00", "")
    if text:
        customers = search_customers(text, limit=50)
    else:
        customers = list(
            db.session.scalars(
                select(Customer)
                .options(selectinload(Customer.contacts), selectinload(Customer.sites))
                .order_by(Customer.id.desc())
                .limit(50)
            )
        )
    return render_template("console/customers/list.html", customers=customers, q=text)


def _answered_surveys(customer: Customer) -> list[Any] | None:
    """Return the customer's answered satisfaction surveys (None: surveys not installed)."""
    try:
        from server.models.customer_portal import Survey
    except ImportError:
        return None
    return list(
        db.session.scalars(
            select(Survey)
            .where(Survey.customer_id == customer.id, Survey.answered_at.is_not(None))
            .options(selectinload(Survey.work_order))
            .order_by(Survey.answered_at.desc())
            .limit(100)
        )
    )


def _problem_reports(customer: Customer) -> list[Any]:
    """Return problems the customer reported from job pages (when the portal is installed)."""
    try:
        from server.models.customer_portal import ProblemReport
    except ImportError:
        return []
    return list(
        db.session.scalars(
            select(ProblemReport)
            .join(WorkOrder, WorkOrder.id == ProblemReport.work_order_id)
            .where(WorkOrder.customer_id == customer.id)
            .order_by(ProblemReport.id.desc())
            .limit(100)
        )
    )


def _completion_sheets(customer: Customer) -> list[Any] | None:
    """Return every completion sheet of the customer's orders (None: feature absent)."""
    try:
        from server.models.documents import CompletionSheet
    except ImportError:
        return None
    return list(
        db.session.scalars(
            select(CompletionSheet)
            .join(WorkOrder, WorkOrder.id == CompletionSheet.work_order_id)
            .where(WorkOrder.customer_id == customer.id)
            .options(selectinload(CompletionSheet.work_order))
            .order_by(CompletionSheet.id.desc())
            .limit(200)
        )
    )


@bp.get("/customers/<int:customer_id>")
@office_only
def customer_file(customer_id: int) -> str:
    """Show one customer's file: profile, contacts, sites, assets, orders, sheets, ratings."""
    customer = load_customer_file(customer_id)
    if customer is None:
        abort(404)
    return render_template("console/customers/file.html", **_file_context(customer))


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
@office_only
def customer_edit(customer_id: int) -> Response | tuple[str, int]:
    """Edit a customer's name, language, message channel, consent and contacts."""
    customer = load_customer_file(customer_id)
    if customer is None:
        abort(404)
    form = CustomerDetailsForm()
    if request.method == "GET":
        _fill_details_form(form, customer)
    elif form.validate_on_submit():
        changes, contacts = _details_from_form(form)
        event = edit_customer_details(customer, changes, contacts, current_user)
        db.session.commit()
        flash(_("Customer details saved.") if event else _("Nothing was changed."), "ok")
        return redirect(url_for("console.customer_file", customer_id=customer_id))
    elif request.form.get("csrf_token") is None or "csrf_token" in form.errors:
        abort(400)
    status = 422 if request.method == "POST" else 200
    context = _file_context(customer) | {"edit_form": form}
    return render_template("console/customers/file.html", **context), status


def _fill_details_form(form: CustomerDetailsForm, customer: Customer) -> None:
    """Put the customer's details into the form, with one empty row for a new contact."""
    form.name.data = customer.name
    form.preferred_locale.data = "zh_CN" if customer.preferred_locale.startswith("zh") else "en"
    form.preferred_channel.data = customer.preferred_channel.value
    form.message_consent.data = customer.message_consent_at is not None
    while form.contacts.entries:
        form.contacts.pop_entry()
    for contact in customer.contacts:
        form.contacts.append_entry(
            {
                "id": str(contact.id),
                "name": contact.name,
                "phone": contact.phone or "",
                "email": contact.email or "",
            }
        )
    form.contacts.append_entry({})
    primary = [i for i, c in enumerate(customer.contacts) if c.is_primary]
    form.primary_contact.data = str(primary[0]) if primary else "0"


def _details_from_form(form: CustomerDetailsForm) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the customer's changed fields and the contacts as they should be."""
    changes = {
        "name": form.name.data.strip(),
        "preferred_locale": form.preferred_locale.data,
        "preferred_channel": MessagePreference(form.preferred_channel.data),
        "message_consent": bool(form.message_consent.data),
    }
    contacts = []
    for index, row in enumerate(form.contacts.entries):
        entry = row.form
        name = (entry.name.data or "").strip()
        phone = (entry.phone.data or "").strip()
        email = (entry.email.data or "").strip()
        contact_id = int(entry.id.data) if (entry.id.data or "").isdigit() else None
        if entry.remove.data or not (name or phone or email):
            continue  # removed, or the empty row for a new contact left empty
        contacts.append(
            {
                "id": contact_id,
                "name": name,
                "phone": normalise_phone(phone) if phone else None,
                "email": normalise_email(email) if email else None,
                "is_primary": form.primary_contact.data == str(index),
            }
        )
    if contacts and not any(c["is_primary"] for c in contacts):
        contacts[0]["is_primary"] = True
    return changes, contacts


def _file_context(customer: Customer) -> dict[str, Any]:
    """Return what the customer file shows besides the edit form."""
    orders = db.session.scalars(
        select(WorkOrder)
        .where(WorkOrder.customer_id == customer.id)
        .options(selectinload(WorkOrder.category), selectinload(WorkOrder.assignee))
        .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        .limit(FILE_ORDERS)
    ).all()
    history: dict[int, list[WorkOrder]] = {}
    for order in orders:
        if order.asset_id:
            history.setdefault(order.asset_id, []).append(order)
    now = utcnow()
    surveys = _answered_surveys(customer)
    ratings = [s.rating for s in surveys or [] if s.rating is not None]
    return dict(
        customer=customer,
        orders=[(o, deadline_status(o, now)) for o in orders],
        history=history,
        assets=[a for s in customer.sites for a in s.assets],
        sheets=_completion_sheets(customer),
        surveys=surveys,
        rating_average=round(sum(ratings) / len(ratings), 1) if ratings else None,
        rating_count=len(ratings),
        problems=_problem_reports(customer),
        complaints=[o for o in orders if o.workflow_name == "complaint"],
        erase_form=EraseCustomerForm() if current_user.role == Role.ADMIN else None,
        customer_events=customer_history(customer),
        message_log=customer_message_log(customer),
        edit_form=None,
    )


@bp.post("/customers/<int:customer_id>/erase")
@admin_only
def customer_erase(customer_id: int) -> Response | tuple[str, int]:
    """Erase the customer, every order and every file of theirs (a right-to-be-forgotten request).

    The admin types the customer's name: a slip of the mouse must not erase anyone.
    """
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404)
    form = EraseCustomerForm()
    if not form.validate_on_submit() or form.confirm_name.data.strip() != customer.name:
        flash(_("Nothing was erased: type the customer's name exactly as shown."), "error")
        return redirect(url_for("console.customer_file", customer_id=customer_id) + "#erase")
    name = customer.name
    keys = erase_customer(customer)
    db.session.commit()
    left = delete_blobs(current_app.extensions["fieldwork.blob_store"], keys)
    security_event("data.erased", object=f"customer={customer_id}", files=len(keys))
    flash(
        _(
            "%(name)s and everything about them were erased (%(count)d files).",
            name=name,
            count=len(keys) - len(left),
        ),
        "ok",
    )
    return redirect(url_for("console.customer_list"))
