"""The last-resort error handlers (RELIABILITY F2).

Known concurrency and integrity failures become 409 with a hint to reload or retry;
anything else is a logged 500 with the request id, and the next request is served normally.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Blueprint, Flask
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from server.extensions import db
from server.models import Role, User
from server.services.users import create_user
from tests.conftest import build_app, dispose


class _SerializationFailure(Exception):
    """Stands for the driver error PostgreSQL raises for SQLSTATE ``sqlstate``."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"could not serialize access (SQLSTATE {sqlstate})")
        self.sqlstate = sqlstate


def _failing_routes() -> Blueprint:
    routes = Blueprint("failing", __name__)

    @routes.post("/api/failing/stale")
    def stale() -> str:
        raise StaleDataError("UPDATE statement on table 'work_orders' expected 1 row, matched 0")

    @routes.post("/api/failing/duplicate")
    def duplicate() -> str:
        # A real constraint of the real schema: usernames are unique. The service checks
        # first; a concurrent request that passed the same check meets the constraint.
        first = create_user(
            username="same-name", password="a long enough password", role=Role.ADMIN
        )
        db.session.flush()
        db.session.add(
            User(
                username=first.username,
                display_name="twin",
                role=Role.ADMIN,
                locale="en",
                password_hash=first.password_hash,
            )
        )
        db.session.flush()
        return "unreachable"

    @routes.post("/api/failing/serialization/<sqlstate>")
    def serialization(sqlstate: str) -> str:
        raise OperationalError("UPDATE work_orders ...", {}, _SerializationFailure(sqlstate))

    @routes.get("/api/failing/memory")
    def memory() -> str:
        raise MemoryError

    @routes.get("/failing/page")
    def page() -> str:
        raise RuntimeError("a bug behind a page")

    return routes


@pytest.fixture(scope="module")
def failing_app(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on the session's database with routes that fail in known ways."""
    application = build_app(
        app.config["SQLALCHEMY_DATABASE_URI"], tmp_path_factory.mktemp("failing")
    )
    application.config["WTF_CSRF_ENABLED"] = False
    application.register_blueprint(_failing_routes())
    yield application
    dispose(application)


@pytest.fixture
def client(failing_app: Flask):
    return failing_app.test_client()


def test_a_stale_version_is_409_asking_to_reload(client):
    response = client.post("/api/failing/stale")

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "version_conflict"
    assert "reload" in response.json["detail"]


def test_a_unique_constraint_is_409_and_nothing_is_kept(client, failing_app):
    response = client.post("/api/failing/duplicate")

    assert response.status_code == 409
    assert response.json["code"] == "conflict"
    with failing_app.app_context():
        assert db.session.scalars(select(User).where(User.username == "same-name")).all() == []


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"], ids=["serialization", "deadlock"])
def test_serialization_failures_and_deadlocks_are_409_with_retry_after(client, sqlstate):
    response = client.post(f"/api/failing/serialization/{sqlstate}")

    assert response.status_code == 409
    assert response.json["code"] == "concurrent_update"
    assert response.headers["Retry-After"] == "1"


def test_another_database_error_is_a_500_not_a_409(client):
    response = client.post("/api/failing/serialization/42P01")

    assert response.status_code == 500
    assert response.json["code"] == "internal_error"


def test_memory_error_is_a_logged_500_and_the_next_request_is_served(client, caplog):
    with caplog.at_level(logging.ERROR, logger="fieldwork.errors"):
        response = client.get("/api/failing/memory", headers={"X-Request-ID": "req-memory-1"})

    assert response.status_code == 500
    assert response.json["code"] == "internal_error"
    assert "MemoryError" not in response.get_data(as_text=True)  # no internals to the client
    assert any("req-memory-1" in record.getMessage() for record in caplog.records)
    assert client.get("/healthz").status_code == 200


def test_a_bug_behind_a_page_shows_the_error_page_not_a_traceback(client):
    response = client.get("/failing/page")

    assert response.status_code == 500
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    assert "a bug behind a page" not in body
