"""Deadline policies and the clocks they drive: choose, start, pause, resume, stop, recompute.

The workflow says when a clock starts, stops or pauses (``clocks`` of a state and the
``*_clock`` actions); the policy chosen for the order (category × priority or severity ×
customer tier) says how long each clock may run, whether on a business calendar, and in
which states it may pause. Due times are stored on the clock and mirrored into the order's
``respond_by`` / ``arrive_by`` / ``resolve_by`` columns, which the console and the APIs read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value

from server.extensions import db
from server.models import (
    BusinessCalendar,
    CalendarDay,
    ClockPause,
    CustomerTier,
    DeadlineClock,
    DeadlinePolicy,
    EscalationRecord,
    EscalationStep,
    Priority,
    Site,
    User,
    WorkOrder,
)
from server.models.base import utcnow
from server.services.deadlines import DEFAULT_LIMITS
from server.services.workflow_registry import definition_for
from workflows import Decision, Definition
from workflows import calendars as cal
from workflows.cn_holidays import CN_HOLIDAYS
from workflows.durations import parse_duration

#: Clocks mirrored into ``<kind>_by`` / ``<kind>_breached_at`` columns of the order.
MIRRORED = ("respond", "arrive", "resolve")
#: Complaint severities, mildest first.
SEVERITIES = ("general", "important", "major")

# --- Shipped defaults (inserted by migration 0008) ------------------------------------------

OFFICE_HOURS = "09:00-12:00, 13:00-18:00"

#: Shipped calendars: code, English, Chinese, weekly hours (Mon..Sun), day length, default.
DEFAULT_CALENDARS: tuple[dict[str, Any], ...] = (
    {
        "code": "cn-office",
        "name_en": "China office hours, public holidays and make-up days",
        "name_zh": "中国工作时间（含法定节假日与调休）",
        "timezone": "Asia/Shanghai",
        "weekly_hours": {str(d): OFFICE_HOURS for d in range(5)},
        "makeup_hours": OFFICE_HOURS,
        "working_day_minutes": 480,
        "is_default": True,
        "holidays": "cn",
    },
    {
        "code": "24x7",
        "name_en": "Around the clock",
        "name_zh": "全天候（7×24 小时）",
        "timezone": "Asia/Shanghai",
        "weekly_hours": {str(d): "00:00-00:00" for d in range(7)},
        "makeup_hours": None,
        "working_day_minutes": 1440,
        "is_default": False,
        "holidays": None,
    },
)

_TECH = ["notify_assignee", "notify_dispatcher"]
#: Ladders: (trigger, minutes after the breach, actions); reassignment only where a
#: technician is the one late (respond and arrive clocks).
LADDERS: dict[str, tuple[tuple[str, int, tuple[str, ...]], ...]] = {
    "emergency": (
        ("warning", 0, ("notify_assignee", "notify_dispatcher")),
        ("breach", 0, ("notify_supervisor", "raise_priority")),
        ("after_breach", 15, ("notify_manager",)),
        ("after_breach", 30, ("reassign_on_call",)),
    ),
    "standard": (
        ("warning", 0, ("notify_assignee", "notify_dispatcher")),
        ("breach", 0, ("notify_supervisor", "raise_priority")),
        ("after_breach", 60, ("notify_manager",)),
        ("after_breach", 120, ("reassign_on_call",)),
    ),
    "office": (
        ("warning", 0, ("notify_assignee", "notify_dispatcher")),
        ("breach", 0, ("notify_supervisor", "raise_priority")),
        ("after_breach", 24 * 60, ("notify_manager",)),
    ),
}

#: Shipped policies. Limits: ``10m`` is calendar time; ``3 working hours`` / ``3 working
#: days`` count on the calendar (a working day is the calendar's day length).
DEFAULT_POLICIES: tuple[dict[str, Any], ...] = (
    {
        "name_en": "Normal request",
        "name_zh": "一般报修",
        "respond_within": "1 working hour",
        "resolve_within": "3 working hours",
        "followup_within": "1 working day",
        "calendar": "cn-office",
        "pause_states": ["on_hold"],
        "ladder": "standard",
    },
    {
        "name_en": "Normal request – VIP",
        "name_zh": "一般报修（VIP 客户）",
        "customer_tier": "vip",
        "respond_within": "30 working minutes",
        "resolve_within": "2 working hours",
        "followup_within": "1 working day",
        "calendar": "cn-office",
        "pause_states": ["on_hold"],
        "ladder": "standard",
    },
    {
        "name_en": "High priority",
        "name_zh": "高优先级",
        "priority": "high",
        "respond_within": "1h",
        "arrive_within": "4h",
        "resolve_within": "24h",
        "followup_within": "1 working day",
        "calendar": "cn-office",
        "pause_states": ["on_hold"],
        "ladder": "standard",
    },
    {
        "name_en": "Low priority",
        "name_zh": "低优先级",
        "priority": "low",
        "respond_within": "4 working hours",
        "resolve_within": "5 working days",
        "calendar": "cn-office",
        "pause_states": ["on_hold"],
        "ladder": "office",
    },
    {
        "name_en": "Emergency",
        "name_zh": "紧急抢修",
        "priority": "emergency",
        "respond_within": "10m",
        "arrive_within": "45m",
        "resolve_within": "4h",
        "followup_within": "1 working day",
        "calendar": "24x7",
        "pause_states": [],
        "ladder": "emergency",
    },
    {
        "name_en": "Emergency – VIP",
        "name_zh": "紧急抢修（VIP 客户）",
        "priority": "emergency",
        "customer_tier": "vip",
        "respond_within": "5m",
        "arrive_within": "30m",
        "resolve_within": "3h",
        "followup_within": "1 working day",
        "calendar": "24x7",
        "pause_states": [],
        "ladder": "emergency",
    },
    {
        "name_en": "Consultation",
        "name_zh": "咨询",
        "category_code": "CONSULT",
        "respond_within": "1 working day",
        "resolve_within": "3 working days",
        "calendar": "cn-office",
        "pause_states": [],
        "ladder": "office",
    },
)


def _complaint_policies() -> tuple[dict[str, Any], ...]:
    """Return the complaint policies, by customer tier and severity.

    First contact within 3 working hours; resolved within 3 / 7 / 15 working days by
    severity (the upper bounds of 1–3 / 3–7 / 7–15); VIP 2 hours and 2 / 5 / 10 days.
    Before triage the severity is unknown and the general limits apply.
    """
    policies: list[dict[str, Any]] = []
    for tier, respond, days in (
        (None, "3 working hours", (3, 7, 15)),
        ("vip", "2 working hours", (2, 5, 10)),
    ):
        suffix_en, suffix_zh = (" – VIP", "（VIP 客户）") if tier else ("", "")
        common = {
            "workflow_name": "complaint",
            "customer_tier": tier,
            "respond_within": respond,
            "followup_within": "1 working day",
            "calendar": "cn-office",
            # The customer is considering the proposed resolution: their time, not ours.
            "pause_states": ["resolution_proposed"],
            "ladder": "office",
        }
        policies.append(
            common
            | {
                "name_en": f"Complaint{suffix_en}",
                "name_zh": f"投诉{suffix_zh}",
                "resolve_within": f"{days[0]} working days",
            }
        )
        for severity, zh, limit in zip(SEVERITIES, ("一般", "重要", "重大"), days, strict=True):
            policies.append(
                common
                | {
                    "name_en": f"Complaint – {severity}{suffix_en}",
                    "name_zh": f"{zh}投诉{suffix_zh}",
                    "severity": severity,
                    "resolve_within": f"{limit} working days",
                }
            )
    return tuple(policies)


DEFAULT_POLICIES += _complaint_policies()


def default_rows() -> dict[str, list[dict[str, Any]]]:
    """Return the shipped calendars, days, policies and steps as table rows with ids."""
    calendars, days, policies, steps = [], [], [], []
    calendar_ids = {}
    for number, spec in enumerate(DEFAULT_CALENDARS, start=1):
        calendar_ids[spec["code"]] = number
        calendars.append(
            {k: v for k, v in spec.items() if k != "holidays"}
            | {"id": number, "team": None, "region": None}
        )
        if spec["holidays"] == "cn":
            for blocks in CN_HOLIDAYS.values():
                for block in blocks:
                    extra = {"name_en": block.name_en, "name_zh": block.name_zh}
                    for day in block.days():
                        days.append(
                            {"calendar_id": number, "day": day, "is_working": False}
                            | extra
                            | {"is_provisional": block.provisional}
                        )
                    for day in block.makeup_days:
                        days.append(
                            {
                                "calendar_id": number,
                                "day": day,
                                "is_working": True,
                                "name_en": f"{block.name_en} make-up working day",
                                "name_zh": f"{block.name_zh}调休上班",
                                "is_provisional": block.provisional,
                            }
                        )
    step_id = 0
    for number, spec in enumerate(DEFAULT_POLICIES, start=1):
        row = {
            "id": number,
            "name_en": spec["name_en"],
            "name_zh": spec["name_zh"],
            "warn_percent": 80,
            "calendar_id": calendar_ids[spec["calendar"]],
            "pause_states": list(spec["pause_states"]),
            "is_active": True,
        }
        for key in ("category_code", "workflow_name", "priority", "severity", "customer_tier"):
            row[key] = spec.get(key)
        for clock in ("respond", "arrive", "resolve", "followup"):
            row[f"{clock}_within"] = spec.get(f"{clock}_within")
        policies.append(row)
        for clock in ("respond", "arrive", "resolve", "followup"):
            if not spec.get(f"{clock}_within"):
                continue
            ladder = LADDERS["office" if clock == "followup" else spec["ladder"]]
            for trigger, minutes, actions in ladder:
                kept = [
                    action
                    for action in actions
                    if (action != "reassign_on_call" or clock in ("respond", "arrive"))
                    # A late follow-up call does not make the finished work more urgent.
                    and (action != "raise_priority" or clock != "followup")
                ]
                if not kept:
                    continue
                step_id += 1
                steps.append(
                    {
                        "id": step_id,
                        "policy_id": number,
                        "clock": clock,
                        "trigger": trigger,
                        "after_minutes": minutes,
                        "actions": kept,
                    }
                )
    return {
        "business_calendars": calendars,
        "calendar_days": days,
        "deadline_policies": policies,
        "escalation_steps": steps,
    }


# --- Calendars ----------------------------------------------------------------------------


def _memo() -> dict[Any, Any]:
    """Return a cache that lives as long as the session's current transaction.

    Policies and calendars change rarely and only through this module's functions, which
    clear it; within one transaction (a request, a seeding run) they are read once.
    """
    transaction = db.session().get_transaction()
    holder = db.session.info.get("fieldwork.deadline_memo")
    if holder is None or holder[0] is not transaction:
        holder = (transaction, {})
        db.session.info["fieldwork.deadline_memo"] = holder
    return holder[1]


def forget_deadline_cache() -> None:
    """Drop the transaction's cached policies and calendars (after editing them)."""
    db.session.info.pop("fieldwork.deadline_memo", None)


