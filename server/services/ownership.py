"""First-owner responsibility (首问负责制): who took a request owns it until it closes.

The first staff member who receives a request (the dispatcher who typed in a phone call,
or, for requests that came in by themselves, the first office user who acts on it) becomes
its ``owner_id`` and stays so through reassignments of technicians and hand-offs between
departments. Hand-offs add links to the order's chain; the open link is who holds it now.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from server.extensions import db
from server.models import OutboxMessage, Role, User, WorkOrder, WorkOrderEvent, WorkOrderOwner
from server.models.base import utcnow
from server.services.errors import InvalidInput


def record_first_owner(order: WorkOrder, user: User, now: datetime, reason: str) -> WorkOrderOwner:
    """Open the chain with ``user`` (the order's first owner)."""
    link = WorkOrderOwner(work_order_id=order.id, user_id=user.id, from_at=now, reason=reason)
    db.session.add(link)
    return link


def owner_chain(order_id: int) -> list[WorkOrderOwner]:
    """Return the order's chain of owners, first first."""
    return list(
        db.session.scalars(
            select(WorkOrderOwner)
            .where(WorkOrderOwner.work_order_id == order_id)
            .order_by(WorkOrderOwner.id)
        )
    )


def current_holder_id(order_id: int) -> int | None:
    """Return who holds the order now (the open link), or None without a chain."""
    return db.session.scalar(
        select(WorkOrderOwner.user_id)
        .where(WorkOrderOwner.work_order_id == order_id, WorkOrderOwner.to_at.is_(None))
        .order_by(WorkOrderOwner.id.desc())
        .limit(1)
    )


def hand_off_work_order(
    order: WorkOrder, to_user: User, actor: User, reason: str, now: datetime | None = None
) -> WorkOrderOwner:
    """Hand ``order`` to a colleague (another department); the first owner stays owner.

    The colleague is told (push and e-mail, through the outbox) who handed it over and why.
    """
    now = now or utcnow()
    if to_user.role is Role.TECHNICIAN or not to_user.is_active:
        raise InvalidInput({"user_id": ["Hand orders to an active office colleague."]})
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise InvalidInput({"reason": ["Say why, in at most 200 characters."]})
    chain = owner_chain(order.id)
    if not chain and order.owner_id is not None:
        first = db.session.get(User, order.owner_id)
        if first is not None:
            chain = [record_first_owner(order, first, order.created_at, "intake")]
    if order.owner_id is None:
        # Nobody owned it yet: whoever hands it on took it first.
        order.owner_id = actor.id
        chain = [record_first_owner(order, actor, now, "first_taken")]
        db.session.flush()
    holder = next((link for link in reversed(chain) if link.to_at is None), None)
    if holder is not None and holder.user_id == to_user.id:
        raise InvalidInput({"user_id": ["They already hold this order."]})
    if holder is not None:
        holder.to_at = now
    link = WorkOrderOwner(
        work_order_id=order.id,
        user_id=to_user.id,
        from_at=now,
        reason=reason,
        handed_by_id=actor.id,
    )
    db.session.add(link)
    db.session.add(
        WorkOrderEvent(
            work_order_id=order.id,
            kind="WorkOrderHandedOff",
            actor_id=actor.id,
            occurred_at=now,
            data={
                "from_user_id": holder.user_id if holder else None,
                "to_user_id": to_user.id,
                "reason": reason,
            },
        )
    )
    db.session.add(
        OutboxMessage(
            action="notify",
            payload={
                "params": {
                    "to": "users",
                    "user_ids": [to_user.id],
                    "channels": ["push", "email"],
                    "template": "work_order_handed_off",
                    "context": {"handed_by": actor.display_name, "reason": reason},
                },
            },
            work_order_id=order.id,
            created_at=now,
            available_at=now,
        )
    )
    db.session.flush()
    return link
