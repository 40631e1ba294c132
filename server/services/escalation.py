"""The deadline sweep: warnings, breaches and escalation ladders, each step exactly once.

The sweep reads only clocks whose ``next_check_at`` has come (an index range scan), so its
cost follows what is due, not how many orders are open. For each due step it inserts an
``EscalationRecord`` with INSERT … ON CONFLICT DO NOTHING: whoever inserts the row does the
step, and a second sweeper (another scheduler process, an overlapping leader) finds the row
there and does nothing. The records, the notifications (outbox rows) and the priority or
assignee changes commit together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from server.extensions import db, dialect_insert
from server.models import (
    DeadlineClock,
    DeadlinePolicy,
    EscalationRecord,
    EscalationStep,
    OutboxMessage,
    OutboxStatus,
    Priority,
    Role,
    TechnicianProfile,
    TechnicianSkill,
    User,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderOwner,
)
from server.models.enums import PRIORITY_RANK
from server.services.deadline_policies import step_time
from server.services.errors import InvalidInput, Refused, VersionConflict
from server.services.job_feed import note_order_changed
from server.services.workflow_registry import definition_for

#: Clocks per sweep transaction (keeps each transaction and its locks short).
BATCH = 200
#: Push and e-mail templates by trigger.
TEMPLATES = {
    "warning": "deadline_warning",
    "breach": "deadline_breached",
    "after_breach": "deadline_escalated",
}


@dataclass
class SweepResult:
    """What one sweep batch did."""

    clocks: int = 0
    steps: int = 0
    breached: int = 0
    notifications: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)


def _steps_by_policy(policy_ids: set[int]) -> dict[tuple[int, str], list[EscalationStep]]:
    steps: dict[tuple[int, str], list[EscalationStep]] = defaultdict(list)
    if not policy_ids:
        return steps
    for step in db.session.scalars(
        select(EscalationStep)
        .where(EscalationStep.policy_id.in_(policy_ids))
        .order_by(EscalationStep.id)
    ):
        steps[(step.policy_id, step.clock)].append(step)
    return steps


def sweep_deadlines(now: datetime, *, limit: int = BATCH, claim: bool = True) -> SweepResult:
    """Do what is due by ``now`` for up to ``limit`` clocks; flush, never commit.

    With ``claim`` (PostgreSQL) the clocks are locked with FOR UPDATE SKIP LOCKED so two
    sweepers share the work instead of queueing behind each other; without it both may
    read the same clocks and the unique escalation records alone keep every step single.
    """
    result = SweepResult()
    query = (
        select(
            DeadlineClock.id,
            DeadlineClock.work_order_id,
            DeadlineClock.kind,
            DeadlineClock.policy_id,
            DeadlineClock.warn_at,
            DeadlineClock.due_at,
            DeadlineClock.breached_at,
        )
        .where(DeadlineClock.next_check_at <= now)
        .order_by(DeadlineClock.next_check_at, DeadlineClock.id)
        .limit(limit)
    )
    if claim and db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = db.session.execute(query).all()
    if not rows:
        return result
    result.clocks = len(rows)
    steps = _steps_by_policy({row.policy_id for row in rows if row.policy_id is not None})
    done = set(
        db.session.execute(
            select(EscalationRecord.clock_id, EscalationRecord.step_id).where(
                EscalationRecord.clock_id.in_([row.id for row in rows])
            )
        ).all()
    )
    candidates = []
    upcoming: dict[int, list[datetime]] = defaultdict(list)
    step_by_id: dict[int, EscalationStep] = {}
    for row in rows:
        ladder = steps.get((row.policy_id, row.kind), []) if row.policy_id else []
        timed = [(step_time(s, row.warn_at, row.due_at), s) for s in ladder]
        for when, step in sorted(
            ((w, s) for w, s in timed if w is not None), key=lambda pair: (pair[0], pair[1].id)
        ):
            if when > now:
                upcoming[row.id].append(when)
            elif (row.id, step.id) not in done:
                step_by_id[step.id] = step
                candidates.append(
                    {
                        "clock_id": row.id,
                        "step_id": step.id,
                        "work_order_id": row.work_order_id,
                        "due_at": when,
                        "fired_at": now,
                        "outcome": {},
                    }
                )
    won: list[tuple[int, int]] = []
    if candidates:
        statement = (
            dialect_insert(EscalationRecord)
            .on_conflict_do_nothing(index_elements=["clock_id", "step_id"])
            .returning(EscalationRecord.clock_id, EscalationRecord.step_id)
        )
        won = [(r[0], r[1]) for r in db.session.execute(statement, candidates).all()]
    result.steps = len(won)
    if won:
        by_clock = {row.id: row for row in rows}
        _perform(
            [(by_clock[c], step_by_id[s]) for c, s in sorted(won, key=_fire_order(candidates))],
            now,
            result,
        )
    _reschedule(rows, upcoming, now, result)
    db.session.flush()
    return result


def _fire_order(candidates: list[dict[str, Any]]) -> Any:
    rank = {(c["clock_id"], c["step_id"]): i for i, c in enumerate(candidates)}
    return lambda pair: rank[pair]


def _reschedule(
    rows: Sequence[Any], upcoming: dict[int, list[datetime]], now: datetime, result: SweepResult
) -> None:
    """Move each clock's next check to its next step or breach; stamp breaches."""
    updates = []
    breaches: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        times = list(upcoming.get(row.id, []))
        breached_at = row.breached_at
        if breached_at is None and row.due_at is not None:
            if row.due_at <= now:
                breached_at = now
                result.breached += 1
                if row.kind in ("respond", "arrive", "resolve"):
                    breaches[row.kind].append({"_order": row.work_order_id, "_at": now})
            else:
                times.append(row.due_at)
        updates.append(
            {"_id": row.id, "_next": min(times) if times else None, "_breached": breached_at}
        )
    # Core statements (not ORM bulk updates): executemany, one round trip per batch.
    clocks = DeadlineClock.__table__
    db.session.execute(
        update(clocks)
        # A clock stopped meanwhile (the technician accepted) stays stopped.
        .where(clocks.c.id == bindparam("_id"), clocks.c.stopped_at.is_(None))
        .values(next_check_at=bindparam("_next"), breached_at=bindparam("_breached")),
        updates,
    )
    _expire_cached(DeadlineClock, {row.id for row in rows}, ["next_check_at", "breached_at"])
    orders = WorkOrder.__table__
    for kind, values in breaches.items():
        _expire_cached(WorkOrder, {v["_order"] for v in values}, [f"{kind}_breached_at"])
        column = orders.c[f"{kind}_breached_at"]
        db.session.execute(
            update(orders)
            .where(orders.c.id == bindparam("_order"), column.is_(None))
            .values({column: bindparam("_at")}),
            values,
        )


