"""Service reports in the console: figures, charts and a CSV download, for managers."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from functools import wraps
from typing import Any, TypeVar

from flask import abort, render_template, request
from flask_babel import format_decimal, get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from server.auth.permissions import Capability, can
from server.business_time import OutOfRange, parse_day
from server.console import bp
from server.console.helpers import locale_code
from server.console.views import local_today
from server.extensions import db
from server.models import Category, TechnicianProfile
from server.models.work_orders import DEADLINE_CLOCKS
from server.services.reports import (
    GROUPINGS,
    MAX_RANGE_DAYS,
    SEVERITIES,
    Report,
    ReportFilters,
    ReportRangeError,
    build_report,
    report_csv,
)

F = TypeVar("F", bound=Callable[..., Any])


def reports_only(view: F) -> F:
    """Let managers and admins in; everybody else gets 403."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not can(current_user, Capability.REPORTS_VIEW):
            abort(403)
        return view(*args, **kwargs)

    return login_required(wrapper)  # type: ignore[return-value]


def _default_start(today: date) -> date:
    """Return the first day of the month two months before ``today`` (three months shown)."""
    month = today.month - 2
    year = today.year
    if month < 1:
        month += 12
        year -= 1
    return date(year, month, 1)


def parse_report_args(
    args: Mapping[str, str], today: date, timezone: str
) -> tuple[ReportFilters | None, dict[str, str]]:
    """Turn the query string into report filters, or say what is wrong with each field."""
    errors: dict[str, str] = {}

    def day(name: str, default: date) -> date | None:
        raw = (args.get(name) or "").strip()
        if not raw:
            return default
        try:
            return parse_day(raw)
        except OutOfRange:
            errors[name] = _("This date range cannot be reported on.")
            return None
        except ValueError:
            errors[name] = _("Enter a date as YYYY-MM-DD.")
            return None

    start = day("from", _default_start(today))
    end = day("to", today)
    group_by = args.get("group") or "month"
    if group_by not in GROUPINGS:
        errors["group"] = _("Choose how to group the report.")
    category_id = None
    if raw_category := (args.get("category") or "").strip():
        if raw_category.isdigit() and len(raw_category) < 10:
            category_id = int(raw_category)
        else:
            errors["category"] = _("Choose a category from the list.")
    team = (args.get("team") or "").strip() or None
    if team is not None and len(team) > 40:
        errors["team"] = _("Choose a team from the list.")
    if start and end and not errors:
        if end < start:
            errors["to"] = _("The end date is before the start date.")
        elif (end - start).days + 1 > MAX_RANGE_DAYS:
            errors["to"] = _("A report covers at most %(days)d days.", days=MAX_RANGE_DAYS)
    if errors or start is None or end is None:
        return None, errors
    try:
        filters = ReportFilters(
            start=start,
            end=end,
            group_by=group_by,
            category_id=category_id,
            team=team,
            timezone=timezone,
        )
    except ReportRangeError:
        return None, {"to": _("This date range cannot be reported on.")}
    return filters, {}


def _percent(value: float | None) -> str:
    return "—" if value is None else format_decimal(value * 100, "#,##0.0") + "%"


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else format_decimal(seconds / 60, "#,##0.0")


def _number(value: float | None, pattern: str = "#,##0.00") -> str:
    return "—" if value is None else format_decimal(value, pattern)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def clock_names() -> dict[str, str]:
    """Return the deadline names in the user's language."""
    return {"respond": _("Respond"), "arrive": _("Arrive"), "resolve": _("Resolve")}


def severity_names() -> dict[str, str]:
    """Return the complaint severities in the user's language."""
    return {
        "general": _("General"),
        "important": _("Important"),
        "major": _("Major"),
        "untriaged": _("Not yet triaged"),
    }