#: Pure calendars by (id, last change, exception count, newest exception id).
_CALENDAR_CACHE: dict[tuple[Any, ...], cal.BusinessCalendar] = {}


def to_pure_calendar(
    calendar: BusinessCalendar, days: Iterable[CalendarDay]
) -> cal.BusinessCalendar:
    """Return the ``workflows`` calendar a stored calendar describes."""
    holidays: set[date] = set()
    workdays: set[date] = set()
    for day in days:
        (workdays if day.is_working else holidays).add(day.day)
    return cal.BusinessCalendar(
        calendar.timezone,
        {int(k): cal.parse_hours(v) for k, v in (calendar.weekly_hours or {}).items()},
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        makeup_hours=cal.parse_hours(calendar.makeup_hours) if calendar.makeup_hours else None,
        working_day=timedelta(minutes=calendar.working_day_minutes),
        name=calendar.code,
    )


def load_calendar(calendar_id: int) -> cal.BusinessCalendar:
    """Return the stored calendar as a pure one, cached until it or its days change."""
    memo = _memo()
    if ("calendar", calendar_id) not in memo:
        with db.session.no_autoflush:
            memo[("calendar", calendar_id)] = _load_calendar(calendar_id)
    calendar: cal.BusinessCalendar = memo[("calendar", calendar_id)]
    return calendar


