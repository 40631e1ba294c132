"""Follow-up after completion: the survey goes out once, unhappy answers open complaints."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.jobs import relay
from server.models import (
    CustomerTier,
    FollowUpTask,
    OutboxMessage,
    OutboxStatus,
    Survey,
    WorkOrder,
    WorkOrderEvent,
)
from server.models.base import utcnow
from server.services.surveys import (
    key_customer_call_dates,
    list_due_follow_up_tasks,
    plan_key_customer_calls,
    schedule_followup,
    send_due_surveys,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def csrf_token(page: str) -> str:
    """Return the CSRF token of the first form on ``page``."""
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


@pytest.fixture(autouse=True)
def _tasks():
    import server.jobs.tasks  # noqa: F401  (registers the tasks)


@pytest.fixture
def complaint_category(create_category):
    return create_category(
        code="COMPLAINT", name_en="Complaint", name_zh="投诉", workflow_name="complaint"
    )


@pytest.fixture
def completed_order(create_work_order, create_customer, complaint_category):
    """A repair order completed on Friday 27 November 2026 at 15:00 in Shanghai."""
    customer = create_customer(
        name="李女士",
        preferred_locale="zh_CN",
        contacts=[{"name": "李女士", "email": "li@example.cn", "is_primary": True}],
    )
    order = create_work_order(customer=customer, title="热水器不出热水")
    order.completed_at = datetime(2026, 11, 27, 15, 0, tzinfo=SHANGHAI).astimezone(UTC)
    order.state = "completed"
    db.session.flush()
    return order


def followup_message(order, template="followup_survey"):
    """Return the outbox row the workflow's ``schedule_followup`` action writes."""
    message = OutboxMessage(
        action="schedule_followup",
        payload={
            "params": {"after": "1 working day", "template": template},
            "transition": "complete",
        },
        work_order_id=order.id,
    )
    db.session.add(message)
    db.session.flush()
    return message


@pytest.fixture
def sent_emails(monkeypatch):
    sent = []

    def fake_send_email(email, **_kwargs):
        sent.append(email)
        return email.message_id

    monkeypatch.setattr("server.jobs.mail.send_email", fake_send_email)
    return sent


def test_completion_schedules_the_survey_for_the_next_working_day(completed_order):
    followup_message(completed_order)
    followup_message(completed_order)  # a duplicate announcement changes nothing

    relay.run_once("w1")

    surveys = db.session.scalars(select(Survey)).all()
    assert len(surveys) == 1
    # Friday afternoon → Monday 09:00 local time.
    assert surveys[0].due_at == datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)


def test_the_survey_is_sent_once_by_email_in_the_customers_language(
    client, completed_order, sent_emails
):
    survey = schedule_followup(
        completed_order, after="1 working day", template=None, timezone="Asia/Shanghai"
    )
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)

    assert send_due_surveys(monday - timedelta(minutes=1)) == 0
    assert send_due_surveys(monday) == 1
    assert send_due_surveys(monday + timedelta(hours=1)) == 0
    for message in db.session.scalars(select(OutboxMessage)):
        message.available_at = utcnow()  # the test's Monday is in the future
    relay.run_once("w1")
    relay.run_once("w1")

    assert survey.sent_at == monday
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.action == "send_survey")
    ).all()
    assert [m.status for m in messages] == [OutboxStatus.DONE]
    assert len(sent_emails) == 1
    email = sent_emails[0]
    assert email.to == ["li@example.cn"]
    assert completed_order.number in email.subject
    assert "服务回访" in email.subject
    assert "2026年11月27日" in email.text
    link = email.text.split("http://127.0.0.1:5000")[1].split("#survey")[0].strip()
    assert link.startswith("/r/")
    survey.due_at = utcnow() - timedelta(minutes=1)  # the page shows it once due
    page = client.get(link).get_data(as_text=True)
    assert "您对这次服务满意吗？" in page
    assert 'name="rating"' in page


def _answer(client, order, rating, solved, comment=""):
    from server.services.customer_portal import issue_customer_link

    link = issue_customer_link(order, None)
    page = client.get(link.path).get_data(as_text=True)
    return client.post(
        f"{link.path}/survey",
        data={
            "csrf_token": csrf_token(page),
            "rating": str(rating),
            "solved": solved,
            "comment": comment,
        },
    )


@pytest.fixture
def due_survey(completed_order):
    survey = schedule_followup(
        completed_order, after="1 working day", template=None, timezone="Asia/Shanghai"
    )
    survey.due_at = utcnow() - timedelta(hours=1)
    survey.sent_at = survey.due_at
    db.session.flush()
    return survey


def complaints():
    return db.session.scalars(select(WorkOrder).where(WorkOrder.workflow_name == "complaint")).all()


