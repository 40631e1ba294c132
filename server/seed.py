"""Realistic demo data: users, technicians, customers and a history of work orders."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, inspect, select

from server import demo_data
from server.auth.passwords import hash_password
from server.extensions import db
from server.models import (
    Category,
    Channel,
    ClockPause,
    Customer,
    DeadlineClock,
    FieldReport,
    PartUsage,
    Priority,
    Role,
    User,
    Visit,
    VisitCrewMember,
    VisitStatus,
    WorkflowTimerSchedule,
    WorkOrder,
    WorkOrderEvent,
)
from server.models.base import UTCDateTime, utcnow
from server.services.customers import create_customer
from server.services.deadline_policies import (
    apply_clock_changes,
    running_clocks,
    settle_past_clocks,
)
from server.services.job_feed import note_order_changed
from server.services.users import count_users, create_technician_profile, create_user
from server.services.work_orders import create_work_order
from server.services.workflow_registry import definition_for
from workflows import Actor, Decision, Definition, OrderFacts, decide

#: The shipped categories: code, English, Chinese, default priority, workflow, skill, level.
CATEGORIES: tuple[tuple[str, str, str, Priority, str, str | None, int], ...] = (
    ("HVAC-REPAIR", "Air-conditioning repair", "空调维修", Priority.NORMAL, "repair", "hvac", 2),
    ("ELEC-REPAIR", "Electrical fault", "电气故障", Priority.HIGH, "repair", "electrical", 2),
    ("PLUMB-REPAIR", "Plumbing repair", "水管维修", Priority.NORMAL, "repair", "plumbing", 1),
    ("APPL-REPAIR", "Appliance repair", "家电维修", Priority.NORMAL, "repair", "appliance", 1),
    ("INSTALL", "Equipment installation", "设备安装", Priority.NORMAL, "installation", "hvac", 3),
    ("PM", "Preventive maintenance", "定期保养", Priority.LOW, "preventive_maintenance", "hvac", 1),
    ("COMPLAINT", "Complaint", "投诉", Priority.HIGH, "complaint", None, 1),
    (
        "EMERGENCY",
        "Emergency call-out",
        "紧急抢修",
        Priority.EMERGENCY,
        "emergency_callout",
        "electrical",
        3,
    ),
)

#: Checklists per workflow: (key, English, Chinese).
CHECKLISTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "repair": (
        ("safety", "Isolated power / water before work", "作业前已断电 / 断水"),
        ("diagnosis", "Fault found and explained to the customer", "已找到故障并向客户说明"),
        ("function_test", "Function test passed after repair", "修复后功能测试通过"),
        ("site_clean", "Work area cleaned", "作业区域已清理"),
    ),
    "emergency_callout": (
        ("safety", "Danger removed (power, water, gas isolated)", "危险已排除（电/水/气已切断）"),
        ("function_test", "Service restored and tested", "已恢复并测试"),
    ),
    "installation": (
        ("mounting", "Mounted level and secure", "安装牢固水平"),
        ("connections", "Connections checked for leaks", "接口已检漏"),
        ("commissioning", "Commissioned and handed over", "已调试并交付"),
        ("site_clean", "Packaging removed, site cleaned", "包装已清走，现场已清理"),
    ),
    "preventive_maintenance": (
        ("filters", "Filters cleaned or replaced", "滤网已清洗或更换"),
        ("electrical", "Terminals tightened, insulation checked", "端子紧固，绝缘检查"),
        ("readings", "Pressures and temperatures recorded", "压力和温度已记录"),
    ),
}

#: Office accounts every demo has.
OFFICE_USERS = (
    ("admin", "Ada Admin 管理员", Role.ADMIN),
    ("manager", "Wang Min 王敏", Role.MANAGER),
    ("dispatcher1", "Li Na 李娜", Role.DISPATCHER),
    ("dispatcher2", "Zhang Wei 张伟", Role.DISPATCHER),
    ("dispatcher3", "Chen Jing 陈静", Role.DISPATCHER),
)


#: The documented demo password (CONTRACT.md); demo accounts are for trying Fieldwork out.
DEMO_PASSWORD = "fieldwork-demo"  # noqa: S105


class SeedRefused(Exception):
    """The database holds real (non-demo) users and ``--force`` was not given."""


@dataclass(frozen=True)
class SeedSummary:
    """What ``seed_demo`` created."""

    logins: list[tuple[str, str]]
    customers: int
    technicians: int
    orders: int


def demo_logins() -> list[tuple[str, str]]:
    """Return the (username, role) of every demo account, office first."""
    users = db.session.scalars(select(User).where(User.is_demo.is_(True)).order_by(User.id))
    return [(user.username, str(user.role)) for user in users]


def ensure_categories() -> list[Category]:
    """Create the shipped categories that do not exist yet; return all of them."""
    existing = {c.code: c for c in db.session.scalars(select(Category))}
    for code, name_en, name_zh, priority, workflow, skill, level in CATEGORIES:
        if code not in existing:
            existing[code] = Category(
                code=code,
                name_en=name_en,
                name_zh=name_zh,
                default_priority=priority,
                workflow_name=workflow,
                required_skill=skill,
                required_skill_level=level,
                checklist=[
                    {"key": key, "en": en, "zh_CN": zh}
                    for key, en, zh in CHECKLISTS.get(workflow, ())
                ],
            )
            db.session.add(existing[code])
    db.session.flush()
    return list(existing.values())


def seed_demo(
    *,
    orders: int = 1000,
    technicians: int = 25,
    customers: int = 200,
    password: str = DEMO_PASSWORD,
    force: bool = False,
    seed: int = 2026,
    now: datetime | None = None,
    zone: ZoneInfo | None = None,
    progress: Callable[[str, int], Any] | None = None,
) -> SeedSummary:
    """Fill an empty (or demo-only) database with a realistic company's data.

    Beside the history, tech01…tech05 get a planned today (in ``zone``): 4–6 jobs each.
    """
    now = now or utcnow()
    zone = zone or ZoneInfo("Asia/Shanghai")
    if count_users({"is_demo": False}) and not force:
        raise SeedRefused("the database holds non-demo users; use --force to seed anyway")
    if count_users({"is_demo": True}):
        raise SeedRefused("demo data is already present")
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    report = progress or (lambda _label, _n: None)
    password_hash = hash_password(password)
    logins: list[tuple[str, str]] = []
    office: list[User] = []
    for username, name, role in OFFICE_USERS:
        office.append(
            create_user(
                username=username,
                password=password,
                role=role,
                display_name=name,
                email=f"{username}@fieldwork.example",
                is_demo=True,
                password_hash=password_hash,
            )
        )
        logins.append((username, str(role)))
    techs = _seed_technicians(technicians, password_hash, logins)
    report("technicians", technicians)
    categories = ensure_categories()
    customer_rows = _seed_customers(customers)
    report("customers", customers)
    dispatchers = [u for u in office if u.role is Role.DISPATCHER]
    # Today's plan comes out of the same count: --orders N makes N orders in all.
    day = seed_demo_day(
        techs[:DAY_TECHNICIANS], customer_rows, dispatchers, rng, now, zone, budget=orders
    )
    report("orders", len(day))
    history = orders - len(day)
    for _ in _seed_orders(history, rng, now, categories, customer_rows, dispatchers, techs):
        report("orders", 1)
    db.session.flush()
    return SeedSummary(logins, len(customer_rows), len(techs), orders)


def _seed_technicians(n: int, password_hash: str, logins: list[tuple[str, str]]) -> list[User]:
    techs = []
    for tech in demo_data.demo_technicians(n):
        user = create_user(
            username=tech.username,
            password="",
            role=Role.TECHNICIAN,
            display_name=tech.display_name,
            email=tech.email,
            phone=tech.phone,
            locale=tech.locale,
            is_demo=True,
            password_hash=password_hash,
        )
        create_technician_profile(
            user,
            skills=tech.skills,
            certifications=tech.certifications,
            working_hours=[
                (day, time.fromisoformat(a), time.fromisoformat(b))
                for day, a, b in tech.working_hours
            ],
            team=tech.team,
            region=tech.region,
            home_address=tech.home_address,
            home_latitude=tech.home_latitude,
            home_longitude=tech.home_longitude,
            is_on_call=tech.is_on_call,
            max_jobs_per_day=tech.max_jobs_per_day,
        )
        techs.append(user)
        logins.append((tech.username, "technician"))
    db.session.flush()
    return techs


def _seed_customers(n: int) -> list[Customer]:
    rows = []
    for customer in demo_data.demo_customers(n):
        rows.append(
            create_customer(
                {
                    "name": customer.name,
                    "tier": customer.tier,
                    "preferred_locale": customer.preferred_locale,
                    "is_company": customer.is_company,
                    "notes": customer.notes,
                    "contacts": [vars(c) for c in customer.contacts],
                    "sites": [
                        {
                            "label": s.label,
                            "address": s.address,
                            "district": s.district,
                            "city": s.city,
                            "latitude": s.latitude,
                            "longitude": s.longitude,
                            "access_notes": s.access_notes,
                            "assets": [vars(a) for a in s.assets],
                        }
                        for s in customer.sites
                    ],
                },
                actor=None,
            )
        )
    return rows


_FULL_FACTS = {
    "photo_count": 3,
    "has_customer_signature": True,
    "checklist_total": 5,
    "checklist_done": 5,
    "parts_recorded": True,
    "manager_approved": True,
    "fields": {"resolution_code": "replaced_part"},
}


def _payload_for(transition: Any, rng: random.Random, assignee: User) -> dict[str, object]:
    payload: dict[str, object] = {}
    for spec in transition.input:
        if spec.name == "assignee_id":
            payload[spec.name] = assignee.id
        elif not spec.required:
            continue
        elif spec.type == "enum":
            payload[spec.name] = rng.choice(spec.values)
        elif spec.type in ("string", "text"):
            payload[spec.name] = "Demo note 演示备注"[: spec.max_length or 200]
        elif spec.type == "integer":
            payload[spec.name] = rng.randint(1, 5)
        elif spec.type == "number":
            payload[spec.name] = float(rng.randint(1, 100))
        elif spec.type == "boolean":
            payload[spec.name] = True
        elif spec.type == "datetime":
            payload[spec.name] = utcnow().isoformat()
    return payload


def _actor_for(transition: Any, dispatcher: User, tech: User) -> tuple[Actor, User | None]:
    for role, user in (
        ("technician", tech),
        ("dispatcher", dispatcher),
        ("manager", None),
        ("system", None),
    ):
        if role in transition.roles:
            return Actor(id=user.id if user else None, role=role), user
    return Actor(id=None, role=transition.roles[0]), None


def _walk(
    definition: Definition,
    rng: random.Random,
    steps: int,
    tech: User,
    dispatcher: User,
    category: Category,
) -> list[tuple[Decision, User | None]]:
    """Walk the workflow from its initial state, mostly forwards, for up to ``steps``."""
    state, visited, path = definition.initial, {definition.initial}, []
    assignee_id: int | None = None
    for _ in range(steps):
        options = []
        for transition in definition.transitions_from(state):
            detour = transition.reopen or transition.name in ("decline", "reassign", "unassign")
            gives_up = definition.states[transition.target].category == "cancelled"
            if (detour or gives_up) and rng.random() > 0.04:
                continue
            options.append(transition)
        rng.shuffle(options)
        options.sort(key=lambda t: t.target in visited)  # prefer new ground
        for transition in options:
            actor, user = _actor_for(transition, dispatcher, tech)
            facts = OrderFacts(
                state=state,
                category_code=category.code,
                assignee_id=assignee_id or tech.id,
                assignee_skills={category.required_skill or "": 5},
                required_skill=category.required_skill,
                **_FULL_FACTS,
            )
            outcome = decide(
                definition, facts, transition.name, actor, _payload_for(transition, rng, tech)
            )
            if isinstance(outcome, Decision):
                path.append((outcome, user))
                state = outcome.to_state
                visited.add(state)
                if any(a.name == "set_assignee_from_payload" for a in outcome.actions):
                    assignee_id = tech.id
                break
        else:
            break
        if definition.states[state].category in ("done", "cancelled"):
            break
    return path


def _event_row(
    order: WorkOrder, decision: Decision, user: User | None, at: datetime
) -> dict[str, Any]:
    """Return the history row of a seeded step, as the bulk insert takes it."""
    return {
        "work_order_id": order.id,
        "kind": decision.event.kind,
        "transition": decision.transition,
        "from_state": decision.from_state,
        "to_state": decision.to_state,
        "actor_id": user.id if user else None,
        "occurred_at": at,
        "data": {k: str(v) for k, v in decision.event.data.items()},
    }


def _seed_orders(
    n: int,
    rng: random.Random,
    now: datetime,
    categories: list[Category],
    customers: list[Customer],
    dispatchers: list[User],
    techs: list[User],
) -> Iterator[int]:
    skilled = {
        c.code: [
            t
            for t in techs
            if c.required_skill is None
            or any(
                s.skill == c.required_skill and s.level >= c.required_skill_level
                for s in t.technician_profile.skills
            )
        ]
        or techs
        for c in categories
    }  # type: ignore[union-attr]
    weights = [5, 3, 3, 3, 1, 2, 1, 1]
    for index in range(n):
        category = rng.choices(categories, weights=weights[: len(categories)])[0]
        definition = definition_for(category.workflow_name)
        # A third of the orders are from the last ten days, the rest spread over 90.
        recent = rng.random() < 0.33
        age = timedelta(minutes=rng.randint(5, (10 if recent else 90) * 24 * 60))
        created = now - age
        customer = rng.choice(customers)
        site = rng.choice(customer.sites) if customer.sites else None
        asset = rng.choice(site.assets) if site and site.assets else None
        tech, dispatcher = rng.choice(skilled[category.code]), rng.choice(dispatchers)
        # Old orders are mostly finished; recent ones anywhere along the way.
        steps = 40 if age > timedelta(days=10) else rng.randint(0, 12)
        path = _walk(definition, rng, steps, tech, dispatcher, category)
        text = demo_data.demo_order_text(category.code, customer.preferred_locale, rng)
        priority = (
            Priority.EMERGENCY
            if category.code == "EMERGENCY"
            else rng.choice([category.default_priority] * 4 + [Priority.HIGH, Priority.LOW])
        )
        # Opened through the same use case as a dispatcher's intake, back-dated.
        order = create_work_order(
            {
                "category_id": category.id,
                "customer_id": customer.id,
                "site_id": site.id if site else None,
                "asset_id": asset.id if asset else None,
                "title": text.title,
                "description": text.description,
                "priority": priority,
                "channel": rng.choice(list(Channel)),
            },
            dispatcher,
            now=created,
        )
        events = []
        at = created
        clocks = running_clocks(order.id)
        span = max(age.total_seconds() * 0.8, 60.0)
        for decision, user in path:
            at = min(at + timedelta(seconds=rng.uniform(0.02, 0.25) * span / 4), now)
            events.append(_event_row(order, decision, user, at))
            _apply_effects(order, decision, at, tech)
            apply_clock_changes(order, decision, definition, user, at, running=clocks)
        order.state, order.state_entered_at, order.updated_at = (
            path[-1][0].to_state if path else order.state,
            at,
            at,
        )
        settle_past_clocks(order, now)
        _mark_breaches(order, now)
        if events:
            db.session.execute(insert(WorkOrderEvent), events)
        if order.completed_at is not None:
            _add_report(order, rng, customer.preferred_locale, tech, category.code)
        yield index


def _apply_effects(order: WorkOrder, decision: Decision, at: datetime, tech: User) -> None:
    for action in decision.actions:
        if action.name == "set_assignee_from_payload":
            order.assignee_id = tech.id
            if not order.visits:
                visit = Visit(
                    sequence=1,
                    lead_technician_id=tech.id,
                    planned_start_at=at + timedelta(hours=2),
                    planned_end_at=at + timedelta(hours=4),
                )
                visit.crew = [VisitCrewMember(technician_id=tech.id, role="lead")]
                order.visits.append(visit)
                order.scheduled_start_at, order.scheduled_end_at = (
                    visit.planned_start_at,
                    visit.planned_end_at,
                )
        elif action.name == "clear_assignee":
            order.assignee_id = None
        elif action.name == "stop_clock":
            clock = action.params.get("clock")
            if (
                clock in ("respond", "arrive", "resolve")
                and getattr(order, f"{clock}_met_at") is None
            ):
                setattr(order, f"{clock}_met_at", at)
        elif action.name == "stamp" and action.params.get("field") in (
            "completed_at",
            "closed_at",
            "cancelled_at",
        ):
            field = (
                "closed_at" if action.params["field"] == "cancelled_at" else action.params["field"]
            )
            setattr(order, str(field), at)


def _mark_breaches(order: WorkOrder, now: datetime) -> None:
    for clock in ("respond", "arrive", "resolve"):
        due, met = getattr(order, f"{clock}_by"), getattr(order, f"{clock}_met_at")
        if due is not None and ((met is None and due < now) or (met is not None and met > due)):
            setattr(order, f"{clock}_breached_at", due)


def _add_report(order: WorkOrder, rng: random.Random, locale: str, tech: User, code: str) -> None:
    resolution, notes = demo_data.demo_resolution(code, locale, rng)
    checklist = [
        {"key": item["key"], "answer": "ok", "ok": True} for item in order.category.checklist
    ]
    db.session.add(
        FieldReport(
            work_order_id=order.id,
            work_notes=notes,
            checklist=checklist,
            resolution_code=resolution,
            labour_minutes=rng.randint(30, 240),
            reported_by_id=tech.id,
        )
    )
    for number, description, quantity in demo_data.demo_parts(code, rng):
        db.session.add(
            PartUsage(
                work_order_id=order.id,
                part_number=number,
                description=description,
                quantity=quantity,
                recorded_by_id=tech.id,
            )
        )


# --- Today's plan for the first demo technicians -------------------------------------------

#: How many demo technicians get a planned day (tech01…tech05).
DAY_TECHNICIANS = 5
#: The day's slots, local time, in planned order, and where each job stands.
DAY_SLOTS: tuple[tuple[time, time, str], ...] = (
    (time(8, 30), time(10, 0), "completed"),
    (time(10, 30), time(12, 0), "in_progress"),
    (time(13, 0), time(14, 30), "accepted"),
    (time(15, 0), time(16, 30), "assigned"),
    (time(17, 0), time(18, 0), "assigned"),
)
#: Steps of a day-plan job after "assign", in order, and when each happens in its window.
_DAY_STEPS: tuple[tuple[str, timedelta, str], ...] = (
    ("accept", timedelta(hours=-14), "start"),  # the evening before
    ("start_travel", timedelta(minutes=-25), "start"),
    ("arrive", timedelta(minutes=0), "start"),
    ("start_work", timedelta(minutes=5), "start"),
    ("complete", timedelta(minutes=-10), "end"),
)
_REACHED = {
    "assigned": 0,
    "accepted": 1,
    "en_route": 2,
    "on_site": 3,
    "in_progress": 4,
    "completed": 5,
}
_DAY_CATEGORIES = ("HVAC-REPAIR", "ELEC-REPAIR", "PLUMB-REPAIR", "APPL-REPAIR", "PM")


class DayPlanRefused(SeedRefused):
    """There is no demo day to move: no demo technicians, or real users in the database."""


@dataclass(frozen=True)
class DayRefresh:
    """What ``refresh_demo_day`` moved."""

    technicians: int
    orders: int
    days: int


def _local(day: Any, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, zone).astimezone(UTC)


def seed_demo_day(
    techs: list[User],
    customers: list[Customer],
    dispatchers: list[User],
    rng: random.Random,
    now: datetime,
    zone: ZoneInfo,
    budget: int | None = None,
) -> list[WorkOrder]:
    """Plan today for ``techs``: 4–6 jobs each in time windows, one an emergency.

    At most ``budget`` jobs in all; a technician whose day no longer fits gets none.
    """
    categories = {c.code: c for c in db.session.scalars(select(Category))}
    today = now.astimezone(zone).date()
    orders = []
    for tech in techs:
        skills = (
            {s.skill for s in tech.technician_profile.skills} if tech.technician_profile else set()
        )
        usable = [
            categories[code]
            for code in _DAY_CATEGORIES
            if code in categories
            and (
                categories[code].required_skill in skills or categories[code].required_skill is None
            )
        ] or [categories[code] for code in _DAY_CATEGORIES if code in categories]
        dispatcher = rng.choice(dispatchers)
        jobs = rng.randint(4, 6)
        if budget is not None:
            if budget - len(orders) < 4:
                break
            jobs = min(jobs, budget - len(orders))
        slots = list(DAY_SLOTS[: jobs - 1])
        for start, end, target in slots:
            window = (_local(today, start, zone), _local(today, end, zone))
            orders.append(
                _day_job(rng.choice(usable), target, window, tech, dispatcher, customers, rng, now)
            )
        # The emergency came in a few minutes ago, for the next hour and a half.
        local_now = now.astimezone(zone)
        quarter = time(local_now.hour, local_now.minute // 15 * 15)
        begin = min(max(quarter, time(8, 0)), time(19, 0))
        start_at = _local(today, begin, zone) + timedelta(minutes=30)
        orders.append(
            _day_job(
                categories["EMERGENCY"],
                "assigned",
                (start_at, start_at + timedelta(minutes=90)),
                tech,
                dispatcher,
                customers,
                rng,
                now,
                created=now - timedelta(minutes=12),
            )
        )
    db.session.flush()
    return orders


def _day_job(
    category: Category,
    target: str,
    window: tuple[datetime, datetime],
    tech: User,
    dispatcher: User,
    customers: list[Customer],
    rng: random.Random,
    now: datetime,
    created: datetime | None = None,
) -> WorkOrder:
    """Open one job of the day and walk it to ``target``, stamped around its window."""
    definition = definition_for(category.workflow_name)
    customer = rng.choice(customers)
    site = rng.choice(customer.sites) if customer.sites else None
    asset = rng.choice(site.assets) if site and site.assets else None
    text = demo_data.demo_order_text(category.code, customer.preferred_locale, rng)
    created = created or min(window[0] - timedelta(hours=18), now - timedelta(hours=1))
    order = create_work_order(
        {
            "category_id": category.id,
            "customer_id": customer.id,
            "site_id": site.id if site else None,
            "asset_id": asset.id if asset else None,
            "title": text.title,
            "description": text.description,
            "priority": Priority.EMERGENCY if category.code == "EMERGENCY" else Priority.NORMAL,
            "channel": Channel.PHONE,
            # The customer's window is the plan's mark: refresh_demo_day moves these.
            "requested_start_at": window[0],
            "requested_end_at": window[1],
        },
        dispatcher,
        now=created,
    )
    steps = [(name, created + timedelta(minutes=10)) for name in ("triage", "schedule")]
    steps.append(("assign", created + timedelta(minutes=20)))
    for name, offset, anchor in _DAY_STEPS[: _REACHED[target]]:
        at = (window[0] if anchor == "start" else window[1]) + offset
        steps.append((name, at))
    state, at, events = order.state, created, []
    clocks = running_clocks(order.id)
    for name, planned in steps:
        # Never ahead of now, and never before the previous step.
        at = max(min(planned, now - timedelta(minutes=1)), at + timedelta(seconds=30))
        transition = next((t for t in definition.transitions_from(state) if t.name == name), None)
        if transition is None:  # not a step of this workflow (PM has no travel, repair no plan)
            continue
        actor, user = _actor_for(transition, dispatcher, tech)
        facts = OrderFacts(
            state=state,
            category_code=category.code,
            assignee_id=tech.id,
            assignee_skills={category.required_skill or "": 5},
            required_skill=category.required_skill,
            **_FULL_FACTS,
        )
        decision = decide(definition, facts, name, actor, _payload_for(transition, rng, tech))
        if not isinstance(decision, Decision):
            raise RuntimeError(f"demo day: {name} refused from {state} in {definition.name}")
        events.append(_event_row(order, decision, user, at))
        _apply_effects(order, decision, at, tech)
        apply_clock_changes(order, decision, definition, user, at, running=clocks)
        state = decision.to_state
    order.state, order.state_entered_at, order.updated_at = state, at, at
    order.scheduled_start_at, order.scheduled_end_at = window
    visit = order.visits[0] if order.visits else None
    if visit is not None:
        visit.planned_start_at, visit.planned_end_at = window
        reached = _REACHED[target]
        stamps = {e["transition"]: e["occurred_at"] for e in events}
        visit.travel_started_at = stamps.get("start_travel") if reached >= 2 else None
        visit.arrived_at = stamps.get("arrive") if reached >= 3 else None
        visit.departed_at = stamps.get("complete") if reached >= 5 else None
        visit.status = (
            VisitStatus.DONE
            if reached >= 5
            else VisitStatus.IN_PROGRESS
            if reached >= 3
            else VisitStatus.PLANNED
        )
    settle_past_clocks(order, now)
    _mark_breaches(order, now)
    db.session.execute(insert(WorkOrderEvent), events)
    if order.completed_at is not None:
        _add_report(order, rng, order.customer.preferred_locale, tech, category.code)
    return order


def day_technicians() -> list[User]:
    """Return the demo technicians who get a planned day (tech01…tech05)."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.is_demo.is_(True), User.role == Role.TECHNICIAN)
            .order_by(User.username)
            .limit(DAY_TECHNICIANS)
        )
    )