def _load_calendar(calendar_id: int) -> cal.BusinessCalendar:
    stamp = db.session.execute(
        select(
            BusinessCalendar.updated_at,
            select(func.count(CalendarDay.id))
            .where(CalendarDay.calendar_id == calendar_id)
            .scalar_subquery(),
            select(func.max(CalendarDay.id))
            .where(CalendarDay.calendar_id == calendar_id)
            .scalar_subquery(),
        ).where(BusinessCalendar.id == calendar_id)
    ).one()
    key = (calendar_id, *stamp)
    if key not in _CALENDAR_CACHE:
        calendar = db.session.get(BusinessCalendar, calendar_id)
        assert calendar is not None  # noqa: S101 - the row was just read
        days = db.session.scalars(select(CalendarDay).where(CalendarDay.calendar_id == calendar_id))
        if len(_CALENDAR_CACHE) > 64:
            _CALENDAR_CACHE.clear()
        _CALENDAR_CACHE[key] = to_pure_calendar(calendar, days)
    return _CALENDAR_CACHE[key]


def set_calendar_day(
    calendar: BusinessCalendar,
    day: date,
    *,
    is_working: bool,
    name_en: str,
    name_zh: str,
    now: datetime | None = None,
) -> CalendarDay:
    """Make ``day`` a holiday or a make-up working day of ``calendar`` (admins edit these)."""
    existing = db.session.scalar(
        select(CalendarDay).where(CalendarDay.calendar_id == calendar.id, CalendarDay.day == day)
    )
    row = existing or CalendarDay(calendar_id=calendar.id, day=day)
    row.is_working, row.name_en, row.name_zh, row.is_provisional = (
        is_working,
        name_en,
        name_zh,
        False,
    )
    db.session.add(row)
    # Touching the calendar tells every process's cache to reload it.
    calendar.updated_at = now or utcnow()
    db.session.flush()
    forget_deadline_cache()
    return row


