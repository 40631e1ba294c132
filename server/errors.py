"""One error policy for the whole app: problem+json under the APIs, pages elsewhere."""

from __future__ import annotations

import logging
import re
import secrets

from flask import Flask, Response, g, render_template, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from server.problems import Problem, problem_response
from server.services.errors import ServiceError

log = logging.getLogger("fieldwork.errors")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

#: Stable codes for the HTTP errors Werkzeug raises by itself.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def wants_problem_json() -> bool:
    """Return True when the request is an API call (answered with problem+json)."""
    return request.path.startswith(("/api/", "/verify/api"))


def _problem_or_page(problem: Problem) -> Response | tuple[str, int]:
    if wants_problem_json():
        return problem_response(problem)
    return (
        render_template(
            "errors/error.html", status=problem.status, title=problem.title, detail=problem.detail
        ),
        problem.status,
    )


def _is_concurrency_error(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in ("40001", "40P01"):
        return True
    return "database is locked" in str(error.orig)


def register_error_handlers(app: Flask) -> None:
    """Install the request-id hook and the error handlers."""

    @app.before_request
    def _assign_request_id() -> None:
        supplied = request.headers.get("X-Request-ID", "")
        g.request_id = supplied if _REQUEST_ID.match(supplied) else secrets.token_hex(8)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        if g.get("request_id"):
            response.headers["X-Request-ID"] = g.request_id
        return response

    @app.errorhandler(Problem)
    def _problem(error: Problem) -> Response | tuple[str, int]:
        return _problem_or_page(error)

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError) -> Response | tuple[str, int]:
        return _problem_or_page(Problem(error.status, error.code, error.message, **error.details))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response | tuple[str, int]:
        status = error.code or 500
        headers = {}
        if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
            headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        if status == 429:
            headers.update({k: v for k, v in error.get_headers() if k.lower() == "retry-after"})
        detail = error.description if status < 500 else None
        return _problem_or_page(
            Problem(status, HTTP_CODES.get(status, "http_error"), detail, headers=headers)
        )

    @app.errorhandler(StaleDataError)
    def _stale(_error: StaleDataError) -> Response | tuple[str, int]:
        return _problem_or_page(
            Problem(409, "version_conflict", "Someone else changed this record; reload it.")
        )

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError) -> Response | tuple[str, int]:
        log.warning("integrity error request_id=%s: %s", g.get("request_id"), error.orig)
        return _problem_or_page(
            Problem(409, "conflict", "The change conflicts with existing data; reload and retry.")
        )

    @app.errorhandler(DBAPIError)
    def _dbapi(error: DBAPIError) -> Response | tuple[str, int]:
        if _is_concurrency_error(error):
            return _problem_or_page(
                Problem(
                    409,
                    "concurrent_update",
                    "A concurrent change won; retry.",
                    headers={"Retry-After": "1"},
                )
            )
        return _unexpected(error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response | tuple[str, int]:
        log.exception(
            "unhandled error request_id=%s path=%s",
            g.get("request_id"),
            request.path,
            exc_info=error,
        )
        return _problem_or_page(
            Problem(
                500,
                "internal_error",
                "Something went wrong on our side. Quote the request id when you report it.",
            )
        )
