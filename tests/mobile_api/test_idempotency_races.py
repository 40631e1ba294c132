"""Duplicate requests racing each other: one does the work, the other waits or replays."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.conftest import dispose
from tests.integration.races import make_app, race_in_threads
from tests.mobile_api.conftest import jpeg_bytes, new_id


@pytest.fixture
def race_app(databases, tmp_path):
    app = make_app(databases.create(), tmp_path, migrate=True)
    yield app
    dispose(app)


def test_two_identical_uploads_at_once_store_one_photo(race_app):
    from server.auth.tokens import issue_token_pair
    from server.extensions import db
    from server.models import Attachment, Category, Role, TokenAudience
    from server.services.customers import create_customer
    from server.services.users import create_technician_profile, create_user
    from server.services.work_orders import apply_transition, create_work_order

    with race_app.app_context():
        dispatcher = create_user(username="d", password="", role=Role.DISPATCHER, password_hash="-")
        tech = create_user(username="t", password="", role=Role.TECHNICIAN, password_hash="-")
        create_technician_profile(tech, skills=[("hvac", 3)])
        category = Category(code="C", name_en="C", name_zh="C", workflow_name="repair")
        db.session.add(category)
        customer = create_customer({"name": "C"}, actor=None)
        jobs = []
        for _ in range(10):
            order = create_work_order(
                {"category_id": category.id, "customer_id": customer.id, "title": "t"}, dispatcher
            )
            apply_transition(order, "assign", dispatcher, {"assignee_id": tech.id}, order.version)
            jobs.append(order.id)
        token = issue_token_pair(tech, TokenAudience.MOBILE).access_token
        db.session.commit()

    photo = jpeg_bytes((1600, 1200))
    outcomes = Counter()
    for job_id in jobs:
        client_id, key = new_id(), new_id()

        def send(_index, job_id=job_id, client_id=client_id, key=key):
            response = race_app.test_client().post(
                f"/api/mobile/v1/jobs/{job_id}/photos",
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                data={"file": (io.BytesIO(photo), "p.jpg"), "client_id": client_id},
                content_type="multipart/form-data",
            )
            return response.status_code

        statuses = race_in_threads(2, send)
        assert statuses.count(201) >= 1, statuses
        assert set(statuses) <= {201, 409}, statuses
        outcomes.update(statuses)
        with race_app.app_context():
            rows = db.session.scalar(
                select(func.count())
                .select_from(Attachment)
                .where(Attachment.work_order_id == job_id)
            )
        assert rows == 1
    assert outcomes[599] == 0
