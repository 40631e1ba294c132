"""Workflow actions reach people: e-mails through the outbox, once, even when SMTP is down."""

from __future__ import annotations

import dataclasses
import socket
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from server.extensions import db
from server.jobs import relay
from server.models import Delivery, OutboxMessage, OutboxStatus, Role
from server.services.work_orders import apply_transition


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def cancelled_order(create_work_order, create_customer, create_user):
    import server.jobs.tasks  # noqa: F401  (registers the tasks)

    dispatcher = create_user(Role.DISPATCHER)
    customer = create_customer(
        contacts=[
            {
                "name": "王先生",
                "phone": "+86 139 0000 0001",
                "email": "wang@example.cn",
                "is_primary": True,
            }
        ]
    )
    order = create_work_order(customer=customer, actor=dispatcher)
    apply_transition(order, "cancel", dispatcher, {"reason": "客户已自行修好"}, order.version)
    db.session.commit()
    return order


def emails_for(order):
    return db.session.scalars(
        db.select(Delivery)
        .join(OutboxMessage)
        .where(OutboxMessage.work_order_id == order.id, Delivery.channel == "email")
    ).all()


def test_cancellation_emails_the_customer_once_in_their_language(
    app, cancelled_order, tmp_path, monkeypatch
):
    settings = dataclasses.replace(
        app.config["FIELDWORK_SETTINGS"], instance_path=tmp_path, smtp_url=None
    )
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)
    while relay.run_once("w"):
        pass
    saved = list((tmp_path / "outbox").glob("*.eml"))
    assert len(saved) == 1
    message = message_from_bytes(saved[0].read_bytes(), policy=default)
    assert message["To"] == "wang@example.cn"
    assert cancelled_order.number in message["Subject"]
    assert "已取消" in message["Subject"]
    assert [d.status for d in emails_for(cancelled_order)] == ["sent"]
    # Running the relay again changes nothing.
    assert relay.run_once("w") == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_email_waits_while_smtp_is_down_and_arrives_once_when_it_is_back(
    app, cancelled_order, monkeypatch
):
    port = free_port()
    settings = dataclasses.replace(
        app.config["FIELDWORK_SETTINGS"], smtp_url=f"smtp://127.0.0.1:{port}"
    )
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)
    relay.run_once("w")
    pending = db.session.scalars(
        db.select(OutboxMessage).where(
            OutboxMessage.work_order_id == cancelled_order.id, OutboxMessage.action == "notify"
        )
    ).all()
    email_message = next(m for m in pending if m.payload["params"]["to"] == "customer")
    assert email_message.status is OutboxStatus.PENDING
    assert "SMTP" in email_message.last_error
    assert emails_for(cancelled_order) == []

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        from datetime import timedelta

        from server.models.base import utcnow

        email_message.available_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        relay.run_once("w")
        relay.run_once("w")
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["To"] == "wang@example.cn"
    db.session.expire_all()
    assert db.session.get(OutboxMessage, email_message.id).status is OutboxStatus.DONE


# --- Push ------------------------------------------------------------------------------------

from tests.notify.fake_fcm import FakeFcm, unavailable, unregistered  # noqa: E402
from tests.notify.test_push import no_regional_access_boundary_lookup  # noqa: E402,F401

pytestmark = pytest.mark.filterwarnings(
    # firebase-admin 7.7 deprecates registration tokens for installation ids; see test_push.
    r"ignore:Message\.token is deprecated\. Use Message\.fid instead\.:DeprecationWarning"
)


@pytest.fixture
def fcm(app, tmp_path, monkeypatch):
    with FakeFcm() as fake:
        credentials = fake.write_service_account(tmp_path / "service-account.json")
        settings = dataclasses.replace(
            app.config["FIELDWORK_SETTINGS"],
            fcm_credentials=str(credentials),
            fcm_endpoint=fake.url,
        )
        monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)
        yield fake
    from server.jobs.tasks import close_push_senders

    close_push_senders()


