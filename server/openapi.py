"""OpenAPI 3 documents generated from the views' ``Operation`` metadata and schemas."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from server.operations import Operation

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")

#: Largest id a URL may carry (the ``<int:…>`` converter refuses bigger ones).
MAX_ID = 2**31 - 1

IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Makes a retry safe: the same key and body return the first response.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
}

PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "object"},
        "request_id": {"type": "string"},
    },
    "required": ["type", "title", "status", "code"],
}


#: OpenAPI links of an API: source operationId → link name → Link object (its
#: ``operationId``, ``parameters`` and ``requestBody`` as runtime expressions).
Links = Mapping[str, Mapping[str, Mapping[str, Any]]]


def build_openapi(
    app: Flask,
    blueprint: str,
    prefix: str,
    title: str,
    description: str = "",
    links: Links | None = None,
) -> dict[str, Any]:
    """Return the OpenAPI document of every route of ``blueprint``.

    ``links`` say where an operation's success answer leads (a created order to reading
    and moving it); a link to or from an operation the document lacks is refused.
    """
    spec = APISpec(
        title=title,
        version="1.0.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": description or "Errors are application/problem+json (RFC 9457)."},
    )
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith(f"{blueprint}."):
            continue
        view = app.view_functions[rule.endpoint]
        meta: Operation | None = getattr(view, "operation", None)
        if meta is None:
            continue
        path = _CONVERTER.sub(
            r"{\2}", rule.rule[len(prefix) :] if rule.rule.startswith(prefix) else rule.rule
        )
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, meta, view)
    _add_links(paths, links or {})
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    document["servers"] = [{"url": prefix}]
    return document


def _operation(rule: Any, meta: Operation, view: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "summary": meta.summary,
        "operationId": rule.endpoint.split(".", 1)[1],
        "tags": [meta.tag] if meta.tag else [],
        "responses": {},
    }
    if meta.description:
        doc["description"] = meta.description
    errors = set(meta.errors)
    path_parameters = _CONVERTER.findall(rule.rule)
    parameters: list[Any] = [
        {
            "in": "path",
            "name": name,
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}
            if conv == "int"
            else {"type": "string"},
        }
        for conv, name in path_parameters
    ]
    if path_parameters:
        errors.add(404)
    if getattr(view, "idempotent", False):
        parameters.append(IDEMPOTENCY_KEY_PARAMETER)
        errors |= {400, 409, 422}
    if meta.args is not None:
        parameters.append({"in": "query", "schema": meta.args})
        errors.add(422)
    if parameters:
        doc["parameters"] = parameters
    if meta.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {meta.body_content_type: {"schema": meta.body}},
        }
        # Malformed, wrongly typed, too large or invalid bodies.
        errors |= {400, 413, 415, 422}
    if meta.status == 204:
        doc["responses"]["204"] = {"description": "Done"}
    else:
        content = {"application/json": {"schema": meta.response}} if meta.response else {}
        doc["responses"][str(meta.status)] = {"description": "Success", "content": content}
        if meta.status == 201:
            # Creating what already exists (same client id or token) is a replay: 200.
            doc["responses"]["200"] = {"description": "Already there (replay)", "content": content}
    if not meta.public:
        doc["security"] = [{"bearer": []}]
        errors |= {401, 403}
    for status in sorted(errors):
        if status == 304:
            doc["responses"]["304"] = {"description": "Not modified (If-None-Match matched)"}
            continue
        doc["responses"][str(status)] = {
            "description": "Problem",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    return doc


def _add_links(paths: dict[str, dict[str, Any]], links: Links) -> None:
    """Attach ``links`` to the success answers of their source operations."""
    by_id = {doc["operationId"]: doc for item in paths.values() for doc in item.values()}
    for source, outgoing in links.items():
        if source not in by_id:
            raise ValueError(f"OpenAPI links from unknown operation {source!r}")
        for name, link in outgoing.items():
            if link["operationId"] not in by_id:
                raise ValueError(f"OpenAPI link {name!r} leads to unknown {link['operationId']!r}")
        # A replay (200 after 201) answers the same body, so it leads to the same places.
        for status, response in by_id[source]["responses"].items():
            if status.startswith("2") and status != "204":
                response["links"] = {name: dict(link) for name, link in outgoing.items()}
