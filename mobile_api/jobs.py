"""Jobs on the phone: full and delta sync, detail, moving a job, the field report."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from mobile_api import bp
from mobile_api.schemas import (
    JOB_PAGE_SIZE,
    JobDetailSchema,
    JobListArgsSchema,
    JobListSchema,
    ReportSchema,
    ReportUpdateSchema,
    TransitionRequestSchema,
)
from server.auth.permissions import Capability, get_work_order, work_orders_scope
from server.auth.tokens import SignInReads
from server.extensions import db, sqlite_write_intent
from server.idempotency import idempotent
from server.models import (
    Attachment,
    AttachmentKind,
    Category,
    Customer,
    FieldReport,
    Site,
    User,
    WorkOrder,
)
from server.models.base import utcnow
from server.operations import operation
from server.problems import Problem, load_args, load_json
from server.services.errors import VersionConflict
from server.services.field_reports import current_report, parts_of, save_field_report
from server.services.job_feed import (
    CursorExpired,
    changes_since,
    feed_position,
    feed_position_columns,
    join_feed_position,
    store_job_list_page,
)
from server.services.work_orders import apply_transition, describe_transitions
from server.services.workflow_registry import definition_for

log = logging.getLogger(__name__)

#: Closed jobs stay in the "recent" list this long.
RECENT = timedelta(days=14)


# --- Serialisation ---------------------------------------------------------------------------


def site_body(
    site_id: int,
    address: str,
    district: str | None,
    city: str | None,
    latitude: float | None,
    longitude: float | None,
    access_notes: str | None,
    *,
    closed: bool,
) -> dict[str, Any]:
    """Return where the job is; once it is closed, only the district and city (G1).

    A technician needs the street, the door code and the customer's phone while the job is
    theirs to do, not for the 14 days a closed job stays in "recent" (nor on a lost phone).
    """
    return {
        "id": site_id,
        "address": None if closed else address,
        "district": district,
        "city": city,
        "latitude": None if closed else latitude,
        "longitude": None if closed else longitude,
        "access_notes": None if closed else access_notes,
    }


def customer_body(order: WorkOrder) -> dict[str, Any]:
    """Return the customer and contacts; phone numbers and e-mail only while the job is open."""
    closed = order.closed_at is not None
    return {
        "id": order.customer.id,
        "name": order.customer.name,
        "preferred_locale": order.customer.preferred_locale,
        "contacts": [
            {
                "name": contact.name,
                "phone": None if closed else contact.phone,
                "email": None if closed else contact.email,
                "is_primary": contact.is_primary,
            }
            for contact in order.customer.contacts
        ],
    }


def job_summary(order: WorkOrder, locale: str) -> dict[str, Any]:
    """Return the list representation of a job (datetimes as objects)."""
    site = order.site
    return {
        "id": order.id,
        "number": order.number,
        "state": order.state,
        "state_label": _state_label(
            order.workflow_name, order.workflow_version, order.state, locale
        ),
        "priority": str(order.priority),
        "title": order.title,
        "category": {"code": order.category.code, "name": order.category.name(locale)},
        "customer_name": order.customer.name,
        "site": None
        if site is None
        else site_body(
            site.id,
            site.address,
            site.district,
            site.city,
            site.latitude,
            site.longitude,
            site.access_notes,
            closed=order.closed_at is not None,
        ),
        "scheduled_start_at": order.scheduled_start_at,
        "scheduled_end_at": order.scheduled_end_at,
        "deadlines": {
            "respond_by": order.respond_by,
            "arrive_by": order.arrive_by,
            "resolve_by": order.resolve_by,
        },
        "version": order.version,
        "updated_at": order.updated_at,
    }


def photo_url(order_id: int, photo_id: int, thumbnail: bool = False) -> str:
    """Return the path of a photo's display copy or thumbnail."""
    suffix = "/thumbnail" if thumbnail else ""
    return f"/api/mobile/v1/jobs/{order_id}/photos/{photo_id}{suffix}"


