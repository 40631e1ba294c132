"""Service reports: deadlines kept, response times, first-time fixes, satisfaction, complaints.

Orders are driven through the repair workflow with known timings (``now=``), their surveys
answered through the survey use cases; the figures below are worked out by hand.
High-priority orders: respond within 1 h, on site within 4 h, resolved within 24 h.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from server.extensions import db
from server.models import (
    Role,
    Survey,
)
from server.services.reports import (
    ReportFilters,
    ReportRangeError,
    build_report,
    percentile,
    report_csv,
)
from server.services.surveys import answer_survey, schedule_followup, send_due_surveys
from server.services.work_orders import apply_transition
from server.services.work_orders import create_work_order as open_order
from tests.factories import add_completion_evidence

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = ReportFilters(start=date(2026, 11, 1), end=date(2026, 11, 30))


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    """Return a Shanghai wall-clock time in 2026 as UTC."""
    return datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI).astimezone(UTC)


def minutes(value: float) -> float:
    return value * 60


@pytest.fixture
def shop(create_user, create_category, create_customer):
    """People, categories and customers of the report's little world."""
    dispatcher = create_user(Role.DISPATCHER)
    manager = create_user(Role.MANAGER)
    tech_a = create_user(Role.TECHNICIAN, display_name="张伟")
    tech_b = create_user(Role.TECHNICIAN, display_name="李娜")
    tech_b.technician_profile.team = "pudong"
    complaints = create_category(
        code="COMPLAINT", name_en="Complaint", name_zh="投诉", workflow_name="complaint"
    )
    aircon = create_category(name_en="Air conditioning", name_zh="空调维修")
    heating = create_category(name_en="Heating", name_zh="供暖维修")
    db.session.flush()
    return {
        "dispatcher": dispatcher,
        "manager": manager,
        "tech_a": tech_a,
        "tech_b": tech_b,
        "complaints": complaints,
        "aircon": aircon,
        "heating": heating,
        "customer": create_customer,
    }


def run_order(
    shop,
    tech,
    category,
    created,
    *,
    accept=None,
    arrive=None,
    complete=None,
    follow_up=False,
    customer=None,
):
    """Open a high-priority order at ``created`` and drive it as far as the times given."""
    customer = customer or shop["customer"]()
    site = customer.sites[0]
    dispatcher = shop["dispatcher"]
    order = open_order(
        {
            "category_id": category.id,
            "customer_id": customer.id,
            "site_id": site.id,
            "asset_id": site.assets[0].id,
            "title": "空调不制冷",
            "priority": "high",
        },
        dispatcher,
        now=created,
    )
    if accept is None:
        return order
    when = created + timedelta(minutes=1)
    apply_transition(order, "assign", dispatcher, {"assignee_id": tech.id}, order.version, now=when)
    when = created + accept
    apply_transition(order, "accept", tech, {}, order.version, now=when)
    if arrive is None:
        return order
    apply_transition(order, "start_travel", tech, {}, order.version, now=when)
    when = created + arrive
    apply_transition(order, "arrive", tech, {}, order.version, now=when)
    apply_transition(order, "start_work", tech, {}, order.version, now=when)
    if complete is None:
        return order
    add_completion_evidence(order, tech, follow_up_needed=follow_up)
    apply_transition(
        order, "complete", tech, {"resolution_code": "fixed"}, order.version, now=created + complete
    )
    return order


@pytest.fixture
def world(shop):
    """Five repair orders (four in November, one in December) and two complaints.

    O1 tech A, air-con: accepted after 30 min, on site after 2 h, done after 5 h: all met;
       survey 5/5, solved.
    O2 tech A, air-con: accepted after 90 min (late), on site after 5 h (late), done after
       6 h; the technician asks for a follow-up; survey 2/5 → complaint (important).
    O3 tech B, heating: accepted after 10 min, on site after 3 h, done after 30 h (late);
       survey sent, not answered; the same boiler breaks again 10 days later (O4).
    O4 tech B, heating, same asset as O3: accepted after 20 min, not yet on site.
    O5 tech A, air-con, 1 December: accepted after 40 min.
    C2: a complaint phoned in, not triaged.
    """
    h = timedelta(hours=1)
    m = timedelta(minutes=1)
    a, b = shop["tech_a"], shop["tech_b"]
    boiler_owner = shop["customer"]()
    o1 = run_order(shop, a, shop["aircon"], at(2), accept=30 * m, arrive=2 * h, complete=5 * h)
    o2 = run_order(
        shop, a, shop["aircon"], at(3), accept=90 * m, arrive=5 * h, complete=6 * h, follow_up=True
    )
    o3 = run_order(
        shop,
        b,
        shop["heating"],
        at(4),
        accept=10 * m,
        arrive=3 * h,
        complete=30 * h,
        customer=boiler_owner,
    )
    o4 = run_order(shop, b, shop["heating"], at(15), accept=20 * m, customer=boiler_owner)
    o5 = run_order(shop, a, shop["aircon"], at(1, month=12), accept=40 * m)
    surveys = {}
    for order in (o1, o2, o3):
        surveys[order.id] = schedule_followup(
            order, after="1 working day", template=None, timezone="Asia/Shanghai", now=at(9)
        )
    assert send_due_surveys(now=at(9)) == 3
    db.session.expire_all()
    answer_survey(surveys[o1.id], rating=5, solved=True, comment=None, now=at(10))
    answer_survey(surveys[o2.id], rating=2, solved=True, comment="太慢了", now=at(10))
    complaint = db.session.get(Survey, surveys[o2.id].id).complaint_order
    assert complaint is not None
    manager = shop["manager"]
    apply_transition(
        complaint, "triage", manager, {"severity": "important"}, complaint.version, now=at(10, 11)
    )
    complainer = shop["customer"]()
    c2 = open_order(
        {
            "category_id": shop["complaints"].id,
            "customer_id": complainer.id,
            "title": "服务态度差",
        },
        shop["dispatcher"],
        now=at(20),
    )
    return {"o1": o1, "o2": o2, "o3": o3, "o4": o4, "o5": o5, "c1": complaint, "c2": c2}


