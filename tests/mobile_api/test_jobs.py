"""Moving a job, the job detail and the field report, as the phone does it."""

from __future__ import annotations

from server.extensions import db
from server.models import TokenAudience, WorkOrder, WorkOrderEvent
from tests.factories import PASSWORD


def move(client, phone, job_id, transition, version, **extra):
    body = {"transition": transition, "expected_version": version} | extra
    return client.post(f"/api/mobile/v1/jobs/{job_id}/transitions", headers=phone, json=body)


def test_technician_signs_in_but_a_dispatcher_may_not(client, tech, dispatcher):
    ok = client.post(
        "/api/mobile/v1/auth/token", json={"username": tech.username, "password": PASSWORD}
    )
    assert ok.status_code == 200
    refused = client.post(
        "/api/mobile/v1/auth/token", json={"username": dispatcher.username, "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "wrong_api"


def test_dispatcher_api_token_does_not_work_here(client, dispatcher, api_headers, job):
    headers = api_headers(dispatcher, TokenAudience.API)
    assert client.get("/api/mobile/v1/jobs", headers=headers).status_code == 401
    assert client.get(f"/api/mobile/v1/jobs/{job.id}", headers=headers).status_code == 401


def test_job_detail_has_what_the_technician_needs(client, phone, job):
    body = client.get(f"/api/mobile/v1/jobs/{job.id}", headers=phone).get_json()
    assert body["customer"]["contacts"][0]["phone"].startswith("+86")
    assert body["site"]["address"]
    assert body["site"]["latitude"]
    assert body["asset"]["model"] == "Gree GMV6"
    assert [item["label"] for item in body["checklist"]] == ["已断电", "功能测试"]
    by_name = {t["name"]: t for t in body["transitions"]}
    assert by_name["accept"]["enabled"]
    assert by_name["accept"]["label"] == "接单"
    assert by_name["decline"]["input"][0]["required"] is True
    assert body["version"] == job.version


def test_accept_travel_arrive_records_the_phone_clock_and_location(client, phone, job):
    version = job.version
    accepted = move(
        client, phone, job.id, "accept", version, captured_at="2026-11-23T09:00:00+08:00"
    )
    assert accepted.status_code == 200, accepted.get_json()
    version = accepted.get_json()["version"]
    travelling = move(client, phone, job.id, "start_travel", version)
    arrived = move(
        client,
        phone,
        job.id,
        "arrive",
        travelling.get_json()["version"],
        location={"latitude": 31.19, "longitude": 121.43, "accuracy_m": 8},
    )
    assert arrived.status_code == 200
    assert arrived.get_json()["state"] == "on_site"
    event = db.session.scalars(
        db.select(WorkOrderEvent).where(
            WorkOrderEvent.work_order_id == job.id, WorkOrderEvent.transition == "arrive"
        )
    ).one()
    assert event.data["location"]["latitude"] == 31.19
    first = db.session.scalars(
        db.select(WorkOrderEvent).where(
            WorkOrderEvent.work_order_id == job.id, WorkOrderEvent.transition == "accept"
        )
    ).one()
    assert first.data["captured_at"] == "2026-11-23T09:00:00+08:00"  # the phone's own clock
    visit = db.session.get(WorkOrder, job.id).current_visit
    assert visit.arrived_at is not None
    assert visit.travel_started_at is not None


def test_stale_version_is_409_with_the_current_state_and_changes_nothing(client, phone, job):
    seen = job.version  # what both of the technician's phones show
    assert move(client, phone, job.id, "accept", seen).status_code == 200
    stale = move(client, phone, job.id, "decline", seen, input={"reason": "sick"})
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["state"] == "accepted"
    assert body["current_version"] == seen + 1
    assert "start_travel" in {t["name"] for t in body["transitions"]}
    assert db.session.get(WorkOrder, job.id).state == "accepted"


def test_missing_version_is_428(client, phone, job):
    response = client.post(
        f"/api/mobile/v1/jobs/{job.id}/transitions", headers=phone, json={"transition": "accept"}
    )
    assert response.status_code == 428


def test_failed_guard_says_why_in_the_technicians_language(client, phone, job):
    version = job.version
    for step in ("accept", "start_travel", "arrive", "start_work"):
        response = move(client, phone, job.id, step, version)
        version = response.get_json()["version"]
    refused = move(
        client, phone, job.id, "complete", version, input={"resolution_code": "adjusted"}
    )
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["code"] == "transition_refused"
    messages = " ".join(r["message"] for r in body["reasons"])
    assert "照片" in messages
    assert "签名" in messages


def test_replayed_transition_returns_the_first_result(client, phone, job):
    headers = phone | {"Idempotency-Key": "accept-1"}
    seen = job.version
    first = move(client, headers, job.id, "accept", seen)
    second = move(client, headers, job.id, "accept", seen)
    assert first.status_code == second.status_code == 200
    assert first.get_data() == second.get_data()
    assert second.headers["Idempotent-Replayed"] == "true"
    accepted = db.session.scalars(
        db.select(WorkOrderEvent).where(
            WorkOrderEvent.work_order_id == job.id, WorkOrderEvent.transition == "accept"
        )
    ).all()
    assert len(accepted) == 1


def test_same_key_with_another_body_is_422(client, phone, job):
    headers = phone | {"Idempotency-Key": "k-2"}
    seen = job.version
    assert move(client, headers, job.id, "accept", seen).status_code == 200
    other = move(client, headers, job.id, "decline", seen, input={"reason": "x"})
    assert other.status_code == 422
    assert other.get_json()["code"] == "idempotency_key_reused"


def test_a_refusal_is_replayed_too_and_still_changes_nothing(client, phone, job):
    headers = phone | {"Idempotency-Key": "k-3"}
    first = move(client, headers, job.id, "start_work", job.version)
    assert first.status_code == 422
    again = move(client, headers, job.id, "start_work", job.version)
    assert again.status_code == 422
    assert again.headers["Idempotent-Replayed"] == "true"


def test_report_saves_drafts_and_locks_after_completion(client, phone, job, tech):
    url = f"/api/mobile/v1/jobs/{job.id}/report"
    draft = client.put(
        url,
        headers=phone,
        json={
            "work_notes": "更换启动电容",
            "checklist": [{"key": "safety", "answer": "done", "ok": True}],
            "parts": [{"part_number": "CAP-35", "description": "启动电容 35µF", "quantity": 1}],
            "labour_minutes": 45,
            "resolution_code": "replaced_part",
            "follow_up_needed": False,
        },
    )
    assert draft.status_code == 200, draft.get_json()
    body = draft.get_json()
    assert body["parts"][0]["part_number"] == "CAP-35"
    assert body["version"] == 1
    stale = client.put(url, headers=phone, json={"work_notes": "x", "expected_version": 7})
    assert stale.status_code == 409
    unknown = client.put(
        url, headers=phone, json={"checklist": [{"key": "teleport", "answer": "y"}]}
    )
    assert unknown.status_code == 422
    order = db.session.get(WorkOrder, job.id)
    order.completed_at = order.created_at
    db.session.flush()
    locked = client.put(url, headers=phone, json={"work_notes": "late edit"})
    assert locked.status_code == 409
    assert locked.get_json()["code"] == "report_locked"


def test_status_and_devices(client, phone, tech):
    status = client.post("/api/mobile/v1/me/status", headers=phone, json={"status": "on_break"})
    assert status.status_code == 200
    me = client.get("/api/mobile/v1/me", headers=phone).get_json()
    assert me["status"]["status"] == "on_break"
    created = client.post(
        "/api/mobile/v1/devices",
        headers=phone,
        json={"push_token": "fcm-token-1", "platform": "android", "app_version": "2.3.1"},
    )
    assert created.status_code == 201
    again = client.post(
        "/api/mobile/v1/devices",
        headers=phone,
        json={"push_token": "fcm-token-1", "platform": "android", "app_version": "2.4.0"},
    )
    assert again.status_code == 200
    assert again.get_json()["id"] == created.get_json()["id"]
    assert again.get_json()["app_version"] == "2.4.0"
    gone = client.delete(f"/api/mobile/v1/devices/{created.get_json()['id']}", headers=phone)
    assert gone.status_code == 204
    assert (
        client.delete(
            f"/api/mobile/v1/devices/{created.get_json()['id']}", headers=phone
        ).status_code
        == 404
    )
