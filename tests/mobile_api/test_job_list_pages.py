"""The phone's first page of ``GET /jobs``, kept as sent while nothing on it changed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from server.extensions import db
from server.models import JobListPage
from server.models.base import utcnow
from server.services.erasure import erase_work_orders
from server.services.work_orders import update_work_order

JOBS = "/api/mobile/v1/jobs"


def stored_pages() -> int:
    return db.session.scalar(select(func.count()).select_from(JobListPage)) or 0


def test_an_unchanged_list_is_sent_again_byte_for_byte_without_the_list_query(
    client, phone, create_work_order, tech, assign, count_queries
):
    for _ in range(30):
        assign(create_work_order(), tech)
    first = client.get(JOBS, headers=phone)

    with count_queries() as statements:
        again = client.get(JOBS, headers=phone)

    assert again.status_code == 200
    assert again.data == first.data
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.mimetype == "application/json"
    assert len(again.get_json()["items"]) == 30
    # One statement: the sign-in check reads the feed position and the kept page with it;
    # no list query (the savepoints are the test's own transaction).
    queries = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))]
    assert len(queries) == 1, queries
    assert not any("work_orders" in query for query in queries)


def test_a_change_is_on_the_next_page_and_that_page_is_kept_in_turn(
    client, phone, create_work_order, tech, assign, dispatcher
):
    order = assign(create_work_order(), tech)
    client.get(JOBS, headers=phone)
    update_work_order(order, {"title": "Bring the long ladder"}, dispatcher, order.version)

    changed = client.get(JOBS, headers=phone)
    again = client.get(JOBS, headers=phone)

    assert changed.get_json()["items"][0]["title"] == "Bring the long ladder"
    assert again.data == changed.data


def test_each_technician_gets_their_own_page(
    client, phone, api_headers, create_work_order, tech, other_tech, assign
):
    from server.models import TokenAudience

    mine = assign(create_work_order(), tech)
    theirs = assign(create_work_order(), other_tech)
    other_phone = api_headers(other_tech, TokenAudience.MOBILE)
    for _ in range(2):  # the second round is served from the stored pages
        assert [i["id"] for i in client.get(JOBS, headers=phone).get_json()["items"]] == [mine.id]
        assert [i["id"] for i in client.get(JOBS, headers=other_phone).get_json()["items"]] == [
            theirs.id
        ]


def test_a_new_language_gets_a_new_page(client, phone, create_work_order, tech, assign):
    assign(create_work_order(), tech)
    chinese = client.get(JOBS, headers=phone).get_json()["items"][0]["state_label"]
    tech.locale = "en"
    db.session.flush()

    english = client.get(JOBS, headers=phone).get_json()["items"][0]["state_label"]

    assert chinese == "已派工"
    assert english != chinese


def test_todays_list_is_rebuilt_on_the_next_day(
    client, phone, create_work_order, tech, assign, monkeypatch
):
    order = assign(create_work_order(), tech)
    order.scheduled_start_at = utcnow() + timedelta(hours=1)
    db.session.flush()
    today = client.get(f"{JOBS}?scope=today", headers=phone)
    tomorrow = utcnow() + timedelta(days=1, hours=2)
    monkeypatch.setattr("mobile_api.jobs.utcnow", lambda: tomorrow)

    next_day = client.get(f"{JOBS}?scope=today", headers=phone)

    assert [i["id"] for i in today.get_json()["items"]] in ([order.id], [])
    assert next_day.headers["ETag"] != today.headers["ETag"]
    assert next_day.get_json()["items"] == []


def test_only_first_pages_of_the_default_size_are_kept(
    client, phone, create_work_order, tech, assign
):
    for _ in range(3):
        assign(create_work_order(), tech)
    first = client.get(f"{JOBS}?limit=2", headers=phone).get_json()
    client.get(f"{JOBS}?limit=2&page={first['next_page']}", headers=phone)
    client.get(f"{JOBS}?since={first['sync_cursor']}", headers=phone)
    assert stored_pages() == 0

    client.get(JOBS, headers=phone)
    client.get(f"{JOBS}?scope=recent", headers=phone)
    assert stored_pages() == 2


def test_erasing_orders_drops_every_stored_page(
    client, phone, create_work_order, tech, other_tech, assign, dispatcher
):
    order = assign(create_work_order(), tech)
    client.get(JOBS, headers=phone)
    # The order leaves this technician: their stored page still names its customer.
    from server.services.work_orders import apply_transition

    apply_transition(order, "reassign", dispatcher, {"assignee_id": other_tech.id}, order.version)
    assert stored_pages() == 1

    erase_work_orders([order.id])
    db.session.flush()

    assert stored_pages() == 0
    assert client.get(JOBS, headers=phone).get_json()["items"] == []
