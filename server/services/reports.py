"""Service reports: deadlines kept, time to respond/arrive/resolve, fixes, satisfaction.

Every figure is about the work orders *created* in a date range (local dates in the
deployment's time zone), grouped by technician (the order's assignee), team (the
assignee's team), category or month of creation:

- **Compliance** per clock (respond, arrive, resolve): met within the limit vs breached.
  The order's latest ``DeadlineClock`` of that kind is the truth when there is one (it knows
  pauses and cancellations); orders without clocks fall back to the ``*_by``, ``*_met_at``
  and ``*_breached_at`` columns of the order.
- **Time to respond/arrive/resolve**: mean and 90th percentile (linear interpolation, as
  PostgreSQL's ``percentile_cont``) of the finished clocks, wall-clock minus pauses.
- **First-time fix**: a completed order done in a single visit, without the technician
  asking for a follow-up, and with no repeat order on the same asset (or site, when the
  order names no asset) within 30 days of completion.
- **Repeat visits**: completed orders followed by such a repeat order within 30 days.
  Complaints, planned maintenance and installations are not repeats.
- **Satisfaction** from the follow-up surveys: mean rating, share of ratings of 2 or less,
  response rate (answered / sent).
- **Complaints by severity**: complaint orders, attributed to the order the unhappy survey
  was about when there is one (its technician, team and category).

The number of SQL statements does not depend on the number of orders: on PostgreSQL the
aggregation (``percentile_cont`` included) runs in the database; on SQLite the clock
figures are computed in Python over the rows of the range.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from server.extensions import db
from server.models import (
    Category,
    DeadlineClock,
    FieldReport,
    Survey,
    TechnicianProfile,
    User,
    Visit,
    VisitStatus,
    WorkOrder,
)
from server.models.work_orders import DEADLINE_CLOCKS
from server.services.workflow_registry import workflow_registry

#: How a report can be grouped.
GROUPINGS = ("month", "technician", "team", "category")
#: Complaint severities, as set at triage; ``untriaged`` for complaints not yet triaged.
SEVERITIES = ("general", "important", "major", "untriaged")
#: The workflow whose orders are complaints.
COMPLAINT_WORKFLOW = "complaint"
#: Workflows whose later orders on the same asset or site are not repeats of a fix.
NOT_REPEATS = (COMPLAINT_WORKFLOW, "preventive_maintenance", "installation")
#: A new order within this long after completion means the fix did not hold.
REPEAT_WINDOW = timedelta(days=30)
#: Longest range a report covers (bounds the month grouping and the work).
MAX_RANGE_DAYS = 3 * 366
#: Earliest and latest dates a report may name (keeps the UTC arithmetic in range).
EARLIEST_DAY, LATEST_DAY = date(1970, 1, 1), date(2999, 12, 31)
#: Ratings at or below this count as unhappy.
LOW_RATING = 2


class ReportRangeError(ValueError):
    """The date range or grouping asked for cannot be reported on."""


@dataclass(frozen=True)
class ReportFilters:
    """What to report on: local dates ``start``..``end`` (inclusive), grouping, filters."""

    start: date
    end: date
    group_by: str = "month"
    category_id: int | None = None
    team: str | None = None
    technician_id: int | None = None
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        """Refuse ranges and groupings the queries are not built for."""
        if self.group_by not in GROUPINGS:
            raise ReportRangeError(f"unknown grouping {self.group_by!r}")
        if self.start < EARLIEST_DAY or self.end > LATEST_DAY:
            raise ReportRangeError("the range lies outside the supported years")
        if self.end < self.start:
            raise ReportRangeError("the range ends before it starts")
        if (self.end - self.start).days + 1 > MAX_RANGE_DAYS:
            raise ReportRangeError(f"the range is longer than {MAX_RANGE_DAYS} days")

    def bounds(self) -> tuple[datetime, datetime]:
        """Return the range as UTC instants ``[from, until)``."""
        zone = ZoneInfo(self.timezone)
        start = datetime.combine(self.start, time(0), zone).astimezone(UTC)
        until = datetime.combine(self.end + timedelta(days=1), time(0), zone).astimezone(UTC)
        return start, until


@dataclass
class ClockStats:
    """One clock's figures for one group."""

    met: int = 0
    breached: int = 0
    open: int = 0
    #: Mean seconds from start to stop of finished clocks, pauses excluded (None: none).
    mean_seconds: float | None = None
    #: 90th percentile of the same (None: none).
    p90_seconds: float | None = None

    @property
    def compliance(self) -> float | None:
        """Return the share of finished-or-breached clocks that met their limit."""
        decided = self.met + self.breached
        return self.met / decided if decided else None


