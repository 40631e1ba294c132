"""The work order resource of the integration API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.extensions import db
from server.models import OutboxMessage, Role, WorkOrder
from server.models.base import utcnow
from server.services.work_orders import apply_transition


@pytest.fixture
def dispatcher(create_user):
    return create_user(Role.DISPATCHER)


@pytest.fixture
def headers(dispatcher, api_headers):
    return api_headers(dispatcher)


def test_create_work_order_numbers_it_and_starts_its_workflow(
    client, headers, create_category, create_customer
):
    category = create_category()
    customer = create_customer()
    site = customer.sites[0]
    response = client.post(
        "/api/v1/work-orders",
        headers=headers,
        json={
            "category_id": category.id,
            "customer_id": customer.id,
            "site_id": site.id,
            "asset_id": site.assets[0].id,
            "title": "空调漏水 AC leaking",
            "channel": "phone",
            "priority": "high",
            "description": "外机滴水",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    year = utcnow().year
    assert body["number"].startswith(f"WO-{year}-")
    assert len(body["number"]) == len(f"WO-{year}-000001")
    assert body["state"] == "new"
    assert body["workflow_name"] == "repair"
    assert body["title"] == "空调漏水 AC leaking"
    assert body["version"] == 1
    assert body["deadlines"]["respond"]["due_at"] is not None
    assert [e["kind"] for e in body["events"]] == ["WorkOrderCreated"]
    assert response.headers["ETag"] == '"1"'


def test_numbers_are_unique_and_increase(client, headers, create_category, create_customer):
    category, customer = create_category(), create_customer()
    numbers = [
        client.post(
            "/api/v1/work-orders",
            headers=headers,
            json={"category_id": category.id, "customer_id": customer.id, "title": f"Job {i}"},
        ).get_json()["number"]
        for i in range(3)
    ]
    assert len(set(numbers)) == 3
    assert numbers == sorted(numbers)


def test_site_of_another_customer_is_refused(client, headers, create_category, create_customer):
    category, mine, theirs = create_category(), create_customer(), create_customer()
    response = client.post(
        "/api/v1/work-orders",
        headers=headers,
        json={
            "category_id": category.id,
            "customer_id": mine.id,
            "site_id": theirs.sites[0].id,
            "title": "x",
        },
    )
    assert response.status_code == 422
    assert "site_id" in response.get_json()["errors"]


def test_patch_with_current_version_changes_and_records_history(client, headers, create_work_order):
    order = create_work_order()
    response = client.patch(
        f"/api/v1/work-orders/{order.id}",
        headers=headers,
        json={"expected_version": 1, "priority": "emergency", "title": "Urgent"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["priority"] == "emergency"
    assert body["version"] == 2
    assert body["events"][-1]["kind"] == "WorkOrderUpdated"
    assert body["events"][-1]["data"]["changes"]["priority"] == ["normal", "emergency"]


def test_stale_version_is_a_conflict_that_changes_nothing(client, headers, create_work_order):
    order = create_work_order()
    first = client.patch(
        f"/api/v1/work-orders/{order.id}",
        headers=headers,
        json={"expected_version": 1, "title": "First"},
    )
    assert first.status_code == 200
    second = client.patch(
        f"/api/v1/work-orders/{order.id}",
        headers=headers,
        json={"expected_version": 1, "title": "Second"},
    )
    assert second.status_code == 409
    assert second.get_json()["current_version"] == 2
    assert (
        client.get(f"/api/v1/work-orders/{order.id}", headers=headers).get_json()["title"]
        == "First"
    )


def test_if_match_header_works_as_expected_version(client, headers, create_work_order):
    order = create_work_order()
    ok = client.patch(
        f"/api/v1/work-orders/{order.id}",
        headers=headers | {"If-Match": '"1"'},
        json={"title": "Via If-Match"},
    )
    assert ok.status_code == 200
    stale = client.patch(
        f"/api/v1/work-orders/{order.id}",
        headers=headers | {"If-Match": '"1"'},
        json={"title": "Again"},
    )
    assert stale.status_code == 409


def test_patch_without_version_is_428(client, headers, create_work_order):
    order = create_work_order()
    response = client.patch(f"/api/v1/work-orders/{order.id}", headers=headers, json={"title": "x"})
    assert response.status_code == 428


def test_assign_moves_the_order_and_queues_a_push_to_the_technician(
    client, headers, create_work_order, create_user
):
    order = create_work_order()
    tech = create_user(Role.TECHNICIAN)
    response = client.post(
        f"/api/v1/work-orders/{order.id}/assign",
        headers=headers,
        json={"technician_id": tech.id, "expected_version": 1},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "assigned"
    assert body["assignee"]["id"] == tech.id
    assert body["events"][-1]["kind"] == "WorkOrderAssigned"
    actions = db.session.scalars(
        db.select(OutboxMessage.action).where(OutboxMessage.work_order_id == order.id)
    ).all()
    assert "notify" in actions


def test_assigning_someone_without_the_skill_is_refused_with_a_reason(
    client, headers, create_work_order, create_user, create_category
):
    order = create_work_order(
        category=create_category(required_skill="elevator", required_skill_level=3)
    )
    tech = create_user(Role.TECHNICIAN)
    response = client.post(
        f"/api/v1/work-orders/{order.id}/assign",
        headers=headers,
        json={"technician_id": tech.id, "expected_version": 1},
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "transition_refused"
    assert "elevator" in body["detail"]


def test_assigning_a_dispatcher_is_refused(client, headers, create_work_order, dispatcher):
    order = create_work_order()
    response = client.post(
        f"/api/v1/work-orders/{order.id}/assign",
        headers=headers,
        json={"technician_id": dispatcher.id, "expected_version": 1},
    )
    assert response.status_code == 422
    assert "assignee_id" in response.get_json()["errors"]


def test_reassign_and_unassign(client, headers, create_work_order, create_user):
    order = create_work_order()
    first, second = create_user(Role.TECHNICIAN), create_user(Role.TECHNICIAN)
    client.post(
        f"/api/v1/work-orders/{order.id}/assign",
        headers=headers,
        json={"technician_id": first.id, "expected_version": 1},
    )
    again = client.post(
        f"/api/v1/work-orders/{order.id}/assign",
        headers=headers,
        json={"technician_id": second.id, "expected_version": 2},
    )
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["assignee"]["id"] == second.id
    back = client.post(
        f"/api/v1/work-orders/{order.id}/unassign",
        headers=headers,
        json={"expected_version": 3, "reason": "customer asked to wait"},
    )
    assert back.status_code == 200, back.get_json()
    assert back.get_json()["assignee"] is None


def test_list_filters_by_state_priority_assignee_and_text(
    client, headers, create_work_order, create_user
):
    tech = create_user(Role.TECHNICIAN)
    urgent = create_work_order(title="Lift stuck 电梯困人", priority="emergency")
    create_work_order(title="Dripping tap", priority="low")
    client.post(
        f"/api/v1/work-orders/{urgent.id}/assign",
        headers=headers,
        json={"technician_id": tech.id, "expected_version": 1},
    )

    def numbers(query):
        response = client.get(f"/api/v1/work-orders?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return {item["title"] for item in response.get_json()["items"]}

    assert numbers("priority=emergency") == {"Lift stuck 电梯困人"}
    assert numbers("state=assigned") == {"Lift stuck 电梯困人"}
    assert numbers(f"assignee_id={tech.id}") == {"Lift stuck 电梯困人"}
    assert numbers("assignee_id=0") == {"Dripping tap"}
    assert numbers("q=电梯") == {"Lift stuck 电梯困人"}
    assert numbers("q=tap") == {"Dripping tap"}
    assert numbers("q=100%25") == set()  # a literal % is not a wildcard


def test_list_date_range_and_customer_filters(client, headers, create_work_order, create_customer):
    customer = create_customer()
    old = create_work_order(customer=customer, title="Old")
    old.created_at = utcnow() - timedelta(days=30)
    create_work_order(customer=customer, title="New")
    create_work_order(title="Someone else's")
    db.session.flush()
    since = (utcnow() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    response = client.get(
        f"/api/v1/work-orders?customer_id={customer.id}&created_from={since}", headers=headers
    )
    assert response.status_code == 200, response.get_json()
    assert [i["title"] for i in response.get_json()["items"]] == ["New"]


def test_cursor_pagination_walks_every_order_once(client, headers, create_work_order):
    created = {create_work_order(title=f"Job {i}").number for i in range(7)}
    seen, cursor = [], None
    while True:
        url = "/api/v1/work-orders?limit=3&sort=number" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=headers).get_json()
        seen.extend(item["number"] for item in body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(created)


def test_listing_runs_a_bounded_number_of_queries_whatever_the_page_size(
    client, headers, create_work_order, create_user, count_queries
):
    tech = create_user(Role.TECHNICIAN)
    for index in range(60):
        order = create_work_order(title=f"Job {index}")
        order.assignee_id = tech.id if index % 2 else None
    db.session.flush()
    counts = {}
    for size in (5, 50):
        with count_queries() as statements:
            response = client.get(f"/api/v1/work-orders?limit={size}", headers=headers)
        assert response.status_code == 200
        assert len(response.get_json()["items"]) == size
        counts[size] = len(statements)
    assert counts[5] == counts[50]
    assert counts[50] <= 8


def test_get_returns_history_in_order(client, headers, create_work_order, create_user):
    order = create_work_order()
    tech = create_user(Role.TECHNICIAN)
    client.post(
        f"/api/v1/work-orders/{order.id}/assign",
        headers=headers,
        json={"technician_id": tech.id, "expected_version": 1},
    )
    body = client.get(f"/api/v1/work-orders/{order.id}", headers=headers).get_json()
    assert [e["kind"] for e in body["events"]] == ["WorkOrderCreated", "WorkOrderAssigned"]
    assert body["events"][1]["from_state"] == "new"
    assert body["events"][1]["to_state"] == "assigned"


def test_workflow_transition_endpoint_refuses_an_illegal_step(client, headers, create_work_order):
    order = create_work_order()
    response = client.post(
        f"/api/v1/work-orders/{order.id}/transitions",
        headers=headers,
        json={"transition": "complete", "expected_version": 1},
    )
    assert response.status_code == 422
    assert response.get_json()["code"] == "transition_refused"
    assert db.session.get(WorkOrder, order.id).state == "new"


def test_available_transitions_are_listed_in_the_callers_language(
    client, create_work_order, create_user, api_headers
):
    dispatcher = create_user(Role.DISPATCHER, locale="zh_CN")
    order = create_work_order(actor=dispatcher)
    body = client.get(
        f"/api/v1/work-orders/{order.id}/transitions", headers=api_headers(dispatcher)
    ).get_json()
    assert body["state"] == "new"
    assert body["version"] == 1
    by_name = {item["name"]: item for item in body["items"]}
    assert by_name["assign"]["label"] == "派工"
    assert by_name["triage"]["enabled"] is True
    cancel_inputs = {field["name"]: field for field in by_name["cancel"]["input"]}
    assert cancel_inputs["reason"]["required"] is True


def test_technician_sees_why_a_step_is_disabled(
    client, create_work_order, create_user, api_headers
):
    dispatcher = create_user(Role.DISPATCHER)
    tech = create_user(Role.TECHNICIAN, locale="zh_CN")
    order = create_work_order(actor=dispatcher)
    headers = api_headers(dispatcher)
    client.post(
        f"/api/v1/work-orders/{order.id}/assign",
        headers=headers,
        json={"technician_id": tech.id, "expected_version": 1},
    )
    for name in ("accept", "start_travel", "arrive", "start_work"):
        order_version = client.get(f"/api/v1/work-orders/{order.id}", headers=headers).get_json()[
            "version"
        ]
        apply_transition(db.session.get(WorkOrder, order.id), name, tech, {}, order_version)
    body = client.get(
        f"/api/v1/work-orders/{order.id}/transitions", headers=api_headers(tech)
    ).get_json()
    complete = next(item for item in body["items"] if item["name"] == "complete")
    assert complete["enabled"] is False
    codes = {reason["code"] for reason in complete["reasons"]}
    assert {"guard.photos_at_least", "guard.signature_present"} <= codes
    assert all(
        any("\u4e00" <= ch <= "\u9fff" for ch in reason["message"])
        for reason in complete["reasons"]
    )


def test_console_draws_the_workflow_with_the_current_state(client, create_work_order, create_user):
    from tests.factories import PASSWORD

    dispatcher = create_user(Role.DISPATCHER)
    order = create_work_order(actor=dispatcher)
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    client.post(
        "/login", data={"username": dispatcher.username, "password": PASSWORD, "csrf_token": token}
    )
    response = client.get(f"/work-orders/{order.id}/workflow.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.count(' current"') == 1  # the state group's class list
    assert client.get("/work-orders/2147480000/workflow.svg").status_code == 404