def _asset_history(order: WorkOrder) -> list[dict[str, Any]]:
    if order.asset_id is None:
        return []
    rows = db.session.execute(
        select(
            WorkOrder.number, WorkOrder.title, WorkOrder.completed_at, FieldReport.resolution_code
        )
        .outerjoin(FieldReport, FieldReport.work_order_id == WorkOrder.id)
        .where(
            WorkOrder.asset_id == order.asset_id,
            WorkOrder.id != order.id,
            WorkOrder.completed_at.is_not(None),
        )
        .order_by(WorkOrder.completed_at.desc())
        .limit(10)
    ).all()
    return [r._asdict() for r in rows]


def job_detail(order: WorkOrder, user: User) -> dict[str, Any]:
    """Return everything the phone shows for one job."""
    locale = user.locale
    report = current_report(order)
    answers = {a.get("key"): a for a in (report.checklist if report else [])}
    checklist = [
        {
            "key": item["key"],
            "label": item.get("zh_CN" if locale.startswith("zh") else "en") or item["key"],
            "answer": answers.get(item["key"], {}).get("answer"),
            "ok": answers.get(item["key"], {}).get("ok"),
        }
        for item in order.category.checklist
    ]
    attachments = db.session.scalars(
        select(Attachment).where(Attachment.work_order_id == order.id).order_by(Attachment.id)
    ).all()
    asset = order.asset
    return job_summary(order, locale) | {
        "description": order.description,
        "customer": customer_body(order),
        "asset": None
        if asset is None
        else {
            "id": asset.id,
            "kind": asset.kind,
            "manufacturer": asset.manufacturer,
            "model": asset.model,
            "serial_number": asset.serial_number,
            "installed_on": asset.installed_on,
            "warranty_ends_on": asset.warranty_ends_on,
            "history": _asset_history(order),
        },
        "checklist": checklist,
        "transitions": describe_transitions(order, user),
        "report": None if report is None else report_body(order, report),
        "photos": [
            {
                "id": a.id,
                "client_id": a.client_id,
                "caption": a.caption,
                "captured_at": a.captured_at,
                "width": a.width,
                "height": a.height,
                "url": photo_url(order.id, a.id),
                "thumbnail_url": photo_url(order.id, a.id, thumbnail=True),
                "created_at": a.created_at,
            }
            for a in attachments
            if a.kind is AttachmentKind.PHOTO
        ],
        "signatures": [
            {
                "id": a.id,
                "client_id": a.client_id,
                "signer_name": a.signer_name,
                "signer_role": a.signer_role,
                "captured_at": a.captured_at,
                "content_type": a.content_type,
                "url": f"/api/mobile/v1/jobs/{order.id}/signatures/{a.id}",
            }
            for a in attachments
            if a.kind is AttachmentKind.SIGNATURE
        ],
    }


def report_body(order: WorkOrder, report: FieldReport) -> dict[str, Any]:
    """Return the report with its parts."""
    return {
        "work_notes": report.work_notes,
        "checklist": report.checklist,
        "parts": parts_of(order),
        "labour_minutes": report.labour_minutes,
        "resolution_code": report.resolution_code,
        "follow_up_needed": report.follow_up_needed,
        "version": report.version,
        "updated_at": report.updated_at,
    }


# --- Sync ------------------------------------------------------------------------------------


