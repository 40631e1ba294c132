"""The OpenAPI document describes every route of /api/v1 and its schemas."""

from __future__ import annotations

import re


def test_openapi_document_lists_every_route_and_method(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    routes = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1")))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == routes


def test_openapi_describes_bodies_parameters_and_problems(client):
    document = client.get("/api/v1/openapi.json").get_json()
    create = document["paths"]["/work-orders"]["post"]
    body_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert {"category_id", "customer_id", "title"} <= set(schema["required"])
    assert "422" in create["responses"]
    assert create["security"] == [{"bearer": []}]
    listing = document["paths"]["/work-orders"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"state", "priority", "assignee_id", "q", "sort", "cursor", "limit"} <= names
    assert document["paths"]["/auth/token"]["post"].get("security") is None
