"""Outbound webhooks: signed, delivered once through the outbox, retried, dead-lettered."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from server.extensions import db
from server.jobs import relay
from server.models import (
    Delivery,
    OutboxMessage,
    OutboxStatus,
    Role,
    WebhookSubscription,
    WorkOrderEvent,
)
from server.models.base import utcnow
from server.services.webhooks import create_webhook, sign, verify_signature


class Receiver:
    """A real HTTP server on 127.0.0.1 that records POSTs and answers as told."""

    def __init__(self):
        self.requests = []
        #: Statuses to answer, first to last; 200 once they run out.
        self.statuses = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def kinds(self, path="/"):
        return [json.loads(body)["event"]["kind"] for p, _h, body in self.requests if p == path]


@pytest.fixture(autouse=True)
def receivers_on_loopback_allowed(app, monkeypatch):
    """These receivers run on 127.0.0.1, which production refuses (see the SSRF tests)."""
    import dataclasses

    settings = dataclasses.replace(app.config["FIELDWORK_SETTINGS"], webhook_allow_private=True)
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)


@pytest.fixture
def receiver():
    import server.jobs.tasks  # noqa: F401  (registers the tasks)

    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def assigned_order(client, create_user, create_work_order, api_headers):
    """Return a function that opens an order and assigns it (through the API)."""

    def make():
        dispatcher = create_user(Role.DISPATCHER)
        tech = create_user(Role.TECHNICIAN)
        order = create_work_order(actor=dispatcher)
        response = client.post(
            f"/api/v1/work-orders/{order.id}/assign",
            headers=api_headers(dispatcher),
            json={"technician_id": tech.id, "expected_version": 1},
        )
        assert response.status_code == 200, response.get_json()
        return order

    return make


def webhook_messages():
    db.session.expire_all()
    return db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.action == "webhook").order_by(OutboxMessage.id)
    ).all()


def make_due(message):
    message.available_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def drain():
    while relay.run_once("w"):
        pass


def test_subscriber_gets_each_event_once_signed_even_after_a_500(receiver, assigned_order):
    subscription = create_webhook({"url": receiver.url + "/", "events": ["WorkOrderAssigned"]})
    db.session.commit()
    order = assigned_order()
    receiver.statuses = [500]

    drain()
    [message] = webhook_messages()
    assert message.status is OutboxStatus.PENDING
    assert message.last_error == "webhook answered 500"
    assert len(receiver.requests) == 1

    make_due(message)
    drain()
    assert relay.run_once("w") == 0
    assert webhook_messages()[0].status is OutboxStatus.DONE
    assert len(receiver.requests) == 2

    first, second = receiver.requests
    assert first[1]["Fieldwork-Delivery"] == second[1]["Fieldwork-Delivery"] == str(message.id)
    _path, headers, body = second
    assert headers["Content-Type"] == "application/json"
    assert headers["Fieldwork-Event"] == "WorkOrderAssigned"
    assert verify_signature(
        subscription.secret, headers["Fieldwork-Timestamp"], body, headers["Fieldwork-Signature"]
    )
    document = json.loads(body)
    assert document["id"] == str(message.id)
    event = document["event"]
    assert event["kind"] == "WorkOrderAssigned"
    assert (event["work_order_id"], event["number"]) == (order.id, order.number)
    assert event["id"] == message.event_id
    assert event["to_state"] == "assigned"
    [delivery] = db.session.scalars(
        db.select(Delivery).where(Delivery.outbox_message_id == message.id)
    ).all()
    assert (delivery.channel, delivery.status, delivery.external_id) == ("webhook", "sent", "200")


def test_only_subscribed_kinds_are_sent_star_gets_all_inactive_none(receiver, assigned_order):
    create_webhook({"url": receiver.url + "/assigned", "events": ["WorkOrderAssigned"]})
    create_webhook({"url": receiver.url + "/all", "events": ["*"]})
    inactive = create_webhook({"url": receiver.url + "/off", "events": ["*"]})
    inactive.is_active = False
    db.session.commit()
    order = assigned_order()

    drain()
    kinds = list(
        db.session.scalars(
            db.select(WorkOrderEvent.kind)
            .where(WorkOrderEvent.work_order_id == order.id)
            .order_by(WorkOrderEvent.id)
        )
    )
    assert "WorkOrderCreated" in kinds
    assert receiver.kinds("/assigned") == ["WorkOrderAssigned"]
    assert receiver.kinds("/all") == kinds
    assert receiver.kinds("/off") == []


def test_deleted_or_deactivated_subscription_gets_queued_events_unsent(receiver, assigned_order):
    gone = create_webhook({"url": receiver.url + "/gone", "events": ["*"]})
    paused = create_webhook({"url": receiver.url + "/paused", "events": ["*"]})
    db.session.commit()
    assigned_order()
    db.session.delete(gone)
    paused.is_active = False
    db.session.commit()

    drain()
    assert receiver.requests == []
    assert {m.status for m in webhook_messages()} == {OutboxStatus.DONE}


@pytest.mark.parametrize("status", [410, 400])
def test_client_errors_are_dead_at_once(receiver, create_work_order, status):
    create_webhook({"url": receiver.url + "/", "events": ["WorkOrderCreated"]})
    db.session.commit()
    receiver.statuses = [status]
    create_work_order()
    db.session.commit()

    drain()
    [message] = webhook_messages()
    assert message.status is OutboxStatus.DEAD
    assert message.last_error == f"permanent: webhook answered {status}"
    make_due(message)
    drain()
    assert len(receiver.requests) == 1


def test_unreachable_receiver_is_retried(receiver, create_work_order):
    from server.jobs import tasks

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    create_webhook({"url": f"http://127.0.0.1:{port}/", "events": ["WorkOrderCreated"]})
    db.session.commit()
    create_work_order()
    db.session.commit()

    drain()
    [message] = webhook_messages()
    assert message.status is OutboxStatus.PENDING
    assert message.last_error == tasks.WEBHOOK_UNREACHABLE


def test_retry_after_is_honoured(receiver, create_work_order):
    create_webhook({"url": receiver.url + "/", "events": ["WorkOrderCreated"]})
    db.session.commit()
    receiver.statuses = [429]
    create_work_order()
    db.session.commit()
    original = receiver.server.RequestHandlerClass.send_header

    def send_header(self, name, value):
        original(self, name, value)
        if name == "Content-Length":
            original(self, "Retry-After", "600")

    receiver.server.RequestHandlerClass.send_header = send_header
    drain()
    [message] = webhook_messages()
    assert message.status is OutboxStatus.PENDING
    assert message.available_at >= utcnow() + timedelta(seconds=590)


def test_verify_signature_refuses_tampering_wrong_secret_and_old_timestamps():
    now = int(time.time())
    body = b'{"id":"1"}'
    signature = sign("whsec_a", now, body)
    assert verify_signature("whsec_a", str(now), body, signature)
    assert not verify_signature("whsec_b", now, body, signature)
    assert not verify_signature("whsec_a", now, b'{"id":"2"}', signature)
    assert not verify_signature("whsec_a", now - 301, body, sign("whsec_a", now - 301, body))
    assert not verify_signature("whsec_a", "soon", body, signature)


# --- Admin API ------------------------------------------------------------------------------


@pytest.fixture
def admin_headers(create_user, api_headers):
    return api_headers(create_user(Role.ADMIN))


def test_admin_creates_lists_inspects_and_deletes_a_webhook(
    client, admin_headers, create_work_order
):
    created = client.post(
        "/api/v1/webhooks",
        headers=admin_headers,
        json={
            "url": "https://crm.example.com/fieldwork",
            "events": ["WorkOrderCreated"],
            "description": "CRM",
        },
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["WorkOrderCreated"]
    assert db.session.get(WebhookSubscription, body["id"]).secret == body["secret"]

    listed = client.get("/api/v1/webhooks", headers=admin_headers).get_json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert body["secret"] not in json.dumps(listed)

    create_work_order()
    deliveries = client.get(f"/api/v1/webhooks/{body['id']}/deliveries", headers=admin_headers)
    assert deliveries.status_code == 200
    [item] = deliveries.get_json()["items"]
    assert (item["event_kind"], item["status"], item["attempts"]) == (
        "WorkOrderCreated",
        "pending",
        0,
    )

    deleted = client.delete(f"/api/v1/webhooks/{body['id']}", headers=admin_headers)
    assert deleted.status_code == 204
    again = client.delete(f"/api/v1/webhooks/{body['id']}", headers=admin_headers)
    assert again.status_code == 404
    assert again.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.DISPATCHER, Role.TECHNICIAN])
def test_only_admins_manage_webhooks(client, create_user, api_headers, role):
    response = client.post(
        "/api/v1/webhooks",
        headers=api_headers(create_user(role)),
        json={"url": "https://example.com/", "events": ["*"]},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://x", "events": ["*"]}, "url"),
        ({"url": "https://example.com/" + "a" * 3000, "events": ["*"]}, "url"),
        ({"url": "javascript:alert(1)", "events": ["*"]}, "url"),
        ({"url": "https://example.com/", "events": []}, "events"),
        ({"url": "https://example.com/", "events": ["x"] * 51}, "events"),
        ({"url": "https://example.com/", "events": ["x" * 61]}, "events"),
        ({"url": "https://example.com/"}, "events"),
    ],
)
def test_bad_webhooks_are_refused(client, admin_headers, body, field):
    response = client.post("/api/v1/webhooks", headers=admin_headers, json=body)
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_webhooks_never_reach_internal_addresses_unless_allowed(
    app, monkeypatch, receiver, assigned_order, host
):
    import dataclasses

    from server.jobs import tasks

    settings = dataclasses.replace(app.config["FIELDWORK_SETTINGS"], webhook_allow_private=False)
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)
    port = receiver.server.server_address[1]
    create_webhook({"url": f"http://{host}:{port}/hook", "events": ["WorkOrderAssigned"]})
    db.session.commit()
    assigned_order()
    while relay.run_once("w"):
        pass
    assert receiver.requests == []
    [message] = webhook_messages()
    # Retried like any receiver not reached, under the same words (see test_webhook_targets).
    assert message.status is OutboxStatus.PENDING
    assert message.last_error == tasks.WEBHOOK_UNREACHABLE


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 - an address under test, not a bind
        ("::1", False),
        ("fc00::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated, reserved)
        ("64:ff9b::808:808", True),  # NAT64 of a public address
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:808:808::1", True),  # 6to4 of a public address
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2001:db8::1", False),  # documentation
        ("ff02::1", False),
        ("224.0.0.1", False),
        ("198.18.0.1", False),  # benchmarking
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
    ],
)
def test_public_address_rules(address, public):
    from server.notify.outbound_http import is_public_address

    assert is_public_address(address) is public
