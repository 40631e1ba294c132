"""Flask extensions, created unbound; ``create_app`` binds them."""

from __future__ import annotations

import select
from contextvars import ContextVar
from typing import Any

from flask import Flask, current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase

#: Stable constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every Fieldwork model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def client_address() -> str:
    """Return the client address that rate limits key on.

    ``remote_addr`` is already corrected by ProxyFix for the configured number of trusted
    proxy hops, so a spoofed ``X-Forwarded-For`` cannot change it.
    """
    return request.remote_addr or "unknown"


#: True while the current unit of work intends to write. On SQLite such transactions start
#: with ``BEGIN IMMEDIATE``: writers queue on the busy timeout instead of failing when a
#: snapshot they read went stale, and a conditional UPDATE then sees the latest row.
sqlite_write_intent: ContextVar[bool] = ContextVar("sqlite_write_intent", default=False)

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_address, default_limits=[])
babel = Babel()


def configure_sqlite(engine: Engine) -> None:
    """Make a SQLite engine production-safe: WAL, busy timeout, real transactions.

    The sqlite3 driver's legacy transaction handling breaks SAVEPOINT and defers BEGIN;
    the SQLAlchemy recipe hands transaction control back to SQLAlchemy.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # WAL + NORMAL: durable across application crashes; a power cut may lose the last
        # commits but never corrupts the file.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_write_intent.get() else "BEGIN")


def configure_postgresql(engine: Engine) -> None:
    """Hand out only pooled connections the server has not closed, without a round trip.

    PostgreSQL tells a client it is going away (restart, ``idle_session_timeout``,
    ``pg_terminate_backend``): it sends a last message and closes the socket, so an idle
    pooled connection it dropped turns readable. Checking that at checkout costs a
    ``select()`` where ``pool_pre_ping`` costs a ``SELECT 1`` round trip on every request;
    the pool replaces a connection found closed and the request never sees it.
    """
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkout")
    def _drop_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.closed or dbapi_connection.broken:
            raise DisconnectionError("the connection is closed")
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
        if readable:  # idle, yet the server said something: it is gone (or going)
            raise DisconnectionError("the server closed the connection")


def read_without_transaction() -> None:
    """Run the current request's statements in autocommit on PostgreSQL (reading requests).

    Each statement still sees every commit made before it, as a READ COMMITTED statement
    does inside a transaction, and the request saves the BEGIN and ROLLBACK round trips.
    A request that then writes commits first (``Session.commit`` hands the connection
    back, reset) and gets a real transaction. SQLite keeps its transactions (its BEGIN is
    no round trip), and so does a session already joined to a caller's connection (a
    test's rolled-back transaction).
    """
    if db.engine.dialect.name != "postgresql" or db.session.get_bind() is not db.engine:
        return
    if not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def register_write_intent(app: Flask) -> None:
    """Mark requests with unsafe methods as writers (see ``sqlite_write_intent``)."""

    @app.before_request
    def _mark_writer() -> None:
        sqlite_write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))


def dialect_insert(table: Any) -> Any:
    """Return an INSERT for the app's database, with its ``ON CONFLICT`` clauses."""
    if db.engine.dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def blob_store() -> Any:
    """Return the app's file store (``FIELDWORK_STORAGE_URL``)."""
    return current_app.extensions["fieldwork.blob_store"]
