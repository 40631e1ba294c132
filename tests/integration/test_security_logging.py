"""Security events in the logs (RELIABILITY F6, C8) and the redacted gunicorn access log.

Sign-ins, sign-outs and refused requests leave one structured record each (who, what,
where, when in UTC); passwords, tokens, session cookies and customer phone numbers never
reach the log; a CR/LF in a username cannot forge a second record.
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from gunicorn.config import Config

from server.gunicorn_logging import RedactingLogger
from server.logs import SECURITY_LOGGER, JsonLineFormatter
from server.models import Role, TokenAudience
from server.services.work_orders import apply_transition
from tests.factories import PASSWORD

WRONG_PASSWORD = "not-the-password-7d1e"


@pytest.fixture
def security_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every INFO-and-up record of the test, security events included."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger=SECURITY_LOGGER)
    return caplog


def all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Return the captured records as pytest prints them and as the app writes them."""
    lines = [JsonLineFormatter().format(record) for record in caplog.records]
    return caplog.text + "\n".join(lines)


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


def only_event(caplog: pytest.LogCaptureFixture, name: str) -> dict[str, Any]:
    """Return the one ``name`` event as the JSON line the app writes, parsed."""
    found = events(caplog, name)
    assert len(found) == 1, [r.__dict__ for r in found]
    line = JsonLineFormatter().format(found[0])
    assert "\n" not in line
    assert "\r" not in line
    entry: dict[str, Any] = json.loads(line)
    assert entry["logger"] == SECURITY_LOGGER
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])
    return entry


def csrf_token(client: Any, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert found is not None, f"no form on {path}"
    return found.group(1)


def console_sign_in(client: Any, username: str, password: str) -> Any:
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )


# --- Console ---------------------------------------------------------------------------------


def test_console_sign_in_and_out_are_logged_without_password_or_session(
    client, create_user, security_log
):
    user = create_user(Role.DISPATCHER)

    assert console_sign_in(client, user.username, WRONG_PASSWORD).status_code == 200
    assert console_sign_in(client, user.username, PASSWORD).status_code == 302
    session_cookie = client.get_cookie(client.application.config["SESSION_COOKIE_NAME"])
    assert session_cookie is not None
    logout_form = csrf_token(client, "/profile")
    assert client.post("/logout", data={"csrf_token": logout_form}).status_code == 302

    failure = only_event(security_log, "auth.login.failure")
    assert failure["level"] == "WARNING"
    assert failure["username"] == user.username
    assert failure["route"] == "/login"
    assert failure["ip"] == "127.0.0.1"
    assert "user_id" not in failure
    success = only_event(security_log, "auth.login.success")
    assert (success["user_id"], success["route"], success["ip"]) == (user.id, "/login", "127.0.0.1")
    logout = only_event(security_log, "auth.logout")
    assert (logout["user_id"], logout["route"]) == (user.id, "/logout")

    text = all_log_text(security_log)
    assert PASSWORD not in text
    assert WRONG_PASSWORD not in text
    assert session_cookie.value not in text


def test_username_with_crlf_yields_one_record_without_raw_line_breaks(client, security_log):
    forged = 'mallory\r\nFAKE {"event": "auth.login.success", "user_id": 1}'

    assert console_sign_in(client, forged, WRONG_PASSWORD).status_code == 200

    with_fake = [r for r in security_log.records if "FAKE" in JsonLineFormatter().format(r)]
    assert len(with_fake) == 1
    line = JsonLineFormatter().format(with_fake[0])
    assert "\r" not in line
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["event"] == "auth.login.failure"
    assert entry["username"].startswith("mallory\\r\\nFAKE")  # visible, not a line break
    assert events(security_log, "auth.login.success") == []


def test_console_refuses_technician_and_logs_the_order_it_asked_for(
    client, create_user, create_work_order, security_log
):
    order = create_work_order()
    tech = create_user(Role.TECHNICIAN)
    assert console_sign_in(client, tech.username, PASSWORD).status_code == 302

    assert client.get(f"/work-orders/{order.id}").status_code == 403

    denied = only_event(security_log, "authz.denied")
    assert denied["user_id"] == tech.id
    assert denied["route"] == "/work-orders/<int:order_id>"
    assert denied["object"] == f"order_id={order.id}"


# --- Token endpoints -------------------------------------------------------------------------

TOKEN_APIS = [
    pytest.param("/api/v1", Role.DISPATCHER, id="office-api"),
    pytest.param("/api/mobile/v1", Role.TECHNICIAN, id="mobile-api"),
]


