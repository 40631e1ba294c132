"""Quotas on stored files: per work order (photos, bytes, signatures) and per user (daily
volume, open resumable uploads). Limits are patched small so a few real images reach them."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from server.extensions import blob_store, db
from server.models import Attachment, AttachmentKind, TokenAudience, Upload
from server.models.base import utcnow
from server.services import attachments
from tests.conftest import dispose
from tests.integration.races import make_app, race_in_threads, seed_race
from tests.mobile_api.conftest import jpeg_bytes, new_id, png_bytes

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {"Content-Type": "application/offset+octet-stream"}
PROBLEM = "application/problem+json"


def upload(client, phone, job_id, data, client_id=None):
    return client.post(
        f"/api/mobile/v1/jobs/{job_id}/photos",
        headers=phone,
        data={"file": (io.BytesIO(data), "photo.jpg"), "client_id": client_id or new_id()},
        content_type="multipart/form-data",
    )


def sign(client, phone, job_id, client_id=None):
    return client.post(
        f"/api/mobile/v1/jobs/{job_id}/signature",
        headers=phone,
        json={
            "client_id": client_id or new_id(),
            "signer_name": "王女士",
            "signer_role": "customer",
            "signed_at": "2026-11-23T11:00:00+08:00",
            "png_base64": base64.b64encode(png_bytes()).decode(),
        },
    )


def create_upload(client, phone, length, client_id=None):
    extra = {}
    if client_id:
        extra["Upload-Metadata"] = "client_id " + base64.b64encode(client_id.encode()).decode()
    return client.post(
        "/api/mobile/v1/uploads", headers=phone | TUS | {"Upload-Length": str(length)} | extra
    )


def photos_of(job_id):
    return db.session.scalar(
        select(func.count())
        .select_from(Attachment)
        .where(Attachment.work_order_id == job_id, Attachment.kind == AttachmentKind.PHOTO)
    )


def keys():
    return set(blob_store().keys())


def shade(number):
    """A distinct real JPEG per number (so each upload is a different file)."""
    return jpeg_bytes(color=(number * 40 % 256, 90, 30))


@pytest.fixture
def second_job(create_work_order, assign, tech):
    return assign(create_work_order(), tech)


@pytest.fixture
def other_phone(api_headers, other_tech):
    return api_headers(other_tech, TokenAudience.MOBILE)


def test_the_photo_after_the_last_allowed_one_is_refused_and_nothing_is_stored(
    client, phone, job, monkeypatch
):
    monkeypatch.setattr(attachments, "MAX_PHOTOS_PER_ORDER", 2)
    for number in range(2):
        assert upload(client, phone, job.id, shade(number)).status_code == 201
    before = keys()

    response = upload(client, phone, job.id, shade(2))

    assert response.status_code == 413
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["code"] == "too_many_photos"
    assert "too many photos on this work order" in body["detail"].lower()
    assert (body["limit"], body["used"]) == (2, 2)
    assert photos_of(job.id) == 2
    assert keys() == before


def test_a_photo_that_would_overflow_the_orders_bytes_is_refused(client, phone, job, monkeypatch):
    first, second = shade(1), shade(2)
    monkeypatch.setattr(attachments, "MAX_PHOTO_BYTES_PER_ORDER", len(first) + len(second) - 1)
    assert upload(client, phone, job.id, first).status_code == 201
    before = keys()

    response = upload(client, phone, job.id, second)

    assert response.status_code == 413
    body = response.get_json()
    assert body["code"] == "order_photo_bytes_exceeded"
    assert body["used"] == len(first)
    assert body["limit"] == len(first) + len(second) - 1
    assert photos_of(job.id) == 1
    assert keys() == before


def test_the_daily_volume_answers_429_with_retry_after_across_jobs(
    client, phone, job, second_job, monkeypatch
):
    first, second = shade(1), shade(2)
    monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES_PER_DAY", len(first) + len(second) - 1)
    assert upload(client, phone, job.id, first).status_code == 201
    before = keys()

    response = upload(client, phone, second_job.id, second)

    assert response.status_code == 429
    assert response.mimetype == PROBLEM
    assert response.get_json()["code"] == "daily_upload_volume_exceeded"
    assert response.get_json()["used"] == len(first)
    # The first photo leaves the rolling 24 hours in just under a day.
    assert 23 * 3600 < int(response.headers["Retry-After"]) <= 24 * 3600
    assert photos_of(second_job.id) == 0
    assert keys() == before


def test_photos_older_than_24_hours_no_longer_count_against_the_volume(
    client, phone, job, monkeypatch
):
    first, second = shade(1), shade(2)
    monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES_PER_DAY", len(first) + len(second) - 1)
    assert upload(client, phone, job.id, first).status_code == 201
    db.session.execute(
        update(Attachment)
        .where(Attachment.work_order_id == job.id)
        .values(created_at=utcnow() - timedelta(hours=24, minutes=1))
    )

    assert upload(client, phone, job.id, second).status_code == 201


def test_a_429_under_an_idempotency_key_is_not_kept_so_the_retry_runs(
    client, phone, job, monkeypatch
):
    first, second = shade(1), shade(2)
    monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES_PER_DAY", len(first))
    assert upload(client, phone, job.id, first).status_code == 201
    keyed, client_id = phone | {"Idempotency-Key": "quota-retry-1"}, new_id()
    assert upload(client, keyed, job.id, second, client_id=client_id).status_code == 429

    monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES_PER_DAY", len(first) + len(second))
    retried = upload(client, keyed, job.id, second, client_id=client_id)

    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers


def test_replays_of_stored_photos_are_never_refused_by_a_full_job(client, phone, job, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_PHOTOS_PER_ORDER", 2)
    monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES_PER_DAY", len(shade(0)) + len(shade(1)))
    keyed = phone | {"Idempotency-Key": "quota-replay-1"}
    first_id, second_id = new_id(), new_id()
    assert upload(client, phone, job.id, shade(0), client_id=first_id).status_code == 201
    stored = upload(client, keyed, job.id, shade(1), client_id=second_id)
    assert stored.status_code == 201

    by_client_id = upload(client, phone, job.id, shade(0), client_id=first_id)
    by_key = upload(client, keyed, job.id, shade(1), client_id=second_id)

    assert by_client_id.status_code == 200
    assert by_key.status_code == 201
    assert by_key.headers["Idempotent-Replayed"] == "true"
    assert by_key.get_json() == stored.get_json()
    assert photos_of(job.id) == 2


def test_a_removed_photo_frees_its_place(client, phone, job, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_PHOTOS_PER_ORDER", 1)
    first = upload(client, phone, job.id, shade(1)).get_json()
    assert upload(client, phone, job.id, shade(2)).status_code == 413
    # There is no delete endpoint; a photo leaves with its row (its order deleted, a purge).
    db.session.execute(delete(Attachment).where(Attachment.id == first["id"]))

    assert upload(client, phone, job.id, shade(2)).status_code == 201
    assert photos_of(job.id) == 1


def test_other_jobs_and_other_technicians_do_not_use_up_my_quota(
    client,
    phone,
    job,
    second_job,
    other_phone,
    other_tech,
    create_work_order,
    assign,
    monkeypatch,
):
    monkeypatch.setattr(attachments, "MAX_PHOTOS_PER_ORDER", 1)
    monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES_PER_DAY", 2 * len(shade(1)) + 10)
    theirs = assign(create_work_order(), other_tech)
    assert upload(client, other_phone, theirs.id, shade(1)).status_code == 201
    assert upload(client, other_phone, theirs.id, shade(2)).status_code == 413
    assert upload(client, phone, second_job.id, shade(3)).status_code == 201

    assert upload(client, phone, job.id, shade(4)).status_code == 201


def test_signatures_per_job_are_limited_too(client, phone, job, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_SIGNATURES_PER_ORDER", 1)
    client_id = new_id()
    assert sign(client, phone, job.id, client_id).status_code == 201
    before = keys()

    refused = sign(client, phone, job.id)

    assert refused.status_code == 413
    assert refused.get_json()["code"] == "too_many_signatures"
    assert keys() == before
    assert sign(client, phone, job.id, client_id).status_code == 200  # a replay still replays


def test_too_many_open_uploads_answers_429_until_one_is_finished_or_deleted(
    client, phone, monkeypatch
):
    monkeypatch.setattr(attachments, "MAX_OPEN_UPLOADS", 2)
    repeated = new_id()
    first = create_upload(client, phone, 10, client_id=repeated)
    second = create_upload(client, phone, 10)
    assert (first.status_code, second.status_code) == (201, 201)

    refused = create_upload(client, phone, 10)

    assert refused.status_code == 429
    assert refused.mimetype == PROBLEM
    body = refused.get_json()
    assert (body["code"], body["limit"], body["used"]) == ("too_many_open_uploads", 2, 2)
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 2
    # Creating the same capture again is a replay, not a new upload.
    again = create_upload(client, phone, 10, client_id=repeated)
    assert again.status_code == 201
    assert again.headers["Location"] == first.headers["Location"]
    # A finished upload is no longer open.
    finished = client.patch(
        first.headers["Location"],
        headers=phone | TUS | CHUNK | {"Upload-Offset": "0"},
        data=b"x" * 10,
    )
    assert finished.status_code == 204
    assert create_upload(client, phone, 10).status_code == 201
    assert create_upload(client, phone, 10).status_code == 429
    assert client.delete(second.headers["Location"], headers=phone | TUS).status_code == 204
    assert create_upload(client, phone, 10).status_code == 201


def test_another_technicians_open_uploads_do_not_count(client, phone, other_phone, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_OPEN_UPLOADS", 1)
    assert create_upload(client, other_phone, 10).status_code == 201
    assert create_upload(client, phone, 10).status_code == 201
    assert create_upload(client, phone, 10).status_code == 429


def test_an_upload_is_checked_when_created_and_again_when_attached(client, phone, job, monkeypatch):
    data = shade(1)
    monkeypatch.setattr(attachments, "MAX_UPLOAD_BYTES_PER_DAY", len(data) + 100)
    # Bigger than a whole day's volume: waiting would not help, so 413 rather than 429.
    assert create_upload(client, phone, len(data) + 101).status_code == 413
    location = create_upload(client, phone, len(data)).headers["Location"]
    # Its declared length is reserved: a second one does not fit beside it.
    beside = create_upload(client, phone, len(data))
    assert beside.status_code == 429
    assert beside.get_json()["code"] == "daily_upload_volume_exceeded"
    assert int(beside.headers["Retry-After"]) > 0
    sent = client.patch(location, headers=phone | TUS | CHUNK | {"Upload-Offset": "0"}, data=data)
    assert sent.status_code == 204
    # Meanwhile the job filled up: attaching is refused and the upload stays for later.
    monkeypatch.setattr(attachments, "MAX_PHOTOS_PER_ORDER", 0)
    body = {"upload_id": location.rsplit("/", 1)[1], "client_id": str(uuid.uuid4())}
    path = f"/api/mobile/v1/jobs/{job.id}/photos/from-upload"

    refused = client.post(path, headers=phone, json=body)

    assert refused.status_code == 413
    assert refused.get_json()["code"] == "too_many_photos"
    assert db.session.get(Upload, body["upload_id"]).consumed_at is None
    monkeypatch.setattr(attachments, "MAX_PHOTOS_PER_ORDER", 1)
    assert client.post(path, headers=phone, json=body).status_code == 201
    assert photos_of(job.id) == 1


def test_the_openapi_document_lists_the_quota_answers(client):
    paths = client.get("/api/mobile/v1/openapi.json").get_json()["paths"]
    for path in ("/jobs/{job_id}/photos", "/jobs/{job_id}/photos/from-upload"):
        assert {"413", "429"} <= set(paths[path]["post"]["responses"])
    assert "429" in paths["/uploads"]["post"]["responses"]
    assert "429" in paths["/jobs/{job_id}/signature"]["post"]["responses"]


# --- Concurrency: committed data, real threads -------------------------------------------------


@pytest.fixture
def race_app(databases, tmp_path):
    app = make_app(databases.create(), tmp_path, migrate=True)
    yield app
    dispose(app)


@pytest.mark.slow
def test_photos_racing_for_the_last_place_on_a_job_store_exactly_one(race_app, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_PHOTOS_PER_ORDER", 1)
    world = seed_race(race_app, 1, 1, assign_to_first=True)
    job_id, auth = world["orders"][0], {"Authorization": f"Bearer {world['tech_token']}"}
    contenders = 4
    photos = [shade(number) for number in range(contenders)]

    statuses = race_in_threads(
        contenders,
        lambda i: upload(race_app.test_client(), auth, job_id, photos[i]).status_code,
    )

    assert sorted(statuses) == [201] + [413] * (contenders - 1), statuses
    with race_app.app_context():
        assert photos_of(job_id) == 1
