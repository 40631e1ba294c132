"""RELIABILITY C1/C6: every console route is closed to strangers and technicians.

The routes come from the app's URL map, so a new console page is checked the day it is
added; only the sign-in page, sign-out and the vendored front-end files are open.
"""

from __future__ import annotations

import pytest

from server.models import Role
from tests.console.test_pages import csrf_token
from tests.factories import PASSWORD

#: Console endpoints anyone may reach.
PUBLIC = {"console.login", "console.logout", "console.vendor_file"}
#: Console endpoints every signed-in user has, technicians included (own password, language).
EVERY_USER = {"console.profile"}


def console_rules(app):
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("console.") and rule.endpoint not in PUBLIC
        ),
        key=lambda rule: rule.rule,
    )


def url_for_rule(rule, values):
    return rule.build({name: values[name] for name in rule.arguments})[1]


@pytest.fixture
def world(create_work_order, create_user):
    office = create_user(Role.DISPATCHER)
    order = create_work_order(actor=office)
    tech = create_user(Role.TECHNICIAN)
    return {
        "order_id": order.id,
        "customer_id": order.customer_id,
        "user_id": tech.id,
        "attachment_id": 1,
        "revision": 1,
        "variant": "thumb",
        "message_id": 1,
        "name": "repair",
        "tech": tech,
    }


def requests_for(app, world):
    for rule in console_rules(app):
        url = url_for_rule(rule, world)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def sign_in(client, user):
    client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )


def test_the_matrix_sees_every_console_page(app, world):
    endpoints = {endpoint for endpoint, _, _ in requests_for(app, world)}
    assert len(endpoints) >= 30
    assert {"console.work_order_detail", "console.board_move", "console.admin_index"} <= endpoints


def test_strangers_are_sent_to_sign_in_everywhere(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # reach the access check
    open_doors = []
    for endpoint, method, url in requests_for(app, world):
        response = client.open(url, method=method)
        to_login = response.status_code == 302 and "/login" in response.location
        if not (to_login or response.status_code == 401):
            open_doors.append((endpoint, method, response.status_code))
    assert open_doors == []


def test_technicians_are_refused_everywhere(app, client, world, monkeypatch):
    sign_in(client, world["tech"])
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    open_doors = []
    for endpoint, method, url in requests_for(app, world):
        status = client.open(url, method=method).status_code
        if endpoint in EVERY_USER:
            assert status in (200, 302), endpoint
        elif status != 403:
            open_doors.append((endpoint, method, status))
    assert open_doors == []


def test_dispatchers_are_refused_the_admin_pages(app, client, world, create_user, monkeypatch):
    sign_in(client, create_user(Role.DISPATCHER))
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    admin_pages = [r for r in requests_for(app, world) if r[0].startswith("console.admin")]
    assert len(admin_pages) >= 3
    statuses = {(e, m): client.open(url, method=m).status_code for e, m, url in admin_pages}
    assert set(statuses.values()) == {403}, statuses