def test_percentile_interpolates_like_percentile_cont():
    assert percentile([10, 20, 30, 90], 0.9) == pytest.approx(72)
    assert percentile([5], 0.9) == 5
    assert percentile([], 0.9) is None


def test_november_compliance_and_times_per_deadline(world):
    report = build_report(NOVEMBER)
    [month] = report.rows
    assert month.label == "2026-11"
    assert month.orders == 6  # O1–O4 and both complaints
    respond = month.clocks["respond"]
    assert (respond.met, respond.breached, respond.open) == (3, 1, 2)  # complaints still open
    assert respond.compliance == pytest.approx(0.75)
    assert respond.mean_seconds == pytest.approx(minutes(37.5))
    assert respond.p90_seconds == pytest.approx(minutes(72))
    arrive = month.clocks["arrive"]
    assert (arrive.met, arrive.breached, arrive.open) == (2, 1, 1)
    assert arrive.mean_seconds == pytest.approx(minutes(200))
    assert arrive.p90_seconds == pytest.approx(minutes(276))
    resolve = month.clocks["resolve"]
    assert (resolve.met, resolve.breached) == (2, 1)
    assert resolve.compliance == pytest.approx(2 / 3)
    assert resolve.mean_seconds == pytest.approx(minutes(820))
    assert resolve.p90_seconds == pytest.approx(minutes(1512))
    assert report.total.clocks["respond"].p90_seconds == pytest.approx(minutes(72))


def test_first_time_fix_counts_one_visit_no_follow_up_no_repeat(world):
    fixes = build_report(NOVEMBER).total.fixes
    # O1 fixed first time; O2 needed a follow-up; O3's boiler came back within 30 days.
    assert (fixes.completed, fixes.first_time_fixed, fixes.repeated) == (3, 1, 1)
    assert fixes.first_time_fix_rate == pytest.approx(1 / 3)
    assert fixes.repeat_rate == pytest.approx(1 / 3)


def test_a_new_order_after_thirty_days_is_no_repeat(shop):
    owner = shop["customer"]()
    b = shop["tech_b"]
    hour = timedelta(hours=1)
    run_order(
        shop,
        b,
        shop["heating"],
        at(2),
        accept=hour / 2,
        arrive=2 * hour,
        complete=3 * hour,
        customer=owner,
    )
    run_order(shop, b, shop["heating"], at(2) + timedelta(days=31), customer=owner)
    fixes = build_report(ReportFilters(start=date(2026, 11, 1), end=date(2026, 12, 31))).total
    assert (fixes.fixes.completed, fixes.fixes.first_time_fixed, fixes.fixes.repeated) == (1, 1, 0)


def test_satisfaction_from_surveys(world):
    sat = build_report(NOVEMBER).total.satisfaction
    assert (sat.sent, sat.answered) == (3, 2)
    assert sat.response_rate == pytest.approx(2 / 3)
    assert sat.mean_rating == pytest.approx(3.5)
    assert sat.low_share == pytest.approx(0.5)


