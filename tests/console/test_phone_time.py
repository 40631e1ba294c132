"""The timeline shows when a phone's step happened on the phone, and the server's time when
the two are more than five minutes apart (an offline step sent later, a clock that is off)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from server.extensions import db
from server.models import Role, TokenAudience, WorkOrderEvent
from server.models.base import utcnow
from server.services.work_orders import apply_transition


@pytest.fixture
def assigned(office, create_work_order, create_user):
    user, _csrf = office
    tech = create_user(Role.TECHNICIAN)
    order = create_work_order(actor=user)
    apply_transition(order, "assign", user, {"assignee_id": tech.id}, order.version)
    db.session.commit()
    return order, tech


def accept_from_the_phone(client, api_headers, order, tech, captured_at):
    response = client.post(
        f"/api/mobile/v1/jobs/{order.id}/transitions",
        headers=api_headers(tech, TokenAudience.MOBILE),
        json={
            "transition": "accept",
            "expected_version": order.version,
            "captured_at": captured_at.isoformat(),
        },
    )
    assert response.status_code == 200, response.get_json()
    return db.session.scalars(
        db.select(WorkOrderEvent).where(
            WorkOrderEvent.work_order_id == order.id, WorkOrderEvent.transition == "accept"
        )
    ).one()


def timeline_html(client, order):
    html = client.get(f"/work-orders/{order.id}").get_data(as_text=True)
    return html[html.index('id="order-timeline"') :]


def test_an_offline_step_shows_the_phone_time_and_when_the_server_got_it(
    client, api_headers, assigned
):
    order, tech = assigned
    tapped = (
        (utcnow() - timedelta(hours=2))
        .astimezone(datetime.now().astimezone().tzinfo)
        .replace(microsecond=0)
    )
    event = accept_from_the_phone(client, api_headers, order, tech, tapped)

    assert event.captured_at == tapped.astimezone(UTC)
    assert event.occurred_at - event.captured_at > timedelta(hours=1)
    html = timeline_html(client, order)
    assert f'datetime="{tapped.astimezone(UTC).isoformat()}"' in html
    assert "Time on the phone; the server received it at" in html


def test_a_phone_in_step_with_the_server_gets_no_note(client, api_headers, assigned):
    order, tech = assigned
    tapped = utcnow() - timedelta(minutes=4)
    event = accept_from_the_phone(client, api_headers, order, tech, tapped)

    assert event.captured_at == tapped
    html = timeline_html(client, order)
    assert f'datetime="{tapped.isoformat()}"' in html
    assert "Time on the phone" not in html


def test_steps_without_a_phone_time_show_the_server_time(client, assigned):
    order, _tech = assigned
    event = db.session.scalars(
        db.select(WorkOrderEvent).where(WorkOrderEvent.transition == "assign")
    ).one()
    assert event.captured_at is None
    assert f'datetime="{event.occurred_at.isoformat()}"' in timeline_html(client, order)


def test_the_note_is_in_chinese_for_a_chinese_dispatcher(client, office, api_headers, assigned):
    user, _csrf = office
    user.locale = "zh_CN"
    db.session.commit()
    order, tech = assigned
    accept_from_the_phone(client, api_headers, order, tech, utcnow() + timedelta(minutes=30))

    html = timeline_html(client, order)
    assert "手机上的时间；服务器于" in html
    assert re.search(r"服务器于 .+ 收到。", html)
