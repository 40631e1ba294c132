"""The public request form ``/request``: a work order from anyone, spam kept out."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from server.extensions import db
from server.models import Attachment, AttachmentKind, Channel, Contact, WorkOrder


def csrf_token(page: str) -> str:
    """Return the CSRF token of the form on ``page``."""
    return page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def category(create_category):
    return create_category(name_en="Plumbing repair", name_zh="水管维修")


@pytest.fixture
def form(client, category):
    """Return a function posting the form with valid values, overridden by keyword."""
    token = csrf_token(client.get("/request").get_data(as_text=True))

    def post(**fields):
        data = {
            "csrf_token": token,
            "category_id": str(category.id),
            "description": "Kitchen tap drips all night",
            "name": "Dana Lee",
            "phone": "+86 138 0000 9999",
            "email": "dana@example.com",
            "address": "88 Caoxi North Road, Shanghai",
            "website": "",
        } | fields
        return client.post("/request", data=data, content_type="multipart/form-data")

    return post


def orders():
    return db.session.scalar(select(func.count()).select_from(WorkOrder))


def test_the_form_lists_the_categories_in_the_visitors_language(client, category):
    english = client.get("/request").get_data(as_text=True)
    chinese = client.get("/request", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)

    assert "Plumbing repair" in english
    assert "Request a service" in english
    assert "水管维修" in chinese
    assert "申请服务" in chinese


def test_a_request_becomes_a_work_order_with_its_photos(form, category):
    response = form(photos=[(io.BytesIO(jpeg()), "tap.jpg"), (io.BytesIO(jpeg()), "sink.jpg")])

    page = response.get_data(as_text=True)
    assert response.status_code == 201
    order = db.session.scalar(select(WorkOrder))
    assert order.number in page
    assert order.channel is Channel.WEB
    assert order.category_id == category.id
    assert order.description == "Kitchen tap drips all night"
    assert order.site.address == "88 Caoxi North Road, Shanghai"
    contact = db.session.scalar(select(Contact).where(Contact.customer_id == order.customer_id))
    assert (contact.name, contact.email) == ("Dana Lee", "dana@example.com")
    photos = db.session.scalars(select(Attachment).where(Attachment.work_order_id == order.id))
    assert [p.kind for p in photos] == [AttachmentKind.PHOTO, AttachmentKind.PHOTO]


def test_the_thank_you_page_links_to_the_job_page(client, form):
    page = form().get_data(as_text=True)

    link = "/r/" + page.split('href="/r/')[1].split('"')[0]
    order = db.session.scalar(select(WorkOrder))
    assert order.number in client.get(link).get_data(as_text=True)


def test_a_known_customer_is_recognised_by_email(form, create_customer):
    known = create_customer(
        contacts=[{"name": "Dana", "email": "DANA@example.com", "is_primary": True}]
    )

    form()

    assert db.session.scalar(select(WorkOrder)).customer_id == known.id


def test_bad_input_is_explained_next_to_the_field_and_keeps_what_was_typed(form):
    response = form(description="leak", email="not-an-address", name="Dana <Lee>")

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at least 10 characters" in page
    assert "Not an e-mail address." in page
    assert 'value="not-an-address"' in page
    assert "Dana &lt;Lee&gt;" in page
    assert "leak</textarea>" in page
    assert 'value="88 Caoxi North Road, Shanghai"' in page
    assert orders() == 0


def test_bad_input_messages_are_translated(client, category):
    page = client.get("/request?lang=zh_CN").get_data(as_text=True)

    response = client.post(
        "/request?lang=zh_CN",
        data={"csrf_token": csrf_token(page), "category_id": "", "description": ""},
    )

    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请选择请求类别。" in text
    assert "请填写您的姓名。" in text


def test_a_filled_honeypot_looks_accepted_but_creates_nothing(form):
    response = form(website="http://cheap-pills.example")

    assert response.status_code == 201
    assert "Thank you" in response.get_data(as_text=True)
    assert orders() == 0


def test_submissions_are_rate_limited_per_client(form):
    responses = [form(description=f"Kitchen tap drips, day {n}") for n in range(6)]

    assert [r.status_code for r in responses] == [201] * 5 + [429]
    assert "Too many requests" in responses[-1].get_data(as_text=True)
    assert responses[-1].headers["Retry-After"]
    assert orders() == 5


def test_a_post_without_csrf_token_is_refused(client, category):
    response = client.post(
        "/request",
        data={
            "category_id": str(category.id),
            "description": "Kitchen tap drips all night",
            "name": "Dana Lee",
            "phone": "+86 138 0000 9999",
            "address": "88 Caoxi North Road",
        },
    )

    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert orders() == 0


def test_a_file_that_is_not_an_image_is_not_kept(form):
    response = form(photos=[(io.BytesIO(b"MZ\x90\x00 not a photo"), "setup.exe")])

    assert response.status_code == 201
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
