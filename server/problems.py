"""Problem details (RFC 9457) for both APIs, and JSON body parsing that produces them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, g, json, request
from marshmallow import Schema, ValidationError

from server.json_input import json_failure

PROBLEM_CONTENT_TYPE = "application/problem+json"

#: Default titles by status; ``code`` is the stable, machine-readable part.
TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition failed",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(Exception):
    """An API error that becomes an ``application/problem+json`` response."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        *,
        title: str | None = None,
        errors: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or TITLES.get(status, "Error")
        self.errors = errors
        self.headers = dict(headers or {})
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        """Return the problem document."""
        body: dict[str, Any] = {
            "type": f"https://fieldwork.dev/problems/{self.code.replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        request_id = g.get("request_id")
        if request_id:
            body["request_id"] = request_id
        return body


def problem_response(problem: Problem) -> Response:
    """Render a problem as a response."""
    response = Response(
        json.dumps(problem.to_dict()), status=problem.status, mimetype=PROBLEM_CONTENT_TYPE
    )
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def json_body() -> dict[str, Any]:
    """Return the request's JSON object, or raise the problem that describes what is wrong."""
    if not request.is_json:
        raise Problem(415, "unsupported_media_type", "Send the body as application/json.")
    data = request.get_json(silent=True)
    if data is None:
        failure = json_failure()
        detail = failure if failure and failure != "invalid" else "The body is not valid JSON."
        raise Problem(400, "malformed_json", detail)
    if not isinstance(data, dict):
        raise Problem(400, "malformed_json", "The body must be a JSON object.")
    return data


def load_json(schema: Schema) -> Any:
    """Parse the JSON body with ``schema``; invalid input becomes a 422 problem."""
    return validate(schema, json_body())


def load_args(schema: Schema) -> Any:
    """Parse the query string with ``schema``; invalid input becomes a 422 problem."""
    return validate(schema, request.args.to_dict())


def _nul_fields(value: Any, path: str = "") -> list[str]:
    """Return where ``value`` holds a NUL character (no database stores those in text)."""
    if isinstance(value, str):
        return [path or "_"] if "\x00" in value else []
    if isinstance(value, Mapping):
        found = []
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            found += [name] if "\x00" in str(key) else _nul_fields(item, name)
        return found
    if isinstance(value, list):
        return [
            hit for index, item in enumerate(value) for hit in _nul_fields(item, f"{path}.{index}")
        ]
    return []


def validate(schema: Schema, data: Mapping[str, Any]) -> Any:
    """Run ``schema.load`` and turn validation errors into a 422 problem keyed by field."""
    nul = _nul_fields(data)
    if nul:
        raise Problem(
            422,
            "validation_failed",
            "Text may not contain NUL characters.",
            errors={name: ["NUL characters are not allowed."] for name in nul},
        )
    try:
        return schema.load(data)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_": error.messages}
        raise Problem(
            422, "validation_failed", "Some fields are invalid.", errors=messages
        ) from None
