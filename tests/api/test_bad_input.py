"""Table-driven: bad input to the integration API gets the right 4xx problem, never a 500."""

from __future__ import annotations

import base64
import json

import pytest

from server.models import Role

LONG = "x" * 1000


def cursor_for(sort: str) -> str:
    raw = json.dumps([sort, "WO-2026-000001", 1]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# (id, method, path, kwargs for the client, expected status, expected code or None)
CASES = [
    # Token endpoint
    (
        "token-malformed-json",
        "POST",
        "/auth/token",
        {"data": "{username:", "content_type": "application/json"},
        400,
        "malformed_json",
    ),
    (
        "token-text-plain",
        "POST",
        "/auth/token",
        {"data": "username=a", "content_type": "text/plain"},
        415,
        "unsupported_media_type",
    ),
    ("token-json-array", "POST", "/auth/token", {"json": ["admin", "pw"]}, 400, "malformed_json"),
    (
        "token-json-null",
        "POST",
        "/auth/token",
        {"data": "null", "content_type": "application/json"},
        400,
        "malformed_json",
    ),
    (
        "token-missing-password",
        "POST",
        "/auth/token",
        {"json": {"username": "a"}},
        422,
        "validation_failed",
    ),
    (
        "token-username-number",
        "POST",
        "/auth/token",
        {"json": {"username": 12, "password": "x"}},
        422,
        "validation_failed",
    ),
    (
        "token-unknown-field",
        "POST",
        "/auth/token",
        {"json": {"username": "a", "password": "b", "role": "admin"}},
        422,
        "validation_failed",
    ),
    (
        "token-username-too-long",
        "POST",
        "/auth/token",
        {"json": {"username": "u" * 65, "password": "b"}},
        422,
        "validation_failed",
    ),
    (
        "token-password-too-long",
        "POST",
        "/auth/token",
        {"json": {"username": "a", "password": LONG * 2}},
        422,
        "validation_failed",
    ),
    (
        "token-unknown-user",
        "POST",
        "/auth/token",
        {"json": {"username": "ghost", "password": "whatever1"}},
        401,
        "invalid_credentials",
    ),
    ("refresh-missing", "POST", "/auth/refresh", {"json": {}}, 422, "validation_failed"),
    (
        "refresh-null",
        "POST",
        "/auth/refresh",
        {"json": {"refresh_token": None}},
        422,
        "validation_failed",
    ),
    (
        "refresh-unknown",
        "POST",
        "/auth/refresh",
        {"json": {"refresh_token": "fwr_nope"}},
        401,
        "invalid_refresh_token",
    ),
    (
        "refresh-access-token-used",
        "POST",
        "/auth/refresh",
        {"json": {"refresh_token": "{access}"}},
        401,
        "invalid_refresh_token",
    ),
    ("logout-no-token", "POST", "/auth/logout", {"auth": False}, 401, "unauthorized"),
    # Authentication on resources
    ("no-authorization", "GET", "/work-orders", {"auth": False}, 401, "unauthorized"),
    (
        "empty-bearer",
        "GET",
        "/work-orders",
        {"headers": {"Authorization": "Bearer "}},
        401,
        "unauthorized",
    ),
    (
        "basic-auth",
        "GET",
        "/work-orders",
        {"headers": {"Authorization": "Basic YTpi"}},
        401,
        "unauthorized",
    ),
    (
        "garbage-token",
        "GET",
        "/work-orders",
        {"headers": {"Authorization": "Bearer fwa_garbage"}},
        401,
        "unauthorized",
    ),
    (
        "huge-token",
        "GET",
        "/work-orders",
        {"headers": {"Authorization": "Bearer " + "a" * 10_000}},
        401,
        "unauthorized",
    ),
    (
        "refresh-token-as-access",
        "GET",
        "/work-orders",
        {"headers": {"Authorization": "Bearer {refresh}"}},
        401,
        "unauthorized",
    ),
    # List arguments
    ("limit-zero", "GET", "/work-orders?limit=0", {}, 422, "validation_failed"),
    ("limit-huge", "GET", "/work-orders?limit=1000000000", {}, 422, "validation_failed"),
    ("limit-text", "GET", "/work-orders?limit=abc", {}, 422, "validation_failed"),
    ("bad-priority-filter", "GET", "/work-orders?priority=urgent", {}, 422, "validation_failed"),
    ("bad-sort", "GET", "/work-orders?sort=password_hash", {}, 422, "validation_failed"),
    ("garbage-cursor", "GET", "/work-orders?cursor=%%%%", {}, 422, "validation_failed"),
    (
        "cursor-of-other-sort",
        "GET",
        "/work-orders?cursor=" + cursor_for("number"),
        {},
        422,
        "validation_failed",
    ),
    ("date-not-iso", "GET", "/work-orders?created_from=yesterday", {}, 422, "validation_failed"),
    (
        "date-without-offset",
        "GET",
        "/work-orders?created_from=2026-01-01T00:00:00",
        {},
        422,
        "validation_failed",
    ),
    ("negative-assignee", "GET", "/work-orders?assignee_id=-1", {}, 422, "validation_failed"),
    (
        "customer-id-overflow",
        "GET",
        "/work-orders?customer_id=99999999999999999999",
        {},
        422,
        "validation_failed",
    ),
    ("search-too-long", "GET", "/work-orders?q=" + "q" * 101, {}, 422, "validation_failed"),
    ("unknown-query-argument", "GET", "/work-orders?password=1", {}, 422, "validation_failed"),
    (
        "too-many-states",
        "GET",
        "/work-orders?state=" + ",".join(["new"] * 51),
        {},
        422,
        "validation_failed",
    ),
    # Creating work orders
    (
        "create-missing-title",
        "POST",
        "/work-orders",
        {"json": {"category_id": "{category}", "customer_id": "{customer}"}},
        422,
        "validation_failed",
    ),
    (
        "create-empty-title",
        "POST",
        "/work-orders",
        {"json": {"category_id": "{category}", "customer_id": "{customer}", "title": ""}},
        422,
        "validation_failed",
    ),
    (
        "create-title-too-long",
        "POST",
        "/work-orders",
        {"json": {"category_id": "{category}", "customer_id": "{customer}", "title": "t" * 201}},
        422,
        "validation_failed",
    ),
    (
        "create-description-1mb",
        "POST",
        "/work-orders",
        {
            "json": {
                "category_id": "{category}",
                "customer_id": "{customer}",
                "title": "t",
                "description": "d" * 1_000_000,
            }
        },
        422,
        "validation_failed",
    ),
    (
        "create-id-as-string",
        "POST",
        "/work-orders",
        {"json": {"category_id": "1", "customer_id": "{customer}", "title": "t"}},
        422,
        "validation_failed",
    ),
    (
        "create-id-as-bool",
        "POST",
        "/work-orders",
        {"json": {"category_id": True, "customer_id": "{customer}", "title": "t"}},
        422,
        "validation_failed",
    ),
    (
        "create-id-as-float",
        "POST",
        "/work-orders",
        {"json": {"category_id": 1.5, "customer_id": "{customer}", "title": "t"}},
        422,
        "validation_failed",
    ),
    (
        "create-id-overflow",
        "POST",
        "/work-orders",
        {"json": {"category_id": 2**40, "customer_id": "{customer}", "title": "t"}},
        422,
        "validation_failed",
    ),
    (
        "create-unknown-category",
        "POST",
        "/work-orders",
        {"json": {"category_id": 999999, "customer_id": "{customer}", "title": "t"}},
        422,
        "validation_failed",
    ),
    (
        "create-unknown-customer",
        "POST",
        "/work-orders",
        {"json": {"category_id": "{category}", "customer_id": 999999, "title": "t"}},
        422,
        "validation_failed",
    ),
    (
        "create-bad-priority",
        "POST",
        "/work-orders",
        {
            "json": {
                "category_id": "{category}",
                "customer_id": "{customer}",
                "title": "t",
                "priority": "urgent",
            }
        },
        422,
        "validation_failed",
    ),
    (
        "create-bad-channel",
        "POST",
        "/work-orders",
        {
            "json": {
                "category_id": "{category}",
                "customer_id": "{customer}",
                "title": "t",
                "channel": "fax",
            }
        },
        422,
        "validation_failed",
    ),
    (
        "create-mass-assign-state",
        "POST",
        "/work-orders",
        {
            "json": {
                "category_id": "{category}",
                "customer_id": "{customer}",
                "title": "t",
                "state": "closed",
            }
        },
        422,
        "validation_failed",
    ),
    (
        "create-bad-date",
        "POST",
        "/work-orders",
        {
            "json": {
                "category_id": "{category}",
                "customer_id": "{customer}",
                "title": "t",
                "requested_start_at": "soon",
            }
        },
        422,
        "validation_failed",
    ),
    (
        "create-window-reversed",
        "POST",
        "/work-orders",
        {
            "json": {
                "category_id": "{category}",
                "customer_id": "{customer}",
                "title": "t",
                "requested_start_at": "2026-12-02T10:00:00+08:00",
                "requested_end_at": "2026-12-02T09:00:00+08:00",
            }
        },
        422,
        "validation_failed",
    ),
    (
        "create-title-object",
        "POST",
        "/work-orders",
        {"json": {"category_id": "{category}", "customer_id": "{customer}", "title": {"$ne": 1}}},
        422,
        "validation_failed",
    ),
    (
        "create-title-with-nul",
        "POST",
        "/work-orders",
        {"json": {"category_id": "{category}", "customer_id": "{customer}", "title": "a\u0000b"}},
        422,
        "validation_failed",
    ),
    ("search-with-nul", "GET", "/work-orders?q=a%00b", {}, 422, "validation_failed"),
    (
        "token-username-with-nul",
        "POST",
        "/auth/token",
        {"json": {"username": "ad\u0000min", "password": "x"}},
        422,
        "validation_failed",
    ),
    # Editing and moving work orders
    (
        "patch-version-as-string",
        "PATCH",
        "/work-orders/{order}",
        {"json": {"expected_version": "1", "title": "x"}},
        422,
        "validation_failed",
    ),
    (
        "patch-stale-version",
        "PATCH",
        "/work-orders/{order}",
        {"json": {"expected_version": 7, "title": "x"}},
        409,
        "version_conflict",
    ),
    (
        "patch-without-version",
        "PATCH",
        "/work-orders/{order}",
        {"json": {"title": "x"}},
        428,
        "version_required",
    ),
    (
        "patch-bad-if-match",
        "PATCH",
        "/work-orders/{order}",
        {"json": {"title": "x"}, "headers": {"If-Match": "banana"}},
        400,
        "bad_if_match",
    ),
    (
        "patch-state-directly",
        "PATCH",
        "/work-orders/{order}",
        {"json": {"expected_version": 1, "state": "closed"}},
        422,
        "validation_failed",
    ),
    (
        "patch-assignee-directly",
        "PATCH",
        "/work-orders/{order}",
        {"json": {"expected_version": 1, "assignee_id": 1}},
        422,
        "validation_failed",
    ),
    (
        "patch-missing-order",
        "PATCH",
        "/work-orders/99999999",
        {"json": {"expected_version": 1, "title": "x"}},
        404,
        "not_found",
    ),
    ("get-missing-order", "GET", "/work-orders/99999999", {}, 404, "not_found"),
    ("get-order-id-overflow", "GET", "/work-orders/99999999999999999999", {}, 404, "not_found"),
    (
        "assign-missing-technician",
        "POST",
        "/work-orders/{order}/assign",
        {"json": {"expected_version": 1}},
        422,
        "validation_failed",
    ),
    (
        "assign-unknown-technician",
        "POST",
        "/work-orders/{order}/assign",
        {"json": {"technician_id": 999999, "expected_version": 1}},
        422,
        "validation_failed",
    ),
    (
        "transition-unknown",
        "POST",
        "/work-orders/{order}/transitions",
        {"json": {"transition": "teleport", "expected_version": 1}},
        422,
        "transition_refused",
    ),
    (
        "transition-input-not-object",
        "POST",
        "/work-orders/{order}/transitions",
        {"json": {"transition": "triage", "expected_version": 1, "input": [1, 2]}},
        422,
        "validation_failed",
    ),
    (
        "transition-bad-input-type",
        "POST",
        "/work-orders/{order}/transitions",
        {"json": {"transition": "cancel", "expected_version": 1, "input": {"reason": 5}}},
        422,
        "transition_refused",
    ),
    # Customers
    ("customer-missing-name", "POST", "/customers", {"json": {}}, 422, "validation_failed"),
    (
        "customer-bad-tier",
        "POST",
        "/customers",
        {"json": {"name": "A", "tier": "gold"}},
        422,
        "validation_failed",
    ),
    (
        "customer-bad-locale",
        "POST",
        "/customers",
        {"json": {"name": "A", "preferred_locale": "fr"}},
        422,
        "validation_failed",
    ),
    (
        "customer-bad-email",
        "POST",
        "/customers",
        {"json": {"name": "A", "contacts": [{"name": "B", "email": "not-an-email"}]}},
        422,
        "validation_failed",
    ),
    (
        "customer-latitude-out-of-range",
        "POST",
        "/customers",
        {"json": {"name": "A", "sites": [{"address": "x", "latitude": 91}]}},
        422,
        "validation_failed",
    ),
    (
        "customer-latitude-nan",
        "POST",
        "/customers",
        {
            "data": '{"name": "A", "sites": [{"address": "x", "latitude": NaN}]}',
            "content_type": "application/json",
        },
        422,
        "validation_failed",
    ),
    (
        "customer-too-many-sites",
        "POST",
        "/customers",
        {"json": {"name": "A", "sites": [{"address": "x"}] * 101}},
        422,
        "validation_failed",
    ),
    (
        "customer-asset-unknown-field",
        "POST",
        "/customers",
        {
            "json": {
                "name": "A",
                "sites": [{"address": "x", "assets": [{"model": "m", "price": 5}]}],
            }
        },
        422,
        "validation_failed",
    ),
    (
        "customer-sites-not-a-list",
        "POST",
        "/customers",
        {"json": {"name": "A", "sites": "none"}},
        422,
        "validation_failed",
    ),
    ("customer-missing", "GET", "/customers/0", {}, 404, "not_found"),
    (
        "customer-patch-missing",
        "PATCH",
        "/customers/999999",
        {"json": {"name": "B"}},
        404,
        "not_found",
    ),
    (
        "asset-on-foreign-site",
        "POST",
        "/customers/999999/sites/{site}/assets",
        {"json": {"model": "m"}},
        404,
        "not_found",
    ),
    ("technician-missing", "GET", "/technicians/999999", {}, 404, "not_found"),
    ("technicians-bad-limit", "GET", "/technicians?limit=-5", {}, 422, "validation_failed"),
    # Routing
    ("unknown-route", "GET", "/no-such-thing", {}, 404, "not_found"),
    ("wrong-method", "DELETE", "/work-orders", {}, 405, "method_not_allowed"),
    ("put-not-supported", "PUT", "/work-orders/{order}", {"json": {}}, 405, "method_not_allowed"),
]


@pytest.fixture
def world(client, create_user, create_work_order, api_headers):
    from server.auth.tokens import issue_token_pair
    from server.models import TokenAudience

    dispatcher = create_user(Role.DISPATCHER)
    order = create_work_order()
    pair = issue_token_pair(dispatcher, TokenAudience.API)
    return {
        "headers": {"Authorization": f"Bearer {pair.access_token}"},
        "order": order.id,
        "category": order.category_id,
        "customer": order.customer_id,
        "site": order.site_id,
        "access": pair.access_token,
        "refresh": pair.refresh_token,
    }


def _fill(value, world):
    if (
        isinstance(value, str)
        and value.startswith("{")
        and value.endswith("}")
        and value[1:-1] in world
    ):
        return world[value[1:-1]]
    if isinstance(value, str):
        for key in ("order", "site", "access", "refresh"):
            value = value.replace("{" + key + "}", str(world[key]))
        return value
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


def test_there_are_at_least_forty_kinds_of_bad_input():
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("name", "method", "path", "kwargs", "status", "code"), CASES, ids=[case[0] for case in CASES]
)
def test_bad_input_gets_its_problem(client, world, name, method, path, kwargs, status, code):
    kwargs = _fill(dict(kwargs), world)
    headers = dict(world["headers"]) if kwargs.pop("auth", True) else {}
    headers.update(kwargs.pop("headers", {}))
    response = client.open(_fill("/api/v1" + path, world), method=method, headers=headers, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert body["type"].startswith("https://")
    if status == 422 and code == "validation_failed":
        assert body["errors"], "422 problems name the fields at fault"
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    assert "sqlalchemy" not in text.lower()
