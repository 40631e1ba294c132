"""Customer contact details: intake and the customer file record them, checked, with history.

The console and the API take the same details (name, phones, e-mail, language, preferred
channel, consent) with the same checks: numbers are stored in E.164 (Chinese mobiles and
landlines get +86), e-mail addresses must be addresses. Every change lands in the
customer's history with who made it. Screenshots of the forms, in both languages, go to
``tests/console/artifacts/``.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import (
    Contact,
    Customer,
    CustomerEvent,
    Delivery,
    MessagePreference,
    OutboxMessage,
    Role,
)
from server.services.contact_details import InvalidContactDetail, normalise_phone
from tests.console.conftest import screenshot, sign_in


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("139 1234 5678", "+8613912345678"),
        ("+86 139-1234-5678", "+8613912345678"),
        ("0086 13912345678", "+8613912345678"),
        ("8613912345678", "+8613912345678"),
        ("021-5555 0101", "+862155550101"),
        ("(010) 1234 5678", "+861012345678"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (415) 555-2671", "+14155552671"),
    ],
)
def test_phone_numbers_are_stored_in_e164(typed, stored):
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize(
    "typed", ["12345", "call me", "12912345678", "+86 12345", "+0 123 4567 89", "139123456789"]
)
def test_what_is_not_a_phone_number_is_refused(typed):
    with pytest.raises(InvalidContactDetail):
        normalise_phone(typed)


def new_customer_form(token, category, **fields):
    return {
        "csrf_token": token,
        "new_customer_name": "王建国",
        "new_customer_phone": "139 1234 5678",
        "new_customer_other_phone": "021-5555 0101",
        "new_customer_email": "wang@example.cn",
        "new_customer_address": "上海市徐汇区漕溪北路1号",
        "new_customer_locale": "zh_CN",
        "new_customer_channel": "email",
        "new_customer_consent": "y",
        "category_id": str(category.id),
        "channel": "phone",
        "title": "空调不制冷",
    } | fields


def test_intake_records_a_new_customers_phones_email_language_channel_and_consent(
    client, office, create_category
):
    user, token = office
    response = client.post("/intake", data=new_customer_form(token, create_category()))
    assert response.status_code == 302
    customer = db.session.scalar(select(Customer).where(Customer.name == "王建国"))
    assert customer.preferred_locale == "zh_CN"
    assert customer.preferred_channel is MessagePreference.EMAIL
    assert customer.message_consent_at is not None
    contacts = [(c.name, c.phone, c.email, c.is_primary) for c in customer.contacts]
    assert contacts == [
        ("王建国", "+8613912345678", "wang@example.cn", True),
        ("王建国", "+862155550101", None, False),
    ]
    [event] = db.session.scalars(
        select(CustomerEvent).where(CustomerEvent.customer_id == customer.id)
    ).all()
    assert event.kind == "CustomerCreated"
    assert event.actor_id == user.id
    assert event.data["changes"]["preferred_channel"] == [None, "email"]
    assert [c["values"]["phone"] for c in event.data["contacts"]] == [
        "+8613912345678",
        "+862155550101",
    ]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_intake_explains_a_bad_phone_and_email_beside_them_and_keeps_them(
    client, office, create_category, language
):
    user, token = office
    user.locale = language
    db.session.flush()
    response = client.post(
        "/intake",
        data=new_customer_form(
            token,
            create_category(),
            new_customer_phone="139 1234",
            new_customer_email="wang@example",
        ),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    phone_error = {
        "en": "Enter a phone number: a mobile like 139 1234 5678",
        "zh_CN": "请输入电话号码：手机号如 139 1234 5678",
    }[language]
    email_error = {
        "en": "Enter an e-mail address like name@example.com.",
        "zh_CN": "请输入电子邮箱地址，例如 name@example.com。",
    }[language]
    assert re.search(r'id="new_customer_phone-error">' + re.escape(phone_error), html)
    assert f'id="new_customer_email-error">{email_error}' in html
    assert 'value="139 1234"' in html
    assert 'value="wang@example"' in html
    assert '<details class="new-customer" open>' in html
    assert db.session.scalar(select(Customer).where(Customer.name == "王建国")) is None


def edit_form(token, customer, **fields):
    """Return the edit form as the page fills it, with ``fields`` changed."""
    data = {
        "csrf_token": token,
        "name": customer.name,
        "preferred_locale": customer.preferred_locale,
        "preferred_channel": customer.preferred_channel.value,
        "primary_contact": "0",
    }
    for index, contact in enumerate(customer.contacts):
        data |= {
            f"contacts-{index}-id": str(contact.id),
            f"contacts-{index}-name": contact.name,
            f"contacts-{index}-phone": contact.phone or "",
            f"contacts-{index}-email": contact.email or "",
        }
    new = len(customer.contacts)
    data |= {f"contacts-{new}-id": "", f"contacts-{new}-name": "", f"contacts-{new}-phone": ""}
    return data | fields


def test_the_customer_file_edits_details_and_contacts_and_keeps_a_history(
    client, office, create_customer
):
    user, token = office
    customer = create_customer(name="Jane Miller", preferred_locale="en")
    page = client.get(f"/customers/{customer.id}/edit").get_data(as_text=True)
    assert 'name="contacts-0-phone"' in page
    assert 'name="contacts-1-name"' in page  # the empty row for a new contact

    response = client.post(
        f"/customers/{customer.id}/edit",
        data=edit_form(
            token,
            customer,
            preferred_channel="sms",
            message_consent="y",
            **{
                "contacts-0-phone": "139 0000 1111",
                "contacts-0-email": "jane@example.com",
                "contacts-1-name": "Tom Miller",
                "contacts-1-phone": "+44 20 7946 0958",
                "primary_contact": "1",
            },
        ),
    )

    assert response.status_code == 302
    db.session.expire_all()
    customer = db.session.get(Customer, customer.id)
    assert customer.preferred_channel is MessagePreference.SMS
    assert customer.message_consent_at is not None
    assert [(c.name, c.phone, c.email, c.is_primary) for c in customer.contacts] == [
        ("王先生", "+8613900001111", "jane@example.com", False),
        ("Tom Miller", "+442079460958", None, True),
    ]
    event = db.session.scalars(
        select(CustomerEvent)
        .where(CustomerEvent.customer_id == customer.id)
        .order_by(CustomerEvent.id.desc())
    ).first()
    assert event.kind == "CustomerUpdated"
    assert event.actor_id == user.id
    assert event.data["changes"]["preferred_channel"] == ["both", "sms"]
    changed, added = event.data["contacts"]
    assert changed["changes"]["phone"][1] == "+8613900001111"
    assert added["change"] == "added"
    assert added["values"]["name"] == "Tom Miller"
    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    assert "SMS only" in page
    assert "+442079460958" in page
    assert user.display_name in page.split('id="customer-history"')[1]

    # Removing a contact and withdrawing consent are recorded too.
    response = client.post(
        f"/customers/{customer.id}/edit",
        data=edit_form(token, customer, **{"contacts-0-remove": "y", "primary_contact": "1"}),
    )
    assert response.status_code == 302
    db.session.expire_all()
    customer = db.session.get(Customer, customer.id)
    assert [c.name for c in customer.contacts] == ["Tom Miller"]
    assert customer.message_consent_at is None
    last = db.session.scalars(
        select(CustomerEvent)
        .where(CustomerEvent.customer_id == customer.id)
        .order_by(CustomerEvent.id.desc())
    ).first()
    assert last.data["changes"]["message_consent_at"][1] is None
    assert [c["change"] for c in last.data["contacts"]] == ["removed"]


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_customer_file_explains_bad_details_beside_them_and_keeps_them(
    client, office, create_customer, language
):
    user, token = office
    user.locale = language
    customer = create_customer()
    db.session.flush()
    response = client.post(
        f"/customers/{customer.id}/edit",
        data=edit_form(
            token,
            customer,
            name="",
            **{"contacts-0-phone": "138 0000", "contacts-1-email": "tom@", "contacts-1-name": ""},
        ),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="contacts-0-phone-error"' in html
    assert 'id="contacts-1-email-error"' in html
    assert 'id="contacts-1-name-error"' in html
    assert 'id="name-error"' in html
    assert 'value="138 0000"' in html
    assert 'value="tom@"' in html
    if language == "zh_CN":
        assert "请填写联系人姓名。" in html
        assert "请输入电话号码" in html
    db.session.expire_all()
    assert db.session.get(Contact, customer.contacts[0].id).phone.startswith("+86 138")


def test_the_api_checks_and_stores_the_same_details(client, create_user, api_headers):
    headers = api_headers(create_user(Role.DISPATCHER))
    body = {
        "name": "李女士",
        "preferred_channel": "sms",
        "message_consent": True,
        "contacts": [{"name": "李女士", "phone": "139 1234 5678", "email": "li@example.cn"}],
    }
    refused = client.post(
        "/api/v1/customers",
        headers=headers,
        json=body | {"contacts": [{"name": "李女士", "phone": "12345", "email": "li@"}]},
    )
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]
    assert "Not a phone number we can use" in str(errors["contacts"]["0"]["phone"])
    assert "email" in errors["contacts"]["0"]

    created = client.post("/api/v1/customers", headers=headers, json=body)
    assert created.status_code == 201, created.get_json()
    answer = created.get_json()
    assert answer["preferred_channel"] == "sms"
    assert answer["message_consent"] is True
    assert answer["message_consent_at"]
    assert answer["contacts"][0]["phone"] == "+8613912345678"

    changed = client.patch(
        f"/api/v1/customers/{answer['id']}",
        headers=headers,
        json={"preferred_channel": "none", "message_consent": False},
    )
    assert changed.status_code == 200
    assert changed.get_json()["message_consent"] is False
    assert changed.get_json()["message_consent_at"] is None
    kinds = db.session.scalars(
        select(CustomerEvent.kind)
        .where(CustomerEvent.customer_id == answer["id"])
        .order_by(CustomerEvent.id)
    ).all()
    assert kinds == ["CustomerCreated", "CustomerUpdated"]

    found = client.get("/api/v1/customers?q=139 1234 5678", headers=headers).get_json()
    assert [c["id"] for c in found["items"]] == [answer["id"]]


def test_a_customer_who_wants_no_email_gets_none_and_the_refusal_is_recorded(
    app, create_work_order, create_customer, create_user, tmp_path, monkeypatch
):
    import dataclasses

    import server.jobs.tasks  # noqa: F401  (registers the tasks)
    from server.jobs import relay
    from server.services.work_orders import apply_transition

    monkeypatch.setitem(
        app.config,
        "FIELDWORK_SETTINGS",
        dataclasses.replace(app.config["FIELDWORK_SETTINGS"], instance_path=tmp_path),
    )
    customer = create_customer(
        preferred_channel=MessagePreference.SMS,
        contacts=[{"name": "王先生", "email": "wang@example.cn", "is_primary": True}],
    )
    dispatcher = create_user(Role.DISPATCHER)
    order = create_work_order(customer=customer, actor=dispatcher)
    apply_transition(order, "cancel", dispatcher, {"reason": "重复"}, order.version)
    db.session.commit()
    while relay.run_once("w"):
        pass
    assert not list((tmp_path / "outbox").glob("*.eml"))
    [delivery] = db.session.scalars(
        select(Delivery).join(OutboxMessage).where(OutboxMessage.work_order_id == order.id)
    ).all()
    assert (delivery.status, delivery.recipient) == ("refused", "wang@example.cn")


# --- As a user sees them -------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_screenshots_of_intake_and_the_customer_file_with_errors(tab, live_server, language):
    """Take the pictures a reviewer looks at: intake and the file in edit mode, with errors."""
    sign_in(tab, "disp", live_server["password"])
    set_language(tab, language)
    try:
        tab.goto("/intake")
        tab.click("details.new-customer summary")
        tab.fill("#new_customer_name", "王建国")
        tab.fill("#new_customer_phone", "139 1234")
        tab.fill("#new_customer_email", "wang@example")
        tab.fill("#new_customer_address", "上海市徐汇区漕溪北路1号")
        tab.fill("#title", "空调不制冷")
        tab.click("form.intake button[type=submit]")
        tab.wait_for_selector("#new_customer_phone-error")
        assert tab.input_value("#new_customer_phone") == "139 1234"
        screenshot(tab, f"customer-intake-errors-{language}")

        tab.goto(f"/customers/{live_server['customer']}")
        screenshot(tab, f"customer-file-{language}")
        tab.click("#profile a.button")
        tab.wait_for_selector("#contacts-0-phone")
        screenshot(tab, f"customer-file-edit-{language}")
        tab.fill("#contacts-0-phone", "138 0000")
        tab.fill("#contacts-1-phone", "+44 20 7946 0958")
        tab.fill("#contacts-1-email", "tom@")
        tab.click("#profile button[type=submit]")
        tab.wait_for_selector("#contacts-0-phone-error")
        assert tab.input_value("#contacts-0-phone") == "138 0000"
        assert tab.locator("#contacts-1-name-error").is_visible()
        screenshot(tab, f"customer-file-edit-errors-{language}")
        assert [e for e in tab.js_errors if "422" not in e] == []
    finally:
        set_language(tab, "en")  # the other tests share this dispatcher


def set_language(tab, language):
    """Switch the signed-in user's console language on the profile page."""
    tab.goto("/profile")
    tab.select_option("#profile-locale", language)
    tab.click("button[name='profile-submit']")
    tab.wait_for_selector(".flash.ok")