def remove_calendar_day(calendar: BusinessCalendar, day: date, now: datetime | None = None) -> bool:
    """Make ``day`` an ordinary day of ``calendar`` again; return whether it was an exception."""
    row = db.session.scalar(
        select(CalendarDay).where(CalendarDay.calendar_id == calendar.id, CalendarDay.day == day)
    )
    if row is None:
        return False
    db.session.delete(row)
    calendar.updated_at = now or utcnow()
    db.session.flush()
    forget_deadline_cache()
    return True


def calendar_for(policy: DeadlinePolicy | None, order: WorkOrder) -> int | None:
    """Return the calendar id for ``order``: the policy's, its site's region's, or the default."""
    if policy is not None and policy.calendar_id is not None:
        return policy.calendar_id
    regions = []
    if order.site_id is not None:
        site = db.session.get(Site, order.site_id)
        if site is not None:
            regions = [r for r in (site.district, site.city) if r]
    rows = db.session.execute(
        select(BusinessCalendar.id, BusinessCalendar.region, BusinessCalendar.is_default)
    ).all()
    for region in regions:
        for row in rows:
            if row.region == region:
                return int(row.id)
    return next((int(row.id) for row in rows if row.is_default), None)


def working_time_functions(
    order: WorkOrder,
) -> tuple[Callable[[datetime, timedelta], datetime], Callable[[datetime, datetime], timedelta]]:
    """Return (add working time, working time between) on ``order``'s business calendar."""
    calendar_id = calendar_for(policy_for_order(order), order)
    if calendar_id is None:
        return (lambda start, duration: start + duration), (lambda a, b: b - a)
    calendar = load_calendar(calendar_id)
    return (
        lambda start, duration: cal.add_working_time(calendar, start, duration),
        lambda a, b: cal.working_time_between(calendar, a, b),
    )


# --- Policies -----------------------------------------------------------------------------


def _matches(policy: DeadlinePolicy, facts: Mapping[str, Any]) -> int | None:
    """Return how specific ``policy`` is for ``facts``, or None when it does not apply."""
    score = 0
    for key in ("category_code", "workflow_name", "priority", "severity", "customer_tier"):
        wanted = getattr(policy, key)
        if wanted is None:
            continue
        if facts.get(key) is None or str(wanted) != str(facts[key]):
            return None
        score += 1
    return score


def policy_for(
    *,
    category_code: str,
    workflow_name: str,
    priority: Priority | str,
    severity: str | None,
    customer_tier: CustomerTier | str | None,
) -> DeadlinePolicy | None:
    """Return the most specific active policy for these facts (None: built-in defaults)."""
    facts = {
        "category_code": category_code,
        "workflow_name": workflow_name,
        "priority": str(priority),
        "severity": severity,
        "customer_tier": str(customer_tier) if customer_tier is not None else None,
    }
    best: tuple[int, int] | None = None
    chosen = None
    memo = _memo()
    if "policies" not in memo:
        memo["policies"] = db.session.scalars(
            select(DeadlinePolicy)
            .where(DeadlinePolicy.is_active.is_(True))
            .order_by(DeadlinePolicy.id)
        ).all()
    for policy in memo["policies"]:
        score = _matches(policy, facts)
        if score is not None and (best is None or (score, -policy.id) > best):
            best, chosen = (score, -policy.id), policy
    return chosen


