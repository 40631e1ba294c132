"""Work order list (filters, search, sort, cursor pages, CSV) and the detail page."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import Response as FlaskResponse
from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from server.auth.permissions import work_orders_scope
from server.business_time import FIRST_DAY, LAST_DAY, OutOfRange, parse_day
from server.console import bp
from server.console.forms import HandOffForm, TransitionForm
from server.console.helpers import (
    deadline_condition,
    deadline_status,
    locale_code,
    office_only,
    state_label,
)
from server.console.views import local_day_bounds
from server.extensions import blob_store, db
from server.models import (
    Attachment,
    AttachmentKind,
    Category,
    Channel,
    FieldReport,
    OutboxMessage,
    Priority,
    Role,
    User,
    WorkOrder,
    WorkOrderEvent,
)
from server.models.base import utcnow
from server.services.errors import InvalidInput, Refused, VersionConflict
from server.services.ownership import hand_off_work_order, owner_chain
from server.services.work_orders import (
    SORT_COLUMNS,
    InvalidCursor,
    apply_transition,
    describe_transitions,
    list_work_orders,
)
from server.services.workflow_registry import definition_for

#: Rows on one page of the list.
PAGE_SIZE = 50
#: Rows fetched per round trip while exporting CSV.
EXPORT_BATCH = 1000
#: Deadline statuses the list filters on.
DEADLINE_FILTERS = ("breached", "at_risk", "ok")


def sort_choices() -> list[tuple[str, str]]:
    """Return the sort orders the list offers."""
    return [
        ("-created_at", _("Newest first")),
        ("created_at", _("Oldest first")),
        ("-updated_at", _("Recently changed")),
        ("number", _("Number")),
    ]


def parse_list_args(args: Any) -> tuple[dict[str, Any], dict[str, str], str]:
    """Read the list's filters from the query string; return filters, field errors, sort."""
    filters: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, allowed in (
        ("priority", {p.value for p in Priority}),
        ("channel", {c.value for c in Channel}),
    ):
        values = [v for v in args.getlist(name) if v]
        bad = [v for v in values if v not in allowed]
        if bad:
            errors[name] = _("Unknown value: %(value)s", value=bad[0][:40])
        if values and not bad:
            filters[name] = values
    states = [v[:40] for v in args.getlist("state") if v]
    if states:
        filters["state"] = states
    categories = [v[:40] for v in args.getlist("category") if v]
    if categories:
        filters["category"] = categories
    for name, key in (("technician", "assignee_id"), ("customer", "customer_id")):
        raw = (args.get(name) or "").strip()
        if raw:
            if raw.isdigit() and len(raw) <= 10:
                filters[key] = int(raw)
            else:
                errors[name] = _("Choose from the list.")
    for name, key, shift in (("from", "created_from", 0), ("to", "created_to", 1)):
        raw = (args.get(name) or "").strip()
        if raw:
            try:
                day = parse_day(raw)
            except OutOfRange:
                errors[name] = _(
                    "Enter a date between %(first)s and %(last)s.", first=FIRST_DAY, last=LAST_DAY
                )
                continue
            except ValueError:
                errors[name] = _("Enter a date like 2026-03-01.")
                continue
            start, _end = local_day_bounds(day + timedelta(days=shift))
            filters[key] = start
    if filters.get("created_from") and filters.get("created_to"):
        if filters["created_to"] <= filters["created_from"]:
            errors["to"] = _("The end must be after the start.")
            filters.pop("created_to")
    deadline = args.get("deadline") or ""
    if deadline:
        if deadline in DEADLINE_FILTERS:
            filters["deadline"] = deadline
        else:
            errors["deadline"] = _("Choose from the list.")
    q = (args.get("q") or "").strip()
    if q:
        if "\x00" in q or len(q) > 200:
            errors["q"] = _("Search for at most 200 ordinary characters.")
        else:
            filters["q"] = q
    sort = args.get("sort") or "-created_at"
    if sort.lstrip("-") not in SORT_COLUMNS:
        errors["sort"] = _("Choose from the list.")
        sort = "-created_at"
    return filters, errors, sort


def scoped_query(filters: dict[str, Any]) -> Select[tuple[WorkOrder]]:
    """Return the user's orders narrowed by the console-only filters (deadline status)."""
    query = work_orders_scope(current_user)
    if filters.get("deadline"):
        query = query.where(deadline_condition(filters["deadline"]))
    return query


