"""Photo uploads decode each image once, within the process's decode budget (issue #14, 7)."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from PIL import Image, ImageFile

from server import images
from server.extensions import db
from server.images import DecodeBudget
from server.models import Attachment, AttachmentKind
from tests.mobile_api.conftest import new_id

TUS = {"Tus-Resumable": "1.0.0"}


def rgba_png(size: tuple[int, int] = (2400, 1800)) -> bytes:
    image = Image.new("RGBA", size, (200, 30, 30, 255))
    image.paste(Image.new("RGBA", (size[0] // 2, size[1]), (0, 0, 255, 128)), (0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def upload(client, phone, job_id, data, client_id=None):
    form = {"file": (io.BytesIO(data), "photo.png"), "client_id": client_id or new_id()}
    return client.post(
        f"/api/mobile/v1/jobs/{job_id}/photos",
        headers=phone,
        data=form,
        content_type="multipart/form-data",
    )


def upload_resumably(client, phone, job_id, data):
    """Send ``data`` as one tus upload and attach it to the job; return the attach answer."""
    created = client.post(
        "/api/mobile/v1/uploads", headers=phone | TUS | {"Upload-Length": str(len(data))}
    )
    assert created.status_code == 201, created.get_json()
    location = created.headers["Location"]
    sent = client.patch(
        location,
        headers=phone
        | TUS
        | {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
        data=data,
    )
    assert sent.status_code == 204, sent.get_json()
    return client.post(
        f"/api/mobile/v1/jobs/{job_id}/photos/from-upload",
        headers=phone,
        json={"upload_id": location.rsplit("/", 1)[1], "client_id": str(uuid.uuid4())},
    )


def photos_of(job_id):
    return db.session.scalars(
        db.select(Attachment).where(
            Attachment.work_order_id == job_id, Attachment.kind == AttachmentKind.PHOTO
        )
    ).all()


@pytest.fixture
def decodes(monkeypatch) -> list[tuple[int, int]]:
    """Record the size of every real pixel decode (ImageFile.load with tiles left)."""
    sizes: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> Any:
        if self.tile:
            sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return sizes


@pytest.fixture
def budget(monkeypatch) -> DecodeBudget:
    fresh = DecodeBudget(images.decode_budget.limit)
    monkeypatch.setattr(images, "decode_budget", fresh)
    return fresh


def test_a_photo_upload_decodes_the_image_once(client, phone, job, decodes, budget):
    data = rgba_png()
    decodes.clear()
    response = upload(client, phone, job.id, data)
    assert response.status_code == 201, response.get_json()
    assert decodes == [(2400, 1800)]
    assert budget.granted == 1
    display = client.get(response.get_json()["url"], headers=phone)
    thumbnail = client.get(response.get_json()["thumbnail_url"], headers=phone)
    assert Image.open(io.BytesIO(display.data)).size == (1600, 1200)
    assert Image.open(io.BytesIO(thumbnail.data)).size == (320, 240)


def test_a_resumable_upload_is_attached_with_one_decode(client, phone, job, decodes, budget):
    data = rgba_png((1800, 2400))
    decodes.clear()
    response = upload_resumably(client, phone, job.id, data)
    assert response.status_code == 201, response.get_json()
    assert decodes == [(1800, 2400)]
    assert (response.get_json()["width"], response.get_json()["height"]) == (1800, 2400)


def test_a_photo_with_no_room_to_decode_is_told_to_retry_and_the_retry_works(
    client, phone, job, monkeypatch, budget
):
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 0.0)
    data, client_id = rgba_png((800, 600)), new_id()
    headers = phone | {"Idempotency-Key": "busy-photo-1"}
    with budget.reserve(budget.limit, timeout=0):
        refused = upload(client, headers, job.id, data, client_id=client_id)
    assert refused.status_code == 503
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"] == str(images.BUSY_RETRY_AFTER)
    body = refused.get_json()
    assert body["code"] == "image_busy"
    assert "try again" in body["detail"]
    assert photos_of(job.id) == []

    # 5xx answers are not kept for the Idempotency-Key, so the same retry runs for real.
    retried = upload(client, headers, job.id, data, client_id=client_id)
    assert retried.status_code == 201, retried.get_json()
    assert len(photos_of(job.id)) == 1


def test_a_resumable_upload_with_no_room_to_decode_is_told_to_retry(
    client, phone, job, monkeypatch, budget
):
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 0.0)
    with budget.reserve(budget.limit, timeout=0):
        refused = upload_resumably(client, phone, job.id, rgba_png((800, 600)))
    assert refused.status_code == 503
    assert refused.get_json()["code"] == "image_busy"
    assert "Retry-After" in refused.headers


def test_a_photo_too_costly_to_decode_is_refused_before_decoding(
    client, phone, job, monkeypatch, decodes, budget
):
    monkeypatch.setattr(images, "MAX_DECODE_BYTES", 1024 * 1024)
    data = rgba_png((1000, 1000))
    decodes.clear()
    response = upload(client, phone, job.id, data)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "image_too_many_pixels"
    assert body["detail"].startswith("The image is too large to process: decoding it would")
    assert "one upload may use at most 1 MB" in body["detail"]
    assert decodes == []
    assert budget.granted == 0
    assert photos_of(job.id) == []
