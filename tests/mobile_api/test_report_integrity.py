"""Who signed, and whose report wins: the sign-off and the report as two phones see them."""

from __future__ import annotations

import base64
import io

import pytest

from server.extensions import db
from server.models import PartUsage, WorkOrder
from tests.mobile_api.conftest import jpeg_bytes, new_id, png_bytes


def move(client, phone, job_id, transition, version, **extra):
    body = {"transition": transition, "expected_version": version} | extra
    return client.post(f"/api/mobile/v1/jobs/{job_id}/transitions", headers=phone, json=body)


def work_until_ready(client, phone, job) -> int:
    """Take the job to 'in progress' with a photo and a full checklist; return its version."""
    version = job.version
    for step in ("accept", "start_travel", "arrive", "start_work"):
        response = move(client, phone, job.id, step, version)
        assert response.status_code == 200, response.get_json()
        version = response.get_json()["version"]
    photo = client.post(
        f"/api/mobile/v1/jobs/{job.id}/photos",
        headers=phone,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(jpeg_bytes()), "p.jpg"), "client_id": new_id()},
    )
    assert photo.status_code in (200, 201), photo.get_json()
    report = client.put(
        f"/api/mobile/v1/jobs/{job.id}/report",
        headers=phone,
        json={
            "checklist": [{"key": "safety", "answer": "yes"}, {"key": "test", "answer": "ok"}],
            "resolution_code": "adjusted",
        },
    )
    assert report.status_code == 200, report.get_json()
    return version


def sign(client, phone, job, role, name):
    response = client.post(
        f"/api/mobile/v1/jobs/{job.id}/signature",
        headers=phone,
        json={
            "client_id": new_id(),
            "signer_name": name,
            "signer_role": role,
            "signed_at": "2026-11-23T10:00:00+08:00",
            "png_base64": base64.b64encode(png_bytes()).decode(),
        },
    )
    assert response.status_code in (200, 201), response.get_json()


def test_a_technicians_own_signature_never_completes_an_order_that_needs_the_customers(
    client, phone, job
):
    version = work_until_ready(client, phone, job)
    sign(client, phone, job, "technician", "王师傅")
    refused = move(
        client, phone, job.id, "complete", version, input={"resolution_code": "adjusted"}
    )
    assert refused.status_code == 422, refused.get_json()
    assert [r["code"] for r in refused.get_json()["reasons"]] == ["guard.signature_present"]
    assert db.session.get(WorkOrder, job.id).completed_at is None

    sign(client, phone, job, "customer", "李女士")
    done = move(client, phone, job.id, "complete", version, input={"resolution_code": "adjusted"})
    assert done.status_code == 200, done.get_json()
    assert db.session.get(WorkOrder, job.id).completed_at is not None


def test_the_completion_sheet_names_who_signed_in_which_role(client, phone, job, app):
    from server.models import WorkOrderEvent
    from server.services.completion_sheets import sheet_data

    version = work_until_ready(client, phone, job)
    sign(client, phone, job, "technician", "王师傅")
    sign(client, phone, job, "customer", "李女士")
    assert (
        move(
            client, phone, job.id, "complete", version, input={"resolution_code": "adjusted"}
        ).status_code
        == 200
    )
    order = db.session.get(WorkOrder, job.id)
    completion = db.session.scalars(
        db.select(WorkOrderEvent).where(
            WorkOrderEvent.work_order_id == job.id, WorkOrderEvent.transition == "complete"
        )
    ).one()
    signatures = sheet_data(
        order, completion, app.config["FIELDWORK_SETTINGS"], document_id="d", revision=1
    )["signatures"]
    assert signatures["customer"]["name"] == "李女士"
    assert signatures["technician"]["name"] == "王师傅"


def report_url(job):
    return f"/api/mobile/v1/jobs/{job.id}/report"


def part(number):
    return {"part_number": number, "description": number, "quantity": 1}


@pytest.mark.parametrize(
    "second_save",
    [
        {"parts": [part("B")]},
        {"labour_minutes": 30},
        {"checklist": [{"key": "safety", "answer": "yes"}]},
        {"work_notes": "phone Y"},
        {"resolution_code": "adjusted"},
        {"follow_up_needed": True},
    ],
    ids=lambda body: next(iter(body)),
)
def test_a_stale_save_of_any_part_of_the_report_is_409_with_the_current_report(
    client, phone, job, second_save
):
    first = client.put(report_url(job), headers=phone, json={"work_notes": "start"})
    assert first.status_code == 200
    seen_by_both = first.get_json()["version"]

    phone_x = client.put(
        report_url(job),
        headers=phone,
        json={"parts": [part("A")], "expected_version": seen_by_both},
    )
    assert phone_x.status_code == 200
    assert phone_x.get_json()["version"] == seen_by_both + 1

    phone_y = client.put(
        report_url(job), headers=phone, json=second_save | {"expected_version": seen_by_both}
    )
    assert phone_y.status_code == 409, phone_y.get_json()
    body = phone_y.get_json()
    assert body["code"] == "version_conflict"
    assert body["current_version"] == seen_by_both + 1
    assert [p["part_number"] for p in body["report"]["parts"]] == ["A"]
    assert body["report"]["work_notes"] == "start"
    parts = db.session.scalars(db.select(PartUsage).where(PartUsage.work_order_id == job.id))
    assert [p.part_number for p in parts] == ["A"]


def test_each_save_moves_the_version_on_so_the_next_save_needs_the_new_one(client, phone, job):
    versions = []
    for body in ({"parts": [part("A")]}, {"parts": [part("B")]}, {"labour_minutes": 5}):
        saved = client.put(report_url(job), headers=phone, json=body)
        assert saved.status_code == 200
        versions.append(saved.get_json()["version"])
    assert versions == [1, 2, 3]
    current = client.put(
        report_url(job), headers=phone, json={"parts": [part("C")], "expected_version": 3}
    )
    assert current.status_code == 200
    assert [p["part_number"] for p in current.get_json()["parts"]] == ["C"]