@pytest.mark.parametrize(("base", "role"), TOKEN_APIS)
def test_token_sign_in_refresh_and_out_are_logged_without_secrets(
    client, create_user, security_log, base, role
):
    user = create_user(role)
    refused = client.post(
        f"{base}/auth/token", json={"username": user.username, "password": WRONG_PASSWORD}
    )
    assert refused.status_code == 401
    pair = client.post(
        f"{base}/auth/token", json={"username": user.username, "password": PASSWORD}
    ).get_json()
    refreshed = client.post(f"{base}/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200
    new_pair = refreshed.get_json()
    signed_out = client.post(
        f"{base}/auth/logout", headers={"Authorization": f"Bearer {new_pair['access_token']}"}
    )
    assert signed_out.status_code == 204

    failure = only_event(security_log, "auth.login.failure")
    assert (failure["username"], failure["route"]) == (user.username, f"{base}/auth/token")
    assert failure["ip"] == "127.0.0.1"
    success = only_event(security_log, "auth.login.success")
    assert (success["user_id"], success["route"]) == (user.id, f"{base}/auth/token")
    assert only_event(security_log, "auth.refresh.success")["user_id"] == user.id
    assert only_event(security_log, "auth.logout")["user_id"] == user.id

    text = all_log_text(security_log)
    for secret in (PASSWORD, WRONG_PASSWORD, *pair.values(), *new_pair.values()):
        if isinstance(secret, str) and len(secret) > 8:
            assert secret not in text


def test_technician_asking_for_another_technicians_job_is_logged(
    client, create_user, create_work_order, create_customer, api_headers, security_log
):
    dispatcher = create_user(Role.DISPATCHER)
    owner = create_user(Role.TECHNICIAN)
    intruder = create_user(Role.TECHNICIAN)
    customer = create_customer()
    order = create_work_order(customer=customer, actor=dispatcher)
    apply_transition(order, "assign", dispatcher, {"assignee_id": owner.id}, order.version)
    phone = api_headers(intruder, TokenAudience.MOBILE)

    response = client.get(f"/api/mobile/v1/jobs/{order.id}", headers=phone)

    assert response.status_code == 404
    denied = only_event(security_log, "authz.denied")
    assert denied["user_id"] == intruder.id
    assert denied["object"] == f"work_order={order.id}"
    assert denied["route"] == "/api/mobile/v1/jobs/<int:job_id>"
    text = all_log_text(security_log)
    assert phone["Authorization"].removeprefix("Bearer ") not in text
    for contact in customer.contacts:
        assert contact.phone not in text
        assert contact.phone.replace(" ", "") not in text


def test_capability_refusal_on_the_api_is_logged(client, create_user, api_headers, security_log):
    tech = create_user(Role.TECHNICIAN)

    response = client.get("/api/v1/customers", headers=api_headers(tech))

    assert response.status_code == 403
    denied = only_event(security_log, "authz.denied")
    assert (denied["user_id"], denied["route"]) == (tech.id, "/api/v1/customers")
    assert denied["reason"] == "customers.read"


def test_refused_customer_link_is_logged_without_its_token(client, security_log):
    token = "guessed-token-3b9a0c5e1f"

    assert client.get(f"/r/{token}").status_code == 404

    denied = only_event(security_log, "authz.denied")
    assert denied["route"] == "/r/<token>"
    assert token not in all_log_text(security_log)


# --- Formatter -------------------------------------------------------------------------------


def test_formatter_writes_utc_with_z_whatever_the_local_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        record = logging.LogRecord("fieldwork.test", logging.INFO, __file__, 1, "hi", None, None)
        record.created = 1_700_000_000.25  # 2023-11-14 22:13:20.250 UTC, 06:13 in Shanghai
        entry = json.loads(JsonLineFormatter().format(record))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert entry["ts"] == "2023-11-14T22:13:20.250Z"
    assert (entry["level"], entry["logger"], entry["msg"]) == ("INFO", "fieldwork.test", "hi")


def test_formatter_neutralises_control_characters_in_message_and_fields():
    record = logging.LogRecord(
        "fieldwork.test", logging.INFO, __file__, 1, "user %s", ("a\r\nb\x1b[31m",), None
    )
    record.username = "x\u2028y\x00"
    line = JsonLineFormatter().format(record)
    entry = json.loads(line)
    assert entry["msg"] == "user a\\r\\nb\\u001b[31m"
    assert entry["username"] == "x\\u2028y\\u0000"
    assert not re.search("[\x00-\x1f\u2028]", line)


# --- gunicorn access log ---------------------------------------------------------------------


def access_atoms(raw_uri: str, referer: str = "-", **headers: str) -> dict[str, Any]:
    """Return the atoms the redacting logger gives gunicorn for one request."""
    path, _, query = raw_uri.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": raw_uri,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": referer,
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    request = SimpleNamespace(
        headers=[("REFERER", referer), *((name.upper(), v) for name, v in headers.items())]
    )
    response = SimpleNamespace(status="200 OK", sent=512, headers=[("Content-Type", "text/html")])
    logger = RedactingLogger(Config())
    atoms: dict[str, Any] = logger.atoms(response, request, environ, timedelta(milliseconds=12))
    return atoms


def test_access_log_hides_customer_link_tokens():
    secret = "Zx9-customer-link-token_4Qe"
    atoms = access_atoms(f"/r/{secret}/completion-sheet.pdf?lang=en", referer=f"/r/{secret}")

    assert atoms["r"] == "GET /r/…/completion-sheet.pdf?lang=en HTTP/1.1"
    assert atoms["U"] == "/r/…/completion-sheet.pdf"
    assert atoms["f"] == "/r/…"
    assert not [key for key, value in atoms.items() if secret in str(value)]
    line = Config().access_log_format % RedactingLogger.atoms_wrapper_class(atoms)
    assert secret not in line
    assert "/r/…" in line


def test_access_log_hides_document_ids_token_parameters_and_credentials():
    document = "7f3c2a90-5d1e-4b8a-9c1f-0e2d3b4a5c6d"
    atoms = access_atoms(
        f"/verify/{document}/download?access_token=abc123secret&x=1",
        authorization="Bearer bearer-secret-99",
        cookie="session=session-secret-77",
    )

    assert atoms["r"] == "GET /verify/…/download?access_token=…&x=1 HTTP/1.1"
    assert atoms["q"] == "access_token=…&x=1"
    for secret in (document, "abc123secret", "bearer-secret-99", "session-secret-77"):
        assert not [key for key, value in atoms.items() if secret in str(value)], secret
    # Everything else stays as gunicorn reports it.
    assert atoms["h"] == "203.0.113.9"
    assert atoms["s"] == "200"
    assert access_atoms("/api/v1/work-orders/12?state=new")["r"] == (
        "GET /api/v1/work-orders/12?state=new HTTP/1.1"
    )
