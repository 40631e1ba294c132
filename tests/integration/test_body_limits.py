"""Request-size caps per route, against gunicorn (RELIABILITY E1).

The development server and the test client do not read bodies the way a real server does
(chunked bodies, early answers while the client still sends), so the caps are shown on a
gunicorn process serving the session's database.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from server.body_limits import FORM_MAX_BODY
from server.customer.views import PUBLIC_REQUEST_BODY

ROOT = Path(__file__).resolve().parents[2]
BOUNDARY = "fieldwork-test-boundary"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(app: Flask) -> Iterator[tuple[str, int]]:
    """Serve the session's database and instance folder with gunicorn on a free port."""
    port = _free_port()
    env = {
        **os.environ,
        "FIELDWORK_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FIELDWORK_INSTANCE_PATH": app.instance_path,
        "FIELDWORK_SECRET_KEY": "body-limit-test-secret",
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            "1",
            "--threads",
            "2",
            "server:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                break
        except OSError:
            pass
        finally:
            connection.close()
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gunicorn did not start: {process.communicate()[1].decode()[-2000:]}")
        time.sleep(0.2)
    yield "127.0.0.1", port
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)


def post(
    server: tuple[str, int], path: str, body: bytes, *, chunked: bool = False
) -> tuple[int, bytes]:
    """POST a multipart body; keep sending after an early answer, as a browser would."""
    connection = http.client.HTTPConnection(*server, timeout=30)
    try:
        return _send(connection, path, body, chunked)
    finally:
        connection.close()


def _send(
    connection: http.client.HTTPConnection, path: str, body: bytes, chunked: bool
) -> tuple[int, bytes]:
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    if chunked:
        connection.putheader("Transfer-Encoding", "chunked")
    else:
        connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    step = 1 << 20
    try:
        for start in range(0, len(body), step):
            piece = body[start : start + step]
            connection.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            connection.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed before the whole body was sent
    response = connection.getresponse()
    return response.status, response.read()


def multipart(fields: list[tuple[str, bytes]], filename: str | None = None) -> bytes:
    """Encode form fields; with ``filename`` each field is sent as a file."""
    parts = []
    for name, value in fields:
        disposition = f'form-data; name="{name}"'
        if filename:
            disposition += f'; filename="{filename}"'
        parts.append(
            f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
        )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def stored_counts(app: Flask) -> tuple[int, int]:
    """Return how many work orders and blobs the server's database and store hold."""
    from server.extensions import blob_store, db
    from server.models import WorkOrder

    with app.app_context():
        orders = db.session.scalar(select(func.count()).select_from(WorkOrder))
        blobs = len(list(blob_store().keys()))
        db.session.remove()
    return int(orders or 0), blobs


def oversized_photo_form(limit: int) -> bytes:
    """A form whose one photo takes the body one byte past ``limit``."""
    frame = multipart([("photos", b"")], filename="big.jpg")
    return multipart([("photos", b"\xff" * (limit + 1 - len(frame)))], filename="big.jpg")


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_public_request_form_refuses_one_byte_over_its_cap_and_keeps_nothing(app, server, chunked):
    before = stored_counts(app)
    body = oversized_photo_form(PUBLIC_REQUEST_BODY)
    assert len(body) == PUBLIC_REQUEST_BODY + 1

    status, page = post(server, "/request", body, chunked=chunked)

    assert status == 413
    assert b"<html" in page.lower()  # a page for people, not a traceback
    assert stored_counts(app) == before


def test_the_public_form_cap_is_below_the_apps_ceiling(app):
    assert PUBLIC_REQUEST_BODY < app.config["MAX_CONTENT_LENGTH"]


def test_a_text_form_refuses_a_body_over_a_megabyte(server):
    body = multipart([("username", b"a" * FORM_MAX_BODY)])

    status, _ = post(server, "/login", body)

    assert status == 413


def test_a_thousand_and_one_form_parts_are_refused(app, server):
    before = stored_counts(app)
    body = multipart([(f"field{i}", b"x") for i in range(1001)])
    assert len(body) < FORM_MAX_BODY

    status, _ = post(server, "/request", body)

    assert status == 413
    assert stored_counts(app) == before


def test_a_body_within_the_cap_reaches_the_form(server):
    # The same route answers a small post normally (here: the CSRF check refuses it).
    status, _ = post(server, "/request", multipart([("description", b"leak")]))

    assert status == 400