#: What a job in the list shows, read in one Core query: the hot path builds no ORM objects.
_SUMMARY_COLUMNS = (
    WorkOrder.id,
    WorkOrder.number,
    WorkOrder.state,
    WorkOrder.workflow_name,
    WorkOrder.workflow_version,
    WorkOrder.priority,
    WorkOrder.title,
    Category.code.label("category_code"),
    Category.name_en,
    Category.name_zh,
    Customer.name.label("customer_name"),
    Site.id.label("site_id"),
    Site.address,
    Site.district,
    Site.city,
    Site.latitude,
    Site.longitude,
    Site.access_notes,
    WorkOrder.closed_at,
    WorkOrder.scheduled_start_at,
    WorkOrder.scheduled_end_at,
    WorkOrder.respond_by,
    WorkOrder.arrive_by,
    WorkOrder.resolve_by,
    WorkOrder.version,
    WorkOrder.updated_at,
)


def _summaries(query: Any, locale: str) -> list[dict[str, Any]]:
    """Run a scope query for the list columns; return JSON-ready job summaries."""
    rows = db.session.execute(
        query.with_only_columns(*_SUMMARY_COLUMNS)
        .select_from(WorkOrder)
        .join(Category, Category.id == WorkOrder.category_id)
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .outerjoin(Site, Site.id == WorkOrder.site_id)
    ).all()
    chinese = locale.startswith("zh")
    return [
        {
            "id": row.id,
            "number": row.number,
            "state": row.state,
            "state_label": _state_label(row.workflow_name, row.workflow_version, row.state, locale),
            "priority": str(row.priority),
            "title": row.title,
            "category": {
                "code": row.category_code,
                "name": row.name_zh if chinese else row.name_en,
            },
            "customer_name": row.customer_name,
            "site": None
            if row.site_id is None
            else site_body(
                row.site_id,
                row.address,
                row.district,
                row.city,
                row.latitude,
                row.longitude,
                row.access_notes,
                closed=row.closed_at is not None,
            ),
            "scheduled_start_at": _iso(row.scheduled_start_at),
            "scheduled_end_at": _iso(row.scheduled_end_at),
            "deadlines": {
                "respond_by": _iso(row.respond_by),
                "arrive_by": _iso(row.arrive_by),
                "resolve_by": _iso(row.resolve_by),
            },
            "version": row.version,
            "updated_at": _iso(row.updated_at),
        }
        for row in rows
    ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _state_label(workflow: str, version: int, state: str, locale: str) -> str:
    found = definition_for(workflow, version).states.get(state)
    return found.labels.text(locale) if found else state


def _scoped(user: User, scope: str, now: datetime) -> Any:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local_midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    today_start, tomorrow = local_midnight, local_midnight + timedelta(days=1)
    if scope == "recent":
        return work_orders_scope(user).where(WorkOrder.closed_at >= now - RECENT)
    query = work_orders_scope(user, open_only=True)
    if scope == "today":
        return query.where(
            WorkOrder.scheduled_start_at < tomorrow, WorkOrder.scheduled_start_at >= today_start
        )
    if scope == "upcoming":
        return query.where(WorkOrder.scheduled_start_at >= tomorrow)
    return query


def _etag(*parts: object) -> str:
    return 'W/"' + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32] + '"'


_LIST_ARGS = JobListArgsSchema()
#: The feed position and the kept first page of the asked list, read with the sign-in
#: check (one statement for a poll of an unchanged list).
_POSITION_READS = SignInReads(
    join=join_feed_position,
    columns=feed_position_columns,
    params=lambda query: {"kept_scope": query.get("scope", "active")},
)


