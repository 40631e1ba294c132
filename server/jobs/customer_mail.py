"""What a customer reads about their order: one message per event, in their language.

A workflow's ``notify: {to: customer}`` action names a template (``technician_en_route``,
``work_order_cancelled`` …); each names the event the customer is told about. The event
travels with the outbox message (``payload["event"]``, written by ``apply_transition``), so a
message sent late still tells what happened then, not what the order is doing by now.

Customer messages link only to the customer's own page (``/r/<token>``) or, for a completion
sheet, to its verify page; never to the console, which a customer cannot open. Their words
are the customer's: no state names, no codes, no English in the Chinese text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time
from flask import current_app

from server.extensions import db
from server.models import OutboxMessage, Role, User, WorkOrder, WorkOrderEvent
from server.services.customer_portal import issue_customer_link, technician_short_name
from server.services.workflow_registry import definition_for

#: The one e-mail template of status messages to customers (its text comes from ``TEXTS``).
CUSTOMER_TEMPLATE = "customer_update"
#: Customer e-mails with a template of their own (their senders give the context).
OWN_TEMPLATES = frozenset({"completion_sheet", "followup_survey", "intake_ack"})

#: The event a workflow's template tells the customer about.
TEMPLATE_EVENTS = {
    "work_order_accepted": "accepted",
    "emergency_accepted": "accepted",
    "technician_en_route": "on_the_way",
    "technician_arrived": "arrived",
    "work_order_completed": "completed",
    "work_order_rescheduled": "rescheduled",
    "installation_rescheduled": "rescheduled",
    "work_order_cancelled": "cancelled",
    "complaint_resolved": "resolved",
}
#: A template not listed above: the event by the state the transition led to.
STATE_EVENTS = {
    "accepted": "accepted",
    "en_route": "on_the_way",
    "on_site": "arrived",
    "completed": "completed",
    "resolved": "resolved",
    "cancelled": "cancelled",
}


@dataclass(frozen=True)
class EventText:
    """What one event says: subject, what happened, the time's label and the next step.

    ``{number}`` is the order number, ``{technician}`` how the customer names the
    technician; ``when_label`` introduces the visit time when there is one to show.
    """

    subject: str
    lead: str
    more: str
    when_label: str | None = None


#: Every customer message, by event and language.
TEXTS: dict[str, dict[str, EventText]] = {
    "accepted": {
        "en": EventText(
            "{number}: a technician has taken on your request",
            "{technician} has accepted your request and will come to you.",
            "We will let you know when the technician sets off.",
            "Planned visit",
        ),
        "zh_CN": EventText(
            "工单 {number}：师傅已接单",
            "{technician}已接单，将上门为您服务。",
            "师傅出发时我们会再通知您。",
            "预约上门时间",
        ),
    },
    "on_the_way": {
        "en": EventText(
            "{number}: your technician is on the way",
            "{technician} has set off and is on the way to you.",
            "Please make sure someone is there to let the technician in.",
            "Expected arrival",
        ),
        "zh_CN": EventText(
            "工单 {number}：师傅已出发",
            "{technician}已出发，正在前往您处。",
            "请确保届时现场有人接待。",
            "预计到达时间",
        ),
    },
    "arrived": {
        "en": EventText(
            "{number}: your technician has arrived",
            "{technician} has arrived and is starting on the job.",
            "We will write again when the work is done.",
        ),
        "zh_CN": EventText(
            "工单 {number}：师傅已到达",
            "{technician}已到达现场，即将开始服务。",
            "服务完成后我们会再通知您。",
        ),
    },
    "completed": {
        "en": EventText(
            "{number}: the work is done",
            "The work on your request is done.",
            "The page below shows what was done and, once it is ready, the service report.",
        ),
        "zh_CN": EventText(
            "工单 {number}：服务已完成",
            "您的服务已完成。",
            "您可以在下方页面查看服务内容，服务报告生成后也会在页面上提供。",
        ),
    },
    "rescheduled": {
        "en": EventText(
            "{number}: your visit has a new time",
            "We are sorry: we have had to move your visit.",
            "If the new time does not suit you, reply to this e-mail or call us.",
            "New time",
        ),
        "zh_CN": EventText(
            "工单 {number}：上门时间已调整",
            "很抱歉，您的上门时间有所调整。",
            "如新的时间不方便，请直接回复本邮件或致电我们。",
            "新的上门时间",
        ),
    },
    "cancelled": {
        "en": EventText(
            "{number}: your request has been cancelled",
            "Your request has been cancelled; no technician will come.",
            "If this is a mistake or you still need help, reply to this e-mail or call us.",
        ),
        "zh_CN": EventText(
            "工单 {number}：已取消",
            "您的服务请求已取消，师傅不会再上门。",
            "如有误或仍需服务，请直接回复本邮件或致电我们。",
        ),
    },
    "resolved": {
        "en": EventText(
            "{number}: your complaint has been dealt with",
            "We have looked into your complaint and dealt with it. Thank you for telling us.",
            "We will call you shortly to make sure you are satisfied.",
        ),
        "zh_CN": EventText(
            "工单 {number}：您的投诉已处理",
            "您反映的问题已调查处理完毕，感谢您的反馈。",
            "我们会尽快回访，确认您是否满意。",
        ),
    },
    "updated": {
        "en": EventText(
            "{number}: news about your request",
            "There is news about your request.",
            "The page below always shows where it stands.",
        ),
        "zh_CN": EventText(
            "工单 {number}：有新进展",
            "您的服务请求有新进展。",
            "点击下方链接即可随时查看最新进度。",
        ),
    },
}
#: Every event a customer message can tell of.
EVENTS = tuple(TEXTS)
#: How a message names the technician when it cannot name them.
SOME_TECHNICIAN = {"en": "Our technician", "zh_CN": "师傅"}
#: The events that show the planned visit time (when there is one).
TIMED_EVENTS = frozenset(e for e, texts in TEXTS.items() if texts["en"].when_label)
#: Events that name the technician who acts (accepting, travelling, arriving).
TECHNICIAN_EVENTS = frozenset({"accepted", "on_the_way", "arrived"})


def language_of(locale: str | None) -> str:
    """Return ``zh_CN`` for any Chinese locale, ``en`` otherwise."""
    return "zh_CN" if (locale or "").startswith("zh") else "en"


def is_for_customer(message: OutboxMessage) -> bool:
    """Return True when a ``notify`` message is addressed to the order's customer."""
    return str(message.payload.get("params", {}).get("to", "")) == "customer"