@dataclass
class FixStats:
    """First-time fixes and repeats among the completed orders of one group."""

    completed: int = 0
    first_time_fixed: int = 0
    repeated: int = 0

    @property
    def first_time_fix_rate(self) -> float | None:
        """Return the share of completed orders fixed the first time."""
        return self.first_time_fixed / self.completed if self.completed else None

    @property
    def repeat_rate(self) -> float | None:
        """Return the share of completed orders followed by a repeat within 30 days."""
        return self.repeated / self.completed if self.completed else None


@dataclass
class SatisfactionStats:
    """Survey answers of one group's orders."""

    sent: int = 0
    answered: int = 0
    rating_sum: int = 0
    low: int = 0

    @property
    def mean_rating(self) -> float | None:
        """Return the mean rating (1–5) of the answered surveys."""
        return self.rating_sum / self.answered if self.answered else None

    @property
    def low_share(self) -> float | None:
        """Return the share of answers rated 2 or less."""
        return self.low / self.answered if self.answered else None

    @property
    def response_rate(self) -> float | None:
        """Return answered surveys over surveys sent."""
        return self.answered / self.sent if self.sent else None


@dataclass
class ReportRow:
    """The figures of one group (or of the whole range, for the totals)."""

    key: Any
    label: str
    orders: int = 0
    clocks: dict[str, ClockStats] = field(
        default_factory=lambda: {kind: ClockStats() for kind in DEADLINE_CLOCKS}
    )
    fixes: FixStats = field(default_factory=FixStats)
    satisfaction: SatisfactionStats = field(default_factory=SatisfactionStats)
    complaints: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0))


@dataclass
class Report:
    """A whole report: one row per group, in display order, and the totals."""

    filters: ReportFilters
    rows: list[ReportRow]
    total: ReportRow


# --- SQL building blocks --------------------------------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _seconds_between(later: Any, earlier: Any) -> ColumnElement[Any]:
    """Return SQL for ``later - earlier`` in seconds (NULL when either is NULL)."""
    if _dialect() == "postgresql":
        return func.extract("epoch", later - earlier)
    # SQLite keeps naive UTC text; julianday reads it, fractions of seconds included.
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _month_starts(filters: ReportFilters) -> list[tuple[str, datetime]]:
    """Return ``(YYYY-MM, first instant in UTC)`` for every local month the range touches."""
    zone = ZoneInfo(filters.timezone)
    months = []
    day = filters.start.replace(day=1)
    while day <= filters.end:
        months.append(
            (
                f"{day.year:04d}-{day.month:02d}",
                datetime.combine(day, time(0), zone).astimezone(UTC),
            )
        )
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def _month_of(created: Any, filters: ReportFilters) -> ColumnElement[Any]:
    """Return SQL naming the local month of ``created``: a CASE over the month boundaries.

    Portable and exact across time-zone offset changes, and bounded by ``MAX_RANGE_DAYS``.
    """
    months = _month_starts(filters)
    whens = [
        (created < next_start, label)
        for (label, _start), (_next, next_start) in zip(months, months[1:], strict=False)
    ]
    if not whens:
        return literal(months[0][0])
    return case(*whens, else_=literal(months[-1][0]))


@dataclass(frozen=True)
class _Subject:
    """The expressions a report groups and filters on, for one kind of row."""

    assignee: Any
    category: Any
    created: Any


