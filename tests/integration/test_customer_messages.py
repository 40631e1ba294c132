"""What customers read: every message for every event, in both languages, with usable links.

A customer can open two kinds of page: their own job page (``/r/<token>``) and a completion
sheet's verify page. Every customer e-mail is sent through the real tasks into ``.eml``
files and read back: its links go only there, its words tell of the event that caused it
(however late it is sent), and the Chinese text has no English, codes or state names in it.
"""

from __future__ import annotations

import dataclasses
import html as html_module
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select

from server.extensions import db
from server.jobs import relay
from server.jobs.customer_mail import TEMPLATE_EVENTS, TEXTS
from server.models import OutboxMessage, Role, Survey
from server.services.work_orders import apply_transition, update_work_order
from server.services.workflow_registry import workflow_registry
from tests.factories import add_completion_evidence

BASE_URL = "https://service.example.cn"
LANGUAGES = ("en", "zh_CN")
URL = re.compile(r"https?://[^\s\"'<>）)]+")
#: One workflow template per event (``updated``: a template that names no event).
EVENT_TEMPLATES = {event: template for template, event in reversed(TEMPLATE_EVENTS.items())}
EVENT_TEMPLATES["updated"] = "work_order_on_hold"


@pytest.fixture(autouse=True)
def _tasks():
    import server.jobs.tasks  # noqa: F401  (registers the tasks)


