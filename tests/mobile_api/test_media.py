"""Photos and signatures: stored once however often the phone retries; bad files refused."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from server.extensions import blob_store, db
from server.models import Attachment, AttachmentKind
from tests.images import bomb_png
from tests.mobile_api.conftest import jpeg_bytes, new_id, png_bytes


def upload(client, phone, job_id, data, client_id=None, filename="photo.jpg", **fields):
    form = {"file": (io.BytesIO(data), filename), "client_id": client_id or new_id()} | fields
    return client.post(
        f"/api/mobile/v1/jobs/{job_id}/photos",
        headers=phone,
        data=form,
        content_type="multipart/form-data",
    )


def photo_rows(job_id):
    return db.session.scalars(
        db.select(Attachment).where(
            Attachment.work_order_id == job_id, Attachment.kind == AttachmentKind.PHOTO
        )
    ).all()


def stored_keys():
    return set(blob_store().keys())


def test_photo_upload_stores_original_display_copy_and_thumbnail(client, phone, job):
    before = stored_keys()
    response = upload(
        client,
        phone,
        job.id,
        jpeg_bytes((4000, 3000)),
        caption="外机铭牌",
        captured_at="2026-11-23T10:00:00+08:00",
        latitude="31.2",
        longitude="121.4",
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["width"] == 4000
    assert body["caption"] == "外机铭牌"
    assert len(stored_keys() - before) == 3
    display = client.get(body["url"], headers=phone)
    assert display.status_code == 200
    assert display.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(display.data)).size) == 1600
    thumb = client.get(body["thumbnail_url"], headers=phone)
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    assert display.headers["X-Content-Type-Options"] == "nosniff"


def test_same_photo_sent_three_times_is_stored_once(client, phone, job):
    data, client_id = jpeg_bytes(), new_id()
    statuses = [
        upload(client, phone, job.id, data, client_id=client_id).status_code for _ in range(3)
    ]
    assert statuses == [201, 200, 200]
    assert len(photo_rows(job.id)) == 1


def test_same_photo_with_the_same_idempotency_key_is_replayed(client, phone, job):
    data, headers = jpeg_bytes(), phone | {"Idempotency-Key": "photo-key-1"}
    client_id = new_id()
    responses = [upload(client, headers, job.id, data, client_id=client_id) for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.get_data() for r in responses}) == 1
    assert len(photo_rows(job.id)) == 1


def test_reusing_a_client_id_for_another_image_is_refused(client, phone, job):
    client_id = new_id()
    assert (
        upload(client, phone, job.id, jpeg_bytes(color=(1, 2, 3)), client_id=client_id).status_code
        == 201
    )
    other = upload(client, phone, job.id, jpeg_bytes(color=(9, 9, 9)), client_id=client_id)
    assert other.status_code == 422
    assert other.get_json()["code"] == "client_id_reused"


def exif_gps_jpeg() -> bytes:
    image = Image.new("RGB", (800, 600), (10, 120, 10))
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_served_photos_carry_no_location_but_the_row_keeps_it(client, phone, job):
    body = upload(client, phone, job.id, exif_gps_jpeg()).get_json()
    served = client.get(body["url"], headers=phone).data
    assert not Image.open(io.BytesIO(served)).getexif()
    row = db.session.get(Attachment, body["id"])
    assert row.latitude == pytest.approx(31.2333, abs=1e-3)


@pytest.mark.parametrize(
    ("name", "data", "filename", "status"),
    [
        ("html-renamed-jpg", b"<html><script>alert(1)</script></html>", "x.jpg", 415),
        ("gif-not-allowed", None, "x.gif", 415),
        ("truncated-jpeg", "truncated", "x.jpg", 422),
        ("decompression-bomb", bomb_png(), "bomb.png", 422),
        ("path-in-filename", "ok-image", "../../etc/passwd", 201),
        ("empty-file", b"", "x.jpg", 415),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    client, phone, job, name, data, filename, status
):
    if data is None:
        buffer = io.BytesIO()
        Image.new("RGB", (10, 10)).save(buffer, "GIF")
        data = buffer.getvalue()
    elif data == "truncated":
        data = jpeg_bytes()[:2000]
    elif data == "ok-image":
        data = jpeg_bytes()
    before = stored_keys()
    response = upload(client, phone, job.id, data, filename=filename)
    assert response.status_code == status, (name, response.get_json())
    if status >= 400:
        assert response.mimetype == "application/problem+json"
        assert stored_keys() == before
        assert photo_rows(job.id) == []
    else:  # the client's file name never reaches storage
        assert all(
            key.startswith(tuple("0123456789abcdef")) and "/" not in key for key in stored_keys()
        )


def test_over_size_upload_is_413_and_nothing_is_stored(client, phone, job):
    before = stored_keys()
    boundary = "fieldwork-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="client_id"\r\n\r\n{new_id()}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + b"\xff\xd8"
        + b"\0" * (21 * 1024 * 1024)
        + (f"\r\n--{boundary}--\r\n").encode()
    )
    response = client.post(
        f"/api/mobile/v1/jobs/{job.id}/photos",
        headers=phone,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert stored_keys() == before


def test_signature_as_png_and_as_svg_path(client, phone, job):
    url = f"/api/mobile/v1/jobs/{job.id}/signature"
    common = {
        "signer_name": "王先生",
        "signer_role": "customer",
        "signed_at": "2026-11-23T11:00:00+08:00",
    }
    png = client.post(
        url,
        headers=phone,
        json=common | {"client_id": new_id(), "png_base64": base64.b64encode(png_bytes()).decode()},
    )
    assert png.status_code == 201, png.get_json()
    svg = client.post(
        url,
        headers=phone,
        json=common
        | {
            "client_id": new_id(),
            "svg": {"path_data": "M10 10 L50 40 L90 15", "width": 300, "height": 120},
        },
    )
    assert svg.status_code == 201
    image = client.get(svg.get_json()["url"], headers=phone)
    assert image.mimetype == "image/svg+xml"
    assert b"<path" in image.data
    assert b"<script" not in image.data


@pytest.mark.parametrize(
    "payload",
    [
        {"svg": {"path_data": 'M10 10"/><script>alert(1)</script>', "width": 10, "height": 10}},
        {"png_base64": "not base64!!"},
        {"png_base64": base64.b64encode(b"\xff\xd8\xff\xe0not a png").decode()},
        {},
    ],
)
def test_bad_signatures_are_refused(client, phone, job, payload):
    body = {
        "client_id": new_id(),
        "signer_name": "A",
        "signer_role": "customer",
        "signed_at": "2026-11-23T11:00:00+08:00",
    } | payload
    response = client.post(f"/api/mobile/v1/jobs/{job.id}/signature", headers=phone, json=body)
    assert 400 <= response.status_code < 500
    assert (
        db.session.scalars(db.select(Attachment).where(Attachment.work_order_id == job.id)).all()
        == []
    )