def _grouped(
    query: Select[Any], subject: _Subject, filters: ReportFilters
) -> tuple[Select[Any], ColumnElement[Any]]:
    """Add the group key, the team join and the filters to ``query``; return it and the key."""
    profile = aliased(TechnicianProfile)
    needs_team = filters.group_by == "team" or filters.team is not None
    if needs_team:
        query = query.outerjoin(profile, profile.user_id == subject.assignee)
    start, until = filters.bounds()
    query = query.where(subject.created >= start, subject.created < until)
    if filters.category_id is not None:
        query = query.where(subject.category == filters.category_id)
    if filters.team is not None:
        query = query.where(profile.team == filters.team)
    if filters.technician_id is not None:
        query = query.where(subject.assignee == filters.technician_id)
    key: ColumnElement[Any]
    if filters.group_by == "month":
        key = _month_of(subject.created, filters)
    elif filters.group_by == "technician":
        key = subject.assignee
    elif filters.group_by == "team":
        key = profile.team
    else:
        key = subject.category
    return query, key


def _order_subject() -> _Subject:
    return _Subject(WorkOrder.assignee_id, WorkOrder.category_id, WorkOrder.created_at)


def _cancelled_states() -> list[str]:
    """Return every workflow state whose category is ``cancelled``."""
    names = {
        name
        for definition in workflow_registry()
        for name, state in definition.states.items()
        if state.category == "cancelled"
    }
    return sorted(names)


# --- Clocks ---------------------------------------------------------------------------------


def _clock_rows(kind: str, filters: ReportFilters, cancelled: Sequence[str]) -> Select[Any]:
    """Return ``(kind, key, status, seconds)`` per order of the range with a ``kind`` clock."""
    clock = aliased(DeadlineClock)
    latest = (
        select(func.max(DeadlineClock.id))
        .where(DeadlineClock.work_order_id == WorkOrder.id, DeadlineClock.kind == kind)
        .correlate(WorkOrder)
        .scalar_subquery()
    )
    by = getattr(WorkOrder, f"{kind}_by")
    met_at = getattr(WorkOrder, f"{kind}_met_at")
    breached_at = getattr(WorkOrder, f"{kind}_breached_at")
    status = case(
        (
            clock.id.is_not(None),
            case(
                (clock.outcome == "met", "met"),
                (clock.outcome == "breached", "breached"),
                (clock.outcome == "cancelled", "cancelled"),
                (clock.breached_at.is_not(None), "breached"),
                else_="open",
            ),
        ),
        (WorkOrder.state.in_(cancelled) if cancelled else false(), "cancelled"),
        (or_(breached_at.is_not(None), met_at > by), "breached"),
        (met_at.is_not(None), "met"),
        else_="open",
    )
    seconds = case(
        (
            clock.id.is_not(None),
            _seconds_between(clock.stopped_at, clock.started_at) - clock.paused_total_seconds,
        ),
        else_=_seconds_between(met_at, WorkOrder.created_at),
    )
    query = select(WorkOrder.id).select_from(WorkOrder).outerjoin(clock, clock.id == latest)
    query, key = _grouped(query, _order_subject(), filters)
    query = query.where(or_(clock.id.is_not(None), by.is_not(None)))
    return query.with_only_columns(
        literal(kind).label("kind"),
        key.label("key"),
        status.label("status"),
        case((status.in_(("met", "breached")), seconds), else_=None).label("seconds"),
        maintain_column_froms=True,
    )