def _service_filters(filters: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if k != "deadline"}


def filter_options() -> dict[str, Any]:
    """Return the choices of the filter form: categories, technicians, states."""
    categories = db.session.scalars(select(Category).order_by(Category.code)).all()
    technicians = db.session.execute(
        select(User.id, User.display_name)
        .where(User.role == Role.TECHNICIAN, User.is_active.is_(True))
        .order_by(User.display_name)
    ).all()
    states: dict[str, str] = {}
    for workflow in sorted({c.workflow_name for c in categories}):
        try:
            definition = definition_for(workflow)
        except (KeyError, LookupError, ValueError):
            continue
        for name, state in definition.states.items():
            states.setdefault(name, state.labels.text(locale_code()))
    return {"categories": categories, "technicians": technicians, "states": states}


@bp.get("/work-orders")
@office_only
def work_order_list() -> str | tuple[str, int]:
    """List work orders with filters, search, sort and cursor pagination."""
    filters, errors, sort = parse_list_args(request.args)
    cursor = request.args.get("cursor") or None
    try:
        page = list_work_orders(
            scoped_query(filters),
            _service_filters(filters),
            sort=sort,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
    except InvalidCursor:
        errors["cursor"] = _("This page link is out of date; showing the first page.")
        page = list_work_orders(
            scoped_query(filters), _service_filters(filters), sort=sort, limit=PAGE_SIZE
        )
    now = utcnow()
    rows = [(order, deadline_status(order, now)) for order in page.items]
    args = request.args.to_dict(flat=False)
    args.pop("cursor", None)
    next_url = (
        url_for("console.work_order_list", **args, cursor=page.next_cursor)
        if page.next_cursor
        else None
    )
    template = (
        "console/work_orders/_rows.html"
        if request.headers.get("HX-Request") and request.args.get("fragment") == "rows"
        else "console/work_orders/list.html"
    )
    return render_template(
        template,
        rows=rows,
        errors=errors,
        args=request.args,
        filters=filters,
        sort=sort,
        sort_choices=sort_choices(),
        next_url=next_url,
        csv_url=url_for("console.work_order_csv", **args),
        options=filter_options(),
        is_first_page=cursor is None,
    ), (422 if errors and not rows else 200)


@bp.get("/work-orders.csv")
@office_only
def work_order_csv() -> FlaskResponse:
    """Export every order matching the list's filters as CSV (streamed in batches)."""
    filters, errors, sort = parse_list_args(request.args)
    if errors:
        abort(400)
    locale = locale_code()

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                _("Number"),
                _("Summary"),
                _("State"),
                _("Priority"),
                _("Category"),
                _("Customer"),
                _("Technician"),
                _("Channel"),
                _("Created (UTC)"),
                _("Resolve by (UTC)"),
                _("Deadline status"),
            ]
        )
        yield "\ufeff" + buffer.getvalue()  # a BOM so spreadsheet programs read UTF-8
        cursor = None
        now = utcnow()
        while True:
            page = list_work_orders(
                scoped_query(filters),
                _service_filters(filters),
                sort=sort,
                cursor=cursor,
                limit=EXPORT_BATCH,
            )
            buffer.seek(0)
            buffer.truncate()
            for order in page.items:
                writer.writerow(
                    [
                        order.number,
                        _csv_safe(order.title),
                        state_label(order),
                        order.priority.value,
                        order.category.name(locale),
                        _csv_safe(order.customer.name),
                        order.assignee.display_name if order.assignee else "",
                        order.channel.value,
                        order.created_at.isoformat(timespec="seconds"),
                        order.resolve_by.isoformat(timespec="seconds") if order.resolve_by else "",
                        deadline_status(order, now),
                    ]
                )
            yield buffer.getvalue()  # the identity map is weak: exported rows are freed
            if not page.next_cursor:
                break
            cursor = page.next_cursor

    response = FlaskResponse(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="work-orders.csv"'
    return response


def _csv_safe(text: str) -> str:
    """Defuse spreadsheet formulas in user text (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- Detail ---------------------------------------------------------------------------------


def load_order(order_id: int) -> WorkOrder:
    """Load an order within the user's scope or 404."""
    order = db.session.scalar(
        work_orders_scope(current_user)
        .where(WorkOrder.id == order_id)
        .options(
            selectinload(WorkOrder.events).selectinload(WorkOrderEvent.actor),
            selectinload(WorkOrder.comments),
            selectinload(WorkOrder.attachments),
            selectinload(WorkOrder.visits),
        )
    )
    if order is None:
        abort(404)
    return order


#: How far a phone's clock may be from the server's before the timeline says so.
PHONE_CLOCK_TOLERANCE = timedelta(minutes=5)


def timeline(order: WorkOrder) -> list[dict[str, Any]]:
    """Return events, comments and notifications of ``order``, oldest first."""
    locale = locale_code()
    try:
        definition = definition_for(order.workflow_name, order.workflow_version)
    except (KeyError, LookupError, ValueError):
        definition = None

    def label(state: str | None) -> str:
        if state and definition and state in definition.states:
            return definition.states[state].labels.text(locale)
        return state or ""

    items: list[dict[str, Any]] = []
    for event in order.events:
        text = event.kind
        if event.to_state:
            text = _(
                "%(from)s → %(to)s",
                **{"from": label(event.from_state), "to": label(event.to_state)},
            )
        elif event.kind == "WorkOrderCreated":
            text = _("Created")
        elif event.kind == "WorkOrderUpdated":
            text = _("Changed: %(fields)s", fields=", ".join(event.data.get("changes", {})))
        elif event.kind == "WorkOrderHandedOff":
            receiver = db.session.get(User, event.data.get("to_user_id") or 0)
            text = _("Handed to %(name)s", name=receiver.display_name if receiver else "?")
        # A phone's step shows when it happened on the phone; the server's own time too
        # when the two are far apart (an offline step sent later, or a phone's clock off).
        at = event.captured_at or event.occurred_at
        apart = abs(at - event.occurred_at) > PHONE_CLOCK_TOLERANCE
        items.append(
            {
                "at": at,
                "kind": "event",
                "who": event.actor.display_name if event.actor else _("System"),
                "text": text,
                "note": event.data.get("note") or event.data.get("reason") or "",
                "source": event.data.get("source", ""),
                "received_at": event.occurred_at if apart else None,
            }
        )
    for comment in order.comments:
        items.append(
            {
                "at": comment.created_at,
                "kind": "comment",
                "who": comment.author.display_name if comment.author else "",
                "text": comment.body,
                "note": "",
                "source": "",
            }
        )
    notifications = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.work_order_id == order.id)
        .order_by(OutboxMessage.id)
        .limit(200)
    ).all()
    for message in notifications:
        items.append(
            {
                "at": message.created_at,
                "kind": "notification",
                "who": _("System"),
                "text": _(
                    "Notification %(action)s: %(status)s",
                    action=message.action,
                    status=message.status.value,
                ),
                "note": message.payload.get("params", {}).get("template", ""),
                "source": "",
            }
        )
    items.sort(key=lambda item: item["at"])
    return items


