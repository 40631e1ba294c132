"""Full and delta sync of the technician's job list."""

from __future__ import annotations

from server.extensions import db
from server.services.job_feed import prune_feed
from server.services.work_orders import apply_transition, update_work_order


def jobs(client, phone, query=""):
    response = client.get(f"/api/mobile/v1/jobs{query}", headers=phone)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_full_sync_lists_my_jobs_in_pages(client, phone, create_work_order, tech, assign):
    mine = [assign(create_work_order(), tech).id for _ in range(5)]
    create_work_order()  # not mine
    first = jobs(client, phone, "?limit=2")
    seen = [item["id"] for item in first["items"]]
    page = first["next_page"]
    while page:
        body = jobs(client, phone, f"?limit=2&page={page}")
        assert body["sync_cursor"] == first["sync_cursor"]
        seen += [item["id"] for item in body["items"]]
        page = body["next_page"]
    assert sorted(seen) == sorted(mine)
    assert first["items"][0]["state_label"] == "已派工"


def test_delta_sync_returns_exactly_what_changed_and_what_left(
    client, phone, create_work_order, tech, other_tech, dispatcher, assign
):
    kept = assign(create_work_order(), tech)
    edited = assign(create_work_order(), tech)
    reassigned = assign(create_work_order(), tech)
    cancelled = assign(create_work_order(), tech)
    untouched = assign(create_work_order(), tech)
    cursor = jobs(client, phone)["sync_cursor"]

    update_work_order(edited, {"title": "Bring a ladder"}, dispatcher, edited.version)
    apply_transition(
        reassigned, "reassign", dispatcher, {"assignee_id": other_tech.id}, reassigned.version
    )
    apply_transition(
        cancelled, "cancel", dispatcher, {"reason": "customer fixed it"}, cancelled.version
    )
    fresh = assign(create_work_order(), tech)
    assign(create_work_order(), other_tech)  # someone else's news

    delta = jobs(client, phone, f"?since={cursor}")
    assert sorted(item["id"] for item in delta["items"]) == sorted([edited.id, fresh.id])
    assert sorted(delta["removed"]) == sorted([reassigned.id, cancelled.id])
    assert {kept.id, untouched.id}.isdisjoint(item["id"] for item in delta["items"])
    title = next(i["title"] for i in delta["items"] if i["id"] == edited.id)
    assert title == "Bring a ladder"
    # Nothing new since: an empty delta with the same cursor.
    again = jobs(client, phone, f"?since={delta['sync_cursor']}")
    assert again["items"] == []
    assert again["removed"] == []


def test_etag_gives_304_until_something_changes(
    client, phone, create_work_order, tech, assign, dispatcher
):
    order = assign(create_work_order(), tech)
    first = client.get("/api/mobile/v1/jobs", headers=phone)
    etag = first.headers["ETag"]
    same = client.get("/api/mobile/v1/jobs", headers=phone | {"If-None-Match": etag})
    assert same.status_code == 304
    update_work_order(order, {"title": "Changed"}, dispatcher, order.version)
    changed = client.get("/api/mobile/v1/jobs", headers=phone | {"If-None-Match": etag})
    assert changed.status_code == 200


def test_switching_language_is_not_answered_304_with_the_old_names(
    client, phone, create_work_order, tech, assign
):
    assign(create_work_order(), tech)
    tech.locale = "en"
    db.session.flush()
    first = client.get("/api/mobile/v1/jobs", headers=phone)
    tech.locale = "zh_CN"
    db.session.flush()

    again = client.get(
        "/api/mobile/v1/jobs", headers=phone | {"If-None-Match": first.headers["ETag"]}
    )

    assert again.status_code == 200
    assert (
        again.get_json()["items"][0]["state_label"] != first.get_json()["items"][0]["state_label"]
    )


def test_unknown_or_pruned_cursor_is_gone(client, phone, create_work_order, tech, assign):
    assign(create_work_order(), tech)
    assert client.get("/api/mobile/v1/jobs?since=999999", headers=phone).status_code == 410
    cursor = jobs(client, phone)["sync_cursor"]
    assign(create_work_order(), tech)
    from datetime import timedelta

    from server.models.base import utcnow

    prune_feed(before=utcnow() + timedelta(seconds=1))
    db.session.flush()
    response = client.get("/api/mobile/v1/jobs?since=0", headers=phone)
    assert response.status_code == 410
    assert response.get_json()["code"] == "sync_cursor_expired"
    assert cursor  # a full sync gives a fresh cursor
    assert jobs(client, phone)["sync_cursor"]


def test_listing_thirty_jobs_runs_a_bounded_number_of_queries(
    client, phone, create_work_order, tech, assign, count_queries
):
    for _ in range(30):
        assign(create_work_order(), tech)
    with count_queries() as statements:
        body = jobs(client, phone)
    assert len(body["items"]) == 30
    assert len(statements) <= 8, statements


def test_renaming_a_customer_reaches_the_phone(
    client, phone, create_work_order, tech, assign, api_headers, dispatcher
):
    order = assign(create_work_order(), tech)
    first = client.get("/api/mobile/v1/jobs", headers=phone)
    cursor = first.get_json()["sync_cursor"]
    renamed = client.patch(
        f"/api/v1/customers/{order.customer_id}",
        headers=api_headers(dispatcher),
        json={"name": "王建国（新）"},
    )
    assert renamed.status_code == 200
    delta = jobs(client, phone, f"?since={cursor}")
    assert [item["customer_name"] for item in delta["items"]] == ["王建国（新）"]
    full = client.get(
        "/api/mobile/v1/jobs", headers=phone | {"If-None-Match": first.headers["ETag"]}
    )
    assert full.status_code == 200
    assert full.get_json()["items"][0]["customer_name"] == "王建国（新）"


def test_a_page_token_beyond_any_job_id_is_refused_not_a_database_error(client, phone):
    for page in ("2147483648:0", "849280697055:075872684538", "x:1", "1:"):
        response = client.get("/api/mobile/v1/jobs", headers=phone, query_string={"page": page})
        assert response.status_code == 422, (page, response.get_json())
        assert "page" in response.get_json()["errors"]
    fine = client.get("/api/mobile/v1/jobs", headers=phone, query_string={"page": "2147483647:0"})
    assert fine.status_code == 200
    assert fine.get_json()["items"] == []
