"""The scripted phone plays a technician's whole day against a real HTTP server."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import dispose
from tests.integration.races import make_app
from tools.phone_client import play_day


@pytest.fixture
def live_server(databases, tmp_path):
    from server.auth.passwords import hash_password
    from server.extensions import db
    from server.models import Category, Role
    from server.services.customers import create_customer
    from server.services.users import create_technician_profile, create_user
    from server.services.work_orders import apply_transition, create_work_order

    app = make_app(databases.create(), tmp_path, migrate=True)
    with app.app_context():
        dispatcher = create_user(
            username="disp",
            password="",
            role=Role.DISPATCHER,
            password_hash=hash_password("dispatcher pass"),
        )
        tech = create_user(
            username="tech01",
            password="",
            role=Role.TECHNICIAN,
            locale="zh_CN",
            password_hash=hash_password("technician pass"),
        )
        create_technician_profile(tech, skills=[("hvac", 4)])
        category = Category(
            code="HVAC-REPAIR",
            name_en="AC repair",
            name_zh="空调维修",
            workflow_name="repair",
            required_skill="hvac",
            checklist=[
                {"key": "safety", "en": "Power off", "zh_CN": "已断电"},
                {"key": "test", "en": "Tested", "zh_CN": "已测试"},
            ],
        )
        db.session.add(category)
        customer = create_customer(
            {"name": "王建国", "sites": [{"address": "上海市徐汇区漕溪北路88号"}]}, actor=None
        )
        order = create_work_order(
            {
                "category_id": category.id,
                "customer_id": customer.id,
                "site_id": customer.sites[0].id,
                "title": "空调不制冷",
            },
            dispatcher,
        )
        apply_transition(order, "assign", dispatcher, {"assignee_id": tech.id}, order.version)
        db.session.commit()
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