@pytest.fixture
def outbox(app, tmp_path, monkeypatch):
    """Send e-mails into a folder, with a public base URL; return a reader of what went."""
    settings = dataclasses.replace(
        app.config["FIELDWORK_SETTINGS"],
        instance_path=tmp_path,
        smtp_url=None,
        base_url=BASE_URL,
        company_name="安心家电服务",
    )
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)

    def sent() -> list[Mail]:
        while relay.run_once("w"):
            pass
        files = sorted((tmp_path / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
        return [Mail.read(path) for path in files]

    return sent


@dataclasses.dataclass
class Mail:
    """One e-mail as the customer gets it."""

    to: str
    subject: str
    text: str
    html: str

    @classmethod
    def read(cls, path: Path) -> Mail:
        message = message_from_bytes(path.read_bytes(), policy=default)
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        return cls(str(message["To"]), str(message["Subject"]), text, html)

    def visible(self) -> str:
        """Return every word the reader sees: subject, text, and the HTML without markup."""
        page = re.sub(r"<(style|head)\b.*?</\1>", " ", self.html, flags=re.S)
        page = html_module.unescape(re.sub(r"<[^>]+>", " ", page))
        return "\n".join((self.subject, self.text, page))

    def links(self) -> list[str]:
        """Return every URL in the text and every link target in the HTML."""
        hrefs = re.findall(r'href="([^"]*)"', self.html)
        return URL.findall(self.text) + URL.findall(self.subject) + hrefs


def state_codes_and_internal_labels() -> tuple[set[str], set[str]]:
    """Return every workflow state code and every label that only staff should read."""
    codes, labels = set(), set()
    for name in workflow_registry().names():
        definition = workflow_registry().get(name)
        for code, state in definition.states.items():
            codes.add(code)
            for language in LANGUAGES:
                label = state.labels.text(language)
                # "已完工（待回访）", "Completed – awaiting follow-up": office bookkeeping.
                if "（" in label or "–" in label or "(" in label:
                    labels.add(label)
    return codes, labels


def assert_customer_can_use(mail: Mail, language: str, *, names: list[str]) -> None:
    """Check the links (the customer's pages only) and the words (the customer's own)."""
    links = mail.links()
    assert links, "a customer message links to the customer's page"
    for link in links:
        assert link.startswith((f"{BASE_URL}/r/", f"{BASE_URL}/verify/")), link
    seen = mail.visible()
    assert "/work-orders/" not in seen
    codes, internal = state_codes_and_internal_labels()
    for code in codes:
        assert not re.search(rf"(?<![\w/-]){re.escape(code)}(?![\w-])", seen.lower()) or (
            language == "en" and "_" not in code
        ), code
    for label in internal:
        assert label not in seen, label
    if language == "zh_CN":
        rest = URL.sub(" ", seen)
        rest = re.sub(r"WO-\d{4}-\d{6}(-r\d+\.pdf)?", " ", rest)
        for name in sorted(names, key=len, reverse=True):
            rest = rest.replace(name, " ")
        assert not re.findall(r"[A-Za-z]+", rest), re.findall(r".{0,12}[A-Za-z]+.{0,12}", rest)


@pytest.fixture
def technician(create_user):
    return create_user(Role.TECHNICIAN, display_name="Li Wei 李伟", locale="zh_CN")


@pytest.fixture
def customer_order(create_work_order, create_customer, create_user, technician):
    """Return a maker of an order assigned to 李伟 with a planned visit, for one language."""
    dispatcher = create_user(Role.DISPATCHER)

    def make(language: str, category=None):
        customer = create_customer(
            name="王建国" if language == "zh_CN" else "Jane Miller",
            preferred_locale=language,
            contacts=[
                {
                    "name": "王先生" if language == "zh_CN" else "Jane Miller",
                    "phone": "+8613900000001",
                    "email": f"customer-{language}@example.cn",
                    "is_primary": True,
                }
            ],
        )
        order = create_work_order(
            customer=customer, actor=dispatcher, title="空调不制冷", category=category
        )
        start = datetime(2026, 6, 9, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
        update_work_order(
            order,
            {"scheduled_start_at": start, "scheduled_end_at": start + timedelta(hours=2)},
            dispatcher,
            order.version,
        )
        if order.workflow_name == "repair":
            apply_transition(order, "assign", dispatcher, {"assignee_id": technician.id}, 2)
        db.session.commit()
        return order, dispatcher

    return make


def names_in(order, technician) -> list[str]:
    contact = order.customer.contacts[0]
    settings_name = "安心家电服务"
    return [contact.name, order.customer.name, technician.display_name, order.title, settings_name]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("event", list(TEXTS))
def test_every_customer_message_is_written_for_its_event_with_only_customer_links(
    outbox, customer_order, technician, event, language
):
    order, _dispatcher = customer_order(language)
    # Whatever the order does by the time the message goes, the message tells of its event.
    order.state = "closed"
    db.session.add(
        OutboxMessage(
            action="notify",
            payload={
                "params": {
                    "to": "customer",
                    "channels": ["email"],
                    "template": EVENT_TEMPLATES[event],
                },
                "event": {
                    "kind": "Whatever",
                    "to_state": "on_hold" if event == "updated" else None,
                    "actor_id": technician.id,
                    **(
                        {"scheduled_for": "2026-06-12T01:30:00+00:00"}
                        if event == "rescheduled"
                        else {}
                    ),
                },
            },
            work_order_id=order.id,
        )
    )
    db.session.commit()

    [mail] = outbox()

    assert mail.to == f"customer-{language}@example.cn"
    words = TEXTS[event][language]
    assert mail.subject == words.subject.format(number=order.number)
    for other, texts in TEXTS.items():
        lead = texts[language].lead.split("{technician}")[-1]
        assert (lead in mail.text) is (other == event), (other, lead)
    if event in ("accepted", "on_the_way", "arrived"):
        assert ("李师傅" if language == "zh_CN" else "Li ") in mail.text
    if event == "rescheduled":
        assert ("6月12日 星期五 09:30" if language == "zh_CN" else "Friday 12 June, 09:30") in (
            mail.text
        )
    if event in ("accepted", "on_the_way"):
        assert (
            "6月9日 星期二 14:00–16:00" if language == "zh_CN" else "Tuesday 9 June, 14:00–16:00"
        ) in (mail.text)
    assert_customer_can_use(mail, language, names=names_in(order, technician))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_late_on_the_way_message_still_says_on_the_way(
    outbox, customer_order, technician, language
):
    order, _dispatcher = customer_order(language)
    for step in ("accept", "start_travel", "arrive", "start_work"):
        apply_transition(order, step, technician, {}, order.version)
    db.session.commit()
    assert order.state == "in_progress"  # the relay runs only now

    [mail] = outbox()

    assert mail.subject == TEXTS["on_the_way"][language].subject.format(number=order.number)
    if language == "zh_CN":
        assert "李师傅已出发" in mail.text
        assert "已到场" not in mail.visible()
        assert "维修中" not in mail.visible()
    else:
        assert "Li has set off and is on the way to you." in mail.text
        assert "on site" not in mail.visible().lower()
    assert_customer_can_use(mail, language, names=names_in(order, technician))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_late_emergency_acceptance_says_accepted_not_completed(
    outbox, customer_order, create_category, technician, language
):
    category = create_category(workflow_name="emergency_callout")
    order, dispatcher = customer_order(language, category=category)
    apply_transition(order, "assign", dispatcher, {"assignee_id": technician.id}, order.version)
    for step in ("accept", "start_travel", "arrive", "start_work"):
        apply_transition(order, step, technician, {}, order.version)
    add_completion_evidence(order, technician)
    db.session.flush()
    apply_transition(
        order,
        "complete",
        technician,
        {"resolution_code": "FIXED", "resolution_note": "已修复"},
        order.version,
    )
    db.session.commit()
    assert order.state == "completed"

    mails = [
        m
        for m in outbox()
        if m.subject == TEXTS["accepted"][language].subject.format(number=order.number)
    ]

    assert len(mails) == 1
    assert "已完工" not in mails[0].visible()
    assert "awaiting" not in mails[0].visible()
    assert_customer_can_use(mails[0], language, names=names_in(order, technician))


def test_a_rescheduled_installation_tells_the_new_time(
    outbox, customer_order, create_category, create_user, technician
):
    category = create_category(workflow_name="installation")
    order, dispatcher = customer_order("zh_CN", category=category)
    manager = create_user(Role.MANAGER)
    steps = [
        ("request_survey", dispatcher, {}),
        ("submit_survey", dispatcher, {"survey_notes": "可以安装"}),
        ("approve", manager, {}),
        ("schedule", dispatcher, {"scheduled_for": "2026-06-10T02:00:00+00:00"}),
        ("reschedule", dispatcher, {"scheduled_for": "2026-06-12T01:30:00+00:00"}),
    ]
    for step, actor, payload in steps:
        apply_transition(order, step, actor, payload, order.version)
    db.session.commit()
    message = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.work_order_id == order.id,
            OutboxMessage.payload["params"]["to"].as_string() == "customer",
        )
    )
    assert message.payload["event"]["to_state"] == "scheduled"

    [mail] = [m for m in outbox() if m.to == "customer-zh_CN@example.cn"]

    assert mail.subject == f"工单 {order.number}：上门时间已调整"
    assert "新的上门时间：6月12日 星期五 09:30" in mail.text
    assert_customer_can_use(mail, "zh_CN", names=names_in(order, technician))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_completion_survey_and_acknowledgement_mails_use_customer_links_and_words(
    outbox, customer_order, technician, language
):
    from flask import current_app

    from server.jobs.mail import send_order_email
    from server.services.completion_sheets import customer_page_url, verify_url

    order, _dispatcher = customer_order(language)
    order.completed_at = datetime(2026, 6, 9, 8, 0, tzinfo=UTC)
    survey = Survey(
        work_order_id=order.id,
        customer_id=order.customer_id,
        template="followup_survey",
        due_at=order.completed_at,
    )
    db.session.add(survey)
    db.session.flush()
    db.session.add_all(
        [
            OutboxMessage(
                action="send_survey", payload={"survey_id": survey.id}, work_order_id=order.id
            ),
            OutboxMessage(
                action="intake_ack",
                payload={
                    "to": f"customer-{language}@example.cn",
                    "name": order.customer.contacts[0].name,
                    "locale": language,
                    "ack_message_id": f"<ack-{order.number}@example.cn>",
                    "in_reply_to": "<question@example.cn>",
                    "references": [],
                    "subject": order.title,
                },
                work_order_id=order.id,
            ),
        ]
    )
    sheet_message = OutboxMessage(
        action="request_completion_sheet", payload={}, work_order_id=order.id
    )
    db.session.add(sheet_message)
    db.session.commit()
    # The completion e-mail as the sheet task sends it (the PDF itself is tested in tests/pdf).
    send_order_email(
        sheet_message,
        order,
        f"customer-{language}@example.cn",
        language,
        "completion_sheet",
        order.customer.contacts[0].name,
        context={
            "customer_name": order.customer.contacts[0].name,
            "completed_at": "2026-06-09 16:00",
            "summary": "更换压缩机电容",
            "work_items": [],
            "attachment_name": f"{order.number}-r1.pdf",
            "job_url": customer_page_url(order),
            "rating_url": None,
            "verify_url": verify_url(current_app.config["FIELDWORK_SETTINGS"], "0123456789abcdef"),
            "company_name": "安心家电服务",
        },
        for_customer=True,
    )
    db.session.delete(sheet_message)  # its task would render the PDF: not this test's business
    db.session.commit()

    mails = outbox()

    assert len(mails) == 3
    for mail in mails:
        assert_customer_can_use(
            mail, language, names=[*names_in(order, technician), "更换压缩机电容"]
        )


def test_every_customer_notification_of_every_workflow_names_its_event(app):
    with app.app_context():
        registry = workflow_registry()
    found = []
    for name in registry.names():
        definition = registry.get(name)
        for transition in definition.transitions:
            for action in transition.actions:
                if action.name == "notify" and action.params.get("to") == "customer":
                    found.append((name, transition.name, action.params["template"]))
    assert found
    unknown = [entry for entry in found if entry[2] not in TEMPLATE_EVENTS]
    assert unknown == []


def test_staff_e_mails_keep_their_console_links(outbox, customer_order, technician):
    order, dispatcher = customer_order("zh_CN")
    dispatcher.email = "dispatcher@example.cn"
    apply_transition(order, "decline", technician, {"reason": "太远"}, order.version)
    db.session.commit()

    [mail] = [m for m in outbox() if m.to == "dispatcher@example.cn"]

    assert f"{BASE_URL}/work-orders/{order.id}" in mail.text
