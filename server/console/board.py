"""The dispatch board: technicians × day or week, the unassigned queue, moves and warnings."""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from server.business_time import parse_day
from server.console import bp
from server.console.forms import BoardMoveForm
from server.console.helpers import change_counter, deadline_status, locale_code, office_only
from server.console.views import local_day_bounds, local_today
from server.extensions import db
from server.models import (
    Role,
    TechnicianProfile,
    TechnicianSkill,
    User,
    WorkOrder,
)
from server.models.enums import PRIORITY_RANK
from server.services import dispatch
from server.services.dispatch import describe_ranking, recommend_for_order
from server.services.errors import InvalidInput, Refused, VersionConflict
from server.services.work_orders import plan_work_order

logger = logging.getLogger(__name__)

#: First and last hour columns of the day view (local time).
DAY_START_HOUR, DAY_END_HOUR = 7, 20
#: Length of a job when the order has no planned end.
DEFAULT_JOB = timedelta(hours=1)
#: Average driving speed in town, for the travel-time warning.
TRAVEL_KMH = 30.0
#: Most technicians on one board page.
MAX_ROWS = 200
#: Longest unassigned queue shown.
QUEUE_SIZE = 60


@dataclass
class Row:
    """One technician's line on the board."""

    user: User
    profile: TechnicianProfile | None
    jobs: list[WorkOrder] = field(default_factory=list)
    warnings: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def skills(self) -> dict[str, int]:
        """Return skill → level."""
        return {s.skill: s.level for s in self.profile.skills} if self.profile else {}


def _zone() -> ZoneInfo:
    return ZoneInfo(str(get_timezone()))


def _local(value: datetime) -> datetime:
    return value.astimezone(_zone())


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the great-circle distance between two (lat, lon) points in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _span(order: WorkOrder) -> tuple[datetime, datetime] | None:
    if order.scheduled_start_at is None:
        return None
    end = order.scheduled_end_at or order.scheduled_start_at + DEFAULT_JOB
    return order.scheduled_start_at, end


def _position(order: WorkOrder) -> tuple[float, float] | None:
    site = order.site
    if site is None or site.latitude is None or site.longitude is None:
        return None
    return site.latitude, site.longitude


def job_warnings(row: Row) -> None:
    """Fill ``row.warnings``: skill mismatch, overlap, outside shift, travel time."""
    skills = row.skills
    hours = row.profile.working_hours if row.profile else []
    timed = sorted((j for j in row.jobs if _span(j)), key=lambda j: _span(j)[0])  # type: ignore[index]
    for job in row.jobs:
        needed = job.category.required_skill
        if needed and skills.get(needed, 0) < job.category.required_skill_level:
            row.warnings[job.id].append(
                _(
                    "Skill mismatch: needs %(skill)s level %(level)d",
                    skill=needed,
                    level=job.category.required_skill_level,
                )
            )
        span = _span(job)
        if span and hours:
            start, end = _local(span[0]), _local(span[1])
            inside = any(
                h.weekday == start.weekday()
                and h.starts_at <= start.time()
                and (end.date() == start.date() and end.time() <= h.ends_at)
                for h in hours
            )
            if not inside:
                row.warnings[job.id].append(_("Outside the technician's shift"))
    for before, after in zip(timed, timed[1:], strict=False):
        first, second = _span(before), _span(after)
        if first is None or second is None:
            continue
        if second[0] < first[1]:
            row.warnings[after.id].append(_("Overlaps %(number)s", number=before.number))
            continue
        a, b = _position(before), _position(after)
        if a and b:
            minutes = haversine_km(a, b) / TRAVEL_KMH * 60
            gap = (second[0] - first[1]).total_seconds() / 60
            if minutes > gap:
                row.warnings[after.id].append(
                    _(
                        "Travel from %(number)s takes about %(minutes)d min; "
                        "only %(gap)d min planned",
                        number=before.number,
                        minutes=round(minutes),
                        gap=round(gap),
                    )
                )


