"""The scripted phone plays a technician's whole day against a real HTTP server."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import dispose
from tests.integration.races import make_app, seed_race
from tools.phone_client import play_day


@pytest.fixture
def live_server(databases, tmp_path):
    app = make_app(databases.create(), tmp_path, migrate=True)
    seed_race(
        app,
        1,
        1,
        assign_to_first=True,
        technician_password="technician pass",
        checklist=[
            {"key": "safety", "en": "Power off", "zh_CN": "已断电"},
            {"key": "test", "en": "Tested", "zh_CN": "已测试"},
        ],
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    dispose(app)


def test_a_technicians_day_from_sign_in_to_completion(live_server):
    summary = play_day(live_server, "tech01", "technician pass")
    assert summary["final_state"] == "completed"
    assert summary["photos"] == 2, "the retried photo upload was stored once"
    assert summary["delta_changed"] == [summary["job_id"]]
    assert not any(" -> 5" in line for line in summary["requests"])