def _expire_cached(model: Any, ids: set[int], attributes: list[str]) -> None:
    """Forget values a Core UPDATE just changed on objects this session already holds."""
    for key, obj in list(db.session.identity_map.items()):
        if key[0] is model and key[1][0] in ids:
            db.session.expire(obj, attributes)


def _perform(fired: list[tuple[Any, EscalationStep]], now: datetime, result: SweepResult) -> None:
    """Notify, raise priorities and reassign for the steps this sweep won, in order."""
    order_ids = {row.work_order_id for row, _ in fired}
    # Plain rows: most steps only notify; the model is loaded for the few that change it.
    orders = {
        row.id: row
        for row in db.session.execute(
            select(
                WorkOrder.id, WorkOrder.assignee_id, WorkOrder.owner_id, WorkOrder.created_by_id
            ).where(WorkOrder.id.in_(order_ids))
        )
    }
    holders = dict(
        db.session.execute(
            select(WorkOrderOwner.work_order_id, WorkOrderOwner.user_id).where(
                WorkOrderOwner.work_order_id.in_(order_ids), WorkOrderOwner.to_at.is_(None)
            )
        ).all()
    )
    cache: dict[str, list[int]] = {}

    def managers() -> list[int]:
        if "managers" not in cache:
            cache["managers"] = list(
                db.session.scalars(
                    select(User.id).where(User.role == Role.MANAGER, User.is_active.is_(True))
                )
            )
        return cache["managers"]

    supervisors = dict(
        db.session.execute(
            select(DeadlinePolicy.id, DeadlinePolicy.supervisor_id).where(
                DeadlinePolicy.id.in_({step.policy_id for _, step in fired})
            )
        ).all()
    )
    messages = []
    for row, step in fired:
        order = orders[row.work_order_id]
        users: list[int] = []
        actions = list(step.actions or [])
        if "notify_assignee" in actions and order.assignee_id:
            users.append(order.assignee_id)
        if "notify_dispatcher" in actions:
            users.extend(u for u in (holders.get(order.id), order.created_by_id) if u is not None)
        if "notify_supervisor" in actions:
            supervisor = supervisors.get(step.policy_id)
            users.extend([supervisor] if supervisor else managers())
        if "notify_manager" in actions:
            users.extend(managers())
        outcome: dict[str, Any] = {"actions": actions}
        if "raise_priority" in actions or "reassign_on_call" in actions:
            model = db.session.get(WorkOrder, order.id)
            assert model is not None  # noqa: S101 - clocks are deleted with their order
            if "raise_priority" in actions:
                outcome["raise_priority"] = raise_priority(
                    model, now, reason=f"{row.kind}_breached"
                )
            if "reassign_on_call" in actions:
                outcome["reassign_on_call"] = reassign_on_call(model, now)
        # The first owner hears of every escalation (首问负责制).
        if order.owner_id is not None:
            users.insert(0, order.owner_id)
        if not users:  # nobody took the order yet: the managers must hear of it
            users.extend(managers())
        recipients = list(dict.fromkeys(users))
        template = TEMPLATES[step.trigger]
        messages.append(
            {
                "action": "notify",
                "payload": {
                    "params": {
                        "to": "users",
                        "user_ids": recipients,
                        "channels": ["push"] if step.trigger == "warning" else ["push", "email"],
                        "template": template,
                    },
                    "escalation": {
                        "clock": row.kind,
                        "trigger": step.trigger,
                        "after_minutes": step.after_minutes,
                        "step_id": step.id,
                        "clock_id": row.id,
                        "due_at": row.due_at.isoformat() if row.due_at else None,
                    },
                },
                "work_order_id": order.id,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "created_at": now,
                "available_at": now,
            }
        )
        if outcome.keys() - {"actions"}:
            db.session.execute(
                update(EscalationRecord)
                .where(EscalationRecord.clock_id == row.id, EscalationRecord.step_id == step.id)
                .values(outcome=outcome)
            )
    if messages:
        db.session.execute(insert(OutboxMessage), messages)
        result.notifications += len(messages)


