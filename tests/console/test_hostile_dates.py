"""The console's date inputs are parsed as calendar days in range, never as patterns."""

from __future__ import annotations

import pytest

from server.extensions import db
from server.models import Role, WorkOrder

BAD_DAYS = ["9999-12-31", "0001-01-01", "0000-01-01", "2026-02-30", "2026-13-01", "2026-1-1"]


@pytest.mark.parametrize("day", BAD_DAYS)
def test_a_board_move_to_a_day_no_business_means_is_refused_and_changes_nothing(
    client, office, create_work_order, create_user, day
):
    user, token = office
    tech = create_user(Role.TECHNICIAN)
    order = create_work_order(actor=user)
    version = order.version
    response = client.post(
        "/board/move",
        data={
            "csrf_token": token,
            "order_id": order.id,
            "expected_version": order.version,
            "technician_id": tech.id,
            "day": day,
            "hour": "10",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code < 500
    assert "This move is not valid" in response.get_data(as_text=True)
    db.session.refresh(order)
    assert (order.version, order.assignee_id, order.scheduled_start_at) == (version, None, None)


@pytest.mark.parametrize("day", BAD_DAYS)
def test_the_board_shows_today_for_a_day_it_cannot_show(client, office, day):
    response = client.get("/board", query_string={"day": day})
    assert response.status_code == 200


@pytest.mark.parametrize("day", BAD_DAYS)
def test_list_and_report_date_filters_explain_a_day_they_cannot_use(client, office, day):
    listing = client.get("/work-orders", query_string={"from": day, "to": day})
    assert listing.status_code in (200, 422)
    assert 'aria-invalid="true"' in listing.get_data(as_text=True)
    report = client.get("/reports", query_string={"from": day})
    assert report.status_code in (200, 403, 422)


def test_the_range_message_names_the_days_the_business_accepts(client, office):
    listing = client.get("/work-orders", query_string={"from": "9999-12-31"})
    assert "Enter a date between 2000-01-01 and 2100-01-01." in listing.get_data(as_text=True)


@pytest.mark.parametrize("value", ["9999-12-31T23:00", "0001-01-01T01:00", "1999-12-31T10:00"])
def test_intake_refuses_a_requested_time_outside_the_range_next_to_the_field(
    client, office, create_category, value
):
    _user, token = office
    before = db.session.scalar(db.select(db.func.count()).select_from(WorkOrder))
    response = client.post(
        "/intake",
        data={
            "csrf_token": token,
            "new_customer_name": "李雷",
            "new_customer_phone": "13800138000",
            "new_customer_address": "上海市浦东新区世纪大道 1 号",
            "category_id": str(create_category().id),
            "priority": "normal",
            "channel": "phone",
            "title": "漏水",
            "requested_start_at": value,
            "requested_end_at": value,
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a date between 2000-01-01 and 2100-01-01." in html
    assert f'value="{value}"' in html
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkOrder)) == before