def technician_choices() -> list[tuple[int, str]]:
    """Return the active technicians as (id, name)."""
    return [
        (row.id, row.display_name)
        for row in db.session.execute(
            select(User.id, User.display_name)
            .where(User.role == Role.TECHNICIAN, User.is_active.is_(True))
            .order_by(User.display_name)
        )
    ]


def _completion_sheets(order: WorkOrder) -> list[Any] | None:
    """Return the order's completion sheets, newest first; None when the feature is absent."""
    try:
        from server.services import completion_sheets
    except ImportError:
        return None
    return list(completion_sheets.sheets_of(order))


@bp.get("/work-orders/<int:order_id>")
@office_only
def work_order_detail(order_id: int) -> str:
    """Show one order: state, deadlines, workflow, steps, timeline, photos, report."""
    return render_detail(load_order(order_id))


def render_detail(
    order: WorkOrder,
    step: str | None = None,
    step_errors: dict[str, list[str]] | None = None,
    step_values: dict[str, Any] | None = None,
    hand_off_errors: dict[str, list[str]] | None = None,
    hand_off_values: dict[str, str] | None = None,
) -> str:
    """Render the detail page; a refused step or hand-off shows its errors by its fields."""
    reports = db.session.scalars(
        select(FieldReport).where(FieldReport.work_order_id == order.id).order_by(FieldReport.id)
    ).all()
    photos = [a for a in order.attachments if a.kind is AttachmentKind.PHOTO]
    signatures = [a for a in order.attachments if a.kind is AttachmentKind.SIGNATURE]
    return render_template(
        "console/work_orders/detail.html",
        **_moving_parts(order),
        reports=reports,
        photos=photos,
        signatures=signatures,
        sheets=_completion_sheets(order),
        step=step,
        step_errors=step_errors or {},
        step_values=step_values or {},
        owners=owner_chain(order.id),
        colleagues=colleague_choices(),
        hand_off_errors=hand_off_errors or {},
        hand_off_values=hand_off_values or {},
    )


