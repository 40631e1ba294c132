"""Pooled PostgreSQL connections: dropped ones are replaced unseen; API reads skip BEGIN.

These run a real app on a database of its own (not the tests' rolled-back transaction),
so the pool and the transactions are the ones production has.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from server.auth.tokens import issue_token_pair
from server.extensions import db
from server.models import Role, TokenAudience
from server.services.users import create_user
from tests.conftest import build_app, dispose

pytestmark = pytest.mark.postgresql_only  # the pool check and autocommit are PostgreSQL's


@pytest.fixture(scope="module")
def own_app(databases, tmp_path_factory):
    url = databases.create()
    app = build_app(url, tmp_path_factory.mktemp("connections"))
    app.config["FIELDWORK_TEST_DSN"] = (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    with app.app_context():
        technician = create_user(
            username="pooltech",
            display_name="Pool Tech",
            role=Role.TECHNICIAN,
            password="correct horse battery staple 42",
        )
        token = issue_token_pair(technician, TokenAudience.MOBILE).access_token
        db.session.commit()
    app.config["TEST_PHONE"] = {"Authorization": f"Bearer {token}"}
    yield app
    dispose(app)


def _terminate_other_backends(dsn: str) -> int:
    """End every other session of the database and wait until their processes are gone."""
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with psycopg.connect(dsn, autocommit=True) as conn:
        ended = len(conn.execute(f"SELECT pg_terminate_backend(pid) {others}").fetchall())  # noqa: S608
        deadline = time.monotonic() + 10
        while conn.execute(f"SELECT count(*) {others}").fetchone() != (0,):  # noqa: S608
            assert time.monotonic() < deadline, "the sessions did not end"
            time.sleep(0.01)
    return ended


def test_connections_the_server_closed_are_replaced_without_an_error(own_app, caplog):
    client = own_app.test_client()
    phone = own_app.config["TEST_PHONE"]
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/mobile/v1/jobs", headers=phone).status_code == 200

    # As a database restart or an idle timeout would: every pooled connection dies.
    assert _terminate_other_backends(own_app.config["FIELDWORK_TEST_DSN"]) >= 1

    for _ in range(3):
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/mobile/v1/jobs", headers=phone).status_code == 200
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_api_reads_run_without_a_transaction_and_the_page_store_in_one(own_app):
    client = own_app.test_client()
    phone = own_app.config["TEST_PHONE"]
    seen: list[tuple[str, bool]] = []

    def _record(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append((statement.split()[0], conn.connection.dbapi_connection.autocommit))

    with own_app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _record)
    try:
        client.get("/api/mobile/v1/jobs?scope=upcoming", headers=phone)  # builds and stores
        stored = list(seen)
        seen.clear()
        client.get("/api/mobile/v1/jobs?scope=upcoming", headers=phone)  # the stored page
        served = list(seen)
        seen.clear()
        client.post("/api/mobile/v1/me/status", headers=phone, json={"status": "on_break"})
        wrote = list(seen)
    finally:
        event.remove(engine, "before_cursor_execute", _record)

    # Reads in autocommit (no BEGIN/ROLLBACK round trips); the INSERT of the page in a
    # transaction of its own.
    assert [auto for verb, auto in stored if verb == "SELECT"] == [True] * 2
    assert [auto for verb, auto in stored if verb == "INSERT"] == [False]
    assert [auto for _verb, auto in served] == [True]
    assert wrote
    assert not any(auto for _verb, auto in wrote)
