"""Load the facts eligibility and scoring need, in a fixed number of SQL statements.

Every query filters by one subquery of candidate technicians instead of a list of ids, so a
recommendation among 2,000 technicians runs the same dozen statements as among 20.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from server.dispatch.eligibility import JobFacts, TechnicianFacts
from server.models import (
    AvailabilityStatus,
    Certification,
    Priority,
    Role,
    Site,
    TechnicianAvailability,
    TechnicianProfile,
    TechnicianSkill,
    User,
    WorkingHours,
    WorkOrder,
)
from server.models.dispatch import DispatchPolicy, TechnicianPosition

#: Availability states that take a technician out of dispatch.
UNAVAILABLE = (
    AvailabilityStatus.ON_LEAVE,
    AvailabilityStatus.OFF_SHIFT,
    AvailabilityStatus.TRAINING,
)

#: Window assumed when the customer asked for none: from now, this long.
DEFAULT_WINDOW = timedelta(hours=2)


def policy_for(session: Session, category_id: int) -> DispatchPolicy | None:
    """Return the category's dispatch policy (None: off)."""
    return session.get(DispatchPolicy, category_id)


def job_facts(
    session: Session, order: WorkOrder, now: datetime, policy: DispatchPolicy | None = None
) -> JobFacts:
    """Describe ``order`` for eligibility and scoring."""
    start = order.requested_start_at or order.scheduled_start_at or now
    end = order.requested_end_at or order.scheduled_end_at or start + DEFAULT_WINDOW
    place = (
        session.execute(
            select(Site.latitude, Site.longitude).where(Site.id == order.site_id)
        ).first()
        if order.site_id is not None
        else None
    )
    category = order.category
    return JobFacts(
        order_id=order.id,
        window_start=start,
        window_end=end,
        required_skill=category.required_skill,
        required_skill_level=category.required_skill_level,
        required_certifications=tuple(policy.required_certifications) if policy else (),
        is_emergency=order.priority is Priority.EMERGENCY,
        latitude=place.latitude if place else None,
        longitude=place.longitude if place else None,
        deadline=order.arrive_by,
        customer_id=order.customer_id,
        asset_id=order.asset_id,
        site_id=order.site_id,
    )


def _candidate_ids(job: JobFacts, team: str | None) -> Select[tuple[int]]:
    """Technicians worth looking at: the role, the team, and the skill at any level."""
    query = (
        select(TechnicianProfile.user_id)
        .join(User, User.id == TechnicianProfile.user_id)
        .where(User.role == Role.TECHNICIAN)
    )
    if team is not None:
        query = query.where(TechnicianProfile.team == team)
    if job.required_skill is not None:
        # Level is left to the rule, so a too-junior technician is refused with a reason.
        query = query.where(
            TechnicianProfile.user_id.in_(
                select(TechnicianSkill.technician_id).where(
                    TechnicianSkill.skill == job.required_skill
                )
            )
        )
    return query