def colleague_choices() -> list[tuple[int, str]]:
    """Return the active office users (dispatchers, managers, admins) as (id, name)."""
    return [
        (row.id, row.display_name)
        for row in db.session.execute(
            select(User.id, User.display_name)
            .where(User.role != Role.TECHNICIAN, User.is_active.is_(True))
            .order_by(User.display_name)
        )
    ]


@bp.post("/work-orders/<int:order_id>/hand-off")
@office_only
def work_order_hand_off(order_id: int) -> Response | tuple[str, int]:
    """Hand the order to a colleague in another department (the chain of owners grows)."""
    order = load_order(order_id)
    form = HandOffForm()
    typed = {"user_id": request.form.get("user_id", ""), "reason": request.form.get("reason", "")}
    errors: dict[str, list[str]] = {k: list(v) for k, v in form.errors.items()}
    if form.validate_on_submit():
        colleague = db.session.get(User, form.user_id.data)
        if colleague is None:
            errors = {"user_id": [_("Choose a colleague.")]}
        else:
            try:
                with db.session.begin_nested():  # a refused hand-off leaves nothing behind
                    hand_off_work_order(order, colleague, current_user, form.reason.data or "")
            except InvalidInput as error:
                messages = {
                    "user_id": _("Choose an active office colleague who does not hold it yet."),
                    "reason": _("Say why, in at most 200 characters."),
                }
                fields = (error.details or {}).get("errors") or {"user_id": []}
                errors = {name: [messages.get(name, error.message)] for name in fields}
            else:
                db.session.commit()
                flash(_("Handed to %(name)s.", name=colleague.display_name), "ok")
                return redirect(url_for("console.work_order_detail", order_id=order.id))
    else:
        errors = {k: list(v) for k, v in form.errors.items()}
    return render_detail(order, hand_off_errors=errors, hand_off_values=typed), 422


def _moving_parts(order: WorkOrder) -> dict[str, Any]:
    """Context of the parts of the detail page that change when the order moves."""
    from server.console.board import recommend

    return {
        "order": order,
        "transitions": describe_transitions(order, current_user),
        "timeline": timeline(order),
        "technicians": technician_choices(),
        "recommended": recommend(order, limit=5),
        "now": utcnow(),
        "dl_status": deadline_status(order),
        "clocks": [("respond", _("Respond")), ("arrive", _("Arrive")), ("resolve", _("Resolve"))],
    }


@bp.get("/work-orders/<int:order_id>/live")
@office_only
def work_order_live(order_id: int) -> str | tuple[str, int]:
    """Return 204 while the order is at ``version``, else its header and what moved with it.

    The steps, the workflow diagram and the timeline come out of band, so a dispatcher
    never acts on a stale page.
    """
    seen = request.args.get("version", "")
    order = db.session.scalar(work_orders_scope(current_user).where(WorkOrder.id == order_id))
    if order is None:
        abort(404)
    if seen == str(order.version):
        return "", 204
    return render_template(
        "console/work_orders/_live_update.html",
        **_moving_parts(order),
        step=None,
        step_errors={},
        step_values={},
    )


@bp.post("/work-orders/<int:order_id>/transitions")
@office_only
def work_order_transition(order_id: int) -> Response | tuple[str, int]:
    """Take one workflow step (assign, reassign, cancel, …) from the detail page."""
    order = load_order(order_id)
    form = TransitionForm()
    back = redirect(url_for("console.work_order_detail", order_id=order.id))
    typed = {name: request.form.get(name, "") for name in ("assignee_id", "note", "reason")}
    if not form.validate_on_submit():
        errors: dict[str, list[str]] = {}
        for name, messages in form.errors.items():
            key = name if name in typed else "_step"  # hidden fields: about the whole step
            errors.setdefault(key, []).extend(messages)
        return render_detail(order, form.transition.data, errors, typed), 422
    declared = {
        spec["name"]
        for option in describe_transitions(order, current_user)
        if option["name"] == form.transition.data
        for spec in option["input"]
    }
    payload: dict[str, Any] = {}
    for name in ("assignee_id", "note", "reason"):
        value = getattr(form, name).data
        if name in declared and value not in (None, ""):
            payload[name] = value
    try:
        with db.session.begin_nested():  # a refused step leaves nothing behind
            apply_transition(
                order,
                form.transition.data or "",
                current_user,
                payload,
                form.expected_version.data or 0,
                context={"source": "console"},
            )
    except VersionConflict:
        flash(_("Someone changed this order meanwhile; here is its current state."), "error")
        return back
    except (Refused, InvalidInput) as error:
        db.session.refresh(order)
        return render_detail(order, form.transition.data, _field_errors(error), typed), 422
    db.session.commit()
    flash(_("Done."), "ok")
    return back