def raise_priority(order: WorkOrder, now: datetime, *, reason: str) -> str:
    """Raise ``order`` one priority level (an escalation); return what happened.

    The promised deadlines stay as they were: escalating is about who looks at the order
    first, not about moving the customer's deadline.
    """
    ranked = sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__)
    position = ranked.index(Priority(order.priority))
    if position == 0:
        return "already_highest"
    new = ranked[position - 1]
    old = order.priority
    order.priority = new
    order.updated_at = now
    db.session.add(
        WorkOrderEvent(
            work_order_id=order.id,
            kind="WorkOrderPriorityRaised",
            occurred_at=now,
            data={"from": str(old), "to": str(new), "reason": reason},
        )
    )
    db.session.flush()
    note_order_changed(order)
    return f"{old}->{new}"


def on_call_technician(order: WorkOrder) -> User | None:
    """Return the on-call technician with the skill and the fewest open jobs, if any."""
    category = order.category
    open_jobs = (
        select(func.count(WorkOrder.id))
        .where(WorkOrder.assignee_id == User.id, WorkOrder.closed_at.is_(None))
        .scalar_subquery()
    )
    query = (
        select(User)
        .join(TechnicianProfile, TechnicianProfile.user_id == User.id)
        .where(
            User.is_active.is_(True),
            User.role == Role.TECHNICIAN,
            TechnicianProfile.is_on_call.is_(True),
        )
        .order_by(open_jobs, User.id)
    )
    if order.assignee_id is not None:
        query = query.where(User.id != order.assignee_id)
    if category.required_skill:
        query = query.join(
            TechnicianSkill,
            (TechnicianSkill.technician_id == User.id)
            & (TechnicianSkill.skill == category.required_skill)
            & (TechnicianSkill.level >= category.required_skill_level),
        )
    return db.session.scalars(query.limit(1)).first()


def reassign_on_call(order: WorkOrder, now: datetime) -> str:
    """Give ``order`` to the on-call technician through the workflow; return what happened."""
    from server.services.work_orders import apply_transition

    technician = on_call_technician(order)
    if technician is None:
        return "no_on_call_technician"
    transition = "reassign" if order.assignee_id is not None else "assign"
    spec = definition_for(order.workflow_name, order.workflow_version).transition(transition)
    if spec is None:
        return f"no_{transition}_in_workflow"
    payload: dict[str, Any] = {"assignee_id": technician.id}
    if any(field.name == "note" for field in spec.input):
        payload["note"] = "Escalation: reassigned to the on-call technician"
    try:
        apply_transition(
            order,
            transition,
            None,
            payload,
            order.version,
            now=now,
            context={"escalation": True},
        )
    except (Refused, InvalidInput, VersionConflict) as error:
        return f"refused: {error}"[:200]
    return f"{transition}:{technician.id}"


def sweep_all(now: datetime, *, limit: int = BATCH, claim: bool = True, commit: Any = None) -> int:
    """Sweep batch after batch until nothing is due; ``commit`` ends each batch's transaction."""
    total = 0
    for _ in range(100000):
        batch = sweep_deadlines(now, limit=limit, claim=claim)
        if commit is not None:
            commit()
        total += batch.clocks
        if batch.clocks < limit:
            break
    return total


def escalation_history(order_id: int) -> list[tuple[EscalationRecord, EscalationStep]]:
    """Return the escalation steps done for an order, in the order they fired."""
    return [
        (record, step)
        for record, step in db.session.execute(
            select(EscalationRecord, EscalationStep)
            .join(EscalationStep, EscalationStep.id == EscalationRecord.step_id)
            .where(EscalationRecord.work_order_id == order_id)
            .order_by(EscalationRecord.id)
        ).all()
    ]


def pending_checks(now: datetime, horizon: timedelta) -> int:
    """Return how many clocks have something due within ``horizon`` from ``now``."""
    return int(
        db.session.scalar(
            select(func.count(DeadlineClock.id)).where(DeadlineClock.next_check_at <= now + horizon)
        )
        or 0
    )