def recommend(order: WorkOrder, limit: int = 5) -> list[dict[str, Any]]:
    """Rank technicians for ``order`` (dispatch module's ranking, else skill and load)."""
    ranked = _dispatch_ranking(order, limit)
    if ranked is not None:
        return ranked
    category = order.category
    query = (
        select(User, func.coalesce(TechnicianSkill.level, 0))
        .join(TechnicianProfile, TechnicianProfile.user_id == User.id)
        .where(User.role == Role.TECHNICIAN, User.is_active.is_(True))
    )
    if category.required_skill:
        query = query.join(
            TechnicianSkill,
            (TechnicianSkill.technician_id == User.id)
            & (TechnicianSkill.skill == category.required_skill),
        ).where(TechnicianSkill.level >= category.required_skill_level)
    else:
        query = query.outerjoin(TechnicianSkill, TechnicianSkill.technician_id == -1)
    candidates = db.session.execute(query.limit(500)).all()
    if not candidates:
        return []
    ids = [user.id for user, _level in candidates]
    load = dict(
        db.session.execute(
            select(WorkOrder.assignee_id, func.count())
            .where(WorkOrder.closed_at.is_(None), WorkOrder.assignee_id.in_(ids))
            .group_by(WorkOrder.assignee_id)
        ).all()
    )
    scored = sorted(
        candidates, key=lambda row: (load.get(row[0].id, 0), -row[1], row[0].display_name)
    )
    return [
        {
            "id": user.id,
            "name": user.display_name,
            "load": load.get(user.id, 0),
            "level": level,
            "why": _(
                "skill level %(level)d, %(load)d open jobs", level=level, load=load.get(user.id, 0)
            ),
        }
        for user, level in scored[:limit]
    ]


def _dispatch_ranking(order: WorkOrder, limit: int) -> list[dict[str, Any]] | None:
    """Return the dispatch service's ranking (None: it failed, fall back)."""
    try:
        # A savepoint: a failed ranking query must not abort the page's transaction.
        with db.session.begin_nested():
            ranking = recommend_for_order(order, limit=limit)
    except Exception:  # the board still works on the simple ranking
        logger.exception("dispatch ranking failed for order %s", order.id)
        return None
    return [
        {
            "id": item["technician_id"],
            "name": item["name"],
            "load": None,
            "level": None,
            "why": item["summary"],
        }
        for item in describe_ranking(ranking, locale_code())
    ]


def _board_range(day: date, view: str) -> tuple[list[date], datetime, datetime]:
    days = [day + timedelta(days=i) for i in range(7 if view == "week" else 1)]
    start, _end = local_day_bounds(days[0])
    _start, end = local_day_bounds(days[-1])
    return days, start, end


def _parse_day(raw: str | None) -> date:
    try:
        return parse_day(raw) if raw else local_today()
    except ValueError:  # not a day, or one outside the business range: show today
        return local_today()


def board_context(day: date, view: str, team: str | None, selected: int | None) -> dict[str, Any]:
    """Load everything the board shows for ``day`` (or its week)."""
    days, start, end = _board_range(day, view)
    tech_query = (
        select(User)
        .join(TechnicianProfile, TechnicianProfile.user_id == User.id)
        .where(User.role == Role.TECHNICIAN, User.is_active.is_(True))
        .options(
            selectinload(User.technician_profile).selectinload(TechnicianProfile.skills),
            selectinload(User.technician_profile).selectinload(TechnicianProfile.working_hours),
        )
        .order_by(User.display_name)
        .limit(MAX_ROWS)
    )
    if team:
        tech_query = tech_query.where(TechnicianProfile.team == team)
    techs = db.session.scalars(tech_query).all()
    rows = {t.id: Row(t, t.technician_profile) for t in techs}
    jobs = db.session.scalars(
        select(WorkOrder)
        .where(
            WorkOrder.assignee_id.in_(list(rows)),
            WorkOrder.closed_at.is_(None),
            (WorkOrder.scheduled_start_at.is_(None))
            | ((WorkOrder.scheduled_start_at >= start) & (WorkOrder.scheduled_start_at < end)),
        )
        .options(selectinload(WorkOrder.category), selectinload(WorkOrder.site))
        .order_by(WorkOrder.scheduled_start_at)
    ).all()
    for job in jobs:
        rows[job.assignee_id].jobs.append(job)  # type: ignore[index]
    for row in rows.values():
        job_warnings(row)
    queue = db.session.scalars(
        select(WorkOrder)
        .where(WorkOrder.closed_at.is_(None), WorkOrder.assignee_id.is_(None))
        .options(selectinload(WorkOrder.category), selectinload(WorkOrder.customer))
        .order_by(WorkOrder.resolve_by.is_(None), WorkOrder.resolve_by, WorkOrder.id)
        .limit(QUEUE_SIZE)
    ).all()
    queue = sorted(queue, key=lambda o: (PRIORITY_RANK[o.priority], o.resolve_by or o.created_at))
    if view == "week":
        columns = [(d.isoformat(), None, d) for d in days]
    else:
        columns = [(day.isoformat(), h, day) for h in range(DAY_START_HOUR, DAY_END_HOUR)]

    def cell_of(job: WorkOrder) -> tuple[str, int | None] | None:
        if job.scheduled_start_at is None:
            return None
        local = _local(job.scheduled_start_at)
        if view == "week":
            return local.date().isoformat(), None
        hour = min(max(local.hour, DAY_START_HOUR), DAY_END_HOUR - 1)
        return local.date().isoformat(), hour

    grid: dict[tuple[int, str, int | None], list[WorkOrder]] = defaultdict(list)
    unscheduled: dict[int, list[WorkOrder]] = defaultdict(list)
    for row in rows.values():
        for job in row.jobs:
            cell = cell_of(job)
            if cell is None:
                unscheduled[row.user.id].append(job)
            else:
                grid[(row.user.id, *cell)].append(job)
    selected_order = db.session.get(WorkOrder, selected) if selected else None
    teams = db.session.scalars(
        select(TechnicianProfile.team).where(TechnicianProfile.team.is_not(None)).distinct()
    ).all()
    return {
        "day": day,
        "view": view,
        "team": team or "",
        "teams": sorted(t for t in teams if t),
        "rows": list(rows.values()),
        "columns": columns,
        "grid": grid,
        "unscheduled": unscheduled,
        "queue": queue,
        "selected": selected_order,
        "recommended": recommend(selected_order) if selected_order else [],
        "counter": change_counter(),
        "deadline_status": deadline_status,
        "prev_day": (day - timedelta(days=7 if view == "week" else 1)).isoformat(),
        "next_day": (day + timedelta(days=7 if view == "week" else 1)).isoformat(),
        "technicians": [(r.user.id, r.user.display_name) for r in rows.values()],
        "hours": list(range(DAY_START_HOUR, DAY_END_HOUR)),
        "day_plan_available": _day_plan_service() is not None,
    }