def test_complaints_by_severity_count_against_the_original_technician(world, shop):
    report = build_report(
        ReportFilters(start=date(2026, 11, 1), end=date(2026, 12, 31), group_by="technician")
    )
    rows = {row.key: row for row in report.rows}
    tech_a, tech_b = shop["tech_a"].id, shop["tech_b"].id
    assert set(rows) == {tech_a, tech_b, None}
    assert rows[tech_a].label == "张伟"
    assert rows[tech_a].complaints == {"general": 0, "important": 1, "major": 0, "untriaged": 0}
    assert rows[None].complaints["untriaged"] == 1
    assert report.total.complaints == {"general": 0, "important": 1, "major": 0, "untriaged": 1}
    # Respond: A met O1 and O5, breached O2; B met O3 and O4.
    assert rows[tech_a].clocks["respond"].compliance == pytest.approx(2 / 3)
    assert rows[tech_b].clocks["respond"].compliance == 1
    assert rows[tech_a].orders == 3
    assert rows[tech_b].fixes.repeated == 1


def test_grouping_by_month_team_and_category(world, shop):
    both = {"start": date(2026, 11, 1), "end": date(2026, 12, 31)}
    months = build_report(ReportFilters(**both, group_by="month"))
    assert [(r.label, r.orders) for r in months.rows] == [("2026-11", 6), ("2026-12", 1)]
    teams = {r.key: r for r in build_report(ReportFilters(**both, group_by="team")).rows}
    assert teams["puxi"].orders == 3
    assert teams["pudong"].orders == 2
    assert teams["pudong"].clocks["resolve"].breached == 1
    categories = build_report(ReportFilters(**both, group_by="category"), locale="zh_CN")
    labels = {r.label: r for r in categories.rows}
    assert labels["空调维修"].orders == 3
    assert labels["空调维修"].complaints["important"] == 1
    assert labels["供暖维修"].clocks["arrive"].open == 1


def test_filters_narrow_the_report(world, shop):
    report = build_report(
        ReportFilters(
            start=date(2026, 11, 1),
            end=date(2026, 12, 31),
            group_by="technician",
            category_id=shop["heating"].id,
        )
    )
    assert [r.key for r in report.rows] == [shop["tech_b"].id]
    assert report.total.orders == 2
    by_team = build_report(
        ReportFilters(start=date(2026, 11, 1), end=date(2026, 12, 31), team="puxi")
    )
    assert by_team.total.orders == 3


def test_report_runs_a_fixed_number_of_statements(world, shop, count_queries):
    filters = ReportFilters(start=date(2026, 11, 1), end=date(2026, 12, 31), group_by="team")
    with count_queries() as first:
        build_report(filters)
    for day in range(5, 12):
        run_order(shop, shop["tech_a"], shop["aircon"], at(day, 9), accept=timedelta(minutes=5))
    with count_queries() as second:
        report = build_report(filters)
    assert report.total.orders == 14
    assert len(first) == len(second) <= 8


def test_bad_ranges_are_refused():
    with pytest.raises(ReportRangeError):
        ReportFilters(start=date(2026, 11, 30), end=date(2026, 11, 1))
    with pytest.raises(ReportRangeError):
        ReportFilters(start=date(2020, 1, 1), end=date(2026, 1, 1))
    with pytest.raises(ReportRangeError):
        ReportFilters(start=date(2026, 1, 1), end=date(2026, 1, 2), group_by="colour")
    with pytest.raises(ReportRangeError):
        ReportFilters(start=date(1, 1, 1), end=date(1, 1, 31))


def test_csv_never_lets_a_name_become_a_formula(shop):
    shop["tech_a"].display_name = '=HYPERLINK("http://evil")'
    hour = timedelta(hours=1)
    run_order(shop, shop["tech_a"], shop["aircon"], at(2), accept=hour / 2)
    report = build_report(
        ReportFilters(start=NOVEMBER.start, end=NOVEMBER.end, group_by="technician")
    )
    rows = list(csv.reader(io.StringIO(report_csv(report, lambda s: s).decode("utf-8-sig"))))
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'


def test_csv_has_a_bom_and_chinese_headers(world, app):
    report = build_report(NOVEMBER, locale="zh_CN")
    with force_locale("zh_CN"):
        data = report_csv(report, gettext)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["月份", "工单数", "响应：达标"]
    assert rows[1][:2] == ["2026-11", "6"]
    assert rows[-1][0] == "合计"
    assert rows[-1][rows[0].index("首次修复率 %")] == "33.3"
    with force_locale("en"):
        english = report_csv(report, gettext).decode("utf-8-sig")
    assert english.startswith("Month,Orders,Respond: met")


def test_orders_without_clocks_use_the_order_columns(world):
    from server.models import DeadlineClock

    o1 = world["o1"]
    for clock in db.session.scalars(
        select(DeadlineClock).where(DeadlineClock.work_order_id == o1.id)
    ):
        db.session.delete(clock)
    db.session.flush()
    respond = build_report(NOVEMBER).total.clocks["respond"]
    assert (respond.met, respond.breached) == (3, 1)
    assert respond.mean_seconds == pytest.approx(minutes(37.5))