@pytest.fixture
def technician_with_phones(create_user):
    from server.models import Device

    tech = create_user(Role.TECHNICIAN, locale="zh_CN")
    phones = [
        Device(
            user_id=tech.id, push_token=f"token-{tech.id}-{n}", platform="android", locale="zh_CN"
        )
        for n in range(2)
    ]
    retired = Device(user_id=tech.id, push_token=f"old-{tech.id}", platform="ios", is_active=False)
    db.session.add_all([*phones, retired])
    db.session.flush()
    return tech, phones


def assign(order, tech, create_user):
    import server.jobs.tasks  # noqa: F401

    dispatcher = create_user(Role.DISPATCHER)
    apply_transition(order, "assign", dispatcher, {"assignee_id": tech.id}, order.version)
    db.session.commit()


def test_assigning_pushes_once_to_each_active_phone_of_the_technician(
    fcm, create_work_order, technician_with_phones, create_user
):
    tech, phones = technician_with_phones
    order = create_work_order()
    assign(order, tech, create_user)
    while relay.run_once("w"):
        pass
    relay.run_once("w")
    tokens = sorted(request.message["token"] for request in fcm.requests)
    assert tokens == sorted(phone.push_token for phone in phones)
    payload = fcm.requests[0].message
    assert payload["notification"]["title"] == f"新工单 {order.number}"
    assert payload["data"]["work_order_id"] == str(order.id)
    assert payload["data"]["state"] == "assigned"
    assert payload["android"]["collapse_key"] == f"wo-{order.id}"


def test_an_unregistered_token_is_deactivated_and_not_used_again(
    fcm, create_work_order, technician_with_phones, create_user
):
    tech, phones = technician_with_phones
    fcm.replies[phones[0].push_token] = unregistered()
    assign(create_work_order(), tech, create_user)
    relay.run_once("w")
    db.session.expire_all()
    assert db.session.get(type(phones[0]), phones[0].id).is_active is False
    before = len(fcm.requests)
    assign(create_work_order(), tech, create_user)
    relay.run_once("w")
    assert [r.message["token"] for r in fcm.requests[before:]] == [phones[1].push_token]


def test_fcm_503_with_retry_after_is_retried_after_it(
    fcm, create_work_order, technician_with_phones, create_user
):
    from datetime import timedelta

    from server.models.base import utcnow

    tech, phones = technician_with_phones
    fcm.replies[phones[1].push_token] = unavailable(retry_after="600")
    order = create_work_order()
    assign(order, tech, create_user)
    relay.run_once("w")
    message = db.session.scalars(
        db.select(OutboxMessage).where(
            OutboxMessage.work_order_id == order.id, OutboxMessage.action == "notify"
        )
    ).one()
    assert message.status is OutboxStatus.PENDING
    assert message.available_at >= utcnow() + timedelta(seconds=590)
    # The phone that got its push is not pushed again on the retry.
    del fcm.replies[phones[1].push_token]
    message.available_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    relay.run_once("w")
    sent = [r.message["token"] for r in fcm.requests]
    assert sent.count(phones[0].push_token) == 1
    assert sent.count(phones[1].push_token) == 2  # refused once, then delivered


def test_a_technician_who_switched_off_new_job_pushes_gets_none_but_emergencies(
    fcm,
    client,
    create_work_order,
    create_category,
    technician_with_phones,
    create_user,
    api_headers,
):
    from server.models import Priority, TokenAudience

    tech, phones = technician_with_phones
    phone = api_headers(tech, TokenAudience.MOBILE)
    response = client.patch(
        "/api/mobile/v1/me/notification-preferences",
        headers=phone,
        json={"new_jobs": {"push": False}},
    )
    assert response.status_code == 200
    assert response.json["new_jobs"] == {"push": False, "email": True}
    assert response.json["job_changes"] == {"push": True, "email": True}
    db.session.commit()

    assign(create_work_order(), tech, create_user)
    while relay.run_once("w"):
        pass
    assert fcm.requests == []

    emergency = create_category(code="emergency", workflow_name="emergency_callout")
    assign(create_work_order(category=emergency, priority=Priority.EMERGENCY), tech, create_user)
    while relay.run_once("w"):
        pass
    assert sorted(r.message["token"] for r in fcm.requests) == sorted(p.push_token for p in phones)
    assert all(r.message["notification"]["title"].startswith("紧急") for r in fcm.requests)


