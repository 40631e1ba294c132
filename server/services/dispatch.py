"""Use cases of automatic dispatch: recommend, auto-assign down the list, propose a day plan.

The pure parts (rules, score, optimizer) live in ``server.dispatch``; this module loads the
facts, applies assignments through the workflow (``apply_transition``, so the push goes
through the outbox), records offers, and flushes. It never commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from flask import current_app
from sqlalchemy import select

from server.dispatch.candidates import job_facts, load_candidates, policy_for
from server.dispatch.model import DayPlanProblem, Job, Technician, evaluate
from server.dispatch.optimizer import solve_day_plan
from server.dispatch.recommend import (
    Ranking,
    ScoringSettings,
    haversine_km,
    recommend,
)
from server.extensions import db
from server.models import OutboxMessage, Site, User, WorkOrder
from server.models.base import utcnow
from server.models.dispatch import (
    AutoAssignMode,
    DispatchOffer,
    DispatchPolicy,
    OfferStatus,
    TechnicianPosition,
)
from server.services.errors import InvalidInput, ServiceError
from server.services.work_orders import apply_transition

log = logging.getLogger(__name__)

#: States from which the system may hand an order to someone (repair-style workflows).
_ASSIGNABLE = {"new", "triaged"}
#: The state an order sits in while the technician has not accepted yet.
_WAITING = "assigned"


def scoring_settings() -> ScoringSettings:
    """Return the deployment's scoring settings (OSRM when FIELDWORK_OSRM_URL is set)."""
    settings = current_app.config.get("FIELDWORK_SETTINGS")
    osrm = getattr(settings, "osrm_url", None) or current_app.config.get("FIELDWORK_OSRM_URL")
    return ScoringSettings(osrm_url=osrm)


def _zone() -> ZoneInfo:
    settings = current_app.config.get("FIELDWORK_SETTINGS")
    return ZoneInfo(getattr(settings, "timezone", None) or "Asia/Shanghai")


def recommend_for_order(
    order: WorkOrder,
    *,
    now: datetime | None = None,
    limit: int | None = 10,
    exclude: set[int] | frozenset[int] = frozenset(),
    settings: ScoringSettings | None = None,
    team: str | None = None,
) -> Ranking:
    """Rank the technicians who may take ``order``, best first, each score with its parts."""
    now = now or utcnow()
    facts = job_facts(db.session, order, now, policy_for(db.session, order.category_id))
    candidates = load_candidates(db.session, facts, _zone(), team=team, exclude=exclude)
    return recommend(facts, candidates, settings or scoring_settings(), now=now, limit=limit)


def record_position(
    technician_id: int, latitude: float, longitude: float, at: datetime | None = None
) -> TechnicianPosition:
    """Remember where a technician's phone last was (recommendations start from there)."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput({"latitude": ["Not a position on Earth."]})
    at = at or utcnow()
    position = db.session.get(TechnicianPosition, technician_id)
    if position is None:
        position = TechnicianPosition(
            technician_id=technician_id, latitude=latitude, longitude=longitude, recorded_at=at
        )
        db.session.add(position)
    elif position.recorded_at <= at:  # a late, older report must not move them back
        position.latitude, position.longitude, position.recorded_at = latitude, longitude, at
    db.session.flush()
    return position


# --- Auto-assignment ------------------------------------------------------------------------


def set_dispatch_policy(
    category_id: int,
    mode: AutoAssignMode,
    acceptance_minutes: int = 15,
    required_certifications: list[str] | None = None,
) -> DispatchPolicy:
    """Set how a category's new orders are dispatched (off, suggest, assign)."""
    policy = db.session.get(DispatchPolicy, category_id)
    if policy is None:
        policy = DispatchPolicy(category_id=category_id)
        db.session.add(policy)
    policy.mode = mode
    policy.acceptance_minutes = acceptance_minutes
    policy.required_certifications = list(required_certifications or [])
    db.session.flush()
    return policy


def dispatch_new_order(order: WorkOrder, now: datetime | None = None) -> DispatchOffer | None:
    """Assign a new order to its top candidate when its category's policy says ``assign``."""
    policy = policy_for(db.session, order.category_id)
    if policy is None or policy.mode is not AutoAssignMode.ASSIGN:
        return None
    return offer_next(order, policy, now or utcnow())


