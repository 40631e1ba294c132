"""Security headers on every response of every GET route, for every kind of caller (F3).

The routes come from the app's URL map, so a page or endpoint added later is checked the
day it is added. Callers: a stranger, a technician, a dispatcher and an admin signed in to
the console, the integration API and the phone API with their bearer tokens, and a
customer holding their job page's link.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from server.headers import CSP
from server.models import Role
from server.models.enums import TokenAudience
from server.services.customer_portal import issue_customer_link
from tests.conftest import build_app, dispose
from tests.console.conftest import csrf_token
from tests.factories import PASSWORD

#: Files anyone may cache: they are the same for everybody and carry no personal data.
SHARED_FILES = {"static", "console.vendor_file"}

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
#: Every directive of the policy but img-src, which the map widens for its tile server.
CSP_DIRECTIVES = [d.strip() for d in CSP.split(";") if not d.strip().startswith("img-src")]


def get_rules(app: Flask) -> list[Any]:
    return sorted(
        (rule for rule in app.url_map.iter_rules() if "GET" in rule.methods),
        key=lambda rule: rule.rule,
    )


@pytest.fixture
def world(create_work_order, create_user, db_session) -> dict[str, Any]:
    admin = create_user(Role.ADMIN)
    dispatcher = create_user(Role.DISPATCHER)
    tech = create_user(Role.TECHNICIAN)
    order = create_work_order(actor=dispatcher)
    link = issue_customer_link(order, dispatcher)
    db_session.flush()
    values = {
        "order_id": order.id,
        "job_id": order.id,
        "customer_id": order.customer_id,
        "user_id": tech.id,
        "technician_id": tech.id,
        "attachment_id": 1,
        "photo_id": 1,
        "signature_id": 1,
        "webhook_id": 1,
        "revision": 1,
        "variant": "thumb",
        "name": "repair",
        "document_id": "not-a-document",
        "token": link.token,
        "filename": "console.css",
    }
    return {"values": values, "admin": admin, "dispatcher": dispatcher, "tech": tech}


def urls(app: Flask, values: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for rule in get_rules(app):
        if rule.endpoint == "console.vendor_file":
            yield rule.endpoint, "/vendor/htmx.min.js"
            continue
        yield rule.endpoint, rule.build({n: values[n] for n in rule.arguments})[1]


def missing_headers(endpoint: str, response: Any, *, https: bool = False) -> list[str]:
    headers = response.headers
    missing = [f"{name}: {value}" for name, value in ALWAYS.items() if headers.get(name) != value]
    policy = [d.strip() for d in headers.get("Content-Security-Policy", "").split(";")]
    missing += [f"CSP {d}" for d in CSP_DIRECTIVES if d not in policy]
    if endpoint not in SHARED_FILES and headers.get("Cache-Control") != "no-store":
        missing.append(f"Cache-Control: no-store (got {headers.get('Cache-Control')!r})")
    if https and "max-age=31536000; includeSubDomains" not in headers.get(
        "Strict-Transport-Security", ""
    ):
        missing.append("Strict-Transport-Security")
    return missing


def sign_in(client, user) -> None:
    response = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302


def check_every_route(app, client, world, **headers) -> dict[str, list[str]]:
    failures = {}
    for endpoint, url in urls(app, world["values"]):
        response = client.get(url, headers=headers)
        response.close()  # files are streamed; the body is not needed
        assert response.status_code < 500, (endpoint, url, response.status_code)
        missing = missing_headers(endpoint, response)
        if missing:
            failures[f"{endpoint} {response.status_code}"] = missing
    return failures


def test_the_check_sees_every_kind_of_route(app, world):
    endpoints = {endpoint for endpoint, _ in urls(app, world["values"])}
    assert len(endpoints) >= 50
    assert {"customer.job_page", "mobile.get_job", "api.get_work_order_view"} <= endpoints


def test_a_stranger_gets_the_headers_everywhere(app, client, world):
    assert check_every_route(app, client, world) == {}


@pytest.mark.parametrize("role", ["tech", "dispatcher", "admin"])
def test_console_users_get_the_headers_everywhere(app, client, world, role):
    sign_in(client, world[role])
    assert check_every_route(app, client, world) == {}


@pytest.mark.parametrize(
    ("role", "audience"),
    [
        ("dispatcher", TokenAudience.API),
        ("admin", TokenAudience.API),
        ("tech", TokenAudience.MOBILE),
    ],
)
def test_api_callers_get_the_headers_everywhere(app, client, world, api_headers, role, audience):
    token = api_headers(world[role], audience)
    assert check_every_route(app, client, world, **token) == {}


def test_the_customer_page_and_its_files_are_never_cached(client, world):
    token = world["values"]["token"]
    for url in (f"/r/{token}", f"/r/{token}/completion-sheet.pdf", f"/r/{token}/technician.jpg"):
        response = client.get(url)
        response.close()
        assert response.headers["Cache-Control"] == "no-store", url


@pytest.fixture(scope="module")
def https_app(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The same database served as a deployment behind https."""
    application = build_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        tmp_path_factory.mktemp("https"),
        FIELDWORK_BASE_URL="https://fieldwork.example.com",
    )
    yield application
    dispose(application)


def test_behind_https_every_response_asks_for_https_for_a_year(https_app, world):
    client = https_app.test_client()
    failures = {}
    for endpoint, url in urls(https_app, world["values"]):
        response = client.get(url, base_url="https://fieldwork.example.com")
        response.close()
        missing = missing_headers(endpoint, response, https=True)
        if missing:
            failures[f"{endpoint} {response.status_code}"] = missing
    assert failures == {}