def _field_errors(error: Refused | InvalidInput) -> dict[str, list[str]]:
    """Return a refusal's messages by field (``_step``: those about the step as a whole)."""
    details = error.details or {}
    found: dict[str, list[str]] = {}
    for name, messages in (details.get("errors") or {}).items():
        found.setdefault(name, []).extend(map(str, messages))
    for reason in details.get("reasons") or []:
        found.setdefault(reason.get("field") or "_step", []).append(reason["message"])
    if not found:
        found["_step"] = [error.message]
    return found


@bp.get("/work-orders/<int:order_id>/attachments/<int:attachment_id>/<variant>")
@office_only
def work_order_attachment(order_id: int, attachment_id: int, variant: str) -> FlaskResponse:
    """Serve a photo's display copy or thumbnail, or a signature, of an order in scope."""
    order = db.session.scalar(work_orders_scope(current_user).where(WorkOrder.id == order_id))
    attachment = db.session.get(Attachment, attachment_id)
    if order is None or attachment is None or attachment.work_order_id != order.id:
        abort(404)
    if variant == "thumb" and attachment.thumbnail_key:
        key, mimetype = attachment.thumbnail_key, "image/jpeg"
    elif variant == "display" and attachment.display_key:
        key, mimetype = attachment.display_key, "image/jpeg"
    elif variant == "file" and attachment.kind is AttachmentKind.SIGNATURE:
        key, mimetype = attachment.storage_key, attachment.content_type
    else:
        abort(404)
    response = FlaskResponse(blob_store().get(key), mimetype=mimetype)
    if mimetype == "image/svg+xml":
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
    return response


@bp.get("/work-orders/<int:order_id>/completion-sheets/<int:revision>.pdf")
@office_only
def work_order_sheet(order_id: int, revision: int) -> FlaskResponse:
    """Show one revision of the order's signed completion sheet (PDF, in the browser)."""
    order = load_order(order_id)
    sheets = _completion_sheets(order) or []
    sheet = next((s for s in sheets if s.revision == revision), None)
    if sheet is None:
        abort(404)
    from server.services import completion_sheets

    response = FlaskResponse(
        completion_sheets.sheet_bytes(sheet, blob_store()), mimetype="application/pdf"
    )
    filename = completion_sheets.sheet_filename(sheet)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.post("/work-orders/<int:order_id>/completion-sheet/resend")
@office_only
def work_order_sheet_resend(order_id: int) -> Response:
    """E-mail the latest completion sheet to the customer again."""
    order = load_order(order_id)
    try:
        from server.services import completion_sheets
    except ImportError:
        abort(404)
    from server.console.forms import RedriveForm

    if not RedriveForm().validate_on_submit():
        abort(400)
    try:
        with db.session.begin_nested():
            completion_sheets.resend_sheet(order, current_user)
    except completion_sheets.NoCompletion:
        flash(_("This order has not been completed yet: there is no sheet to send."), "error")
    except completion_sheets.TooManyResends:
        flash(
            _(
                "The sheet was already sent again %(count)d times in the last 24 hours; the "
                "customer can also download it from their job page.",
                count=completion_sheets.MAX_RESENDS_PER_DAY,
            ),
            "error",
        )
    else:
        db.session.commit()
        flash(_("The completion sheet will be sent again."), "ok")
    return redirect(url_for("console.work_order_detail", order_id=order.id))


def naive_local(value: datetime | None) -> str:
    """Return ``value`` as the ``datetime-local`` input text in the user's zone."""
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    from flask_babel import get_timezone

    return value.astimezone(ZoneInfo(str(get_timezone()))).strftime("%Y-%m-%dT%H:%M")
