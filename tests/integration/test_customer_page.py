"""The customer's job page ``/r/<token>``: one order per link, expiring, revocable, no login."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import Comment, ProblemReport, Role
from server.models.base import utcnow
from server.services.customer_portal import issue_customer_link, revoke_customer_link
from server.services.work_orders import apply_transition


def csrf_token(page: str) -> str:
    """Return the CSRF token of the first form on ``page``."""
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


@pytest.fixture
def two_orders(create_work_order, create_customer):
    """Two orders of two different customers, with distinctive titles and addresses."""
    alice = create_customer(name="Alice Smith", preferred_locale="en")
    bob = create_customer(name="Bob Jones", preferred_locale="en")
    order_a = create_work_order(customer=alice, title="Dishwasher leaks")
    order_b = create_work_order(customer=bob, title="Boiler makes noise")
    return order_a, order_b


def test_a_valid_link_shows_the_order_in_plain_words(client, two_orders):
    order_a, _ = two_orders
    link = issue_customer_link(order_a, None)

    response = client.get(link.path)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert order_a.number in page
    assert "Dishwasher leaks" in page
    assert "We have received your request" in page
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert link.link.last_used_at is not None


def test_a_link_never_shows_another_customers_order(client, two_orders):
    order_a, order_b = two_orders
    link_a = issue_customer_link(order_a, None)
    issue_customer_link(order_b, None)

    page = client.get(link_a.path).get_data(as_text=True)

    assert order_b.number not in page
    assert "Boiler makes noise" not in page
    assert "Bob Jones" not in page
    assert order_b.site.address not in page
    # The page only ever names its own order: no ids to tamper with in its forms.
    assert f"/r/{link_a.token}/problem" in page
    assert str(order_b.id) not in page.split("<main>")[1].split(order_a.number)[0]


@pytest.mark.parametrize(
    "token",
    [
        # Well-formed but never issued (fixed, so every xdist worker collects the same test).
        "q3L8bWk2mZp5Xr1T9sVd0Yh4Nc7Ju6Fa_Eg-Oi2KlQ",
        "not-a-token",
        "A" * 43,
        "%27%20OR%201%3D1--",
    ],
)
def test_a_forged_link_gets_a_friendly_not_found_page(client, two_orders, token):
    issue_customer_link(two_orders[0], None)

    response = client.get(f"/r/{token}")

    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "This link does not work" in page
    assert two_orders[0].number not in page


def test_an_expired_link_gets_a_friendly_gone_page(client, two_orders):
    order_a, _ = two_orders
    link = issue_customer_link(order_a, None, now=utcnow() - timedelta(days=31))

    response = client.get(link.path)

    page = response.get_data(as_text=True)
    assert response.status_code == 410
    assert "This link has expired" in page
    assert order_a.number not in page
    assert "Dishwasher leaks" not in page


def test_a_revoked_link_gets_a_friendly_gone_page(client, two_orders):
    order_a, _ = two_orders
    link = issue_customer_link(order_a, None)
    assert client.get(link.path).status_code == 200

    revoke_customer_link(link.link)
    response = client.get(link.path)

    assert response.status_code == 410
    assert "This link is no longer valid" in response.get_data(as_text=True)
    assert order_a.number not in response.get_data(as_text=True)


def test_only_the_hash_of_the_token_is_stored(two_orders):
    link = issue_customer_link(two_orders[0], None)

    assert link.token not in link.link.token_hash
    assert len(link.token) >= 43  # 32 random bytes, URL-safe base64


def test_the_page_speaks_the_customers_language(client, create_work_order, create_customer):
    customer = create_customer(name="李女士", preferred_locale="zh_CN")
    link = issue_customer_link(create_work_order(customer=customer), None)

    chinese = client.get(link.path).get_data(as_text=True)
    english = client.get(link.path + "?lang=en").get_data(as_text=True)

    assert "我们已收到您的请求" in chinese
    assert 'lang="zh-CN"' in chinese
    assert "We have received your request" in english


def test_a_refused_link_follows_the_browsers_language(client):
    response = client.get("/r/" + "x" * 43, headers={"Accept-Language": "zh-CN,zh;q=0.9"})

    assert response.status_code == 404
    assert "此链接无效" in response.get_data(as_text=True)


def test_the_technician_is_named_by_first_name_only_when_on_the_way(
    client, create_work_order, create_customer, create_user
):
    technician = create_user(Role.TECHNICIAN, display_name="Zhou Jielun 周杰伦")
    dispatcher = create_user(Role.DISPATCHER)
    customer = create_customer(name="Carol", preferred_locale="en")
    order = create_work_order(customer=customer, actor=dispatcher)
    link = issue_customer_link(order, None)
    apply_transition(order, "assign", dispatcher, {"assignee_id": technician.id}, order.version)
    assigned_page = client.get(link.path).get_data(as_text=True)
    apply_transition(order, "accept", technician, {}, order.version)
    apply_transition(order, "start_travel", technician, {}, order.version)

    en_route = client.get(link.path).get_data(as_text=True)
    chinese = client.get(link.path + "?lang=zh_CN").get_data(as_text=True)

    assert "A technician has been scheduled" in assigned_page
    assert "Zhou" not in assigned_page
    assert "Your technician is on the way." in en_route
    assert "Zhou is coming to you." in en_route
    assert "Jielun" not in en_route
    assert "周杰伦" not in en_route
    assert "周师傅" in chinese


def test_the_customer_can_report_a_problem(client, two_orders):
    order_a, _ = two_orders
    link = issue_customer_link(order_a, None)
    page = client.get(link.path).get_data(as_text=True)

    response = client.post(
        f"{link.path}/problem",
        data={
            "csrf_token": csrf_token(page),
            "description": "Still dripping under the sink",
            "contact_phone": "+86 138 0000 1234",
        },
    )

    assert response.status_code == 302
    report = db.session.scalar(
        select(ProblemReport).where(ProblemReport.work_order_id == order_a.id)
    )
    assert report is not None
    assert report.description == "Still dripping under the sink"
    comment = db.session.scalar(select(Comment).where(Comment.work_order_id == order_a.id))
    assert comment is not None
    assert comment.is_internal
    assert "Thank you. We will look into it" in client.get(link.path).get_data(as_text=True)


def test_a_problem_report_without_a_description_is_shown_next_to_the_field(client, two_orders):
    link = issue_customer_link(two_orders[0], None)
    page = client.get(link.path).get_data(as_text=True)

    response = client.post(
        f"{link.path}/problem", data={"csrf_token": csrf_token(page), "description": " "}
    )

    assert response.status_code == 422
    assert "Tell us what is wrong." in response.get_data(as_text=True)


def test_a_problem_report_without_csrf_token_is_refused(client, two_orders):
    link = issue_customer_link(two_orders[0], None)

    response = client.post(f"{link.path}/problem", data={"description": "Still dripping"})

    assert response.status_code == 400
    assert db.session.scalar(select(ProblemReport)) is None


def test_a_post_through_an_expired_link_changes_nothing(client, two_orders):
    link = issue_customer_link(two_orders[0], None)
    page = client.get(link.path).get_data(as_text=True)
    link.link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()

    response = client.post(
        f"{link.path}/problem",
        data={"csrf_token": csrf_token(page), "description": "Still dripping under the sink"},
    )

    assert response.status_code == 410
    assert db.session.scalar(select(ProblemReport)) is None


def test_no_completion_sheet_link_before_there_is_a_sheet(client, two_orders):
    link = issue_customer_link(two_orders[0], None)

    page = client.get(link.path).get_data(as_text=True)

    assert "completion-sheet.pdf" not in page
    assert client.get(f"{link.path}/completion-sheet.pdf").status_code == 404


def test_a_scheduled_visit_shows_its_arrival_window_in_local_time(
    client, create_work_order, create_customer, create_user
):
    from datetime import UTC, datetime

    technician = create_user(Role.TECHNICIAN)
    dispatcher = create_user(Role.DISPATCHER)
    customer = create_customer(name="Erin", preferred_locale="en")
    order = create_work_order(customer=customer, actor=dispatcher)
    order.scheduled_start_at = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    order.scheduled_end_at = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    db.session.flush()
    apply_transition(order, "assign", dispatcher, {"assignee_id": technician.id}, order.version)
    link = issue_customer_link(order, None)

    page = client.get(link.path).get_data(as_text=True)

    assert "Expected arrival" in page
    assert "9:00" in page
    assert "11:00" in page


def test_the_completion_sheet_downloads_byte_for_byte_through_its_own_link_only(client, two_orders):
    import hashlib

    from server.extensions import blob_store
    from server.models import WorkOrderEvent, documents
    from server.storage import new_key

    order_a, order_b = two_orders
    pdf = b"%PDF-1.7\n% signed sheet of " + order_a.number.encode() + b"\n%%EOF\n"
    key = new_key()
    blob_store().put(key, pdf, "application/pdf")
    event = WorkOrderEvent(work_order_id=order_a.id, kind="WorkOrderCompleted")
    db.session.add(event)
    db.session.flush()
    db.session.add(
        documents.CompletionSheet(
            document_id="DOC12345678",
            work_order_id=order_a.id,
            completion_event_id=event.id,
            revision=1,
            sha256=hashlib.sha256(pdf).hexdigest(),
            storage_key=key,
            size=len(pdf),
            page_count=1,
            locale="en",
            signer_fingerprint="0" * 64,
        )
    )
    db.session.flush()
    link_a = issue_customer_link(order_a, None)
    link_b = issue_customer_link(order_b, None)

    page_a = client.get(link_a.path).get_data(as_text=True)
    download = client.get(f"{link_a.path}/completion-sheet.pdf")

    assert "Download the completion sheet (PDF)" in page_a
    assert download.status_code == 200
    assert download.data == pdf
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Cache-Control"] == "no-store"
    assert "completion-sheet.pdf" not in client.get(link_b.path).get_data(as_text=True)
    assert client.get(f"{link_b.path}/completion-sheet.pdf").status_code == 404