def test_notification_preferences_reject_unknown_topics_and_channels(
    client, create_user, api_headers
):
    from server.models import TokenAudience

    phone = api_headers(create_user(Role.TECHNICIAN), TokenAudience.MOBILE)
    url = "/api/mobile/v1/me/notification-preferences"
    assert client.get(url, headers=phone).json == {
        topic: {"push": True, "email": True}
        for topic in ("new_jobs", "job_changes", "alerts", "digest")
    }
    for body in ({"weather": {"push": True}}, {"alerts": {"sms": True}}, {"alerts": {"push": 3}}):
        response = client.patch(url, headers=phone, json=body)
        assert response.status_code == 422, body
        assert response.content_type == "application/problem+json"


# --- Web Push (browsers running the technicians' app) -----------------------------------------

from tests.notify import fake_webpush  # noqa: E402
from tests.notify.fake_webpush import FakePushService  # noqa: E402


@pytest.fixture
def push_service(app, monkeypatch):
    """A local push service; the server may push to loopback http for it."""
    with FakePushService() as fake:
        settings = dataclasses.replace(
            app.config["FIELDWORK_SETTINGS"], webpush_allow_loopback=True
        )
        monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)
        yield fake
    from server.jobs.tasks import close_push_senders

    close_push_senders()


@pytest.fixture
def technician_with_browsers(client, push_service, create_user, api_headers):
    """A technician whose app subscribed in two browsers, through the mobile API."""
    from server.models import Device, TokenAudience

    tech = create_user(Role.TECHNICIAN, locale="zh_CN")
    phone = api_headers(tech, TokenAudience.MOBILE)
    key = client.get("/api/mobile/v1/devices/web-push-key", headers=phone).get_json()
    subscriptions = [push_service.subscribe(key["application_server_key"]) for _ in range(2)]
    for subscription in subscriptions:
        response = client.post(
            "/api/mobile/v1/devices/web-push",
            headers=phone,
            json=subscription.to_json() | {"locale": "zh_CN", "app_version": "1.0.0"},
        )
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["platform"] == "web"
    retired = push_service.subscribe(key["application_server_key"])
    db.session.add(
        Device(
            user_id=tech.id,
            push_token=retired.endpoint,
            platform="web",
            webpush_p256dh=retired.p256dh,
            webpush_auth=retired.auth,
            is_active=False,
        )
    )
    db.session.commit()
    return tech, subscriptions, retired


def web_push_deliveries(order):
    return db.session.scalars(
        db.select(Delivery)
        .join(OutboxMessage)
        .where(OutboxMessage.work_order_id == order.id, Delivery.channel == "push")
        .order_by(Delivery.id)
    ).all()


def test_assigning_web_pushes_once_to_each_active_subscription_with_ids_only(
    push_service, create_work_order, technician_with_browsers, create_user
):
    tech, subscriptions, retired = technician_with_browsers
    order = create_work_order()
    assign(order, tech, create_user)
    while relay.run_once("w"):
        pass
    relay.run_once("w")

    assert sorted(r.subscription_id for r in push_service.received) == sorted(
        s.id for s in subscriptions
    )
    assert push_service.received_for(retired) == []
    message = db.session.scalars(
        db.select(OutboxMessage).where(
            OutboxMessage.work_order_id == order.id, OutboxMessage.action == "notify"
        )
    ).one()
    for received in push_service.received:
        assert received.payload == {
            "v": 1,
            "kind": "work_order_assigned",
            "job_id": order.id,
            "event_id": message.event_id,
            "outbox_id": message.id,
            "url": f"/app/jobs/{order.id}",
        }
        assert order.title not in received.plaintext.decode()
        assert received.headers["topic"] == f"wo-{order.id}"
        assert received.headers["urgency"] == "normal"
    assert [d.status for d in web_push_deliveries(order)] == ["sent", "sent"]
    assert all(d.external_id.startswith(push_service.origin) for d in web_push_deliveries(order))