def refresh_demo_day(
    *, now: datetime | None = None, zone: ZoneInfo | None = None, force: bool = False
) -> DayRefresh:
    """Move the demo technicians' planned day to today, every time of it by whole days.

    The plan is each technician's jobs with a requested window (the demo day marks its jobs
    so) on the latest such day; the jobs, their visits, history, deadline clocks and timers
    all move by the same number of days, so the day looks as it did when it was seeded.
    """
    now = now or utcnow()
    zone = zone or ZoneInfo("Asia/Shanghai")
    if count_users({"is_demo": False}) and not force:
        raise DayPlanRefused("the database holds non-demo users; use --force to move anyway")
    techs = day_technicians()
    if not techs:
        raise DayPlanRefused("no demo technicians here: run seed-demo first")
    today = now.astimezone(zone).date()
    moved, shift_days = 0, 0
    for tech in techs:
        planned = db.session.scalars(
            select(WorkOrder).where(
                WorkOrder.assignee_id == tech.id, WorkOrder.requested_start_at.is_not(None)
            )
        ).all()
        if not planned:
            continue
        day = max(o.requested_start_at.astimezone(zone).date() for o in planned)  # type: ignore[union-attr]
        delta = timedelta(days=(today - day).days)
        if not delta:
            continue
        shift_days = max(shift_days, delta.days)
        for order in planned:
            if order.requested_start_at.astimezone(zone).date() == day:  # type: ignore[union-attr]
                _shift_order(order, delta)
                moved += 1
    db.session.flush()
    return DayRefresh(len(techs), moved, shift_days)


def _shift_order(order: WorkOrder, delta: timedelta) -> None:
    """Move every time of ``order`` and of what hangs off it by ``delta``."""
    related: list[Any] = [order, *order.visits, *order.events]
    for model in (DeadlineClock, WorkflowTimerSchedule, FieldReport):
        related += db.session.scalars(select(model).where(model.work_order_id == order.id))
    clock_ids = [c.id for c in related if isinstance(c, DeadlineClock)]
    if clock_ids:
        related += db.session.scalars(select(ClockPause).where(ClockPause.clock_id.in_(clock_ids)))
    for row in related:
        for column in inspect(type(row)).columns:
            if isinstance(column.type, UTCDateTime):
                value = getattr(row, column.key)
                if value is not None:
                    setattr(row, column.key, value + delta)
    note_order_changed(order)