def offer_next(order: WorkOrder, policy: DispatchPolicy, now: datetime) -> DispatchOffer | None:
    """Assign ``order`` to the best candidate not offered it yet; none left → alert dispatchers."""
    tried = set(
        db.session.scalars(
            select(DispatchOffer.technician_id).where(DispatchOffer.work_order_id == order.id)
        )
    )
    ranking = recommend_for_order(order, now=now, limit=None, exclude=tried)
    rank = len(tried) + 1
    for candidate in ranking.recommendations:
        transition = "reassign" if order.state == _WAITING else "assign"
        try:
            with db.session.begin_nested():
                apply_transition(
                    order,
                    transition,
                    None,
                    {"assignee_id": candidate.technician_id},
                    order.version,
                    context={"auto_dispatch": True, "rank": rank, "score": candidate.cost},
                    now=now,
                )
        except ServiceError as error:  # the workflow refused this one: try the next
            log.info(
                "auto-dispatch of %s to %s refused: %s", order.id, candidate.technician_id, error
            )
            db.session.refresh(order)
            continue
        offer = DispatchOffer(
            work_order_id=order.id,
            technician_id=candidate.technician_id,
            rank=rank,
            status=OfferStatus.OFFERED,
            offered_at=now,
            expires_at=now + timedelta(minutes=policy.acceptance_minutes),
        )
        db.session.add(offer)
        db.session.flush()
        return offer
    _alert_dispatchers(order, now, tried=len(tried))
    return None


def _alert_dispatchers(order: WorkOrder, now: datetime, tried: int) -> None:
    """Tell the order's dispatcher that nobody took it (push and email through the outbox)."""
    db.session.add(
        OutboxMessage(
            action="notify",
            payload={
                "params": {
                    "to": "dispatcher",
                    "channels": ["push", "email"],
                    "template": "assignment_not_accepted",
                },
                "reason": "auto_dispatch_exhausted",
                "offers": tried,
            },
            work_order_id=order.id,
            created_at=now,
            available_at=now,
        )
    )
    db.session.flush()


def expire_unaccepted_offers(now: datetime) -> int:
    """Move on from declined and unanswered offers, and offer new auto-assign orders.

    Run by the scheduler every minute (``dispatch.offers``). Returns how many orders moved.
    """
    moved = 0
    open_offers = list(
        db.session.scalars(
            select(DispatchOffer)
            .where(DispatchOffer.status == OfferStatus.OFFERED)
            .order_by(DispatchOffer.id)
        )
    )
    for offer in open_offers:
        order = db.session.get(WorkOrder, offer.work_order_id)
        if order is None:
            continue
        policy = policy_for(db.session, order.category_id)
        with_tech = order.assignee_id == offer.technician_id
        if order.closed_at is not None:
            _close(offer, OfferStatus.WITHDRAWN, now, "order_closed")
            continue
        if with_tech and order.state != _WAITING:
            _close(offer, OfferStatus.ACCEPTED, now, "accepted")
            continue
        if with_tech and offer.expires_at > now:
            continue  # still waiting for an answer
        if with_tech:
            _close(offer, OfferStatus.EXPIRED, now, "no_answer")
        elif order.assignee_id is None and order.state in _ASSIGNABLE:
            _close(offer, OfferStatus.DECLINED, now, "declined")
        else:
            _close(offer, OfferStatus.WITHDRAWN, now, "dispatcher_changed")
            continue  # a person took over: automation stops here
        if policy is None or policy.mode is not AutoAssignMode.ASSIGN:
            continue
        offer_next(order, policy, now)
        moved += 1
    moved += _offer_unoffered(now)
    return moved


def _offer_unoffered(now: datetime) -> int:
    """Offer orders of auto-assign categories that arrived without one (created in the last day)."""
    offered = select(DispatchOffer.work_order_id)
    orders = list(
        db.session.scalars(
            select(WorkOrder)
            .join(DispatchPolicy, DispatchPolicy.category_id == WorkOrder.category_id)
            .where(
                DispatchPolicy.mode == AutoAssignMode.ASSIGN,
                WorkOrder.assignee_id.is_(None),
                WorkOrder.state.in_(sorted(_ASSIGNABLE)),
                WorkOrder.closed_at.is_(None),
                WorkOrder.created_at >= now - timedelta(days=1),
                WorkOrder.id.notin_(offered),
            )
            .order_by(WorkOrder.id)
            .limit(200)
        )
    )
    for order in orders:
        dispatch_new_order(order, now)
    return len(orders)


