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
from server.console.forms import EraseCustomerForm
from server.console.helpers import admin_only, deadline_status, office_only
from server.console.intake import search_customers
from server.extensions import db
from server.logs import security_event
from server.models import Customer, Role, WorkOrder
from server.models.base import utcnow
from server.services.customers import load_customer_file
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
    return render_template(
        "console/customers/file.html",
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
