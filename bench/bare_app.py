"""The yardstick for HTTP benchmarks: a bare WSGI app doing one primary-key lookup.

Serve it with gunicorn exactly like the real app (``bench.bare_app:app``), with
``FIELDWORK_BENCH_DSN`` set to a plain ``postgresql://`` URL. ``GET /row/<id>`` reads one
work order by id with raw psycopg (one connection per worker thread, autocommit) and returns
it as JSON; ``GET /healthz`` answers ``ok``. No Flask, no ORM, no authentication: what is left
is the cost of gunicorn, one round trip to PostgreSQL and a small JSON body.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

_local = threading.local()

QUERY = "SELECT id, number, state, title, updated_at FROM work_orders WHERE id = %s"


def _connection() -> psycopg.Connection[Any]:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(os.environ["FIELDWORK_BENCH_DSN"], autocommit=True)
        _local.conn = conn
    return conn


def _reply(
    start_response: Callable[..., Any], status: str, body: dict[str, Any]
) -> Iterable[bytes]:
    data = json.dumps(body, default=str).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer ``/row/<id>`` with one work order and ``/healthz`` with ``ok``."""
    path = environ.get("PATH_INFO", "")
    if path == "/healthz":
        return _reply(start_response, "200 OK", {"status": "ok"})
    if path.startswith("/row/") and path[5:].isdigit():
        row = _connection().execute(QUERY, (int(path[5:]),)).fetchone()
        if row is None:
            return _reply(start_response, "404 Not Found", {"error": "not found"})
        keys = ("id", "number", "state", "title", "updated_at")
        return _reply(start_response, "200 OK", dict(zip(keys, row, strict=True)))
    return _reply(start_response, "404 Not Found", {"error": "no such path"})