def _close(offer: DispatchOffer, status: OfferStatus, now: datetime, reason: str) -> None:
    offer.status = status
    offer.closed_at = now
    offer.reason = reason
    db.session.flush()


# --- Day plan -------------------------------------------------------------------------------


@dataclass
class PlanChange:
    """One order the proposed plan moves or reorders."""

    order_id: int
    number: str
    from_technician_id: int | None
    to_technician_id: int
    position: int
    planned_start_at: datetime


@dataclass
class PlanProposal:
    """A day plan as a diff of the board."""

    changes: list[PlanChange]
    #: Technician id → order ids in the proposed visit order.
    sequence: dict[int, list[int]]
    current_minutes: float
    proposed_minutes: float
    unassigned: list[int] = field(default_factory=list)

    @property
    def minutes_saved(self) -> float:
        """Return the travel minutes the proposal saves over the current board."""
        return round(self.current_minutes - self.proposed_minutes, 1)


def propose_day_plan(
    technicians: list[User],
    orders: list[WorkOrder],
    day_start: datetime,
    *,
    seconds: float = 5.0,
    settings: ScoringSettings | None = None,
    shift_hours: tuple[float, float] = (8.0, 18.0),
    service_minutes: int = 60,
) -> PlanProposal:
    """Propose assignments and visit order for ``orders`` among ``technicians`` on one day.

    Orders already accepted by a technician (not merely assigned) are locked to them.
    Travel is straight line × road factor ÷ speed between sites and home bases.
    """
    settings = settings or scoring_settings()
    points: list[tuple[float, float]] = []
    techs: list[Technician] = []
    technicians = [t for t in technicians if t.technician_profile is not None]
    weekday = day_start.astimezone(_zone()).weekday()
    for tech in technicians:
        profile = tech.technician_profile
        points.append((profile.home_latitude or 0.0, profile.home_longitude or 0.0))
        # A skill at level n also counts at every lower level: "hvac@1" … "hvac@n".
        skills = frozenset(
            f"{s.skill}@{level}" for s in profile.skills for level in range(1, s.level + 1)
        )
        shift = _shift_seconds(profile.working_hours, weekday, shift_hours)
        techs.append(
            Technician(
                key=tech.id,
                start_location=len(points) - 1,
                end_location=len(points) - 1,
                shift_start=shift[0],
                shift_end=shift[1],
                skills=skills,
                max_jobs=profile.max_jobs_per_day,
            )
        )
    sites = {
        s.id: s
        for s in db.session.scalars(
            select(Site).where(Site.id.in_([o.site_id for o in orders if o.site_id]))
        )
    }
    jobs: list[Job] = []
    current: dict[int, list[int]] = {t.id: [] for t in technicians}
    # The board's present visit order: by planned start, unplanned last.
    far_future = day_start + timedelta(days=365)
    orders = sorted(orders, key=lambda o: (o.scheduled_start_at or far_future, o.id))
    for order in orders:
        site = sites.get(order.site_id) if order.site_id else None
        points.append((site.latitude or 0.0, site.longitude or 0.0) if site else (0.0, 0.0))
        start = order.requested_start_at or order.scheduled_start_at
        end = order.requested_end_at or order.scheduled_end_at
        # Seconds after the day's start; a window already past leaves the job late, not out.
        window_end = max(0, _seconds_after(day_start, end)) if end else 24 * 3600
        window_start = min(max(0, _seconds_after(day_start, start)), window_end) if start else 0
        window = (window_start, window_end)
        locked = order.assignee_id if order.state not in ("new", "triaged", _WAITING) else None
        category = order.category
        skill = f"{category.required_skill}@{category.required_skill_level}"
        jobs.append(
            Job(
                key=order.id,
                location=len(points) - 1,
                duration=service_minutes * 60,
                window_start=window[0],
                window_end=window[1],
                skills=frozenset({skill}) if category.required_skill else frozenset(),
                priority=str(order.priority),
                locked_to=locked,
            )
        )
        if order.assignee_id in current:
            current[order.assignee_id].append(order.id)
    n = len(points)
    dist = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(n):
            if i != j:
                km = haversine_km(*points[i], *points[j]) * settings.road_factor
                dist[i, j] = int(km * 1000)
    dur = (dist / (settings.speed_kmh / 3.6)).astype(np.int64)
    problem = DayPlanProblem(jobs=jobs, technicians=techs, distance=dist, duration=dur)
    plan = solve_day_plan(problem, seconds=seconds, initial=current)
    before = evaluate(problem, current)
    changes = []
    by_id = {o.id: o for o in orders}
    for tech_id, visits in plan.routes.items():
        for position, visit in enumerate(visits):
            order = by_id[visit.job]
            old_position = (
                current.get(order.assignee_id, []).index(order.id)
                if order.assignee_id in current and order.id in current[order.assignee_id]
                else None
            )
            if order.assignee_id != tech_id or old_position != position:
                changes.append(
                    PlanChange(
                        order_id=order.id,
                        number=order.number,
                        from_technician_id=order.assignee_id,
                        to_technician_id=int(tech_id),
                        position=position,
                        planned_start_at=day_start + timedelta(seconds=visit.start),
                    )
                )
    speed = settings.speed_kmh / 60 * 1000
    return PlanProposal(
        changes=changes,
        sequence={int(k): [int(v) for v in vs] for k, vs in plan.sequence().items()},
        current_minutes=round(before.distance / speed, 1),
        proposed_minutes=round(plan.distance / speed, 1),
        unassigned=[int(k) for k in plan.unassigned],
    )