def percentile(values: Sequence[float], share: float) -> float | None:
    """Return the ``share`` percentile of ``values`` by linear interpolation (percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _clock_stats(filters: ReportFilters, by_key: bool) -> dict[tuple[str, Any], ClockStats]:
    """Return the clock figures per ``(kind, key)`` (key None for the totals)."""
    cancelled = _cancelled_states()
    rows = union_all(*(_clock_rows(kind, filters, cancelled) for kind in DEADLINE_CLOCKS))
    sub = rows.subquery()
    result: dict[tuple[str, Any], ClockStats] = {}
    key_column = sub.c.key if by_key else literal(None)
    if _dialect() == "postgresql":
        query = select(
            sub.c.kind,
            key_column.label("key"),
            func.count().filter(sub.c.status == "met"),
            func.count().filter(sub.c.status == "breached"),
            func.count().filter(sub.c.status == "open"),
            func.avg(sub.c.seconds),
            func.percentile_cont(0.9).within_group(sub.c.seconds),
        ).group_by(sub.c.kind, *([sub.c.key] if by_key else []))
        for kind, key, met, breached, open_, mean, p90 in db.session.execute(query):
            result[(kind, key)] = ClockStats(
                met=met,
                breached=breached,
                open=open_,
                mean_seconds=float(mean) if mean is not None else None,
                p90_seconds=float(p90) if p90 is not None else None,
            )
        return result
    # SQLite has no percentile_cont: aggregate the range's rows here.
    seconds: dict[tuple[str, Any], list[float]] = {}
    for kind, key, status, value in db.session.execute(
        select(sub.c.kind, key_column, sub.c.status, sub.c.seconds)
    ):
        stats = result.setdefault((kind, key), ClockStats())
        if status in ("met", "breached", "open"):
            setattr(stats, status, getattr(stats, status) + 1)
        if value is not None:
            seconds.setdefault((kind, key), []).append(round(float(value), 3))
    for group, values in seconds.items():
        result[group].mean_seconds = sum(values) / len(values)
        result[group].p90_seconds = percentile(values, 0.9)
    return result


# --- Orders, fixes, satisfaction, complaints ---------------------------------------------------


def _order_counts(filters: ReportFilters) -> dict[Any, int]:
    """Return the number of orders created in the range, per group."""
    query, key = _grouped(select(WorkOrder.id), _order_subject(), filters)
    sub = query.with_only_columns(key.label("key"), maintain_column_froms=True).subquery()
    rows = db.session.execute(select(sub.c.key, func.count()).group_by(sub.c.key))
    return {key: count for key, count in rows}


def _fix_stats(filters: ReportFilters) -> dict[Any, FixStats]:
    """Return first-time fixes and repeats among the completed orders, per group."""
    later = aliased(WorkOrder)
    visits = (
        select(func.count(Visit.id))
        .where(Visit.work_order_id == WorkOrder.id, Visit.status != VisitStatus.CANCELLED)
        .correlate(WorkOrder)
        .scalar_subquery()
    )
    follow_up = exists().where(
        FieldReport.work_order_id == WorkOrder.id, FieldReport.follow_up_needed.is_(True)
    )
    same_place = or_(
        and_(WorkOrder.asset_id.is_not(None), later.asset_id == WorkOrder.asset_id),
        and_(
            WorkOrder.asset_id.is_(None),
            WorkOrder.site_id.is_not(None),
            later.site_id == WorkOrder.site_id,
        ),
    )
    repeat = exists().where(
        later.id != WorkOrder.id,
        later.workflow_name.not_in(NOT_REPEATS),
        later.created_at > WorkOrder.completed_at,
        _seconds_between(later.created_at, WorkOrder.completed_at) <= REPEAT_WINDOW.total_seconds(),
        same_place,
    )
    query, key = _grouped(select(WorkOrder.id), _order_subject(), filters)
    query = query.where(
        WorkOrder.completed_at.is_not(None), WorkOrder.workflow_name != COMPLAINT_WORKFLOW
    )
    repeated = case((repeat, 1), else_=0)
    first_time = case((and_(visits == 1, ~follow_up, ~repeat), 1), else_=0)
    sub = query.with_only_columns(
        key.label("key"),
        repeated.label("repeated"),
        first_time.label("first_time"),
        maintain_column_froms=True,
    ).subquery()
    rows = db.session.execute(
        select(
            sub.c.key, func.count(), func.sum(sub.c.first_time), func.sum(sub.c.repeated)
        ).group_by(sub.c.key)
    )
    return {
        key: FixStats(completed=n, first_time_fixed=int(ftf or 0), repeated=int(rep or 0))
        for key, n, ftf, rep in rows
    }


def _satisfaction(filters: ReportFilters) -> dict[Any, SatisfactionStats]:
    """Return the survey figures of the range's orders, per group."""
    query, key = _grouped(
        select(WorkOrder.id).join(Survey, Survey.work_order_id == WorkOrder.id),
        _order_subject(),
        filters,
    )
    answered = and_(Survey.answered_at.is_not(None), Survey.rating.is_not(None))
    sub = query.with_only_columns(
        key.label("key"),
        case((or_(Survey.sent_at.is_not(None), Survey.answered_at.is_not(None)), 1), else_=0).label(
            "sent"
        ),
        case((answered, 1), else_=0).label("answered"),
        case((answered, Survey.rating), else_=0).label("rating"),
        case((and_(answered, Survey.rating <= LOW_RATING), 1), else_=0).label("low"),
        maintain_column_froms=True,
    ).subquery()
    rows = db.session.execute(
        select(
            sub.c.key,
            func.sum(sub.c.sent),
            func.sum(sub.c.answered),
            func.sum(sub.c.rating),
            func.sum(sub.c.low),
        ).group_by(sub.c.key)
    )
    return {
        key: SatisfactionStats(
            sent=int(sent or 0),
            answered=int(ans or 0),
            rating_sum=int(total or 0),
            low=int(low or 0),
        )
        for key, sent, ans, total, low in rows
    }