def policy_for_order(order: WorkOrder) -> DeadlinePolicy | None:
    """Return the policy that applies to ``order`` as it is now."""
    with db.session.no_autoflush:
        tier = order.customer.tier
        return policy_for(
            category_code=order.category.code,
            workflow_name=order.workflow_name,
            priority=order.priority,
            severity=order.severity,
            customer_tier=tier,
        )


def _limit(policy: DeadlinePolicy | None, kind: str, order: WorkOrder) -> str | None:
    if policy is not None:
        return getattr(policy, f"{kind}_within", None)
    # No policy applies (an admin removed them): the workflow's own deadlines, else the
    # built-in calendar-time defaults by priority.
    definition = definition_for(order.workflow_name, order.workflow_version)
    value = definition.deadlines.get(kind)
    if value is None and kind != "followup":
        respond, arrive, resolve = DEFAULT_LIMITS[Priority(order.priority)]
        value = {"respond": respond, "arrive": arrive, "resolve": resolve}[kind]
    return f"{int(value.total_seconds() // 60)}m" if value else None


# --- Clock arithmetic ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Measure:
    """How one clock counts: working time on a calendar, or calendar time."""

    limit: timedelta
    calendar: cal.BusinessCalendar | None

    def advance(self, start: datetime, amount: timedelta) -> datetime:
        if self.calendar is None:
            return start + amount
        return cal.add_working_time(self.calendar, start, amount)

    def between(self, a: datetime, b: datetime) -> timedelta:
        if self.calendar is None:
            return b - a
        return cal.working_time_between(self.calendar, a, b)


def _measure(clock: DeadlineClock) -> _Measure:
    duration = parse_duration(clock.within)
    calendar = None
    if clock.is_working_time and clock.calendar_id is not None:
        calendar = load_calendar(clock.calendar_id)
    if duration.working and calendar is not None and duration.unit == "days":
        return _Measure(calendar.working_day * duration.amount, calendar)
    if duration.working and calendar is not None:
        return _Measure(duration.delta, calendar)
    return _Measure(duration.delta, None)


def step_time(
    step: EscalationStep, warn_at: datetime | None, due_at: datetime | None
) -> datetime | None:
    """Return when ``step`` is due for a clock with these warning and due times."""
    if step.trigger == "warning":
        return warn_at
    if due_at is None:
        return None
    return due_at + timedelta(minutes=step.after_minutes if step.trigger == "after_breach" else 0)


def _steps_of(policy_id: int | None, kind: str) -> list[EscalationStep]:
    if policy_id is None:
        return []
    memo = _memo()
    if ("steps", policy_id, kind) not in memo:
        with db.session.no_autoflush:
            memo[("steps", policy_id, kind)] = db.session.scalars(
                select(EscalationStep).where(
                    EscalationStep.policy_id == policy_id, EscalationStep.clock == kind
                )
            ).all()
    steps: list[EscalationStep] = memo[("steps", policy_id, kind)]
    return steps


def schedule_clock(clock: DeadlineClock, *, fresh: bool = False) -> None:
    """Recompute ``due_at``, ``warn_at`` and ``next_check_at`` from the clock's history."""
    if clock.stopped_at is not None or clock.paused_at is not None:
        clock.due_at = clock.warn_at = clock.next_check_at = None
        return
    measure = _measure(clock)
    paused = timedelta(seconds=clock.paused_counted_seconds)
    clock.due_at = measure.advance(clock.started_at, measure.limit + paused)
    clock.warn_at = measure.advance(
        clock.started_at, measure.limit * clock.warn_percent / 100 + paused
    )
    if fresh:
        # Nothing done yet, and no step comes before the warning: wake up then (a policy
        # without a warning step costs one idle look at the clock).
        clock.next_check_at = min(clock.warn_at, clock.due_at)
        return
    done: set[int] = set()
    if clock.id is not None:
        done = set(
            db.session.scalars(
                select(EscalationRecord.step_id).where(EscalationRecord.clock_id == clock.id)
            )
        )
    times = [
        t
        for step in _steps_of(clock.policy_id, clock.kind)
        if step.id not in done and (t := step_time(step, clock.warn_at, clock.due_at)) is not None
    ]
    if clock.breached_at is None:
        times.append(clock.due_at)
    clock.next_check_at = min(times) if times else None


