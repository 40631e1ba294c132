"""Console pages through the test client: query budgets, form errors, CSRF, exports."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from server.extensions import db
from server.models import Role
from server.models.base import utcnow
from server.services.ownership import owner_chain
from server.services.work_orders import apply_transition
from tests.console.conftest import csrf_token
from tests.factories import PASSWORD


def test_first_list_page_costs_the_same_few_statements_for_5_or_60_orders(
    client, office, create_work_order, create_customer, create_category, count_queries
):
    user, _token = office
    category, customer = create_category(), create_customer()
    for _ in range(5):
        create_work_order(category=category, customer=customer, actor=user)
    with count_queries() as small:
        assert client.get("/work-orders").status_code == 200
    for _ in range(55):
        create_work_order(category=create_category(), customer=create_customer(), actor=user)
    with count_queries() as large:
        page = client.get("/work-orders?sort=-updated_at&deadline=ok&q=AC")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count("data-order=") == 50
    assert len(large) == len(small) <= 12


def test_filters_narrow_the_list_and_bad_values_are_explained_next_to_them(
    client, office, create_work_order
):
    user, _token = office
    late = create_work_order(actor=user, title="Late one")
    late.resolve_by = late.respond_by = late.arrive_by = utcnow() - timedelta(hours=1)
    create_work_order(actor=user, title="Fresh one")
    db.session.flush()
    breached = client.get("/work-orders?deadline=breached").get_data(as_text=True)
    assert late.number in breached
    assert "Fresh one" not in breached
    assert 'class="dl-breached"' in breached
    bad = client.get("/work-orders?priority=urgent&from=yesterday&q=Fresh")
    html = bad.get_data(as_text=True)
    assert "Unknown value: urgent" in html
    assert "Enter a date like 2026-03-01." in html
    assert 'value="Fresh"' in html  # what was typed stays
    assert "Fresh one" in html


def test_csv_export_holds_the_whole_filtered_set(client, office, create_work_order):
    user, _token = office
    orders = [create_work_order(actor=user, title=f"=HYPERLINK {i}") for i in range(3)]
    create_work_order(actor=user, title="other")
    response = client.get("/work-orders.csv?q=HYPERLINK")
    text = response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert all(order.number in text for order in orders)
    assert "other" not in text
    assert "'=HYPERLINK" in text  # formulas defused


def test_intake_rejects_bad_input_next_to_each_field_and_keeps_what_was_typed(
    client, office, create_category
):
    _user, token = office
    category = create_category()
    response = client.post(
        "/intake",
        data={
            "csrf_token": token,
            "new_customer_name": "李雷",
            "new_customer_phone": "call me maybe",
            "new_customer_address": "",
            "category_id": str(category.id),
            "priority": "whenever",
            "channel": "phone",
            "title": "",
            "description": "漏水很严重 keep me",
            "requested_start_at": "2026-03-02T10:00",
            "requested_end_at": "2026-03-02T09:00",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in (
        "Enter a phone number",
        "Enter the address where the work is done.",
        "Choose a priority from the list.",
        "This field is required.",
        "The end must be after the start.",
    ):
        assert message in html
    assert "漏水很严重 keep me" in html
    assert 'value="李雷"' in html
    assert 'value="call me maybe"' in html
    assert html.count('aria-invalid="true"') >= 4


def test_intake_creates_the_order_and_warns_about_an_open_duplicate(
    client, office, create_category, create_customer
):
    _user, token = office
    category, customer = create_category(), create_customer()
    form = {
        "csrf_token": token,
        "customer_id": str(customer.id),
        "site_id": str(customer.sites[0].id),
        "asset_id": str(customer.sites[0].assets[0].id),
        "category_id": str(category.id),
        "priority": "",
        "channel": "email",
        "title": "空调漏水",
    }
    first = client.post("/intake", data=form)
    assert first.status_code == 302
    second = client.post("/intake", data=form)
    assert second.status_code == 422
    assert "already has an open order in this category" in second.get_data(as_text=True)
    third = client.post("/intake", data=form | {"confirm_duplicate": "y"})
    assert third.status_code == 302


def test_customer_search_matches_name_phone_and_address(client, office, create_customer):
    customer = create_customer(name="Hangzhou Tea House")
    phone = customer.contacts[0].phone[-4:]
    address = customer.sites[0].address[-6:]
    for text in ("Tea Hou", phone, address):
        html = client.get(f"/intake/customers?customer_query={text}").get_data(as_text=True)
        assert "Hangzhou Tea House" in html, text


@pytest.mark.parametrize(
    "path",
    [
        "/logout",
        "/intake",
        "/profile",
        "/board/move",
        "/work-orders/{order}/transitions",
        "/admin/outbox/1/redrive",
    ],
)
def test_every_console_form_needs_its_csrf_token(client, office, create_work_order, path):
    user, token = office
    order = create_work_order(actor=user)
    url = path.format(order=order.id)
    refused = client.post(url, data={"title": "x"})
    assert refused.status_code == 400
    accepted = client.post(url, data={"csrf_token": token, "title": "x"})
    assert accepted.status_code != 400 or path == "/admin/outbox/1/redrive"


def test_profile_keeps_bad_input_and_explains_it(client, office):
    _user, token = office
    response = client.post(
        "/profile",
        data={
            "csrf_token": token,
            "profile-csrf_token": token,
            "profile-locale": "zh_CN",
            "profile-timezone": "Mars/Olympus",
            "profile-submit": "1",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Unknown time zone" in html
    assert 'value="Mars/Olympus"' in html
    mismatch = client.post(
        "/profile",
        data={
            "password-csrf_token": token,
            "password-current_password": PASSWORD,
            "password-new_password": "a brand new passphrase",
            "password-confirm_password": "another passphrase",
            "password-submit": "1",
        },
    )
    assert "The two new passwords differ." in mismatch.get_data(as_text=True)


def test_board_assigns_by_form_and_polls_cheaply(
    client, office, create_work_order, create_user, count_queries
):
    user, token = office
    tech = create_user(Role.TECHNICIAN)
    order = create_work_order(actor=user)
    page = client.get("/board")
    counter = re.search(r'data-counter="(\d+)"', page.get_data(as_text=True)).group(1)
    with count_queries() as statements:
        idle = client.get(f"/board/live?since={counter}")
    assert idle.status_code == 204
    assert len(statements) <= 4  # session, user, the change counter
    moved = client.post(
        "/board/move",
        data={
            "csrf_token": token,
            "order_id": order.id,
            "expected_version": order.version,
            "technician_id": tech.id,
            "day": "2026-03-02",
            "hour": "10",
        },
    )
    assert moved.status_code == 302
    db.session.refresh(order)
    assert order.assignee_id == tech.id
    assert order.state == "assigned"
    assert order.scheduled_start_at is not None
    assert client.get(f"/board/live?since={counter}").status_code == 200
    stale = client.post(
        "/board/move",
        data={"csrf_token": token, "order_id": order.id, "expected_version": 1},
        headers={"HX-Request": "true"},
    )
    assert "Someone changed this job meanwhile" in stale.get_data(as_text=True)


def test_detail_shows_disabled_steps_with_their_reasons(
    client, office, create_work_order, create_user
):
    user, _token = office
    order = create_work_order(actor=user)
    apply_transition(order, "assign", user, {"assignee_id": create_user(Role.TECHNICIAN).id}, 1)
    html = client.get(f"/work-orders/{order.id}").get_data(as_text=True)
    assert "workflow.svg" in html
    assert "disabled" in html or "Reassign" in html
    live = client.get(f"/work-orders/{order.id}/live?version={order.version}")
    assert live.status_code == 204


def test_live_header_resends_steps_workflow_and_timeline_once_the_order_moved(
    client, office, create_work_order, create_user
):
    user, _token = office
    order = create_work_order(actor=user)
    seen = order.version
    tech = create_user(Role.TECHNICIAN)
    apply_transition(order, "assign", user, {"assignee_id": tech.id, "note": "Kitchen AC"}, seen)
    html = client.get(f"/work-orders/{order.id}/live?version={seen}").get_data(as_text=True)
    assert 'id="order-live"' in html
    for part in ("order-steps", "order-workflow", "order-timeline"):
        assert f'id="{part}" hx-swap-oob="true"' in html, part
    assert f'name="expected_version" value="{order.version}"' in html
    assert f'name="expected_version" value="{seen}"' not in html
    assert "Kitchen AC" in html  # the assignment's note, now in the timeline


def test_technicians_and_strangers_are_kept_out(client, create_user):
    tech = create_user(Role.TECHNICIAN)
    assert client.get("/work-orders").status_code == 302  # to the login page
    token = csrf_token(client)
    client.post(
        "/login", data={"username": tech.username, "password": PASSWORD, "csrf_token": token}
    )
    for path in ("/work-orders", "/board", "/intake", "/customers", "/admin", "/map"):
        assert client.get(path).status_code == 403, path


def test_vendor_route_serves_only_its_allow_list(client):
    served = client.get("/vendor/htmx.min.js")
    assert served.status_code == 200
    assert served.mimetype == "text/javascript"
    served.close()
    for path in ("/vendor/../package.json", "/vendor/htmx.org/package.json", "/vendor/axe.min.js"):
        assert client.get(path).status_code == 404


def test_dashboard_counts_at_risk_breached_and_unassigned(client, office, create_work_order):
    user, _token = office
    now = utcnow()
    at_risk = create_work_order(actor=user)
    at_risk.created_at = now - timedelta(hours=9)
    at_risk.respond_by = at_risk.arrive_by = None
    at_risk.resolve_by = now + timedelta(hours=1)  # 90 % of its 10 hours used
    breached = create_work_order(actor=user)
    breached.resolve_by = now - timedelta(minutes=5)
    fresh = create_work_order(actor=user)
    fresh.respond_by = fresh.arrive_by = None
    fresh.resolve_by = now + timedelta(days=3)
    db.session.flush()
    html = client.get("/").get_data(as_text=True)
    figures = re.findall(r'<span class="figure">(\d+)</span>\s*([a-z ]+)<', html)
    assert figures == [
        ("3", "unassigned"),
        ("1", "deadlines at risk"),
        ("1", "deadlines breached"),
    ]
    chart = re.search(r'data-chart="([^"]+)"', html).group(1)
    assert "Opened" in chart


def test_admin_sees_workflows_check_and_redrives_a_dead_letter(client, create_user):
    from server.models import OutboxMessage, OutboxStatus

    admin = create_user(Role.ADMIN)
    dead = OutboxMessage(action="notify", payload={}, status=OutboxStatus.DEAD, attempts=8)
    db.session.add(dead)
    db.session.flush()
    token = csrf_token(client)
    client.post(
        "/login", data={"username": admin.username, "password": PASSWORD, "csrf_token": token}
    )
    html = client.get("/admin").get_data(as_text=True)
    assert "All workflow definitions are valid." in html
    assert "/workflows/repair.svg" in html
    assert f"/admin/outbox/{dead.id}/redrive" in html
    assert client.get("/workflows/repair.svg").mimetype == "image/svg+xml"
    token = csrf_token(client, "/admin")  # a new session at sign-in: a new token
    redriven = client.post(f"/admin/outbox/{dead.id}/redrive", data={"csrf_token": token})
    assert redriven.status_code == 302
    db.session.refresh(dead)
    assert dead.status is OutboxStatus.PENDING
    assert dead.attempts == 0


def test_pushes_without_firebase_are_recorded_and_shown_in_the_delivery_log(
    client, create_user, create_work_order
):
    import server.jobs.tasks  # noqa: F401  (registers the tasks)
    from server.jobs import relay
    from server.models import Device
    from server.services.work_orders import apply_transition

    admin, dispatcher = create_user(Role.ADMIN), create_user(Role.DISPATCHER)
    tech = create_user(Role.TECHNICIAN)
    db.session.add(Device(user_id=tech.id, push_token="phone-1", platform="android"))
    order = create_work_order(actor=dispatcher)
    apply_transition(order, "assign", dispatcher, {"assignee_id": tech.id}, order.version)
    db.session.commit()
    while relay.run_once("w"):
        pass
    token = csrf_token(client)
    client.post(
        "/login", data={"username": admin.username, "password": PASSWORD, "csrf_token": token}
    )
    log = client.get("/admin").get_data(as_text=True).split("Delivery log")[1]
    row = next(line for line in log.split("<tr>") if order.number in line)
    assert "push" in row
    assert "recorded" in row


def test_a_resend_over_the_daily_cap_is_explained(client, office, create_work_order, monkeypatch):
    from server.services import completion_sheets

    def refuse(order, actor):
        raise completion_sheets.TooManyResends("too_many_resends", "capped")

    monkeypatch.setattr(completion_sheets, "resend_sheet", refuse)
    user, token = office
    order = create_work_order(actor=user)
    response = client.post(
        f"/work-orders/{order.id}/completion-sheet/resend", data={"csrf_token": token}
    )
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "already sent again 3 times in the last 24 hours" in page


def test_resending_a_sheet_of_an_unfinished_order_is_explained(client, office, create_work_order):
    user, token = office
    order = create_work_order(actor=user)
    response = client.post(
        f"/work-orders/{order.id}/completion-sheet/resend",
        data={"csrf_token": token},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    response = client.get(response.location)
    assert "has not been completed yet" in response.get_data(as_text=True)


def test_intake_takes_photos_and_refuses_what_is_not_one(
    client, office, create_category, create_customer
):
    import io

    from PIL import Image

    from server.models import Attachment, WorkOrder

    _user, token = office
    category, customer = create_category(), create_customer()
    form = {
        "csrf_token": token,
        "customer_id": str(customer.id),
        "site_id": str(customer.sites[0].id),
        "category_id": str(category.id),
        "channel": "email",
        "title": "照片报修",
    }
    fake = (io.BytesIO(b"<script>alert(1)</script>"), "evil.jpg")
    refused = client.post("/intake", data=form | {"attachments": [fake]})
    assert refused.status_code == 422
    assert "evil.jpg" in refused.get_data(as_text=True)
    assert db.session.query(WorkOrder).filter_by(title="照片报修").count() == 0
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(jpeg, "JPEG")
    jpeg.seek(0)
    created = client.post("/intake", data=form | {"attachments": [(jpeg, "unit.jpg")]})
    assert created.status_code == 302
    order = db.session.query(WorkOrder).filter_by(title="照片报修").one()
    photo = db.session.query(Attachment).filter_by(work_order_id=order.id).one()
    assert photo.caption == "unit.jpg"
    thumb = client.get(f"/work-orders/{order.id}/attachments/{photo.id}/thumb")
    assert thumb.mimetype == "image/jpeg"


def test_day_plan_proposal_is_shown_and_applied_in_part(
    app, client, office, create_user, create_customer, create_work_order, monkeypatch
):
    monkeypatch.setitem(app.config, "CONSOLE_DAY_PLAN_SECONDS", 0.3)
    user, token = office
    near, far = create_user(Role.TECHNICIAN), create_user(Role.TECHNICIAN)
    far.technician_profile.home_latitude, far.technician_profile.home_longitude = 31.40, 121.80
    near.technician_profile.home_latitude, near.technician_profile.home_longitude = 31.19, 121.43
    orders = []
    for _ in range(2):
        order = create_work_order(customer=create_customer(), actor=user)
        apply_transition(order, "assign", user, {"assignee_id": far.id}, order.version)
        orders.append(order)
    page = client.get("/board/day-plan?day=2026-05-18")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert all(o.number in html for o in orders)
    plan = re.search(r'name="plan" type="hidden" value="([^"]+)"', html).group(1)
    applied = client.post(
        "/board/day-plan/apply",
        data={"csrf_token": token, "plan": plan, "order_id": [str(orders[0].id)]},
    )
    assert applied.status_code == 302
    db.session.refresh(orders[0])
    db.session.refresh(orders[1])
    assert orders[0].assignee_id == near.id
    assert orders[1].assignee_id == far.id
    tampered = client.post(
        "/board/day-plan/apply", data={"csrf_token": token, "plan": plan[:-3] + "abc"}
    )
    assert tampered.status_code == 302
    assert "out of date" in client.get(tampered.location).get_data(as_text=True)


def test_map_allows_only_the_configured_tile_server(app, client, office, monkeypatch):
    from dataclasses import replace

    settings = replace(
        app.config["FIELDWORK_SETTINGS"],
        map_tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png",
    )
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", settings)
    page = client.get("/map")
    assert (
        "img-src 'self' data: blob: https://*.tile.example.org;"
        in page.headers["Content-Security-Policy"]
    )
    assert 'data-tiles="https://{s}.tile.example.org/{z}/{x}/{y}.png"' in page.get_data(
        as_text=True
    )
    monkeypatch.setitem(app.config, "FIELDWORK_SETTINGS", replace(settings, map_tile_url=""))
    offline = client.get("/map")
    assert offline.status_code == 200
    assert "tile.example.org" not in offline.headers["Content-Security-Policy"]


def test_customer_file_starts_an_order_with_the_customer_chosen(client, office, create_customer):
    customer = create_customer(name="Suzhou Garden Hotel")
    file_page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert f"/intake?customer_id={customer.id}" in file_page
    intake = client.get(f"/intake?customer_id={customer.id}").get_data(as_text=True)
    assert f'name="customer_id" value="{customer.id}"' in intake
    assert customer.sites[0].address in intake


def test_password_change_needs_the_current_one_and_signs_out_other_sessions(
    app, client, office, api_headers
):
    user, token = office
    api = api_headers(user)
    assert client.get("/api/v1/work-orders", headers=api).status_code == 200
    other = app.test_client()
    other_token = csrf_token(other)
    other.post(
        "/login", data={"username": user.username, "password": PASSWORD, "csrf_token": other_token}
    )
    assert other.get("/work-orders").status_code == 200
    form = {
        "password-csrf_token": token,
        "password-new_password": "a brand new passphrase",
        "password-confirm_password": "a brand new passphrase",
        "password-submit": "1",
    }
    wrong = client.post("/profile", data=form | {"password-current_password": "guess"})
    assert "This is not your current password." in wrong.get_data(as_text=True)
    changed = client.post("/profile", data=form | {"password-current_password": PASSWORD})
    assert changed.status_code == 302
    assert client.get("/work-orders").status_code == 200  # this browser stays signed in
    assert other.get("/work-orders").status_code == 302  # the other one is signed out
    assert client.get("/api/v1/work-orders", headers=api).status_code == 401  # tokens too


def test_a_poll_after_the_session_ended_redirects_instead_of_swapping_the_login_page(client):
    poll = client.get("/board/live?since=0", headers={"HX-Request": "true"})
    assert poll.status_code == 401
    assert poll.headers["HX-Redirect"] == "/login"
    assert client.get("/board/live?since=0").status_code == 302


def test_a_refused_step_explains_itself_next_to_the_field_and_keeps_the_text(
    client, office, create_work_order
):
    user, token = office
    order = create_work_order(actor=user)
    url = f"/work-orders/{order.id}/transitions"
    base = {"csrf_token": token, "transition": "cancel", "expected_version": order.version}
    missing = client.post(url, data=base | {"reason": ""})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422
    assert 'id="cancel-reason-error"' in html
    too_long = client.post(url, data=base | {"reason": "太长了" * 200})
    html = too_long.get_data(as_text=True)
    assert too_long.status_code == 422
    assert 'id="cancel-reason-error"' in html
    assert "太长了太长了" in html  # what was typed is still there
    db.session.refresh(order)
    assert order.state == "new"


def test_hand_off_to_another_department_keeps_the_first_owner(
    client, office, create_work_order, create_user
):
    user, token = office
    order = create_work_order(actor=user)
    billing = create_user(Role.MANAGER, display_name="Billing Zhou")
    page = client.get(f"/work-orders/{order.id}").get_data(as_text=True)
    assert "Hand off to another department" in page
    assert f'<option value="{billing.id}">Billing Zhou</option>' in page

    response = client.post(
        f"/work-orders/{order.id}/hand-off",
        data={"user_id": billing.id, "reason": "Customer asks for a refund", "csrf_token": token},
    )
    assert response.status_code == 302
    chain = owner_chain(order.id)
    assert [link.user_id for link in chain] == [order.owner_id, billing.id]
    page = client.get(f"/work-orders/{order.id}").get_data(as_text=True)
    assert "Handed to Billing Zhou." in page  # the flash
    assert "holds it now" in page
    assert "first owner" in page
    timeline = page[page.index('id="order-timeline"') :]
    assert "Handed to Billing Zhou" in timeline
    assert "Customer asks for a refund" in timeline


@pytest.mark.parametrize(
    ("target", "reason", "field", "message"),
    [
        ("technician", "Refund", "user_id", "Choose an active office colleague"),
        ("nobody", "Refund", "user_id", "Choose a colleague."),
        ("colleague", "", "reason", "Say why."),
        ("colleague", "x" * 201, "reason", "Field cannot be longer than 200 characters."),
        ("myself-again", "Again", "user_id", "does not hold it yet"),
    ],
)
def test_a_refused_hand_off_says_why_next_to_the_field_and_changes_nothing(
    client, office, create_work_order, create_user, target, reason, field, message
):
    user, token = office
    order = create_work_order(actor=user)
    users = {
        "technician": create_user(Role.TECHNICIAN).id,
        "nobody": 999_999,
        "colleague": create_user(Role.DISPATCHER).id,
        "myself-again": user.id,  # the dispatcher who took the call holds it already
    }
    before = [(link.user_id, link.to_at) for link in owner_chain(order.id)]
    response = client.post(
        f"/work-orders/{order.id}/hand-off",
        data={"user_id": users[target], "reason": reason, "csrf_token": token},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = html[html.index(f'id="hand-off-{field.replace("_id", "")}-error"') :][:300]
    assert message in error
    assert 'class="hand-off" open' in html
    db.session.expire_all()
    assert [(link.user_id, link.to_at) for link in owner_chain(order.id)] == before


def test_an_admin_disables_a_user_who_is_signed_out_everywhere_at_once(
    app, client, create_user, create_work_order, api_headers
):
    from server.models import Device, TokenAudience

    admin = create_user(Role.ADMIN)
    tech = create_user(Role.TECHNICIAN, display_name="Li Leaving")
    phone = api_headers(tech, TokenAudience.MOBILE)
    assert client.get("/api/mobile/v1/jobs", headers=phone).status_code == 200
    device = Device(user_id=tech.id, push_token="fcm-token-of-the-phone", platform="android")
    db.session.add(device)
    order = create_work_order(actor=admin)
    apply_transition(order, "assign", admin, {"assignee_id": tech.id}, order.version)
    dispatcher = create_user(Role.DISPATCHER)
    browser = app.test_client()
    browser.post(
        "/login",
        data={
            "username": dispatcher.username,
            "password": PASSWORD,
            "csrf_token": csrf_token(browser),
        },
    )
    assert browser.get("/work-orders").status_code == 200
    client.post(
        "/login",
        data={"username": admin.username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    token = csrf_token(client, "/admin")

    disabled = client.post(
        f"/admin/users/{tech.id}/active", data={"active": "0", "csrf_token": token}
    )
    assert disabled.status_code == 302
    page = client.get("/admin").get_data(as_text=True)
    assert "Li Leaving is disabled and signed out everywhere; 1 open orders" in page
    assert client.get("/api/mobile/v1/jobs", headers=phone).status_code == 401
    db.session.refresh(device)
    assert device.is_active is False  # no more pushes to a phone that left

    client.post(f"/admin/users/{dispatcher.id}/active", data={"active": "0", "csrf_token": token})
    assert browser.get("/work-orders").status_code == 302  # to the login page

    mine = client.post(f"/admin/users/{admin.id}/active", data={"active": "0", "csrf_token": token})
    assert mine.status_code == 302
    assert "You cannot disable your own account." in client.get("/admin").get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.is_active

    client.post(f"/admin/users/{tech.id}/active", data={"active": "1", "csrf_token": token})
    db.session.refresh(tech)
    assert tech.is_active
    assert (
        client.get("/api/mobile/v1/jobs", headers=phone).status_code == 401
    )  # old tokens stay dead
    fresh = api_headers(tech, TokenAudience.MOBILE)
    assert client.get("/api/mobile/v1/jobs", headers=fresh).status_code == 200


def test_admins_are_warned_while_demo_accounts_with_the_published_password_are_active(
    client, create_user
):
    admin = create_user(Role.ADMIN)
    demo = create_user(Role.DISPATCHER)
    demo.is_demo = True
    db.session.flush()
    client.post(
        "/login",
        data={"username": admin.username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    page = client.get("/").get_data(as_text=True)
    assert "1 demo accounts are active" in page
    token = csrf_token(client, "/admin")
    client.post(f"/admin/users/{demo.id}/active", data={"active": "0", "csrf_token": token})
    assert "demo accounts are active" not in client.get("/").get_data(as_text=True)


def test_changing_a_demo_password_makes_it_a_real_account(client, create_user):
    from server.services.users import change_password

    demo = create_user(Role.ADMIN)
    demo.is_demo = True
    change_password(demo, PASSWORD, "a brand new passphrase")
    assert demo.is_demo is False
