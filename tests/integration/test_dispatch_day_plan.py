"""Day plan for the console board: a diff (moves, order, minutes saved), applied all or in part."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.extensions import db
from server.models import Role
from server.services.dispatch import apply_day_plan, propose_day_plan
from server.services.work_orders import apply_transition

DAY = datetime(2026, 5, 18, tzinfo=UTC)


@pytest.fixture
def board(create_user, create_customer, create_work_order):
    """Two technicians; three jobs next to the first one's base, all given to the second."""
    near = create_user(Role.TECHNICIAN)
    far = create_user(Role.TECHNICIAN)
    near.technician_profile.home_latitude, near.technician_profile.home_longitude = 31.19, 121.43
    far.technician_profile.home_latitude, far.technician_profile.home_longitude = 31.40, 121.80
    dispatcher = create_user(Role.DISPATCHER)
    orders = []
    for _ in range(3):
        order = create_work_order(customer=create_customer())
        apply_transition(order, "assign", dispatcher, {"assignee_id": far.id}, order.version)
        db.session.refresh(order)
        orders.append(order)
    return near, far, dispatcher, orders


def test_proposal_moves_jobs_to_the_nearer_technician_and_says_the_minutes_saved(board):
    near, far, _, orders = board
    proposal = propose_day_plan([near, far], orders, DAY, seconds=0.3)
    assert {c.to_technician_id for c in proposal.changes} == {near.id}
    assert {c.from_technician_id for c in proposal.changes} == {far.id}
    assert sorted(proposal.sequence[near.id]) == sorted(o.id for o in orders)
    assert proposal.minutes_saved > 30


def test_accepted_jobs_are_locked_to_their_technician(board):
    near, far, _, orders = board
    apply_transition(orders[0], "accept", far, {}, orders[0].version)
    db.session.refresh(orders[0])
    proposal = propose_day_plan([near, far], orders, DAY, seconds=0.3)
    assert orders[0].id in proposal.sequence[far.id]
    assert all(c.order_id != orders[0].id for c in proposal.changes if c.to_technician_id != far.id)


def test_applying_part_of_a_proposal_moves_only_the_chosen_orders(board):
    near, far, dispatcher, orders = board
    proposal = propose_day_plan([near, far], orders, DAY, seconds=0.3)
    done = apply_day_plan(proposal, [orders[0].id], dispatcher)
    assert done == [orders[0].id]
    for order in orders:
        db.session.refresh(order)
    assert orders[0].assignee_id == near.id
    assert orders[0].scheduled_start_at is not None
    assert {orders[1].assignee_id, orders[2].assignee_id} == {far.id}


def test_a_technician_below_the_skill_level_is_never_planned(
    create_user, create_category, create_work_order
):
    junior = create_user(Role.TECHNICIAN)  # hvac level 3 from the factory
    senior = create_user(Role.TECHNICIAN)
    next(s for s in senior.technician_profile.skills if s.skill == "hvac").level = 5
    senior.technician_profile.home_longitude = 121.9  # far away
    junior.technician_profile.home_latitude, junior.technician_profile.home_longitude = (
        31.19,
        121.43,
    )
    db.session.flush()
    category = create_category(required_skill="hvac", required_skill_level=4)
    order = create_work_order(category=category)
    proposal = propose_day_plan([junior, senior], [order], DAY, seconds=0.2)
    assert proposal.sequence == {junior.id: [], senior.id: [order.id]}
