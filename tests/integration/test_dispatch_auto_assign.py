"""Auto-assignment by category: top candidate first, then down the list, then the dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.jobs.scheduler import JOBS
from server.models import OutboxMessage, Role, WorkingHours
from server.models.dispatch import AutoAssignMode, DispatchOffer, OfferStatus
from server.services.dispatch import (
    dispatch_new_order,
    expire_unaccepted_offers,
    recommend_for_order,
    record_position,
    set_dispatch_policy,
)
from server.services.work_orders import apply_transition, create_work_order

#: Monday 10:00 in Shanghai.
NOW = datetime(2026, 5, 18, 2, 0, tzinfo=UTC)


@pytest.fixture
def technicians(create_user):
    """Three hvac technicians on shift, nearest to the customer's site first."""
    people = []
    for n, longitude in enumerate((121.44, 121.50, 121.60)):
        tech = create_user(Role.TECHNICIAN, username=f"auto{n}")
        tech.technician_profile.home_latitude = 31.19
        tech.technician_profile.home_longitude = longitude
        for day in range(7):
            db.session.add(
                WorkingHours(
                    technician_id=tech.id, weekday=day, starts_at=time(8), ends_at=time(18)
                )
            )
        people.append(tech)
    db.session.flush()
    return people


@pytest.fixture
def order(create_category, create_work_order, technicians):
    """An order opened before its category switched to automatic assignment."""
    category = create_category(required_skill="hvac")
    opened = create_work_order(category=category)
    set_dispatch_policy(category.id, AutoAssignMode.ASSIGN, acceptance_minutes=10)
    return opened


def test_a_new_order_in_an_assign_category_goes_to_the_best_technician_at_once(
    create_category, create_customer, create_user, technicians
):
    category = create_category(required_skill="hvac")
    set_dispatch_policy(category.id, AutoAssignMode.ASSIGN, acceptance_minutes=10)
    customer = create_customer()
    data = {
        "category_id": category.id,
        "customer_id": customer.id,
        "site_id": customer.sites[0].id,
        "title": "No hot water",
    }
    opened = create_work_order(data, create_user(Role.DISPATCHER), now=NOW)
    assert opened.assignee_id == technicians[0].id
    assert [o.status for o in offers(opened)] == [OfferStatus.OFFERED]


def offers(order):
    return list(
        db.session.scalars(
            select(DispatchOffer)
            .where(DispatchOffer.work_order_id == order.id)
            .order_by(DispatchOffer.rank)
        )
    )


def alerts(order):
    return [
        m
        for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.work_order_id == order.id)
        )
        if m.payload.get("reason") == "auto_dispatch_exhausted"
    ]


def decline(order, tech):
    apply_transition(order, "decline", tech, {"reason": "busy / 忙"}, order.version)


def test_new_order_goes_to_the_top_candidate_and_is_pushed(order, technicians):
    offer = dispatch_new_order(order, NOW)
    assert offer is not None
    assert offer.technician_id == technicians[0].id
    db.session.refresh(order)
    assert (order.state, order.assignee_id) == ("assigned", technicians[0].id)
    pushes = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.work_order_id == order.id, OutboxMessage.action == "notify"
        )
    ).all()
    assert any(m.payload["params"].get("to") == "assignee" for m in pushes)


def test_declined_order_goes_to_the_next_candidate(order, technicians):
    dispatch_new_order(order, NOW)
    decline(order, technicians[0])
    assert expire_unaccepted_offers(NOW + timedelta(minutes=1)) == 1
    db.session.refresh(order)
    assert order.assignee_id == technicians[1].id
    assert [o.status for o in offers(order)] == [OfferStatus.DECLINED, OfferStatus.OFFERED]


def test_unaccepted_order_goes_to_the_next_candidate_after_the_policy_minutes(order, technicians):
    dispatch_new_order(order, NOW)
    expire_unaccepted_offers(NOW + timedelta(minutes=9))
    db.session.refresh(order)
    assert order.assignee_id == technicians[0].id  # still within the 10 minutes
    expire_unaccepted_offers(NOW + timedelta(minutes=11))
    db.session.refresh(order)
    assert (order.state, order.assignee_id) == ("assigned", technicians[1].id)
    assert [o.status for o in offers(order)] == [OfferStatus.EXPIRED, OfferStatus.OFFERED]


def test_accepted_offer_is_closed_and_nothing_moves(order, technicians):
    dispatch_new_order(order, NOW)
    apply_transition(order, "accept", technicians[0], {}, order.version)
    expire_unaccepted_offers(NOW + timedelta(hours=1))
    db.session.refresh(order)
    assert order.assignee_id == technicians[0].id
    assert [o.status for o in offers(order)] == [OfferStatus.ACCEPTED]


def test_when_everyone_declines_the_dispatcher_is_alerted(order, technicians):
    dispatch_new_order(order, NOW)
    for n, tech in enumerate(technicians):
        db.session.refresh(order)
        assert order.assignee_id == tech.id
        decline(order, tech)
        expire_unaccepted_offers(NOW + timedelta(minutes=n + 1))
    db.session.refresh(order)
    assert order.assignee_id is None
    assert len(offers(order)) == 3
    (alert,) = alerts(order)
    assert alert.payload["params"] == {
        "to": "dispatcher",
        "channels": ["push", "email"],
        "template": "assignment_not_accepted",
    }


def test_suggest_mode_recommends_without_assigning(create_category, create_work_order, technicians):
    category = create_category(required_skill="hvac")
    set_dispatch_policy(category.id, AutoAssignMode.SUGGEST)
    order = create_work_order(category=category)
    assert dispatch_new_order(order, NOW) is None
    assert order.assignee_id is None
    ranking = recommend_for_order(order, now=NOW)
    assert [r.technician_id for r in ranking.recommendations] == [t.id for t in technicians]


def test_orders_created_without_dispatch_are_picked_up_by_the_periodic_job(order, technicians):
    expire_unaccepted_offers(NOW)
    db.session.refresh(order)
    assert order.assignee_id == technicians[0].id


def test_the_periodic_check_is_registered_with_the_scheduler():
    assert "dispatch.offers" in {job.id for job in JOBS}


def test_a_technician_is_recommended_from_the_last_reported_position(
    create_category, create_work_order, technicians
):
    # The farthest technician reports being next to the customer's site this morning.
    record_position(technicians[2].id, 31.19, 121.431, at=NOW - timedelta(minutes=5))
    record_position(technicians[2].id, 31.50, 122.00, at=NOW - timedelta(hours=1))  # stale
    order = create_work_order(category=create_category(required_skill="hvac"))
    best = recommend_for_order(order, now=NOW).recommendations[0]
    assert best.technician_id == technicians[2].id
    assert "from the last known position" in best.summary("en")


def test_a_cancelled_order_is_not_passed_on(order, technicians, create_user):
    dispatch_new_order(order, NOW)
    manager = create_user(Role.MANAGER)
    apply_transition(order, "cancel", manager, {"reason": "customer fixed it"}, order.version)
    expire_unaccepted_offers(NOW + timedelta(hours=1))
    assert [o.status for o in offers(order)] == [OfferStatus.WITHDRAWN]
    assert alerts(order) == []