def _complaints(filters: ReportFilters) -> dict[Any, dict[str, int]]:
    """Return complaint orders by severity, per group of the order complained about."""
    complaint = aliased(WorkOrder)
    original = aliased(WorkOrder)
    subject = _Subject(
        func.coalesce(original.assignee_id, complaint.assignee_id),
        func.coalesce(original.category_id, complaint.category_id),
        complaint.created_at,
    )
    query = (
        select(complaint.id)
        .select_from(complaint)
        .outerjoin(Survey, Survey.complaint_order_id == complaint.id)
        .outerjoin(original, original.id == Survey.work_order_id)
        .where(complaint.workflow_name == COMPLAINT_WORKFLOW)
    )
    query, key = _grouped(query, subject, filters)
    sub = query.with_only_columns(
        key.label("key"),
        func.coalesce(complaint.severity, "untriaged").label("severity"),
        maintain_column_froms=True,
    ).subquery()
    result: dict[Any, dict[str, int]] = {}
    for key, severity, count in db.session.execute(
        select(sub.c.key, sub.c.severity, func.count()).group_by(sub.c.key, sub.c.severity)
    ):
        counts = result.setdefault(key, dict.fromkeys(SEVERITIES, 0))
        counts[severity if severity in counts else "untriaged"] += count
    return result


def _labels(filters: ReportFilters, keys: Iterable[Any], locale: str) -> dict[Any, str]:
    """Return display labels for the group keys (one query for people and categories)."""
    wanted = [key for key in keys if key is not None]
    if filters.group_by == "technician" and wanted:
        return dict(
            db.session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all()
        )
    if filters.group_by == "category" and wanted:
        return {
            id_: (name_zh if locale.startswith("zh") else name_en)
            for id_, name_en, name_zh in db.session.execute(
                select(Category.id, Category.name_en, Category.name_zh).where(
                    Category.id.in_(wanted)
                )
            )
        }
    return {key: str(key) for key in wanted}