def load_candidates(
    session: Session,
    job: JobFacts,
    tz: ZoneInfo,
    *,
    team: str | None = None,
    exclude: set[int] | frozenset[int] = frozenset(),
) -> list[TechnicianFacts]:
    """Return the facts of every technician who might take ``job`` (ten statements)."""
    ids = _candidate_ids(job, team)
    if exclude:
        ids = ids.where(TechnicianProfile.user_id.notin_(sorted(exclude)))
    ids_sub = ids.scalar_subquery()
    local_day = job.window_start.astimezone(tz).date()
    day_start = datetime.combine(local_day, time.min, tz)
    day_end = day_start + timedelta(days=1)
    week_start = day_start - timedelta(days=local_day.weekday())

    rows = session.execute(
        select(
            TechnicianProfile.user_id,
            User.display_name,
            User.username,
            User.is_active,
            TechnicianProfile.is_on_call,
            TechnicianProfile.max_jobs_per_day,
            TechnicianProfile.home_latitude,
            TechnicianProfile.home_longitude,
        )
        .join(User, User.id == TechnicianProfile.user_id)
        .where(TechnicianProfile.user_id.in_(ids_sub))
        .order_by(TechnicianProfile.user_id)
    ).all()

    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for tech_id, skill, level in session.execute(
        select(TechnicianSkill.technician_id, TechnicianSkill.skill, TechnicianSkill.level).where(
            TechnicianSkill.technician_id.in_(ids_sub)
        )
    ):
        skills[tech_id][skill] = level

    certs: dict[int, dict[str, date | None]] = defaultdict(dict)
    if job.required_certifications:
        for tech_id, name, expires in session.execute(
            select(Certification.technician_id, Certification.name, Certification.expires_on).where(
                Certification.technician_id.in_(ids_sub),
                Certification.name.in_(list(job.required_certifications)),
            )
        ):
            held = certs[tech_id]
            # Several certificates of one name: the one valid longest counts (None: forever).
            if name not in held or (
                held[name] is not None and (expires is None or expires > held[name])
            ):
                held[name] = expires

    shifts: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for tech_id, starts, ends in session.execute(
        select(WorkingHours.technician_id, WorkingHours.starts_at, WorkingHours.ends_at).where(
            WorkingHours.technician_id.in_(ids_sub), WorkingHours.weekday == local_day.weekday()
        )
    ):
        begin = datetime.combine(local_day, starts, tz)
        finish = datetime.combine(local_day, ends, tz)
        if finish <= begin:  # an overnight shift ends the next morning
            finish += timedelta(days=1)
        shifts[tech_id].append((begin, finish))

    unavailable: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for tech_id, starts, ends in session.execute(
        select(
            TechnicianAvailability.technician_id,
            TechnicianAvailability.starts_at,
            TechnicianAvailability.ends_at,
        ).where(
            TechnicianAvailability.technician_id.in_(ids_sub),
            TechnicianAvailability.status.in_(UNAVAILABLE),
            TechnicianAvailability.starts_at < job.window_end,
            or_(
                TechnicianAvailability.ends_at.is_(None),
                TechnicianAvailability.ends_at > job.window_start,
            ),
        )
    ):
        unavailable[tech_id].append((starts, ends))

    # Today's open jobs: the count, and the site of the last one before the window.
    jobs_today: dict[int, int] = defaultdict(int)
    previous: dict[int, tuple[datetime, float, float]] = {}
    for tech_id, order_id, starts, lat, lon in session.execute(
        select(
            WorkOrder.assignee_id,
            WorkOrder.id,
            WorkOrder.scheduled_start_at,
            Site.latitude,
            Site.longitude,
        )
        .outerjoin(Site, Site.id == WorkOrder.site_id)
        .where(
            WorkOrder.assignee_id.in_(ids_sub),
            WorkOrder.closed_at.is_(None),
            WorkOrder.completed_at.is_(None),
            or_(
                WorkOrder.scheduled_start_at.is_(None),
                and_(
                    WorkOrder.scheduled_start_at >= day_start,
                    WorkOrder.scheduled_start_at < day_end,
                ),
            ),
        )
    ):
        if order_id == job.order_id:
            continue
        jobs_today[tech_id] += 1
        if (
            starts is not None
            and lat is not None
            and lon is not None
            and starts <= job.window_start
        ):
            if tech_id not in previous or starts > previous[tech_id][0]:
                previous[tech_id] = (starts, lat, lon)

    served_asset = _last_served(session, ids_sub, WorkOrder.asset_id, job.asset_id)
    served_customer = _last_served(session, ids_sub, WorkOrder.customer_id, job.customer_id)

    week: dict[int, int] = dict(
        session.execute(
            select(WorkOrder.assignee_id, func.count())
            .where(
                WorkOrder.assignee_id.in_(ids_sub),
                func.coalesce(WorkOrder.scheduled_start_at, WorkOrder.created_at) >= week_start,
                func.coalesce(WorkOrder.scheduled_start_at, WorkOrder.created_at)
                < week_start + timedelta(days=7),
            )
            .group_by(WorkOrder.assignee_id)
        ).all()
    )

    positions = {
        tech_id: (lat, lon, at)
        for tech_id, lat, lon, at in session.execute(
            select(
                TechnicianPosition.technician_id,
                TechnicianPosition.latitude,
                TechnicianPosition.longitude,
                TechnicianPosition.recorded_at,
            ).where(
                TechnicianPosition.technician_id.in_(ids_sub),
                TechnicianPosition.recorded_at >= day_start,
            )
        )
    }

    facts = []
    for tech_id, display, username, active, on_call, max_jobs, home_lat, home_lon in rows:
        if tech_id in previous:
            _, lat, lon = previous[tech_id]
            source = "previous_job"
        elif tech_id in positions:
            lat, lon, _ = positions[tech_id]
            source = "position"
        else:
            lat, lon, source = home_lat, home_lon, "home"
        facts.append(
            TechnicianFacts(
                technician_id=tech_id,
                name=display or username,
                is_active=active,
                skills=skills.get(tech_id, {}),
                certifications=certs.get(tech_id, {}),
                shifts=shifts.get(tech_id, []),
                is_on_call=on_call,
                max_jobs_per_day=max_jobs,
                jobs_today=jobs_today.get(tech_id, 0),
                unavailable=unavailable.get(tech_id, []),
                latitude=lat,
                longitude=lon,
                position_source=source,
                served_asset_on=served_asset.get(tech_id),
                served_customer_on=served_customer.get(tech_id),
                jobs_this_week=week.get(tech_id, 0),
            )
        )
    return facts


def _last_served(session: Session, ids_sub, column, value: int | None) -> dict[int, date]:  # type: ignore[no-untyped-def]
    """Return, per technician, the last day they completed an order with ``column == value``."""
    if value is None:
        return {}
    rows = session.execute(
        select(WorkOrder.assignee_id, func.max(WorkOrder.completed_at))
        .where(
            WorkOrder.assignee_id.in_(ids_sub),
            column == value,
            WorkOrder.completed_at.is_not(None),
        )
        .group_by(WorkOrder.assignee_id)
    ).all()
    return {tech_id: _as_date(at) for tech_id, at in rows if at is not None}


def _as_date(value: datetime | str) -> date:
    """Return the date of an aggregate's result (SQLite returns MAX() of a datetime as text)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).date()
    return value.date()