def _shift_seconds(hours: list[Any], weekday: int, default: tuple[float, float]) -> tuple[int, int]:
    """Return the day's shift in seconds after midnight (no hours recorded: ``default``)."""
    if not hours:
        return int(default[0] * 3600), int(default[1] * 3600)
    today = [h for h in hours if h.weekday == weekday]
    if not today:
        return 0, 0  # off today: only what is locked to them, and that will show as late
    start = min(h.starts_at for h in today)
    end = max(h.ends_at for h in today)
    return start.hour * 3600 + start.minute * 60, end.hour * 3600 + end.minute * 60


def _seconds_after(origin: datetime, at: datetime) -> int:
    return int((at - origin).total_seconds())


def apply_day_plan(
    proposal: PlanProposal, order_ids: list[int] | None, actor: User, now: datetime | None = None
) -> list[int]:
    """Apply all of ``proposal`` or only the changes for ``order_ids``; return the orders changed.

    Moves go through the workflow (assign or reassign, so pushes go out); every changed order
    gets its planned start.
    """
    now = now or utcnow()
    wanted = None if order_ids is None else set(order_ids)
    done = []
    for change in proposal.changes:
        if wanted is not None and change.order_id not in wanted:
            continue
        order = db.session.get(WorkOrder, change.order_id)
        if order is None:
            continue
        if order.assignee_id != change.to_technician_id:
            transition = "assign" if order.assignee_id is None else "reassign"
            apply_transition(
                order,
                transition,
                actor,
                {"assignee_id": change.to_technician_id},
                order.version,
                context={"day_plan": True},
                now=now,
            )
            db.session.refresh(order)
        order.scheduled_start_at = change.planned_start_at
        db.session.flush()
        done.append(order.id)
    return done


def describe_ranking(ranking: Ranking, locale: str) -> list[dict[str, Any]]:
    """Return the ranking as plain data in ``locale`` (for the API and the console board)."""
    return [
        {
            "technician_id": r.technician_id,
            "name": r.name,
            "rank": i + 1,
            "cost_minutes": r.cost,
            "travel_minutes": r.travel_minutes,
            "summary": r.summary(locale),
            "parts": [
                {"code": p.code, "minutes": round(p.minutes, 1), "text": p.text(locale)}
                for p in r.parts
            ],
        }
        for i, r in enumerate(ranking.recommendations)
    ]
