"""Hostile JSON bodies on every JSON endpoint of both APIs: a clear 400, never a traceback."""

from __future__ import annotations

import logging
import re

import pytest

from server.json_input import MAX_DEPTH, bounded_loads, nesting_depth
from server.models import Role, TokenAudience

#: A body whose parse would recurse far past Python's limit.
BRACKETS = "[" * 10_000
#: An object nested one level past the limit.
JUST_TOO_DEEP = '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)
JUST_DEEP_ENOUGH = '{"a":' * MAX_DEPTH + "1" + "}" * MAX_DEPTH

_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def test_depth_is_measured_without_recursion():
    assert nesting_depth(1) == 0
    assert nesting_depth({"a": [1, {"b": []}]}) == 4
    assert nesting_depth(bounded_loads(JUST_DEEP_ENOUGH)) == MAX_DEPTH
    with pytest.raises(ValueError, match="deeper than"):
        bounded_loads(JUST_TOO_DEEP)
    with pytest.raises(ValueError, match="deeper than"):
        bounded_loads(BRACKETS)


@pytest.fixture
def world(create_work_order, create_user, api_headers):
    from server.services.work_orders import apply_transition

    dispatcher = create_user(Role.DISPATCHER)
    technician = create_user(Role.TECHNICIAN)
    order = create_work_order(actor=dispatcher)
    apply_transition(order, "assign", dispatcher, {"assignee_id": technician.id}, order.version)
    # Real ids for every URL parameter, so each operation gets as far as reading its body.
    ids = {name: order.id for name in ("order_id", "job_id", "work_order_id", "id")}
    ids |= {"customer_id": order.customer_id, "site_id": order.site_id}
    return {
        "ids": ids,
        "mobile": api_headers(technician, TokenAudience.MOBILE),
        "api": api_headers(create_user(Role.ADMIN)),
    }


def json_endpoints(app):
    """Yield (method, URL rule) of every API operation that takes a JSON body."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        operation = getattr(view, "operation", None)
        if operation is None or operation.body is None:
            continue
        if operation.body_content_type != "application/json":
            continue
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
            yield method, rule.rule


def test_every_json_endpoint_refuses_deep_nesting_with_a_problem_and_no_traceback(
    app, client, world, caplog
):
    endpoints = list(json_endpoints(app))
    assert len(endpoints) >= 15
    caplog.set_level(logging.WARNING)
    refused = []
    for method, rule in endpoints:
        url = _PARAMETER.sub(lambda m: str(world["ids"].get(m.group(1), 1)), rule)
        headers = world["mobile"] if rule.startswith("/api/mobile/") else world["api"]
        for body in (BRACKETS, JUST_TOO_DEEP):
            response = client.open(
                url, method=method, data=body, content_type="application/json", headers=headers
            )
            assert response.status_code < 500, (method, url, response.get_data(as_text=True))
            assert response.content_type == "application/problem+json", (method, url)
            if response.status_code == 400:
                assert response.get_json()["code"] == "malformed_json"
                assert "deeper than" in response.get_json()["detail"]
                refused.append((method, rule))
    assert len(set(refused)) == len(endpoints), sorted(set(endpoints) - set(refused))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage()[:200] for r in errors]


@pytest.mark.parametrize("base", ["/api/mobile/v1", "/api/v1"])
@pytest.mark.parametrize("path", ["/auth/token", "/auth/refresh"])
def test_the_sign_in_endpoints_and_their_limiter_refuse_deep_nesting_first(
    client, base, path, caplog
):
    caplog.set_level(logging.WARNING)
    for body in (BRACKETS, JUST_TOO_DEEP):
        response = client.post(base + path, data=body, content_type="application/json")
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["code"] == "malformed_json"
    fine = client.post(base + path, data=JUST_DEEP_ENOUGH, content_type="application/json")
    assert fine.status_code in (401, 422)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_the_body_is_parsed_once_for_the_limiter_and_the_view(app, client, monkeypatch):
    calls = []
    original = app.json.loads

    def counting(text, **kwargs):
        calls.append(len(text))
        return original(text, **kwargs)

    monkeypatch.setattr(app.json, "loads", counting)
    client.post("/api/mobile/v1/auth/token", json={"username": "nobody", "password": "x"})
    assert len(calls) == 1