def charts(report: Report) -> list[dict[str, Any]]:
    """Return chart.js configurations (plain data) for the report's charts."""
    labels = [row.label for row in report.rows]
    names = clock_names()
    percent_axis = {"y": {"beginAtZero": True, "max": 100}}
    return [
        {
            "id": "chart-compliance",
            "title": _("Deadlines met (%)"),
            "type": "bar",
            "data": {
                "labels": labels,
                "datasets": [
                    {
                        "label": names[kind],
                        "data": [
                            _round(None if c is None else c * 100)
                            for c in (row.clocks[kind].compliance for row in report.rows)
                        ],
                    }
                    for kind in DEADLINE_CLOCKS
                ],
            },
            "scales": percent_axis,
        },
        {
            "id": "chart-times",
            "title": _("Time to respond, arrive and resolve: 90th percentile (minutes)"),
            "type": "bar",
            "data": {
                "labels": labels,
                "datasets": [
                    {
                        "label": names[kind],
                        "data": [
                            _round(None if s is None else s / 60)
                            for s in (row.clocks[kind].p90_seconds for row in report.rows)
                        ],
                    }
                    for kind in DEADLINE_CLOCKS
                ],
            },
            "scales": {"y": {"beginAtZero": True}},
        },
        {
            "id": "chart-quality",
            "title": _("First-time fix and repeat visits (%)"),
            "type": "bar",
            "data": {
                "labels": labels,
                "datasets": [
                    {
                        "label": _("First-time fix %"),
                        "data": [
                            _round(None if r is None else r * 100)
                            for r in (row.fixes.first_time_fix_rate for row in report.rows)
                        ],
                    },
                    {
                        "label": _("Repeat visit %"),
                        "data": [
                            _round(None if r is None else r * 100)
                            for r in (row.fixes.repeat_rate for row in report.rows)
                        ],
                    },
                ],
            },
            "scales": percent_axis,
        },
        {
            "id": "chart-satisfaction",
            "title": _("Mean rating (1–5)"),
            "type": "line",
            "data": {
                "labels": labels,
                "datasets": [
                    {
                        "label": _("Mean rating"),
                        "data": [_round(row.satisfaction.mean_rating, 2) for row in report.rows],
                    }
                ],
            },
            "scales": {"y": {"beginAtZero": True, "max": 5}},
        },
        {
            "id": "chart-complaints",
            "title": _("Complaints by severity"),
            "type": "bar",
            "stacked": True,
            "data": {
                "labels": labels,
                "datasets": [
                    {
                        "label": severity_names()[severity],
                        "data": [row.complaints[severity] for row in report.rows],
                    }
                    for severity in SEVERITIES
                ],
            },
            "scales": {
                "x": {"stacked": True},
                "y": {"stacked": True, "beginAtZero": True, "ticks": {"precision": 0}},
            },
        },
    ]


def _options() -> dict[str, Any]:
    """Return the choices of the filter form: categories and teams."""
    categories = db.session.execute(
        select(Category.id, Category.name_en, Category.name_zh).order_by(Category.code)
    ).all()
    zh = locale_code() == "zh_CN"
    teams = db.session.scalars(
        select(TechnicianProfile.team)
        .where(TechnicianProfile.team.is_not(None))
        .distinct()
        .order_by(TechnicianProfile.team)
    ).all()
    return {
        "categories": [(id_, name_zh if zh else name_en) for id_, name_en, name_zh in categories],
        "teams": list(teams),
        "groupings": {
            "month": _("Month"),
            "technician": _("Technician"),
            "team": _("Team"),
            "category": _("Category"),
        },
    }


def _page(filters: ReportFilters | None, errors: dict[str, str], status: int) -> Any:
    report = None
    chart_list: list[dict[str, Any]] = []
    if filters is not None:
        report = build_report(filters, locale=locale_code(), none_label=_("None"))
        chart_list = charts(report)
    return (
        render_template(
            "console/reports/index.html",
            report=report,
            filters=filters,
            errors=errors,
            args=request.args,
            options=_options(),
            charts=[(chart, json.dumps(chart, ensure_ascii=False)) for chart in chart_list],
            clock_names=clock_names(),
            complaint_headers={
                "general": _("Complaints: general"),
                "important": _("Complaints: important"),
                "major": _("Complaints: major"),
                "untriaged": _("Complaints: not yet triaged"),
            },
            clocks=DEADLINE_CLOCKS,
            severities=SEVERITIES,
            pct=_percent,
            mins=_minutes,
            num=_number,
        ),
        status,
    )


@bp.get("/reports")
@reports_only
def reports() -> Any:
    """Show the service report for a date range, grouped and filtered, with charts."""
    filters, errors = parse_report_args(request.args, local_today(), str(get_timezone()))
    return _page(filters, errors, 400 if errors else 200)


@bp.get("/reports.csv")
@reports_only
def reports_csv() -> Any:
    """Download the service report as CSV (UTF-8 with BOM, headers in the user's language)."""
    filters, errors = parse_report_args(request.args, local_today(), str(get_timezone()))
    if filters is None:
        return _page(None, errors, 400)
    report = build_report(filters, locale=locale_code(), none_label=_("None"))
    name = f"fieldwork-report-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    return Response(
        report_csv(report, _),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )
