"""Permission matrix: every role against every ``/api/v1`` endpoint.

Technicians may read only the work orders assigned to them (anyone else's is a 404, the
same answer as for an order that does not exist) and reference data; office roles may do
everything the integration API offers; nobody gets in without a token.
"""

from __future__ import annotations

import pytest

from server.models import Role
from server.services.webhooks import create_webhook

ROLES = ("anonymous", "admin", "manager", "dispatcher", "technician")

OFFICE_OK = {
    "admin": "ok",
    "manager": "ok",
    "dispatcher": "ok",
    "technician": 403,
    "anonymous": 401,
}
EVERYONE_OK = {
    "admin": "ok",
    "manager": "ok",
    "dispatcher": "ok",
    "technician": "ok",
    "anonymous": 401,
}
OWN_ONLY = {
    "admin": "ok",
    "manager": "ok",
    "dispatcher": "ok",
    "technician": "ok",
    "anonymous": 401,
}
ADMIN_ONLY = {"admin": "ok", "manager": 403, "dispatcher": 403, "technician": 403, "anonymous": 401}
OTHERS = {"admin": "ok", "manager": "ok", "dispatcher": "ok", "technician": 404, "anonymous": 401}
PUBLIC = dict.fromkeys(ROLES, "ok")


def order_body(world):
    return {"category_id": world["category"], "customer_id": world["customer"], "title": "Matrix"}


# (method, url template, body factory, expected by role). "ok" means any 2xx.
MATRIX = [
    (
        "POST",
        "/api/v1/auth/token",
        lambda w: {"username": "nobody", "password": "wrong-pass"},
        dict.fromkeys(ROLES, 401),
    ),
    (
        "POST",
        "/api/v1/auth/refresh",
        lambda w: {"refresh_token": "fwr_x"},
        dict.fromkeys(ROLES, 401),
    ),
    (
        "POST",
        "/api/v1/auth/logout",
        None,
        {"admin": 204, "manager": 204, "dispatcher": 204, "technician": 204, "anonymous": 401},
    ),
    ("GET", "/api/v1/openapi.json", None, PUBLIC),
    ("GET", "/api/v1/work-orders/{own}/transitions", None, OWN_ONLY),
    ("GET", "/api/v1/work-orders/{other}/transitions", None, OTHERS),
    ("GET", "/api/v1/work-orders/{other}/recommendations", None, OFFICE_OK),
    ("GET", "/api/v1/categories", None, EVERYONE_OK),
    ("GET", "/api/v1/technicians", None, OFFICE_OK),
    ("GET", "/api/v1/technicians/{tech}", None, OFFICE_OK),
    ("GET", "/api/v1/customers", None, OFFICE_OK),
    ("POST", "/api/v1/customers", lambda w: {"name": "Matrix Ltd"}, OFFICE_OK),
    ("GET", "/api/v1/customers/{customer}", None, OFFICE_OK),
    ("PATCH", "/api/v1/customers/{customer}", lambda w: {"notes": "checked"}, OFFICE_OK),
    ("POST", "/api/v1/customers/{customer}/contacts", lambda w: {"name": "李四"}, OFFICE_OK),
    ("POST", "/api/v1/customers/{customer}/sites", lambda w: {"address": "上海市"}, OFFICE_OK),
    (
        "POST",
        "/api/v1/customers/{customer}/sites/{site}/assets",
        lambda w: {"model": "M1"},
        OFFICE_OK,
    ),
    ("GET", "/api/v1/work-orders", None, EVERYONE_OK),
    ("POST", "/api/v1/work-orders", order_body, OFFICE_OK),
    ("GET", "/api/v1/work-orders/{own}", None, OWN_ONLY),
    ("GET", "/api/v1/work-orders/{other}", None, OTHERS),
    (
        "PATCH",
        "/api/v1/work-orders/{other}",
        lambda w: {"expected_version": 1, "title": "x"},
        OFFICE_OK,
    ),
    (
        "PATCH",
        "/api/v1/work-orders/{own}",
        lambda w: {"expected_version": 2, "title": "x"},
        OFFICE_OK,
    ),
    (
        "POST",
        "/api/v1/work-orders/{other}/assign",
        lambda w: {"technician_id": w["tech"], "expected_version": 1},
        OFFICE_OK,
    ),
    ("POST", "/api/v1/work-orders/{own}/unassign", lambda w: {"expected_version": 2}, OFFICE_OK),
    (
        "POST",
        "/api/v1/work-orders/{other}/transitions",
        lambda w: {"transition": "triage", "expected_version": 1},
        OFFICE_OK,
    ),
    ("GET", "/api/v1/webhooks", None, ADMIN_ONLY),
    (
        "POST",
        "/api/v1/webhooks",
        lambda w: {"url": "https://example.com/hook", "events": ["*"]},
        ADMIN_ONLY,
    ),
    ("GET", "/api/v1/webhooks/{webhook}/deliveries", None, ADMIN_ONLY),
    ("DELETE", "/api/v1/webhooks/{webhook}", None, ADMIN_ONLY),
]


@pytest.fixture
def world(client, create_user, create_work_order, api_headers):
    users = {role: create_user(Role(role)) for role in ROLES if role != "anonymous"}
    tech = users["technician"]
    dispatcher = users["dispatcher"]
    own = create_work_order(actor=dispatcher)
    other = create_work_order(actor=dispatcher)
    headers = {role: api_headers(user) for role, user in users.items()}
    assigned = client.post(
        f"/api/v1/work-orders/{own.id}/assign",
        headers=headers["dispatcher"],
        json={"technician_id": tech.id, "expected_version": 1},
    )
    assert assigned.status_code == 200
    headers["anonymous"] = {}
    webhook = create_webhook({"url": "https://example.com/matrix", "events": ["WorkOrderClosed"]})
    return {
        "webhook": webhook.id,
        "headers": headers,
        "own": own.id,
        "other": other.id,
        "tech": tech.id,
        "customer": other.customer_id,
        "category": other.category_id,
        "site": other.site_id,
    }


def test_every_api_route_is_in_the_matrix(app):
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {
        (
            method,
            url.replace("{tech}", "<int:technician_id>")
            .replace("{customer}", "<int:customer_id>")
            .replace("{site}", "<int:site_id>")
            .replace("{own}", "<int:order_id>")
            .replace("{other}", "<int:order_id>")
            .replace("{webhook}", "<int:webhook_id>"),
        )
        for method, url, _body, _expected in MATRIX
    }
    assert routes <= covered, f"routes missing from the permission matrix: {routes - covered}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "url", "body", "expected"), MATRIX, ids=[f"{m} {u}" for m, u, _b, _e in MATRIX]
)
def test_permission_matrix(client, world, role, method, url, body, expected):
    path = url.format(**{k: v for k, v in world.items() if k != "headers"})
    response = client.open(
        path, method=method, headers=world["headers"][role], json=body(world) if body else None
    )
    want = expected[role]
    if want == "ok":
        assert 200 <= response.status_code < 300, (role, path, response.get_json())
    else:
        assert response.status_code == want, (role, path, response.get_json())


def test_technician_list_shows_only_their_orders(client, world):
    body = client.get("/api/v1/work-orders", headers=world["headers"]["technician"]).get_json()
    assert [item["id"] for item in body["items"]] == [world["own"]]


def test_not_yours_and_not_existing_look_the_same(client, world):
    headers = world["headers"]["technician"]
    hidden = client.get(f"/api/v1/work-orders/{world['other']}", headers=headers)
    missing = client.get("/api/v1/work-orders/2147483000", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(hidden.get_json()) == strip(missing.get_json())