def test_the_customer_file_lists_every_message_about_the_customer_with_its_status(
    app, client, office, create_work_order, create_customer, create_user, tmp_path, monkeypatch
):
    import dataclasses

    import server.jobs.tasks  # noqa: F401  (registers the tasks)
    from server.jobs import relay
    from server.models import Device
    from server.services.work_orders import apply_transition

    monkeypatch.setitem(
        app.config,
        "FIELDWORK_SETTINGS",
        dataclasses.replace(
            app.config["FIELDWORK_SETTINGS"], instance_path=tmp_path, smtp_url=None
        ),
    )
    user, _token = office
    customer = create_customer(
        name="Jane Miller",
        contacts=[{"name": "Jane Miller", "email": "jane@example.com", "is_primary": True}],
    )
    technician = create_user(Role.TECHNICIAN, display_name="Li Wei 李伟")
    db.session.add(Device(user_id=technician.id, push_token="phone-1", platform="android"))

    def cancelled(for_customer):
        order = create_work_order(customer=for_customer, actor=user)
        apply_transition(order, "assign", user, {"assignee_id": technician.id}, order.version)
        apply_transition(order, "cancel", user, {"reason": "重复"}, order.version)
        db.session.commit()
        return order

    def run_relay():
        while relay.run_once("w"):
            pass

    sent = cancelled(customer)
    run_relay()
    customer.preferred_channel = MessagePreference.NONE
    refused = cancelled(customer)
    run_relay()
    queued = cancelled(customer)  # the relay has not run since
    stranger = cancelled(
        create_customer(contacts=[{"name": "X", "email": "x@example.com", "is_primary": True}])
    )

    page = client.get(f"/customers/{customer.id}").get_data(as_text=True)
    log = page.split('id="messages"')[1].split('id="customer-history"')[0]
    rows = re.findall(r'<tr class="msg-(\w+)">(.*?)</tr>', log, flags=re.S)

    def row(number, status, *words):
        return any(
            kind == status and number in html and all(w in html for w in words)
            for kind, html in rows
        )

    assert row(sent.number, "sent", "jane@example.com", "Order cancelled", "Customer")
    assert row(sent.number, "recorded", "Li Wei 李伟", "New job", "Staff", "Push")
    assert row(refused.number, "refused", "jane@example.com", "the customer does not want")
    assert row(queued.number, "queued", "Order cancelled")
    assert stranger.number not in log
