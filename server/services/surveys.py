"""Use cases of the follow-up: surveys, complaints from unhappy answers, calls.

Surveys go out after completion; call-backs follow complaints; key customers get periodic
calls.

Working days come from a ``next_working_day(date) -> date`` callable so that the business
calendars (``workflows.calendars``) plug in without changing this module; the default skips
Saturdays and Sundays only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, update

from server.extensions import db
from server.models import (
    Category,
    Channel,
    Customer,
    CustomerTier,
    FollowUpTask,
    OutboxMessage,
    Survey,
    User,
    WorkOrder,
    WorkOrderEvent,
)
from server.models.base import utcnow
from server.services.errors import InvalidInput, NotFound, Refused
from server.services.work_orders import create_work_order

#: ``next_working_day(day)``: the first working day after ``day``.
NextWorkingDay = Callable[[date], date]
#: Surveys go out at this local time on their day.
SURVEY_SEND_TIME = time(9, 0)
#: Code of the category unhappy answers open (matched case-insensitively).
COMPLAINT_CATEGORY = "complaint"
#: Ratings at or below this open a complaint.
UNHAPPY_RATING = 2
#: Follow-up task kinds.
KEY_CUSTOMER_CALL = "key_customer_call"
COMPLAINT_CALLBACK = "complaint_callback"
#: Key-customer calls are planned this far ahead.
CALL_PLANNING_HORIZON = timedelta(days=100)


def weekday_after(day: date) -> date:
    """Return the first Monday-to-Friday day after ``day`` (holidays not known here)."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _local_day(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def survey_due_at(
    completed_at: datetime,
    timezone: str,
    working_days: int = 1,
    next_working_day: NextWorkingDay = weekday_after,
) -> datetime:
    """Return when a survey goes out: 09:00 local on the ``working_days``-th working day after."""
    day = _local_day(completed_at, timezone)
    for _ in range(max(working_days, 1)):
        day = next_working_day(day)
    return datetime.combine(day, SURVEY_SEND_TIME, tzinfo=ZoneInfo(timezone))


def _working_days(after: str | None) -> int:
    """Return how many working days ``after`` (``1 working day``, ``2d``) asks for."""
    from workflows.durations import parse_duration

    try:
        duration = parse_duration(after or "1 working day")
    except ValueError:
        return 1
    if duration.unit == "days":
        return duration.amount
    return 1


def schedule_followup(
    order: WorkOrder,
    *,
    after: str | None,
    template: str | None,
    timezone: str,
    now: datetime | None = None,
    next_working_day: NextWorkingDay = weekday_after,
) -> Survey | FollowUpTask:
    """Schedule the follow-up a workflow asked for; calling it again changes nothing.

    ``complaint_callback`` becomes a call task for the office; anything else is the survey
    e-mailed (and shown on the customer page) on the next working day.
    """
    now = now or utcnow()
    start = order.completed_at or now
    if template == COMPLAINT_CALLBACK:
        due = survey_due_at(start, timezone, _working_days(after), next_working_day).date()
        return _add_task(order.customer_id, COMPLAINT_CALLBACK, due, work_order_id=order.id)
    existing = db.session.scalar(select(Survey).where(Survey.work_order_id == order.id))
    if existing is not None:
        return existing
    survey = Survey(
        work_order_id=order.id,
        customer_id=order.customer_id,
        template=template or "followup_survey",
        due_at=survey_due_at(start, timezone, _working_days(after), next_working_day),
        created_at=now,
    )
    db.session.add(survey)
    db.session.flush()
    return survey


def send_due_surveys(now: datetime | None = None, limit: int = 500) -> int:
    """Hand every due, unsent survey to the outbox (once each); return how many."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Survey.id)
        .where(Survey.sent_at.is_(None), Survey.due_at <= now)
        .order_by(Survey.due_at, Survey.id)
        .limit(limit)
    ).all()
    sent = 0
    for survey_id in due:
        # Conditional: of two concurrent senders only one marks (and announces) a survey.
        claimed = db.session.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.sent_at.is_(None))
            .values(sent_at=now)
            .returning(Survey.work_order_id)
        ).scalar_one_or_none()
        if claimed is None:
            continue
        db.session.add(
            OutboxMessage(
                action="send_survey",
                payload={"survey_id": survey_id},
                work_order_id=claimed,
                created_at=now,
                available_at=now,
            )
        )
        sent += 1
    db.session.flush()
    return sent


def complaint_category() -> Category | None:
    """Return the active category complaints are opened in."""
    return db.session.scalar(
        select(Category)
        .where(func.lower(Category.code) == COMPLAINT_CATEGORY, Category.is_active.is_(True))
        .order_by(Category.id)
    )


def answer_survey(
    survey: Survey,
    *,
    rating: int | None,
    solved: bool | None,
    comment: str | None,
    now: datetime | None = None,
) -> Survey:
    """Record the customer's answer; a low rating or "not solved" opens a linked complaint."""
    now = now or utcnow()
    if survey.answered_at is not None:
        raise Refused("survey_answered", "This survey has already been answered. Thank you!")
    errors: dict[str, list[str]] = {}
    if rating is None or not 1 <= rating <= 5:
        errors["rating"] = ["Choose a rating from 1 to 5."]
    if solved is None:
        errors["solved"] = ["Tell us whether the problem was solved."]
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > 4000:
        errors["comment"] = ["At most 4000 characters."]
    if errors:
        raise InvalidInput(errors)
    survey.rating, survey.solved, survey.comment = rating, solved, comment
    survey.answered_at = now
    db.session.add(
        WorkOrderEvent(
            work_order_id=survey.work_order_id,
            kind="SurveyAnswered",
            occurred_at=now,
            data={"rating": rating, "solved": solved},
        )
    )
    if (rating is not None and rating <= UNHAPPY_RATING) or solved is False:
        survey.complaint_order_id = open_complaint(survey.work_order, survey, now).id
    db.session.flush()
    return survey