def _board_args() -> tuple[date, str, str | None, int | None]:
    day = _parse_day(request.values.get("day"))
    view = "week" if request.values.get("view") == "week" else "day"
    team = (request.values.get("team") or "")[:40] or None
    raw = request.values.get("selected") or ""
    selected = int(raw) if raw.isdigit() and len(raw) <= 9 else None
    return day, view, team, selected


@bp.get("/board")
@office_only
def board() -> str:
    """Show the dispatch board."""
    day, view, team, selected = _board_args()
    context = board_context(day, view, team, selected)
    if request.headers.get("HX-Request") and request.args.get("fragment") == "grid":
        return render_template("console/board/_grid.html", **context)
    return render_template("console/board/index.html", **context)


@bp.get("/board/live")
@office_only
def board_live() -> str | tuple[str, int]:
    """Return the refreshed grid when anything changed since ``since``, else 204 (cheap)."""
    since = request.args.get("since", "")
    if since == str(change_counter()):
        return "", 204
    day, view, team, selected = _board_args()
    return render_template("console/board/_grid.html", **board_context(day, view, team, selected))


@bp.post("/board/move")
@office_only
def board_move() -> Response | str | tuple[str, int]:
    """Assign, reassign, unassign or reschedule a job (drag and drop, or the keyboard form)."""
    form = BoardMoveForm()
    day, view, team, _selected = _board_args()
    is_htmx = bool(request.headers.get("HX-Request"))
    error = None
    if not form.validate_on_submit():
        error = _("This move is not valid: %(errors)s", errors=", ".join(form.errors))
    else:
        order = db.session.get(WorkOrder, form.order_id.data)
        if order is None or order.closed_at is not None:
            error = _("This job is no longer open.")
        else:
            start = None
            if form.day.data:
                target = parse_day(form.day.data)
                hour = form.hour.data if form.hour.data is not None else None
                if hour is not None and not 0 <= hour <= 23:
                    hour = None
                if hour is not None:
                    start = datetime(
                        target.year, target.month, target.day, hour, tzinfo=_zone()
                    ).astimezone(UTC)
                elif order.scheduled_start_at is None or view == "week":
                    base = _local(order.scheduled_start_at) if order.scheduled_start_at else None
                    start = datetime(
                        target.year,
                        target.month,
                        target.day,
                        base.hour if base else 9,
                        base.minute if base else 0,
                        tzinfo=_zone(),
                    ).astimezone(UTC)
            try:
                with db.session.begin_nested():  # a refused move leaves nothing behind
                    plan_work_order(
                        order,
                        current_user,
                        form.technician_id.data or None,
                        start,
                        form.expected_version.data or 0,
                        default_length=DEFAULT_JOB,
                    )
                db.session.commit()
            except VersionConflict:
                error = _("Someone changed this job meanwhile; the board shows it as it is now.")
            except (Refused, InvalidInput) as refused:
                details = refused.details
                reasons = details.get("reasons") or []
                errors = details.get("errors") or {}
                error = (
                    "; ".join(
                        [r["message"] for r in reasons] + [" ".join(v) for v in errors.values()]
                    )
                    or refused.message
                )
    if not is_htmx:
        if error:
            flash(error, "error")
        return redirect(url_for("console.board", day=day.isoformat(), view=view, team=team or None))
    context = board_context(day, view, team, None)
    # 200 either way: the refreshed grid is the answer, the error shows above it.
    return render_template("console/board/_grid.html", move_error=error, **context)


