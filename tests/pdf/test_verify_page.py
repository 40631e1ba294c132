"""The public page /verify/<document_id>: the stored document's status, uploads, download."""

from __future__ import annotations

import io

import pytest

from server.body_limits import FORM_OVERHEAD
from server.extensions import db
from server.services.completion_sheets import completion_event, issue_completion_sheet, sheet_bytes
from server.verify.views import MAX_UPLOAD


@pytest.fixture
def issued(app, complete_order, phone_jpegs, store):
    order, _ = complete_order("zh_CN", photos=phone_jpegs[:1])
    sheet = issue_completion_sheet(
        order, completion_event(order), store, app.config["FIELDWORK_SETTINGS"]
    )
    db.session.commit()
    return sheet, sheet_bytes(sheet, store)


def upload(client, document_id, data, name="sheet.pdf", **headers):
    return client.post(
        f"/verify/{document_id}",
        data={"document": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_the_page_shows_the_stored_document_as_original(client, issued):
    sheet, _ = issued
    page = client.get(f"/verify/{sheet.document_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "This is the original signed document." in html
    assert sheet.work_order.number in html
    assert sheet.sha256 in html
    assert f"/verify/{sheet.document_id}/download" in html
    chinese = client.get(f"/verify/{sheet.document_id}", headers={"Accept-Language": "zh-CN"})
    assert "这是经签名的原始文件。" in chinese.get_data(as_text=True)


def test_an_uploaded_original_passes_and_a_modified_copy_is_reported(client, issued):
    sheet, data = issued
    ok = upload(client, sheet.document_id, data)
    assert ok.status_code == 200
    assert ok.get_data(as_text=True).count("This is the original signed document.") == 2
    tampered = bytearray(data)
    tampered[len(tampered) // 2] ^= 0x01
    bad = upload(client, sheet.document_id, bytes(tampered), Accept_Language="zh-CN")
    assert bad.status_code == 200
    assert "已被修改：此文件不是我们签署的文件。" in bad.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Choose the PDF file to check."),
        (b"GIF89a not a pdf", "This file is not a PDF we can read."),
        (
            b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF",
            "This file is not a PDF we can read.",
        ),
    ],
)
def test_bad_uploads_get_a_message_not_an_error(client, issued, data, message):
    sheet, _ = issued
    response = upload(client, sheet.document_id, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_file_over_the_pages_cap_gets_a_message_and_is_not_read(client, issued):
    sheet, _ = issued
    # Encoded here: Werkzeug's own encoder spools big bodies to a file it may leave open.
    body = (
        b'--cap\r\nContent-Disposition: form-data; name="document"; filename="big.pdf"\r\n\r\n'
        + b"%PDF" * ((MAX_UPLOAD + FORM_OVERHEAD) // 4 + 1)
        + b"\r\n--cap--\r\n"
    )
    response = client.post(
        f"/verify/{sheet.document_id}", data=body, content_type="multipart/form-data; boundary=cap"
    )
    assert response.status_code == 400
    assert "The file is too large." in response.get_data(as_text=True)


def test_no_file_at_all_gets_a_message(client, issued):
    sheet, _ = issued
    response = client.post(f"/verify/{sheet.document_id}", data={})
    assert response.status_code == 400
    assert "Choose the PDF file to check." in response.get_data(as_text=True)


def test_download_serves_exactly_the_stored_bytes(client, issued):
    sheet, data = issued
    response = client.get(f"/verify/{sheet.document_id}/download")
    assert response.status_code == 200
    assert response.get_data() == data
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{sheet.work_order.number}-r1.pdf"'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_unknown_document_is_404_with_a_message(client, db_session):
    response = client.get("/verify/zzzzzzzzzzzzzzzzzzzz")
    assert response.status_code == 404
    assert "No document with this id was issued by us." in response.get_data(as_text=True)
    assert client.get("/verify/zzzzzzzzzzzzzzzzzzzz/download").status_code == 404