def open_complaint(order: WorkOrder, survey: Survey, now: datetime) -> WorkOrder:
    """Open a complaint order linked to ``order`` from an unhappy survey answer."""
    category = complaint_category()
    if category is None:
        raise NotFound("no_complaint_category", "No active complaint category is configured.")
    reasons = []
    if survey.rating is not None and survey.rating <= UNHAPPY_RATING:
        reasons.append(f"rating {survey.rating}/5")
    if survey.solved is False:
        reasons.append("problem not solved / 问题未解决")
    description = f"Follow-up survey of {order.number}: {', '.join(reasons)}."
    if survey.comment:
        description += f"\n\n{survey.comment}"
    complaint = create_work_order(
        {
            "category_id": category.id,
            "customer_id": order.customer_id,
            "site_id": order.site_id,
            "asset_id": order.asset_id,
            "title": f"Complaint about {order.number} / 关于 {order.number} 的投诉",
            "description": description,
            "channel": Channel.PORTAL,
        },
        None,
        now=now,
    )
    link = {"original_order_id": order.id, "original_number": order.number}
    db.session.add(
        WorkOrderEvent(
            work_order_id=complaint.id,
            kind="ComplaintLinked",
            occurred_at=now,
            data=link | {"survey_id": survey.id},
        )
    )
    db.session.add(
        WorkOrderEvent(
            work_order_id=order.id,
            kind="ComplaintOpened",
            occurred_at=now,
            data={"complaint_order_id": complaint.id, "complaint_number": complaint.number},
        )
    )
    db.session.flush()
    return complaint


# --- Follow-up calls ------------------------------------------------------------------------


def _add_task(
    customer_id: int,
    kind: str,
    due_on: date,
    *,
    series_start_on: date | None = None,
    work_order_id: int | None = None,
) -> FollowUpTask:
    found = db.session.scalar(
        select(FollowUpTask).where(
            FollowUpTask.customer_id == customer_id,
            FollowUpTask.kind == kind,
            FollowUpTask.due_on == due_on,
        )
    )
    if found is not None:
        return found
    task = FollowUpTask(
        customer_id=customer_id,
        kind=kind,
        due_on=due_on,
        series_start_on=series_start_on,
        work_order_id=work_order_id,
    )
    db.session.add(task)
    db.session.flush()
    return task


def key_customer_call_dates(series_start: date, until: date) -> list[date]:
    """Return the call days of a key-customer series up to ``until``.

    Monthly during the first year after the customer became key (months 1 to 12), then
    quarterly (months 15, 18, …).
    """
    days = []
    month = 1
    while True:
        day = series_start + relativedelta(months=month)
        if day > until:
            return days
        days.append(day)
        month += 1 if month < 12 else 3


def start_key_customer_calls(
    customer: Customer, since: date, today: date, horizon: timedelta = CALL_PLANNING_HORIZON
) -> list[FollowUpTask]:
    """Plan the calls of ``customer``'s key-customer series that began on ``since``."""
    return [
        _add_task(customer.id, KEY_CUSTOMER_CALL, day, series_start_on=since)
        for day in key_customer_call_dates(since, today + horizon)
        if day >= today
    ]


def plan_key_customer_calls(today: date, horizon: timedelta = CALL_PLANNING_HORIZON) -> int:
    """Plan the coming calls of every key and VIP customer; return how many were added.

    A customer seen as key for the first time starts a series today.
    """
    customers = db.session.scalars(
        select(Customer).where(Customer.tier.in_([CustomerTier.KEY, CustomerTier.VIP]))
    ).all()
    starts = dict(
        db.session.execute(
            select(FollowUpTask.customer_id, func.min(FollowUpTask.series_start_on))
            .where(FollowUpTask.kind == KEY_CUSTOMER_CALL)
            .group_by(FollowUpTask.customer_id)
        ).all()
    )
    before = db.session.scalar(select(func.count()).select_from(FollowUpTask)) or 0
    for customer in customers:
        start_key_customer_calls(customer, starts.get(customer.id) or today, today, horizon)
    after = db.session.scalar(select(func.count()).select_from(FollowUpTask)) or 0
    return after - before


def list_due_follow_up_tasks(
    today: date, *, kinds: Sequence[str] | None = None, limit: int = 100
) -> list[FollowUpTask]:
    """Return the calls due by ``today`` and not done yet, oldest first (the console's list)."""
    query = (
        select(FollowUpTask)
        .where(FollowUpTask.done_at.is_(None), FollowUpTask.due_on <= today)
        .order_by(FollowUpTask.due_on, FollowUpTask.id)
        .limit(limit)
    )
    if kinds:
        query = query.where(FollowUpTask.kind.in_(list(kinds)))
    return list(db.session.scalars(query))


def complete_follow_up_task(
    task: FollowUpTask, actor: User, notes: str | None, now: datetime | None = None
) -> FollowUpTask:
    """Mark a call as made, with what was said."""
    if task.done_at is not None:
        raise Refused("task_done", "This call has already been recorded.")
    task.done_at = now or utcnow()
    task.done_by_id = actor.id
    task.notes = (notes or "").strip() or None
    db.session.flush()
    return task