@bp.get("/jobs")
@operation(
    "Sync the technician's jobs: full (pages) or delta (`since`).",
    capability=Capability.MOBILE_USE,
    args=JobListArgsSchema(),
    response=JobListSchema(),
    tag="jobs",
    errors=(304, 410, 422),
    sign_in_reads=_POSITION_READS,
    description=(
        "Full sync: call without `since`, follow `next_page` until it is null, keep the "
        "`sync_cursor` of the first page. Delta sync: pass that cursor as `since`; you get the "
        "jobs that changed and the ids that left your list, and a new `sync_cursor`. The cursor "
        "is a server-side sequence, never a clock: nothing can fall between two pulls. Send "
        "`If-None-Match` with the last `ETag` to get 304 when nothing changed."
    ),
)
def list_jobs() -> Response | tuple[str, int, dict[str, str]]:
    """Return a page of a full sync or the changes since a cursor."""
    user = g.api_user
    user_id, locale = user.id, user.locale
    args = load_args(_LIST_ARGS)
    now = utcnow()
    # The first page at the default size is what phones poll: it is kept as sent.
    stored_scope = (
        args["scope"]
        if "since" not in args and not args.get("page") and args["limit"] == JOB_PAGE_SIZE
        else None
    )
    # The feed position was read first, with the sign-in check: anything that commits
    # later has a higher number.
    position = feed_position(g.sign_in_reads)
    seq = position.seq
    # The language is part of the page: states and categories are named in it.
    if "since" in args:
        etag = _etag(user_id, locale, seq, "since", args["since"], args["limit"])
    else:
        # today/upcoming/recent move with the calendar even when nothing changes.
        etag = _etag(
            user_id, locale, seq, args["scope"], args.get("page"), args["limit"], _local_day(now)
        )
    if request.if_none_match.contains_weak(etag.removeprefix("W/").strip('"')):
        return "", 304, {"ETag": etag}
    if stored_scope is not None and position.page_etag == etag and position.page_body:
        # Same ETag, same page: the stored bytes are what building it again would give.
        return current_app.response_class(
            position.page_body, mimetype="application/json", headers={"ETag": etag}
        )
    page = (
        _delta(user, int(args["since"]), args["limit"])
        if "since" in args
        else _full(user, args, seq, now)
    )
    # The hottest call of the app: built as JSON directly (JobListSchema documents it).
    response = jsonify(page)
    response.headers["ETag"] = etag
    if stored_scope is not None:
        _keep(user_id, stored_scope, etag, response.get_data())
    return response


def _keep(user_id: int, scope: str, etag: str, body: bytes) -> None:
    """Store the page after the read, in a short transaction of its own.

    On SQLite that transaction takes the write lock up front (it waits for a writer
    instead of failing to upgrade the read). A store that cannot get its lock is skipped:
    the page is built again at the next poll.
    """
    db.session.commit()
    sqlite_write_intent.set(True)
    try:
        store_job_list_page(user_id, scope, etag, body)
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        log.warning("job list page of technician %s not stored", user_id, exc_info=True)


def _local_day(now: datetime) -> str:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return now.astimezone(zone).date().isoformat()


def _delta(user: User, since: int, limit: int) -> dict[str, Any]:
    try:
        changes = changes_since(user.id, since, limit=limit)
    except CursorExpired:
        raise Problem(
            410, "sync_cursor_expired", "This sync cursor is too old or unknown; do a full sync."
        ) from None
    visible = _summaries(
        work_orders_scope(user).where(WorkOrder.id.in_(changes.changed)).order_by(WorkOrder.id),
        user.locale,
    )
    # Changed but no longer visible (e.g. taken off the crew): tell the phone to drop it.
    gone = set(changes.changed) - {job["id"] for job in visible}
    return {
        "items": visible,
        "removed": sorted(set(changes.removed) | gone),
        "next_page": None,
        "has_more": changes.has_more,
        "sync_cursor": str(changes.cursor),
    }


def _full(user: User, args: dict[str, Any], seq: int, now: datetime) -> dict[str, Any]:
    after_id = 0
    if args.get("page"):
        after_id_text, seq_text = args["page"].split(":")
        after_id, seq = int(after_id_text), int(seq_text)
    limit = args["limit"]
    query = _scoped(user, args["scope"], now).where(WorkOrder.id > after_id)
    rows = _summaries(query.order_by(WorkOrder.id).limit(limit + 1), user.locale)
    next_page = f"{rows[limit - 1]['id']}:{seq}" if len(rows) > limit else None
    return {
        "items": rows[:limit],
        "removed": [],
        "next_page": next_page,
        "has_more": False,
        "sync_cursor": str(seq),
    }


