"""Dates at the edges of the calendar, through every door: refused with a reason, nothing stored.

The field type is checked for every schema field in tests/unit/test_business_time.py; these
tests show that the doors people and phones use really go through it, and that a refused
request leaves no row and no file behind.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from server.extensions import db
from server.models import Attachment, Role, TokenAudience, WorkOrder
from tests.mobile_api.conftest import jpeg_bytes, new_id, png_bytes

EDGES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T10:00:00+08:00",
    "1970-01-01T00:00:00Z",
    "2026-03-02T10:00:00",  # no offset
]


def stored_files(app) -> set[Path]:
    root = Path(app.config["FIELDWORK_SETTINGS"].storage_url.removeprefix("file://"))
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.fixture
def office(create_user, api_headers):
    return api_headers(create_user(Role.DISPATCHER))


@pytest.fixture
def phone_job(create_user, create_work_order, api_headers):
    from server.services.work_orders import apply_transition

    dispatcher = create_user(Role.DISPATCHER)
    tech = create_user(Role.TECHNICIAN)
    order = create_work_order(actor=dispatcher)
    apply_transition(order, "assign", dispatcher, {"assignee_id": tech.id}, order.version)
    return order, api_headers(tech, TokenAudience.MOBILE)


@pytest.mark.parametrize("value", EDGES)
def test_an_order_with_a_window_at_the_edge_of_the_calendar_is_refused(
    client, office, create_customer, create_category, value
):
    customer = create_customer()
    before = db.session.scalar(db.select(db.func.count()).select_from(WorkOrder))
    response = client.post(
        "/api/v1/work-orders",
        headers=office,
        json={
            "customer_id": customer.id,
            "category_id": create_category().id,
            "title": "Leak",
            "requested_start_at": value,
            "requested_end_at": value,
        },
    )
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["errors"]) >= {"requested_start_at"}
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkOrder)) == before


@pytest.mark.parametrize("name", ["created_from", "created_to"])
@pytest.mark.parametrize("value", EDGES)
def test_list_filters_at_the_edge_of_the_calendar_are_refused(client, office, name, value):
    response = client.get("/api/v1/work-orders", headers=office, query_string={name: value})
    assert response.status_code == 422, response.get_json()
    assert name in response.get_json()["errors"]


@pytest.mark.parametrize("value", EDGES)
def test_a_signature_dated_at_the_edge_is_refused_and_no_file_is_written(
    app, client, phone_job, value
):
    order, phone = phone_job
    files = stored_files(app)
    response = client.post(
        f"/api/mobile/v1/jobs/{order.id}/signature",
        headers=phone,
        json={
            "client_id": new_id(),
            "signer_name": "李女士",
            "signer_role": "customer",
            "signed_at": value,
            "png_base64": base64.b64encode(png_bytes()).decode(),
        },
    )
    assert response.status_code == 422, response.get_json()
    assert "signed_at" in response.get_json()["errors"]
    assert stored_files(app) == files
    assert db.session.scalars(db.select(Attachment)).all() == []


@pytest.mark.parametrize("value", EDGES)
def test_a_photo_captured_at_the_edge_is_refused_and_no_file_is_written(
    app, client, phone_job, value
):
    order, phone = phone_job
    files = stored_files(app)
    response = client.post(
        f"/api/mobile/v1/jobs/{order.id}/photos",
        headers=phone,
        content_type="multipart/form-data",
        data={
            "file": (io.BytesIO(jpeg_bytes()), "p.jpg"),
            "client_id": new_id(),
            "captured_at": value,
        },
    )
    assert response.status_code == 422, response.get_json()
    assert "captured_at" in response.get_json()["errors"]
    assert stored_files(app) == files


@pytest.mark.parametrize("value", EDGES)
def test_a_step_stamped_at_the_edge_is_refused_and_changes_nothing(client, phone_job, value):
    order, phone = phone_job
    version = order.version
    response = client.post(
        f"/api/mobile/v1/jobs/{order.id}/transitions",
        headers=phone,
        json={"transition": "accept", "expected_version": version, "captured_at": value},
    )
    assert response.status_code == 422, response.get_json()
    db.session.refresh(order)
    assert (order.state, order.version) == ("assigned", version)