def build_report(
    filters: ReportFilters,
    *,
    locale: str = "en",
    none_label: str = "—",
) -> Report:
    """Compute every figure of the report, grouped as ``filters`` say, and the totals.

    Runs a fixed number of statements whatever the number of orders (at most 8).
    """
    orders = _order_counts(filters)
    clocks = _clock_stats(filters, by_key=True)
    totals = _clock_stats(filters, by_key=False)
    fixes = _fix_stats(filters)
    satisfaction = _satisfaction(filters)
    complaints = _complaints(filters)
    keys: set[Any] = set(orders) | {key for _kind, key in clocks} | set(fixes)
    keys |= set(satisfaction) | set(complaints)
    if filters.group_by == "month":
        keys |= {label for label, _start in _month_starts(filters)}
    labels = _labels(filters, keys, locale)
    rows = []
    for key in keys:
        row = ReportRow(
            key=key, label=labels.get(key, none_label) if key is not None else none_label
        )
        row.orders = orders.get(key, 0)
        for kind in DEADLINE_CLOCKS:
            row.clocks[kind] = clocks.get((kind, key), ClockStats())
        row.fixes = fixes.get(key, FixStats())
        row.satisfaction = satisfaction.get(key, SatisfactionStats())
        row.complaints = complaints.get(key, dict.fromkeys(SEVERITIES, 0))
        rows.append(row)
    rows.sort(key=lambda r: (r.key is None, str(r.key) if filters.group_by == "month" else r.label))
    total = ReportRow(key=None, label="")
    total.orders = sum(r.orders for r in rows)
    for kind in DEADLINE_CLOCKS:
        total.clocks[kind] = totals.get((kind, None), ClockStats())
    total.fixes = FixStats(
        completed=sum(r.fixes.completed for r in rows),
        first_time_fixed=sum(r.fixes.first_time_fixed for r in rows),
        repeated=sum(r.fixes.repeated for r in rows),
    )
    total.satisfaction = SatisfactionStats(
        sent=sum(r.satisfaction.sent for r in rows),
        answered=sum(r.satisfaction.answered for r in rows),
        rating_sum=sum(r.satisfaction.rating_sum for r in rows),
        low=sum(r.satisfaction.low for r in rows),
    )
    total.complaints = {s: sum(r.complaints[s] for r in rows) for s in SEVERITIES}
    return Report(filters=filters, rows=rows, total=total)


# --- CSV ------------------------------------------------------------------------------------


def _number(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


def report_headers(group_by: str, _: Callable[[str], str]) -> list[str]:
    """Return the CSV header row in the reader's language (``_`` translates)."""
    group = {
        "month": _("Month"),
        "technician": _("Technician"),
        "team": _("Team"),
        "category": _("Category"),
    }[group_by]
    return [
        group,
        _("Orders"),
        _("Respond: met"),
        _("Respond: breached"),
        _("Respond: compliance %"),
        _("Respond: mean minutes"),
        _("Respond: 90th percentile minutes"),
        _("Arrive: met"),
        _("Arrive: breached"),
        _("Arrive: compliance %"),
        _("Arrive: mean minutes"),
        _("Arrive: 90th percentile minutes"),
        _("Resolve: met"),
        _("Resolve: breached"),
        _("Resolve: compliance %"),
        _("Resolve: mean minutes"),
        _("Resolve: 90th percentile minutes"),
        _("Completed"),
        _("First-time fix %"),
        _("Repeat visits within 30 days"),
        _("Repeat visit %"),
        _("Surveys sent"),
        _("Surveys answered"),
        _("Response rate %"),
        _("Mean rating"),
        _("Ratings of 2 or less %"),
        _("Complaints: general"),
        _("Complaints: important"),
        _("Complaints: major"),
        _("Complaints: not yet triaged"),
    ]


#: First characters that make a spreadsheet read a cell as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: str) -> str:
    """Return ``value`` safe for a spreadsheet: never read as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv_row(row: ReportRow) -> list[str]:
    values: list[str] = [_text_cell(row.label), str(row.orders)]
    for kind in DEADLINE_CLOCKS:
        stats = row.clocks[kind]
        values += [
            str(stats.met),
            str(stats.breached),
            _percent(stats.compliance),
            _minutes(stats.mean_seconds),
            _minutes(stats.p90_seconds),
        ]
    fixes, sat = row.fixes, row.satisfaction
    values += [
        str(fixes.completed),
        _percent(fixes.first_time_fix_rate),
        str(fixes.repeated),
        _percent(fixes.repeat_rate),
        str(sat.sent),
        str(sat.answered),
        _percent(sat.response_rate),
        _number(sat.mean_rating, 2),
        _percent(sat.low_share),
    ]
    values += [str(row.complaints[severity]) for severity in SEVERITIES]
    return values


def report_csv(report: Report, _: Callable[[str], str]) -> bytes:
    """Return the report as CSV: UTF-8 with a byte-order mark, so Excel reads Chinese right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(report_headers(report.filters.group_by, _))
    for row in report.rows:
        writer.writerow(_csv_row(row))
    total = _csv_row(report.total)
    total[0] = _("Total")
    writer.writerow(total)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