def test_a_gone_subscription_is_deactivated_and_not_pushed_again(
    push_service, create_work_order, technician_with_browsers, create_user
):
    from server.models import Device

    tech, subscriptions, _retired = technician_with_browsers
    push_service.reply(subscriptions[0], fake_webpush.gone())
    first = create_work_order()
    assign(first, tech, create_user)
    relay.run_once("w")
    db.session.expire_all()
    dead = db.session.scalar(
        db.select(Device).where(Device.push_token == subscriptions[0].endpoint)
    )
    assert dead.is_active is False
    assert sorted(d.status for d in web_push_deliveries(first)) == ["dead_token", "sent"]

    before = len(push_service.attempts)
    assign(create_work_order(), tech, create_user)
    relay.run_once("w")
    assert push_service.attempts[before:] == [subscriptions[1].id]


def test_429_with_retry_after_is_retried_after_it_and_sent_once_to_each(
    push_service, create_work_order, technician_with_browsers, create_user
):
    from datetime import timedelta

    from server.models.base import utcnow

    tech, subscriptions, _retired = technician_with_browsers
    push_service.reply(subscriptions[1], fake_webpush.too_many_requests("600"))
    order = create_work_order()
    assign(order, tech, create_user)
    relay.run_once("w")
    message = db.session.scalars(
        db.select(OutboxMessage).where(
            OutboxMessage.work_order_id == order.id, OutboxMessage.action == "notify"
        )
    ).one()
    assert message.status is OutboxStatus.PENDING
    assert message.available_at >= utcnow() + timedelta(seconds=590)

    push_service.clear_reply(subscriptions[1])
    message.available_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    relay.run_once("w")
    assert push_service.attempts.count(subscriptions[0].id) == 1
    assert push_service.attempts.count(subscriptions[1].id) == 2  # refused once, then delivered
    assert len(push_service.received_for(subscriptions[1])) == 2  # the refused one was read too
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status is OutboxStatus.DONE
    assert [d.status for d in web_push_deliveries(order)] == ["sent", "sent"]


def test_a_413_fails_the_push_without_retrying_or_deactivating(
    push_service, create_work_order, technician_with_browsers, create_user
):
    from server.models import Device

    tech, subscriptions, _retired = technician_with_browsers
    for subscription in subscriptions:
        push_service.reply(subscription, fake_webpush.payload_too_large())
    order = create_work_order()
    assign(order, tech, create_user)
    while relay.run_once("w"):
        pass
    relay.run_once("w")
    assert len(push_service.attempts) == 2
    assert [d.status for d in web_push_deliveries(order)] == ["failed", "failed"]
    assert all(d.external_id.startswith("413") for d in web_push_deliveries(order))
    db.session.expire_all()
    devices = db.session.scalars(db.select(Device).where(Device.user_id == tech.id)).all()
    assert sorted(d.is_active for d in devices) == [False, True, True]  # only the retired one


def test_muted_new_jobs_send_no_web_push_but_emergencies_go_out_urgent(
    push_service,
    client,
    create_work_order,
    create_category,
    technician_with_browsers,
    create_user,
    api_headers,
):
    from server.models import Priority, TokenAudience

    tech, subscriptions, _retired = technician_with_browsers
    phone = api_headers(tech, TokenAudience.MOBILE)
    response = client.patch(
        "/api/mobile/v1/me/notification-preferences",
        headers=phone,
        json={"new_jobs": {"push": False}},
    )
    assert response.status_code == 200
    db.session.commit()

    assign(create_work_order(), tech, create_user)
    while relay.run_once("w"):
        pass
    assert push_service.attempts == []

    emergency = create_category(code="emergency", workflow_name="emergency_callout")
    order = create_work_order(category=emergency, priority=Priority.EMERGENCY)
    assign(order, tech, create_user)
    while relay.run_once("w"):
        pass
    assert sorted(r.subscription_id for r in push_service.received) == sorted(
        s.id for s in subscriptions
    )
    assert {r.payload["kind"] for r in push_service.received} == {"emergency_assigned"}
    assert {r.headers["urgency"] for r in push_service.received} == {"high"}