# --- Day plan (when the dispatch module is installed) ---------------------------------------

#: Seconds the optimizer may think while the dispatcher waits (Flask config overrides).
DAY_PLAN_SECONDS = 3.0
#: A proposal may be applied for this long after it was made.
DAY_PLAN_MAX_AGE = 3600


def _day_plan_service() -> Any:
    return dispatch


def _serializer() -> Any:
    from flask import current_app
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="console.day-plan")


@bp.get("/board/day-plan")
@office_only
def board_day_plan() -> str:
    """Propose a better plan for the board's day: moves, new order, minutes saved."""
    service = _day_plan_service()
    if service is None:
        abort(404)
    from flask import current_app

    day, _view, team, _selected = _board_args()
    context = board_context(day, "day", team, None)
    technicians = [row.user for row in context["rows"]]
    orders = [job for row in context["rows"] for job in row.jobs] + list(context["queue"])
    day_start, _end = local_day_bounds(day)
    proposal = service.propose_day_plan(
        technicians,
        orders,
        day_start,
        seconds=float(current_app.config.get("CONSOLE_DAY_PLAN_SECONDS", DAY_PLAN_SECONDS)),
    )
    names = {t.id: t.display_name for t in technicians}
    token = _serializer().dumps(
        {
            "changes": [
                {
                    "order_id": c.order_id,
                    "number": c.number,
                    "from": c.from_technician_id,
                    "to": c.to_technician_id,
                    "position": c.position,
                    "start": c.planned_start_at.isoformat(),
                }
                for c in proposal.changes
            ],
            "day": day.isoformat(),
        }
    )
    return render_template(
        "console/board/day_plan.html",
        proposal=proposal,
        names=names,
        token=token,
        day=day,
        team=team or "",
        numbers={o.id: o.number for o in orders},
    )


@bp.post("/board/day-plan/apply")
@office_only
def board_day_plan_apply() -> Response:
    """Apply the chosen changes of a proposed day plan (each through the workflow)."""
    from itsdangerous import BadSignature

    service = _day_plan_service()
    if service is None:
        abort(404)
    # CSRFProtect has checked the token before this view runs.
    try:
        data = _serializer().loads(request.form.get("plan", ""), max_age=DAY_PLAN_MAX_AGE)
    except BadSignature:
        flash(_("This proposal is out of date; propose a new one."), "error")
        return redirect(url_for("console.board"))
    chosen = [int(v) for v in request.form.getlist("order_id") if v.isdigit() and len(v) <= 9]
    proposal = service.PlanProposal(
        changes=[
            service.PlanChange(
                order_id=c["order_id"],
                number=c["number"],
                from_technician_id=c["from"],
                to_technician_id=c["to"],
                position=c["position"],
                planned_start_at=datetime.fromisoformat(c["start"]),
            )
            for c in data["changes"]
        ],
        sequence={},
        current_minutes=0.0,
        proposed_minutes=0.0,
    )
    try:
        with db.session.begin_nested():
            done = service.apply_day_plan(proposal, chosen, current_user)
        db.session.commit()
    except VersionConflict:
        flash(_("Someone changed a job meanwhile; propose a new plan."), "error")
    except (Refused, InvalidInput) as refused:
        flash(_("The plan could not be applied: %(why)s", why=refused.message), "error")
    else:
        flash(_("%(count)d jobs planned.", count=len(done)), "ok")
    return redirect(url_for("console.board", day=data["day"]))
