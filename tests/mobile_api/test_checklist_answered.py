"""A phone that ticks checklist items (``{"key": …, "ok": true}``) has answered them."""

from __future__ import annotations

from server.extensions import db
from server.models import WorkOrder
from server.services.work_orders import order_facts


def checklist_reasons(client, phone, job_id):
    detail = client.get(f"/api/mobile/v1/jobs/{job_id}", headers=phone).get_json()
    return {
        reason["code"]
        for step in detail["transitions"]
        for reason in step["reasons"]
        if "checklist" in reason["code"]
    }


def save(client, phone, job_id, checklist):
    response = client.put(
        f"/api/mobile/v1/jobs/{job_id}/report", headers=phone, json={"checklist": checklist}
    )
    assert response.status_code == 200, response.get_json()


def facts(job_id):
    db.session.expire_all()
    return order_facts(db.session.get(WorkOrder, job_id))


def test_ticks_and_crosses_count_as_answers(client, phone, job):
    save(client, phone, job.id, [{"key": "safety", "ok": True}, {"key": "test", "ok": False}])
    assert (facts(job.id).checklist_done, facts(job.id).checklist_total) == (2, 2)


def test_text_answers_still_count_and_blank_ones_do_not(client, phone, job):
    save(
        client,
        phone,
        job.id,
        [{"key": "safety", "answer": "isolated at the board"}, {"key": "test", "answer": "  "}],
    )
    assert facts(job.id).checklist_done == 1
    save(client, phone, job.id, [{"key": "safety", "ok": None}, {"key": "test", "answer": None}])
    assert facts(job.id).checklist_done == 0


def test_the_phone_sees_the_checklist_reason_go_once_ticked(client, phone, job):
    from server.services.work_orders import apply_transition

    # The repair workflow, up to where "complete" checks the checklist.
    for step in ("accept", "start_travel", "arrive", "start_work"):
        order = db.session.get(WorkOrder, job.id)
        apply_transition(order, step, job.assignee, {}, order.version)
    db.session.flush()
    before = checklist_reasons(client, phone, job.id)
    save(client, phone, job.id, [{"key": "safety", "ok": True}, {"key": "test", "ok": True}])
    after = checklist_reasons(client, phone, job.id)
    assert "guard.checklist_complete" in before
    assert after == set()


def test_the_rule_is_stated_in_the_openapi_document(client):
    spec = client.get("/api/mobile/v1/openapi.json").get_json()
    answer = spec["components"]["schemas"]["ChecklistAnswer"]
    assert '{"key": "safety", "ok": true}' in answer["description"]
    assert "answered" in answer["description"]
