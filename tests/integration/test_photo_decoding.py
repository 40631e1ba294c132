"""A technician's photo is decoded once, within the process's decode budget (issue #14, 7)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image, ImageFile

from server import images
from server.extensions import blob_store
from server.images import DecodeBudget
from server.models import Role
from server.services.attachments import AttachmentRejected, ImageProcessingBusy
from server.services.technician_photos import set_technician_photo, technician_photo


def camera_jpeg(size: tuple[int, int] = (4000, 3000)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 90, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def store(db_session):
    return blob_store()


@pytest.fixture
def people(create_user):
    return create_user(Role.DISPATCHER), create_user(Role.TECHNICIAN)


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


def test_a_technician_photo_is_decoded_once_at_an_eighth(store, people, decodes, budget):
    dispatcher, technician = people
    data = camera_jpeg()
    decodes.clear()
    set_technician_photo(technician, data, store, dispatcher)
    # 4,000 x 3,000 into 320 x 240: the JPEG decoder scales by eight while decoding.
    assert decodes == [(500, 375)]
    assert budget.granted == 1
    portrait = Image.open(io.BytesIO(store.get(technician_photo(technician))))
    assert portrait.size == (320, 240)


def test_a_technician_photo_with_no_room_to_decode_changes_nothing(
    store, people, monkeypatch, budget
):
    dispatcher, technician = people
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 0.0)
    before = set(store.keys())
    with budget.reserve(budget.limit, timeout=0), pytest.raises(ImageProcessingBusy) as busy:
        set_technician_photo(technician, camera_jpeg(), store, dispatcher)
    assert busy.value.status == 503
    assert busy.value.code == "image_busy"
    assert busy.value.details == {"headers": {"Retry-After": str(images.BUSY_RETRY_AFTER)}}
    assert technician_photo(technician) is None
    assert set(store.keys()) == before


def test_a_technician_photo_too_costly_to_decode_is_refused(store, people, monkeypatch):
    dispatcher, technician = people
    monkeypatch.setattr(images, "MAX_DECODE_BYTES", 1024)
    with pytest.raises(AttachmentRejected) as rejected:
        set_technician_photo(technician, camera_jpeg((800, 600)), store, dispatcher)
    assert rejected.value.code == "image_too_many_pixels"
    assert rejected.value.status == 422
    assert "too large to process" in rejected.value.message
    assert technician_photo(technician) is None


def test_a_photo_sent_with_a_request_form_or_an_email_is_decoded_once(
    store, create_work_order, decodes, budget
):
    from server.services.intake import IncomingFile, keep_file

    order = create_work_order()
    decodes.clear()
    kept = keep_file(order, IncomingFile("leak.jpg", "image/jpeg", camera_jpeg()), store)
    assert kept is not None
    assert kept.kind == "photo"
    assert len(decodes) == 1
    assert budget.granted == 1


def test_a_photo_sent_with_a_request_while_decoding_is_busy_is_not_dropped_silently(
    store, create_work_order, monkeypatch, budget
):
    from server.services.intake import IncomingFile, keep_file

    order = create_work_order()
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 0.0)
    before = set(store.keys())
    with budget.reserve(budget.limit, timeout=0), pytest.raises(ImageProcessingBusy):
        keep_file(order, IncomingFile("leak.jpg", "image/jpeg", camera_jpeg()), store)
    assert set(store.keys()) == before
