"""What happens once an order is closed: reopening opens it again, and the technician's
phone keeps the job but no longer the customer's phone, e-mail or street (RELIABILITY G1).

Here because the completion fixtures drive an order through the engine like a phone does.
"""

from __future__ import annotations

from sqlalchemy import select

from server.auth.permissions import work_orders_scope
from server.extensions import db
from server.models import Role, User
from server.models.enums import TokenAudience
from server.services.work_orders import apply_transition


def close(order, create_user):
    dispatcher = create_user(Role.DISPATCHER)
    apply_transition(order, "close", dispatcher, {}, order.version)
    db.session.flush()
    return dispatcher


def open_ids(user):
    return set(db.session.scalars(select(work_orders_scope(user, open_only=True).subquery().c.id)))


def test_a_reopened_order_is_open_again(complete_order, phone_jpegs, create_user):
    order, _ = complete_order("en", photos=phone_jpegs[:1])
    dispatcher = close(order, create_user)
    assert order.closed_at is not None
    assert order.id not in open_ids(dispatcher)

    apply_transition(order, "reopen", dispatcher, {"reason": "leaking again"}, order.version)
    db.session.flush()

    assert order.state == "triaged"
    assert order.closed_at is None
    assert order.id in open_ids(dispatcher)


def test_the_phone_loses_the_customers_contact_details_once_the_job_is_closed(
    client, complete_order, phone_jpegs, create_user, api_headers
):
    order, _ = complete_order("en", photos=phone_jpegs[:1])
    tech = db.session.get(User, order.assignee_id)
    headers = api_headers(tech, TokenAudience.MOBILE)
    open_job = client.get(f"/api/mobile/v1/jobs/{order.id}", headers=headers).get_json()
    assert open_job["customer"]["contacts"][0]["phone"] == "+86 139 0000 0042"
    assert open_job["site"]["address"]

    close(order, create_user)
    closed_job = client.get(f"/api/mobile/v1/jobs/{order.id}", headers=headers).get_json()
    recent = client.get("/api/mobile/v1/jobs?scope=recent", headers=headers).get_json()

    [contact] = closed_job["customer"]["contacts"]
    assert contact["name"]
    assert contact["phone"] is None
    assert contact["email"] is None
    for site in (
        closed_job["site"],
        next(j["site"] for j in recent["items"] if j["id"] == order.id),
    ):
        assert site["address"] is None
        assert site["latitude"] is None
        assert site["access_notes"] is None
        assert "city" in site  # the area stays, for the technician's own records
    # The work itself stays readable: report, photos, signatures.
    assert closed_job["report"]["work_notes"]
    assert len(closed_job["photos"]) == 1