# --- Clock lifecycle ----------------------------------------------------------------------


def _running(order_id: int) -> dict[str, DeadlineClock]:
    # Clock changes are flushed as they are made; the caller's other pending changes need
    # not be flushed just to read the clocks.
    with db.session.no_autoflush:
        clocks = db.session.scalars(
            select(DeadlineClock).where(
                DeadlineClock.work_order_id == order_id, DeadlineClock.stopped_at.is_(None)
            )
        ).all()
    return {clock.kind: clock for clock in clocks}


def start_clock(
    order: WorkOrder, kind: str, now: datetime, policy: DeadlinePolicy | None
) -> DeadlineClock | None:
    """Start ``kind`` for ``order`` now under ``policy`` (None when it has no limit)."""
    limit = _limit(policy, kind, order)
    if not limit:
        return None
    duration = parse_duration(limit)
    clock = DeadlineClock(
        work_order_id=order.id,
        kind=kind,
        policy_id=policy.id if policy else None,
        policy=policy,
        calendar_id=calendar_for(policy, order) if duration.working else None,
        within=limit,
        is_working_time=duration.working,
        warn_percent=policy.warn_percent if policy else 80,
        started_at=now,
        paused_total_seconds=0,
        paused_counted_seconds=0,
    )
    schedule_clock(clock, fresh=True)
    db.session.add(clock)
    return clock


def _stop(clock: DeadlineClock, now: datetime, cancelled: bool) -> None:
    if clock.paused_at is not None:
        _resume(clock, now)
    clock.stopped_at = now
    if cancelled:
        clock.outcome = "cancelled"
    elif clock.breached_at is not None or (clock.due_at is not None and now > clock.due_at):
        clock.outcome = "breached"
        clock.breached_at = clock.breached_at or now
    else:
        clock.outcome = "met"
    clock.next_check_at = None


def _pause(clock: DeadlineClock, now: datetime, state: str, actor: User | None) -> None:
    if clock.paused_at is not None:
        return
    clock.paused_at = now
    clock.pauses.append(
        ClockPause(paused_at=now, state=state, actor_id=actor.id if actor else None)
    )
    schedule_clock(clock)


def _resume(clock: DeadlineClock, now: datetime) -> None:
    if clock.paused_at is None:
        return
    measure = _measure(clock)
    clock.paused_total_seconds += int((now - clock.paused_at).total_seconds())
    clock.paused_counted_seconds += int(measure.between(clock.paused_at, now).total_seconds())
    for pause in clock.pauses:
        if pause.resumed_at is None:
            pause.resumed_at = now
    clock.paused_at = None
    schedule_clock(clock)


