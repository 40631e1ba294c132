"""The reports page and its CSV download, through the Flask test client (no browser)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from server.models import Role
from server.services.work_orders import apply_transition
from server.services.work_orders import create_work_order as open_order
from tests.factories import PASSWORD


def sign_in(client, user):
    """Sign in through the console's login form."""
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


@pytest.fixture
def answered_order(create_user, create_category, create_customer):
    """One high-priority order of 10 November 2026, accepted 30 minutes after it came in."""
    dispatcher = create_user(Role.DISPATCHER)
    tech = create_user(Role.TECHNICIAN, display_name="王建国")
    category = create_category(name_en="Air conditioning", name_zh="空调维修")
    customer = create_customer()
    created = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    order = open_order(
        {
            "category_id": category.id,
            "customer_id": customer.id,
            "title": "空调不制冷",
            "priority": "high",
        },
        dispatcher,
        now=created,
    )
    apply_transition(
        order, "assign", dispatcher, {"assignee_id": tech.id}, order.version, now=created
    )
    apply_transition(order, "accept", tech, {}, order.version, now=created + timedelta(minutes=30))
    return order


RANGE = {"from": "2026-11-01", "to": "2026-11-30"}


def test_manager_sees_the_report_with_charts(client, create_user, answered_order):
    sign_in(client, create_user(Role.MANAGER))
    response = client.get("/reports", query_string=RANGE | {"group": "technician"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "王建国" in page
    assert "100.0%" in page  # the one reply was in time
    assert "30.0" in page  # … after 30 minutes
    assert "data-report-chart=" in page
    assert "chart.umd.min.js" in page
    assert "/reports.csv?" in page
    assert 'href="/reports" aria-current="page"' in page  # the nav link


def test_dispatchers_get_no_reports_link(client, create_user):
    sign_in(client, create_user(Role.DISPATCHER))
    assert 'href="/reports"' not in client.get("/").get_data(as_text=True)


def test_csv_download_in_chinese_has_a_bom(client, create_user, answered_order):
    sign_in(client, create_user(Role.MANAGER, locale="zh_CN"))
    response = client.get("/reports.csv", query_string=RANGE | {"group": "category"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["类别", "工单数", "响应：达标"]
    assert rows[1][:3] == ["空调维修", "1", "1"]
    assert rows[-1][0] == "合计"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"from": "2026-13-45"}, "Enter a date as YYYY-MM-DD."),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "The end date is before the start date."),
        ({"from": "2020-01-01", "to": "2026-11-01"}, "A report covers at most"),
        ({"group": "colour"}, "Choose how to group the report."),
        ({"from": "0001-01-01", "to": "0001-01-31"}, "This date range cannot be reported on."),
        ({"from": "9999-12-01", "to": "9999-12-31"}, "This date range cannot be reported on."),
        ({"category": "air'); drop table"}, "Choose a category from the list."),
    ],
)
def test_bad_filters_show_a_message_not_an_error(client, create_user, args, message):
    sign_in(client, create_user(Role.MANAGER))
    for path in ("/reports", "/reports.csv"):
        response = client.get(path, query_string=args)
        assert response.status_code == 400
        assert response.mimetype == "text/html"
        assert message in response.get_data(as_text=True)


def test_bad_dates_are_explained_in_chinese(client, create_user):
    sign_in(client, create_user(Role.MANAGER, locale="zh_CN"))
    response = client.get("/reports", query_string={"from": "昨天"})
    assert response.status_code == 400
    assert "请按 YYYY-MM-DD 格式输入日期。" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.TECHNICIAN])
def test_dispatchers_and_technicians_may_not_see_reports(client, create_user, role):
    sign_in(client, create_user(role))
    assert client.get("/reports").status_code == 403
    assert client.get("/reports.csv").status_code == 403


def test_reports_require_sign_in(client):
    response = client.get("/reports")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_admin_sees_an_empty_range(client, create_user):
    sign_in(client, create_user(Role.ADMIN))
    response = client.get("/reports", query_string={"from": "2001-01-01", "to": "2001-01-31"})
    assert response.status_code == 200
    assert "No work orders in this range." in response.get_data(as_text=True)
