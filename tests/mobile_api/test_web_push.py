"""Browsers subscribe to Web Push through the mobile API: the key, the checks, the refresh."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from server.extensions import db
from server.models import Device
from tests.notify.fake_webpush import FakePushService

KEY_URL = "/api/mobile/v1/devices/web-push-key"
URL = "/api/mobile/v1/devices/web-push"


@pytest.fixture
def service():
    with FakePushService() as fake:
        yield fake


@pytest.fixture
def subscription(client, phone, service):
    key = client.get(KEY_URL, headers=phone).get_json()["application_server_key"]
    return service.subscribe(key)


@pytest.fixture
def loopback_allowed(app, monkeypatch):
    settings = dataclasses.replace(app.config["FIELDWORK_SETTINGS"], webpush_allow_loopback=True)
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)


def https(subscription, host="push.example.net"):
    body = subscription.to_json()
    body["endpoint"] = f"https://{host}/push/{subscription.id}"
    return body


def test_the_key_is_the_settings_vapid_public_key(app, client, phone):
    response = client.get(KEY_URL, headers=phone)
    assert response.status_code == 200
    key = response.get_json()["application_server_key"]
    assert key == app.config["FIELDWORK_SETTINGS"].vapid_public_key
    raw = base64.urlsafe_b64decode(key + "=")
    assert len(raw) == 65
    assert raw[0] == 4
    assert "private" not in response.get_data(as_text=True)


def test_a_subscription_registers_once_and_refreshes(client, phone, tech, subscription):
    body = https(subscription) | {"locale": "en", "app_version": "1.0.0"}
    created = client.post(URL, headers=phone, json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["platform"] == "web"
    assert "endpoint" not in created.get_json()
    again = client.post(URL, headers=phone, json=body | {"app_version": "1.1.0"})
    assert again.status_code == 200
    assert again.get_json()["id"] == created.get_json()["id"]
    device = db.session.get(Device, created.get_json()["id"])
    assert (device.push_token, device.webpush_p256dh, device.webpush_auth) == (
        body["endpoint"],
        subscription.p256dh,
        subscription.auth,
    )
    assert device.user_id == tech.id


def test_the_browser_subscription_moves_to_whoever_registers_it(
    client, api_headers, tech, other_tech, subscription
):
    from server.models import TokenAudience

    body = https(subscription)
    first = client.post(URL, headers=api_headers(tech, TokenAudience.MOBILE), json=body)
    second = client.post(URL, headers=api_headers(other_tech, TokenAudience.MOBILE), json=body)
    assert second.status_code == 200
    assert db.session.get(Device, first.get_json()["id"]).user_id == other_tech.id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b | {"endpoint": "http://push.example.net/x"}, "endpoint"),
        (lambda b: b | {"endpoint": "https://127.0.0.1:8443/x"}, "endpoint"),
        (lambda b: b | {"endpoint": "https://10.1.2.3/x"}, "endpoint"),
        (lambda b: b | {"endpoint": "https://[::1]/x"}, "endpoint"),
        (lambda b: b | {"endpoint": "https://localhost/x"}, "endpoint"),
        (lambda b: b | {"endpoint": "https://user:pw@push.example.net/x"}, "endpoint"),
        (lambda b: b | {"endpoint": "push.example.net/x"}, "endpoint"),
        (lambda b: b | {"endpoint": "https://push.example.net/" + "x" * 2100}, "endpoint"),
        (lambda b: b | {"keys": {**b["keys"], "p256dh": b["keys"]["p256dh"][:-1]}}, "keys"),
        (lambda b: b | {"keys": {**b["keys"], "p256dh": "B" + "A" * 86}}, "keys.p256dh"),
        (lambda b: b | {"keys": {**b["keys"], "auth": b["keys"]["auth"] + "AA"}}, "keys"),
        (lambda b: b | {"keys": {**b["keys"], "auth": "+/" + b["keys"]["auth"][2:]}}, "keys"),
        (lambda b: {k: v for k, v in b.items() if k != "keys"}, "keys"),
    ],
    ids=[
        "plain-http",
        "loopback",
        "private",
        "ipv6-loopback",
        "localhost",
        "userinfo",
        "no-scheme",
        "too-long",
        "p256dh-short",
        "p256dh-off-curve",
        "auth-long",
        "auth-not-base64url",
        "no-keys",
    ],
)
def test_bad_subscriptions_are_refused_with_the_field(client, phone, subscription, change, field):
    response = client.post(URL, headers=phone, json=change(https(subscription)))
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert db.session.scalars(db.select(Device)).all() == []


def test_loopback_http_is_accepted_only_when_the_setting_allows_it(
    client, phone, subscription, loopback_allowed
):
    assert subscription.endpoint.startswith("http://127.0.0.1:")
    response = client.post(URL, headers=phone, json=subscription.to_json())
    assert response.status_code == 201, response.get_json()


def test_the_fcm_route_does_not_take_browsers(client, phone):
    response = client.post(
        "/api/mobile/v1/devices", headers=phone, json={"push_token": "x", "platform": "web"}
    )
    assert response.status_code == 422
    assert "platform" in response.get_json()["errors"]


def test_the_openapi_document_describes_web_push(client):
    spec = client.get("/api/mobile/v1/openapi.json").get_json()
    assert "post" in spec["paths"]["/devices/web-push"]
    assert "get" in spec["paths"]["/devices/web-push-key"]
    schemas = spec["components"]["schemas"]
    keys = schemas.get("WebPushKeys") or schemas["WebPushKeysSchema"]
    assert set(keys["required"]) == {"p256dh", "auth"}
    described = spec["paths"]["/devices/web-push-key"]["get"]["description"]
    assert "/app/jobs/" in described
