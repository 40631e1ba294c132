"""Fixtures shared by every test tier: databases, the app, clients and factories.

The suite runs on SQLite by default and on PostgreSQL with ``--db=postgresql``; each run
creates its own database (one per xdist worker) and drops it afterwards. The schema is
built once per session by the real migrations; each test runs inside a transaction that is
rolled back at the end.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("FIELDWORK_TEST_DB", "sqlite"),
        help="database engine the integration tests run on",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave PostgreSQL-only tests out of the SQLite run (CI's PostgreSQL run is mandatory)."""
    if config.getoption("--db") == "postgresql":
        return
    kept = [item for item in items if item.get_closest_marker("postgresql_only") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def postgres_admin_url() -> str:
    """Return the URL of a PostgreSQL database we may create test databases from."""
    url = os.environ.get("FIELDWORK_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


class _Database:
    """Creates and drops throw-away databases of one engine."""

    def __init__(self, engine: str, tmp: Path) -> None:
        self.engine = engine
        self.tmp = tmp
        self.created: list[str] = []

    def create(self) -> str:
        name = f"fieldwork_test_{secrets.token_hex(6)}"
        if self.engine == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.db')}"
        admin = make_url(postgres_admin_url())
        with psycopg.connect(
            admin.set(drivername="postgresql").render_as_string(False), autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return admin.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = make_url(postgres_admin_url())
        with psycopg.connect(
            admin.set(drivername="postgresql").render_as_string(False), autocommit=True
        ) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[_Database]:
    """Make throw-away databases on the engine chosen with ``--db``."""
    factory = _Database(request.config.getoption("--db"), tmp_path_factory.mktemp("db"))
    yield factory
    factory.drop_all()


def build_app(database_url: str, instance: Path, **extra: Any) -> Flask:
    """Create an app on ``database_url`` with test settings and a migrated schema."""
    from server import create_app

    app = create_app(
        {
            "FIELDWORK_DATABASE_URL": database_url,
            "FIELDWORK_INSTANCE_PATH": str(instance),
            "FIELDWORK_SECRET_KEY": "test-secret-key-not-for-production",
            "TESTING": True,
            **extra,
        }
    )
    with app.app_context():
        upgrade(revision="heads")
    return app


def dispose(app: Flask) -> None:
    """Close the app's pooled connections (before its database is dropped)."""
    from server.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def app(databases: _Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """Return the session's app on its own database, schema built by the migrations."""
    application = build_app(databases.create(), tmp_path_factory.mktemp("instance"))
    yield application
    dispose(application)


class _ConnectionBoundSession(FlaskSession):
    """A Flask-SQLAlchemy session that uses the test's connection for every model."""

    def get_bind(
        self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any
    ) -> Any:
        return (
            self.bind if self.bind is not None else super().get_bind(mapper, clause, bind, **kwargs)
        )


@pytest.fixture
def db_session(app: Flask) -> Iterator[Any]:
    """Run the test inside one outer transaction that is rolled back at the end."""
    from server.extensions import db, limiter

    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _ConnectionBoundSession,
            }
        )
        limiter.reset()
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


class _FreshGlobalsClient(FlaskClient):
    """A test client that gives each request an empty ``flask.g``.

    The test holds an app context open (for the factories) and Flask reuses it for the
    requests, so without this ``g`` would carry one request's cached user, locale and CSRF
    token into the next, which never happens in production.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        from flask import g

        vars(g._get_current_object()).clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask, db_session: Any) -> FlaskClient:
    """Return a test client whose requests share the test's transaction."""
    app.test_client_class = _FreshGlobalsClient
    return app.test_client()


@pytest.fixture
def count_queries(app: Flask, db_session: Any) -> Callable[[], Any]:
    """Return a context manager that counts the SQL statements run inside it."""
    from contextlib import contextmanager

    from server.extensions import db

    @contextmanager
    def counter() -> Iterator[list[str]]:
        statements: list[str] = []

        def _record(*args: Any) -> None:
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", _record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", _record)

    return counter


pytest_plugins = ["tests.factories"]
