"""Duplicate requests racing each other: one does the work, the other waits or replays."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.conftest import dispose
from tests.integration.races import make_app, race_in_threads, seed_race
from tests.mobile_api.conftest import jpeg_bytes, new_id


@pytest.fixture
def race_app(databases, tmp_path):
    app = make_app(databases.create(), tmp_path, migrate=True)
    yield app
    dispose(app)


def test_two_identical_uploads_at_once_store_one_photo(race_app):
    from server.extensions import db
    from server.models import Attachment

    world = seed_race(race_app, 10, 1, assign_to_first=True)
    jobs, token = world["orders"], world["tech_token"]

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