def sync_order_deadlines(order: WorkOrder, clocks: Iterable[DeadlineClock] | None = None) -> None:
    """Copy the clocks' due, met and breach times into the order's ``*_by`` columns.

    A plain UPDATE that leaves the order's version alone: the deadline mirrors are kept by
    the system and must not make a technician's or dispatcher's ``expected_version`` stale.
    ``clocks``: the order's only clocks, when the caller has them (a new order).
    """
    db.session.flush()
    if clocks is None:
        clocks = db.session.scalars(
            select(DeadlineClock)
            .where(DeadlineClock.work_order_id == order.id, DeadlineClock.kind.in_(MIRRORED))
            .order_by(DeadlineClock.id)
        )
    latest: dict[str, DeadlineClock] = {}
    for clock in clocks:
        latest[clock.kind] = clock
    values: dict[str, Any] = {}
    for kind in MIRRORED:
        clock = latest.get(kind)
        values[f"{kind}_by"] = clock.due_at if clock else None
        values[f"{kind}_breached_at"] = clock.breached_at if clock else None
        if clock is not None:  # a restarted clock (reopened order) is not met any more
            values[f"{kind}_met_at"] = clock.stopped_at
    db.session.execute(
        update(WorkOrder)
        .where(WorkOrder.id == order.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    for name, value in values.items():
        set_committed_value(order, name, value)


def start_initial_clocks(order: WorkOrder, definition: Definition, now: datetime) -> None:
    """Start the clocks the workflow's initial state starts, under the order's policy."""
    kinds = definition.states[definition.initial].clocks.start
    policy = policy_for_order(order)
    started = [start_clock(order, kind, now, policy) for kind in kinds]
    sync_order_deadlines(order, [clock for clock in started if clock is not None])


def running_clocks(order_id: int) -> dict[str, DeadlineClock]:
    """Return the order's clocks that have not stopped, by kind."""
    return _running(order_id)


def apply_clock_changes(
    order: WorkOrder,
    decision: Decision,
    definition: Definition,
    actor: User | None,
    now: datetime,
    *,
    running: dict[str, DeadlineClock] | None = None,
) -> None:
    """Start, stop, pause and resume the order's clocks for a transition just applied.

    ``running`` (from ``running_clocks``, kept up to date here) lets a caller replaying a
    whole history skip the reads and the flushes; it must call ``settle_past_clocks`` or
    ``sync_order_deadlines`` at the end.
    """
    clocks = running if running is not None else _running(order.id)
    category = definition.states[decision.to_state].category
    changed = False
    with db.session.no_autoflush:
        for action in decision.actions:
            kind = str(action.params.get("clock", ""))
            if action.name == "stop_clock" and kind in clocks:
                _stop(clocks.pop(kind), now, cancelled=category == "cancelled")
                changed = True
            elif action.name == "start_clock" and kind not in clocks:
                started = start_clock(order, kind, now, policy_for_order(order))
                if started is not None:
                    clocks[kind] = started
                    changed = True
        # Pauses follow the policy: in its pause states every running clock stops counting;
        # anywhere else a paused clock runs again.
        for clock in clocks.values():
            allowed = (clock.policy.pause_states or ()) if clock.policy is not None else ()
            if decision.to_state in allowed and clock.paused_at is None:
                _pause(clock, now, decision.to_state, actor)
                changed = True
            elif decision.to_state not in allowed and clock.paused_at is not None:
                _resume(clock, now)
                changed = True
    if changed and running is None:
        sync_order_deadlines(order)


def settle_past_clocks(order: WorkOrder, now: datetime) -> None:
    """Mark clocks already past due as breached without escalating (history being loaded).

    Demo data and imports open orders back-dated; their missed deadlines are history, so the
    sweep must not run their ladders now. Clocks still due in the future escalate as usual.
    """
    db.session.flush()
    for clock in _running(order.id).values():
        if clock.paused_at is not None:
            continue
        upcoming = []
        for step in _steps_of(clock.policy_id, clock.kind):
            when = step_time(step, clock.warn_at, clock.due_at)
            if when is not None and when > now:
                upcoming.append(when)
            elif when is not None:
                db.session.add(
                    EscalationRecord(
                        clock_id=clock.id,
                        step_id=step.id,
                        work_order_id=order.id,
                        due_at=when,
                        fired_at=now,
                        outcome={"skipped": "history"},
                    )
                )
        if clock.due_at is not None and clock.due_at <= now:
            clock.breached_at = clock.breached_at or clock.due_at
        elif clock.due_at is not None:
            upcoming.append(clock.due_at)
        clock.next_check_at = min(upcoming) if upcoming else None
    sync_order_deadlines(order)


def recompute_clocks(order: WorkOrder, now: datetime) -> None:
    """Re-choose the policy after a priority, severity or category change; move due times.

    Running clocks keep their start and pauses and take the new policy's limits and ladder;
    steps already done stay done.
    """
    policy = policy_for_order(order)
    for clock in _running(order.id).values():
        limit = _limit(policy, clock.kind, order)
        if not limit:
            continue
        duration = parse_duration(limit)
        clock.policy_id = policy.id if policy else None
        clock.within = limit
        clock.is_working_time = duration.working
        clock.calendar_id = calendar_for(policy, order) if duration.working else None
        clock.warn_percent = policy.warn_percent if policy else 80
        db.session.flush()
        schedule_clock(clock)
    sync_order_deadlines(order)


def clock_history(order: WorkOrder) -> list[DeadlineClock]:
    """Return every clock of ``order`` with its pauses, oldest first."""
    return list(
        db.session.scalars(
            select(DeadlineClock)
            .where(DeadlineClock.work_order_id == order.id)
            .order_by(DeadlineClock.id)
        )
    )