def event_facts(message: OutboxMessage) -> dict[str, Any]:
    """Return what happened, as the message carries it.

    Messages queued before the event travelled with them fall back on their history entry.
    """
    carried = message.payload.get("event")
    if isinstance(carried, dict):
        return carried
    event = db.session.get(WorkOrderEvent, message.event_id) if message.event_id else None
    if event is None:
        return {}
    return {
        "kind": event.kind,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": event.actor_id,
        **(
            {"scheduled_for": event.data["scheduled_for"]}
            if event.data.get("scheduled_for")
            else {}
        ),
    }


def customer_event(template: str, facts: dict[str, Any], order: WorkOrder) -> str:
    """Return the event a customer message tells of (one of ``EVENTS``)."""
    if template in TEMPLATE_EVENTS:
        return TEMPLATE_EVENTS[template]
    to_state = str(facts.get("to_state") or "")
    if to_state in STATE_EVENTS:
        return STATE_EVENTS[to_state]
    state = definition_for(order.workflow_name, order.workflow_version).states.get(to_state)
    if state is not None and state.category == "cancelled":
        return "cancelled"
    return "updated"


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def visit_window(
    order: WorkOrder, event: str, facts: dict[str, Any]
) -> tuple[datetime | None, datetime | None]:
    """Return the visit time to show: the new one of a reschedule, else the planned one."""
    if event not in TIMED_EVENTS:
        return None, None
    moved_to = _instant(facts.get("scheduled_for"))
    if moved_to is not None:
        return moved_to, None
    visit = order.current_visit
    start = (visit.planned_start_at if visit else None) or order.scheduled_start_at
    end = (visit.planned_end_at if visit else None) or order.scheduled_end_at
    return start, end


def format_window(
    start: datetime | None, end: datetime | None, language: str, timezone: str
) -> str | None:
    """Return a visit time as the customer reads it, in the company's time zone."""
    if start is None:
        return None
    zone = ZoneInfo(timezone)
    locale = "zh_Hans_CN" if language == "zh_CN" else "en"
    pattern = "M月d日 EEEE HH:mm" if language == "zh_CN" else "EEEE d MMMM, HH:mm"
    text = format_datetime(start, pattern, tzinfo=zone, locale=locale)
    if end is not None and end > start:
        same_day = start.astimezone(zone).date() == end.astimezone(zone).date()
        if same_day:
            text += "–" + format_time(end, "HH:mm", tzinfo=zone, locale=locale)
        else:
            text += " – " + format_datetime(end, pattern, tzinfo=zone, locale=locale)
    return text


def _technician(order: WorkOrder, event: str, facts: dict[str, Any], language: str) -> str:
    """Return how the message names the technician: the one who acted, else the assignee."""
    if event not in TECHNICIAN_EVENTS:
        return SOME_TECHNICIAN[language]
    actor = db.session.get(User, facts["actor_id"]) if facts.get("actor_id") else None
    person = actor if actor is not None and actor.role is Role.TECHNICIAN else order.assignee
    name = technician_short_name(person.display_name, language) if person else ""
    return name or SOME_TECHNICIAN[language]


def customer_context(
    message: OutboxMessage, order: WorkOrder, locale: str, recipient_name: str, template: str
) -> dict[str, Any]:
    """Return what customer e-mails show: order facts for customers, no console links.

    The status message (``customer_update``) gets the event's words, the visit time and a
    fresh link to the customer's page; the e-mails with templates of their own get the
    order facts and add their own links.
    """
    language = language_of(locale)
    settings = current_app.config["FIELDWORK_SETTINGS"]
    assignee = order.assignee
    context: dict[str, Any] = {
        "recipient_name": recipient_name,
        "customer_name": recipient_name or order.customer.name,
        "order_number": order.number,
        "title": order.title,
        "technician_name": (
            technician_short_name(assignee.display_name, language)
            if assignee
            else SOME_TECHNICIAN[language]
        ),
        "company_name": settings.company_name,
    }
    if template in OWN_TEMPLATES:
        return context
    facts = event_facts(message)
    event = customer_event(template, facts, order)
    start, end = visit_window(order, event, facts)
    when = format_window(start, end, language, settings.timezone)
    technician = _technician(order, event, facts, language)
    return {
        **context,
        **event_words(event, language, order.number, technician, when),
        "technician_name": technician,
        "page_url": f"{settings.base_url}{issue_customer_link(order, None).path}",
    }


def event_words(
    event: str, language: str, number: str, technician: str, when: str | None
) -> dict[str, Any]:
    """Return the subject and paragraphs of one event's message, filled in."""
    text = TEXTS[event][language]
    return {
        "event": event,
        "subject_line": text.subject.format(number=number),
        "lead": text.lead.format(technician=technician),
        "more": text.more,
        "when_label": text.when_label if when else None,
        "when": when,
    }