@bp.get("/jobs/<int:job_id>")
@operation(
    "Get one job with customer, site, asset history, checklist, report, photos and the steps "
    "available now.",
    capability=Capability.MOBILE_USE,
    response=JobDetailSchema(),
    tag="jobs",
    errors=(404,),
)
def get_job(job_id: int) -> Response:
    """Return a job in full."""
    order = get_work_order(g.api_user, job_id)
    response = jsonify(JobDetailSchema().dump(job_detail(order, g.api_user)))
    response.headers["ETag"] = f'"{order.version}"'
    return response


def _conflict(order: WorkOrder, user: User) -> Problem:
    db.session.rollback()
    fresh = get_work_order(user, order.id)
    return Problem(
        409,
        "version_conflict",
        "The job changed on the server; here is its current state.",
        current_version=fresh.version,
        state=fresh.state,
        transitions=describe_transitions(fresh, user),
    )


@bp.post("/jobs/<int:job_id>/transitions")
@idempotent
@operation(
    "Move the job one step (accept, decline, start travel, arrive, start, pause, complete …).",
    capability=Capability.MOBILE_USE,
    body=TransitionRequestSchema(),
    response=JobDetailSchema(),
    tag="jobs",
    errors=(404, 409, 415, 422, 428),
    description="409 carries `state`, `current_version` and `transitions` so the app can "
    "show the truth at once; 422 carries `reasons` in the technician's language.",
)
def move_job(job_id: int) -> Response:
    """Apply a workflow transition to the job."""
    user = g.api_user
    order = get_work_order(user, job_id)
    data = load_json(TransitionRequestSchema())
    if "expected_version" not in data:
        raise Problem(
            428, "version_required", "Send expected_version: the job version your screen shows."
        )
    context: dict[str, Any] = {"source": "mobile"}
    if data.get("location"):
        context["location"] = data["location"]
    try:
        apply_transition(
            order,
            data["transition"],
            user,
            data["input"],
            data["expected_version"],
            captured_at=data.get("captured_at"),
            context=context,
        )
    except VersionConflict:
        raise _conflict(order, user) from None
    db.session.flush()
    order = get_work_order(user, job_id) if _still_visible(user, job_id) else order
    return jsonify(JobDetailSchema().dump(job_detail(order, user)))


def _still_visible(user: User, job_id: int) -> bool:
    return (
        db.session.scalar(
            work_orders_scope(user).with_only_columns(WorkOrder.id).where(WorkOrder.id == job_id)
        )
        is not None
    )


@bp.put("/jobs/<int:job_id>/report")
@idempotent
@operation(
    "Save the field report (a draft until the job is completed).",
    capability=Capability.MOBILE_USE,
    body=ReportUpdateSchema(),
    response=ReportSchema(),
    tag="jobs",
    errors=(404, 409, 415, 422),
)
def save_report(job_id: int) -> Response:
    """Save notes, checklist answers, parts, labour and resolution."""
    user = g.api_user
    order = get_work_order(user, job_id)
    data = load_json(ReportUpdateSchema())
    version = data.pop("expected_version", None)
    try:
        report = save_field_report(order, data, user, expected_version=version)
    except (VersionConflict, StaleDataError):  # stale on arrival, or lost the race at UPDATE
        raise _report_conflict(order, user) from None
    return jsonify(ReportSchema().dump(report_body(order, report)))


def _report_conflict(order: WorkOrder, user: User) -> Problem:
    db.session.rollback()
    fresh = get_work_order(user, order.id)
    report = current_report(fresh)
    return Problem(
        409,
        "version_conflict",
        "The report changed on the server (another phone saved it); here is the current one.",
        current_version=report.version if report else None,
        report=ReportSchema().dump(report_body(fresh, report)) if report else None,
    )