def test_a_low_rating_opens_a_complaint_linked_to_the_order(
    client, completed_order, due_survey, complaint_category
):
    response = _answer(client, completed_order, 2, "yes", "技术员迟到了两个小时")

    assert response.status_code == 302
    [complaint] = complaints()
    assert due_survey.rating == 2
    assert due_survey.solved is True
    assert due_survey.complaint_order_id == complaint.id
    assert complaint.category_id == complaint_category.id
    assert complaint.customer_id == completed_order.customer_id
    assert complaint.site_id == completed_order.site_id
    assert completed_order.number in complaint.title
    assert "技术员迟到了两个小时" in complaint.description
    linked = db.session.scalar(
        select(WorkOrderEvent).where(
            WorkOrderEvent.work_order_id == completed_order.id,
            WorkOrderEvent.kind == "ComplaintOpened",
        )
    )
    assert linked.data["complaint_order_id"] == complaint.id


def test_not_solved_opens_a_complaint_even_with_a_good_rating(client, completed_order, due_survey):
    _answer(client, completed_order, 5, "no")

    [complaint] = complaints()
    assert due_survey.complaint_order_id == complaint.id
    assert "not solved" in complaint.description


def test_a_happy_answer_opens_no_complaint(client, completed_order, due_survey):
    response = _answer(client, completed_order, 4, "yes")

    assert response.status_code == 302
    assert complaints() == []
    assert due_survey.answered_at is not None
    assert due_survey.complaint_order_id is None


def test_a_survey_is_answered_once(client, completed_order, due_survey):
    _answer(client, completed_order, 1, "no")
    _answer(client, completed_order, 5, "yes")

    assert due_survey.rating == 1
    assert len(complaints()) == 1


def test_an_incomplete_answer_is_refused_next_to_the_field(client, completed_order, due_survey):
    from server.services.customer_portal import issue_customer_link

    link = issue_customer_link(completed_order, None)
    page = client.get(link.path).get_data(as_text=True)

    response = client.post(
        f"{link.path}/survey", data={"csrf_token": csrf_token(page), "rating": "3"}
    )

    assert response.status_code == 422
    assert "请告诉我们问题是否已解决。" in response.get_data(as_text=True)
    assert due_survey.answered_at is None


def test_the_survey_is_not_shown_before_it_is_due(client, completed_order):
    from server.services.customer_portal import issue_customer_link

    survey = schedule_followup(
        completed_order, after="1 working day", template=None, timezone="Asia/Shanghai"
    )
    survey.due_at = utcnow() + timedelta(hours=3)
    link = issue_customer_link(completed_order, None)

    page = client.get(link.path).get_data(as_text=True)

    assert 'name="rating"' not in page


def test_a_complaint_callback_becomes_a_call_task(completed_order):
    followup_message(completed_order, template="complaint_callback")

    relay.run_once("w1")

    [task] = db.session.scalars(select(FollowUpTask)).all()
    assert task.kind == "complaint_callback"
    assert task.work_order_id == completed_order.id
    assert task.due_on == date(2026, 11, 30)
    assert db.session.scalar(select(func.count()).select_from(Survey)) == 0


def test_key_customers_are_called_monthly_in_the_first_year_then_quarterly():
    days = key_customer_call_dates(date(2026, 1, 15), until=date(2027, 12, 31))

    assert days[:3] == [date(2026, 2, 15), date(2026, 3, 15), date(2026, 4, 15)]
    assert days[11] == date(2027, 1, 15)  # twelve monthly calls in the first year
    assert days[12:] == [date(2027, 4, 15), date(2027, 7, 15), date(2027, 10, 15)]


def test_key_customer_calls_are_planned_once_and_listed_when_due(create_customer):
    key = create_customer(name="Acme Facilities", tier=CustomerTier.KEY)
    create_customer(name="Walk-in", tier=CustomerTier.STANDARD)
    today = date(2026, 11, 23)

    first = plan_key_customer_calls(today)
    again = plan_key_customer_calls(today)
    later = plan_key_customer_calls(today + timedelta(days=40))

    tasks = db.session.scalars(select(FollowUpTask).order_by(FollowUpTask.due_on)).all()
    assert first == 3
    assert again == 0
    assert later == 1
    assert {task.customer_id for task in tasks} == {key.id}
    assert [task.due_on for task in tasks][:2] == [date(2026, 12, 23), date(2027, 1, 23)]
    assert list_due_follow_up_tasks(today) == []
    assert [t.due_on for t in list_due_follow_up_tasks(date(2027, 1, 23))] == [
        date(2026, 12, 23),
        date(2027, 1, 23),
    ]
