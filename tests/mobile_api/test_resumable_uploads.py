"""Resumable photo uploads (tus 1.0.0 + creation, checksum, expiration) and attaching them."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import uuid
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from server.extensions import db
from server.models import Attachment, Role, TokenAudience, Upload
from server.models.base import utcnow
from server.services.uploads import (
    append_chunk,
    part_path,
    sweep_expired_uploads,
    uploads_folder,
)
from server.services.work_orders import apply_transition
from tests.conftest import dispose
from tests.integration.races import make_app, race_in_threads

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = {"Content-Type": "application/offset+octet-stream"}
LOCATION = re.compile(r"^/api/mobile/v1/uploads/([0-9a-f]{32})$")


def png_bytes(side=160, seed=1):
    """Return a PNG of random pixels (incompressible, so it is a few chunks long)."""
    pixels = hashlib.shake_256(seed.to_bytes(4, "big")).digest(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(buffer, "PNG")
    return buffer.getvalue()


def b64(text):
    return base64.b64encode(text.encode()).decode()


def metadata(**values):
    return ",".join(f"{key} {b64(value)}" for key, value in values.items())


def sha256_checksum(chunk):
    return "sha256 " + base64.b64encode(hashlib.sha256(chunk).digest()).decode()


# Fixture names of their own: tests/mobile_api/conftest.py has a ``job`` and an ``assign`` too.


@pytest.fixture
def my_tech(create_user):
    return create_user(Role.TECHNICIAN)


@pytest.fixture
def assign_job(create_user):
    dispatcher = create_user(Role.DISPATCHER)

    def factory(order, tech):
        apply_transition(order, "assign", dispatcher, {"assignee_id": tech.id}, order.version)
        db.session.flush()
        return order

    return factory


@pytest.fixture
def my_job(create_work_order, assign_job, my_tech):
    return assign_job(create_work_order(), my_tech)


@pytest.fixture
def my_phone(api_headers, my_tech):
    return api_headers(my_tech, TokenAudience.MOBILE)


def create(client, phone, length, **meta):
    extra = {"Upload-Metadata": metadata(**meta)} if meta else {}
    return client.post(
        "/api/mobile/v1/uploads", headers=phone | TUS | {"Upload-Length": str(length)} | extra
    )


def created_location(client, phone, length, **meta):
    response = create(client, phone, length, **meta)
    assert response.status_code == 201, response.get_json()
    return response.headers["Location"]


def patch(client, phone, location, offset, chunk, checksum=True, **extra):
    sent = phone | TUS | CHUNK | {"Upload-Offset": str(offset)} | extra
    if checksum:
        sent["Upload-Checksum"] = sha256_checksum(chunk)
    return client.patch(location, headers=sent, data=chunk)


def offset_of(client, phone, location):
    response = client.head(location, headers=phone | TUS)
    assert response.status_code == 200
    return int(response.headers["Upload-Offset"])


def upload_all(client, phone, location, data, parts=3):
    size = -(-len(data) // parts)
    for start in range(0, len(data), size):
        response = patch(client, phone, location, start, data[start : start + size])
        assert response.status_code == 204, response.get_json()
    return location


def attach(client, phone, job, location, client_id=None, **extra):
    body = {
        "upload_id": LOCATION.match(location).group(1),
        "client_id": client_id or str(uuid.uuid4()),
        "caption": "Compressor nameplate",
        "captured_at": "2026-11-23T10:15:00+08:00",
        "latitude": 31.19,
        "longitude": 121.43,
    } | extra
    return client.post(f"/api/mobile/v1/jobs/{job.id}/photos/from-upload", headers=phone, json=body)


def photos_of(job):
    return db.session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.work_order_id == job.id)
    )


def test_options_announces_the_tus_capabilities(client, my_phone):
    response = client.options("/api/mobile/v1/uploads", headers=my_phone)
    assert response.status_code == 204
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Extension"] == "creation,checksum,expiration"
    assert response.headers["Tus-Max-Size"] == "20971520"
    assert response.headers["Tus-Checksum-Algorithm"] == "sha1,sha256"


def test_uploads_are_for_technicians_only(client, create_user, api_headers):
    dispatcher = create_user(Role.DISPATCHER)
    response = create(client, api_headers(dispatcher, TokenAudience.MOBILE), 10)
    assert response.status_code == 403
    assert client.options("/api/mobile/v1/uploads").status_code == 401


def test_a_created_upload_starts_at_offset_zero(client, my_phone):
    before = utcnow()
    response = create(client, my_phone, 1234, filename=b64("../../etc/passwd"))
    assert response.status_code == 201
    assert LOCATION.match(response.headers["Location"])
    assert response.headers["Tus-Resumable"] == "1.0.0"
    expires = parsedate_to_datetime(response.headers["Upload-Expires"])
    assert before + timedelta(hours=24) - timedelta(seconds=2) <= expires
    assert expires <= utcnow() + timedelta(hours=24)
    head = client.head(response.headers["Location"], headers=my_phone | TUS)
    assert head.status_code == 200
    assert head.headers["Upload-Offset"] == "0"
    assert head.headers["Upload-Length"] == "1234"
    assert head.headers["Cache-Control"] == "no-store"
    assert head.headers["Tus-Resumable"] == "1.0.0"
    assert parsedate_to_datetime(head.headers["Upload-Expires"]) == expires


def test_three_checksummed_chunks_become_a_photo_of_the_job(client, my_phone, my_job):
    data = png_bytes()
    client_id = str(uuid.uuid4())
    location = created_location(
        client, my_phone, len(data), client_id=client_id, sha256=hashlib.sha256(data).hexdigest()
    )
    size = -(-len(data) // 3)
    for index, start in enumerate(range(0, len(data), size)):
        chunk = data[start : start + size]
        response = patch(client, my_phone, location, start, chunk)
        assert response.status_code == 204, response.get_json()
        assert int(response.headers["Upload-Offset"]) == start + len(chunk)
        assert "Upload-Expires" in response.headers
        assert offset_of(client, my_phone, location) == start + len(chunk)
        assert index < 3
    upload_id = LOCATION.match(location).group(1)
    assert db.session.get(Upload, upload_id).completed_at is not None

    response = attach(client, my_phone, my_job, location, client_id=client_id)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["client_id"], body["caption"]) == (client_id, "Compressor nameplate")
    assert (body["width"], body["height"]) == (160, 160)
    photo = db.session.get(Attachment, body["id"])
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert photo.size == len(data)
    detail = client.get(f"/api/mobile/v1/jobs/{my_job.id}", headers=my_phone).get_json()
    assert [p["id"] for p in detail["photos"]] == [body["id"]]
    assert client.get(body["thumbnail_url"], headers=my_phone).status_code == 200
    assert not part_path(uploads_folder(), upload_id).exists()


def test_a_dropped_chunk_is_resumed_from_the_servers_offset(client, my_phone, my_job):
    data = png_bytes(seed=2)
    location = created_location(client, my_phone, len(data))
    third = -(-len(data) // 3)
    first, second, rest = data[:third], data[third : 2 * third], data[2 * third :]
    assert patch(client, my_phone, location, 0, first).status_code == 204
    # The second chunk arrives, but its answer is lost: the phone sends it again.
    assert patch(client, my_phone, location, third, second).status_code == 204
    retry = patch(client, my_phone, location, third, second)
    assert retry.status_code == 409
    assert retry.headers["Upload-Offset"] == str(2 * third)
    assert retry.get_json()["offset"] == 2 * third
    assert offset_of(client, my_phone, location) == 2 * third
    assert patch(client, my_phone, location, 2 * third, rest).status_code == 204

    response = attach(client, my_phone, my_job, location, sha256=hashlib.sha256(data).hexdigest())
    assert response.status_code == 201, response.get_json()


def test_a_chunk_that_fails_its_checksum_is_refused_with_460(client, my_phone):
    location = created_location(client, my_phone, 100)
    upload_id = LOCATION.match(location).group(1)
    response = patch(
        client,
        my_phone,
        location,
        0,
        b"x" * 50,
        checksum=False,
        **{"Upload-Checksum": sha256_checksum(b"y" * 50)},
    )
    assert response.status_code == 460
    assert response.get_json()["code"] == "checksum_mismatch"
    assert offset_of(client, my_phone, location) == 0
    path = part_path(uploads_folder(), upload_id)
    assert not path.exists() or path.stat().st_size == 0


def test_an_unsupported_checksum_algorithm_is_a_bad_request(client, my_phone):
    location = created_location(client, my_phone, 100)
    digest = base64.b64encode(hashlib.md5(b"x").digest()).decode()  # noqa: S324
    response = patch(
        client, my_phone, location, 0, b"x", checksum=False, **{"Upload-Checksum": f"md5 {digest}"}
    )
    assert response.status_code == 400
    sha1 = "sha1 " + base64.b64encode(hashlib.sha1(b"x").digest()).decode()  # noqa: S324
    response = patch(
        client, my_phone, location, 0, b"x", checksum=False, **{"Upload-Checksum": sha1}
    )
    assert response.status_code == 204


def test_a_chunk_with_another_content_type_is_415(client, my_phone):
    location = created_location(client, my_phone, 10)
    response = client.patch(
        location,
        headers=my_phone | TUS | {"Upload-Offset": "0", "Content-Type": "application/json"},
        data=b"{}",
    )
    assert response.status_code == 415
    assert offset_of(client, my_phone, location) == 0


def test_requests_without_tus_resumable_are_412(client, my_phone):
    response = client.post("/api/mobile/v1/uploads", headers=my_phone | {"Upload-Length": "10"})
    assert response.status_code == 412
    assert response.headers["Tus-Version"] == "1.0.0"
    location = created_location(client, my_phone, 10)
    assert client.head(location, headers=my_phone).status_code == 412


def test_bad_creation_headers_are_refused(client, my_phone):
    too_big = create(client, my_phone, 20 * 1024 * 1024 + 1)
    assert too_big.status_code == 413
    assert create(client, my_phone, 20 * 1024 * 1024).status_code == 201
    assert create(client, my_phone, 0).status_code == 400
    missing = client.post("/api/mobile/v1/uploads", headers=my_phone | TUS)
    assert missing.status_code == 400
    for meta in ("client_id bm90LWEtdXVpZA==", "client_id !!!", "sha256 " + b64("abc")):
        response = client.post(
            "/api/mobile/v1/uploads",
            headers=my_phone | TUS | {"Upload-Length": "10", "Upload-Metadata": meta},
        )
        assert response.status_code == 400, meta


def test_a_chunk_past_the_declared_length_is_413(client, my_phone):
    location = created_location(client, my_phone, 10)
    response = patch(client, my_phone, location, 0, b"x" * 11)
    assert response.status_code == 413
    assert offset_of(client, my_phone, location) == 0
    big = created_location(client, my_phone, 20 * 1024 * 1024)
    too_big = patch(client, my_phone, big, 0, b"x" * (8 * 1024 * 1024 + 1), checksum=False)
    assert too_big.status_code == 413
    assert offset_of(client, my_phone, big) == 0


def test_another_technicians_upload_is_not_found(
    client, my_phone, api_headers, create_user, create_work_order, assign_job
):
    data = png_bytes(seed=3)
    location = created_location(client, my_phone, len(data))
    upload_all(client, my_phone, location, data)
    other = create_user(Role.TECHNICIAN)
    other_headers = api_headers(other, TokenAudience.MOBILE)
    other_job = assign_job(create_work_order(), other)

    assert client.head(location, headers=other_headers | TUS).status_code == 404
    assert patch(client, other_headers, location, len(data), b"").status_code == 404
    assert attach(client, other_headers, other_job, location).status_code == 404
    assert client.delete(location, headers=other_headers | TUS).status_code == 404
    unknown = "/api/mobile/v1/uploads/" + "0" * 32
    assert client.head(unknown, headers=my_phone | TUS).status_code == 404
    assert client.head("/api/mobile/v1/uploads/..%2f..", headers=my_phone | TUS).status_code == 404
    assert photos_of(other_job) == 0


def test_attaching_before_the_last_byte_is_409(client, my_phone, my_job):
    data = png_bytes(seed=4)
    location = created_location(client, my_phone, len(data))
    patch(client, my_phone, location, 0, data[:100])
    response = attach(client, my_phone, my_job, location)
    assert response.status_code == 409
    assert response.get_json()["code"] == "upload_incomplete"
    assert photos_of(my_job) == 0


def test_a_file_not_matching_its_declared_sha256_is_422_and_kept(client, my_phone, my_job):
    data = png_bytes(seed=5)
    location = created_location(
        client, my_phone, len(data), sha256=hashlib.sha256(b"something else").hexdigest()
    )
    upload_all(client, my_phone, location, data)
    response = attach(client, my_phone, my_job, location)
    assert response.status_code == 422
    assert response.get_json()["code"] == "sha256_mismatch"
    assert photos_of(my_job) == 0
    assert offset_of(client, my_phone, location) == len(data)

    other = created_location(client, my_phone, len(data))
    upload_all(client, my_phone, other, data)
    wrong = attach(client, my_phone, my_job, other, sha256="0" * 64)
    assert wrong.status_code == 422
    assert attach(client, my_phone, my_job, other).status_code == 201


def test_creating_again_with_the_same_client_id_returns_the_same_location(client, my_phone):
    client_id = str(uuid.uuid4())
    first = created_location(client, my_phone, 500, client_id=client_id)
    patch(client, my_phone, first, 0, b"x" * 100)
    again = create(client, my_phone, 500, client_id=client_id.upper())
    assert again.status_code == 201
    assert again.headers["Location"] == first
    assert offset_of(client, my_phone, first) == 100
    different = create(client, my_phone, 501, client_id=client_id)
    assert different.status_code == 422
    assert different.get_json()["code"] == "client_id_reused"


def test_creation_with_an_idempotency_key_is_replayed(client, my_phone):
    keyed = my_phone | {"Idempotency-Key": str(uuid.uuid4())}
    first = create(client, keyed, 300)
    second = create(client, keyed, 300)
    assert second.status_code == 201
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["Idempotent-Replayed"] == "true"


def test_attaching_again_returns_the_same_photo(client, my_phone, my_job):
    data = png_bytes(seed=6)
    location = created_location(client, my_phone, len(data))
    upload_all(client, my_phone, location, data)
    client_id = str(uuid.uuid4())
    first = attach(client, my_phone, my_job, location, client_id=client_id)
    second = attach(client, my_phone, my_job, location, client_id=client_id)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert photos_of(my_job) == 1
    reused = attach(client, my_phone, my_job, location, client_id=str(uuid.uuid4()))
    assert reused.status_code == 409
    assert reused.get_json()["code"] == "upload_consumed"
    assert photos_of(my_job) == 1


def test_a_non_image_upload_is_refused_with_415_and_no_photo(client, my_phone, my_job):
    data = b"%PDF-1.7 not a photo at all" * 40
    location = created_location(client, my_phone, len(data))
    upload_all(client, my_phone, location, data)
    response = attach(client, my_phone, my_job, location)
    assert response.status_code == 415
    assert photos_of(my_job) == 0
    upload = db.session.get(Upload, LOCATION.match(location).group(1))
    assert upload.consumed_at is None


def test_an_expired_upload_is_not_found(client, my_phone, my_job):
    client_id = str(uuid.uuid4())
    data = png_bytes(seed=7)
    location = created_location(client, my_phone, len(data), client_id=client_id)
    upload_all(client, my_phone, location, data)
    upload_id = LOCATION.match(location).group(1)
    db.session.execute(
        update(Upload).where(Upload.id == upload_id).values(expires_at=utcnow() - timedelta(1))
    )
    assert client.head(location, headers=my_phone | TUS).status_code == 404
    assert patch(client, my_phone, location, len(data), b"").status_code == 404
    assert attach(client, my_phone, my_job, location).status_code == 404
    # The capture can start over under the same client_id.
    assert created_location(client, my_phone, len(data), client_id=client_id) != location


def test_the_sweeper_removes_expired_uploads_and_their_files(client, my_phone):
    expired = created_location(client, my_phone, 100)
    alive = created_location(client, my_phone, 100)
    for location in (expired, alive):
        assert patch(client, my_phone, location, 0, b"z" * 40).status_code == 204
    expired_id, alive_id = (LOCATION.match(x).group(1) for x in (expired, alive))
    folder = uploads_folder()
    orphan = part_path(folder, "f" * 32)
    orphan.write_bytes(b"left by a crash")
    os.utime(orphan, (0, 0))
    db.session.execute(
        update(Upload).where(Upload.id == expired_id).values(expires_at=utcnow() - timedelta(1))
    )

    assert sweep_expired_uploads(utcnow()) == 1

    assert db.session.get(Upload, expired_id) is None
    assert not part_path(folder, expired_id).exists()
    assert not orphan.exists()
    assert db.session.get(Upload, alive_id) is not None
    assert part_path(folder, alive_id).stat().st_size == 40


def test_termination_deletes_the_upload_and_its_bytes(client, my_phone):
    location = created_location(client, my_phone, 100)
    patch(client, my_phone, location, 0, b"a" * 10)
    response = client.delete(location, headers=my_phone | TUS)
    assert response.status_code == 204
    assert not part_path(uploads_folder(), LOCATION.match(location).group(1)).exists()
    assert client.head(location, headers=my_phone | TUS).status_code == 404


def test_a_failed_commit_cuts_the_file_back_to_the_stored_offset(client, my_phone):
    location = created_location(client, my_phone, 100)
    patch(client, my_phone, location, 0, b"a" * 10)
    upload = db.session.get(Upload, LOCATION.match(location).group(1))
    path = part_path(uploads_folder(), upload.id)

    with pytest.raises(RuntimeError), append_chunk(upload, 10, b"b" * 20, path.parent, utcnow()):
        raise RuntimeError("commit failed")

    db.session.rollback()
    assert path.read_bytes() == b"a" * 10
    assert offset_of(client, my_phone, location) == 10


def test_bytes_past_the_stored_offset_are_never_kept(client, my_phone):
    location = created_location(client, my_phone, 30)
    patch(client, my_phone, location, 0, b"a" * 10)
    path = part_path(uploads_folder(), LOCATION.match(location).group(1))
    with path.open("ab") as file:  # a crash after the write, before the commit
        file.write(b"garbage that no offset vouches for")
    assert patch(client, my_phone, location, 10, b"b" * 5).status_code == 204
    assert path.read_bytes() == b"a" * 10 + b"b" * 5


def test_the_openapi_document_lists_the_upload_operations(client):
    paths = client.get("/api/mobile/v1/openapi.json").get_json()["paths"]
    assert {"post"} <= set(paths["/uploads"])
    assert {"patch", "delete"} <= set(paths["/uploads/{upload_id}"])
    assert "201" in paths["/jobs/{job_id}/photos/from-upload"]["post"]["responses"]


# --- Concurrency: committed data, real threads -------------------------------------------------


@pytest.fixture
def race_app(databases, tmp_path):
    app = make_app(databases.create(), tmp_path, migrate=True)
    yield app
    dispose(app)


def _technician_token(app):
    from server.auth.tokens import issue_token_pair
    from server.services.users import create_technician_profile, create_user

    with app.app_context():
        tech = create_user(
            username="upload-racer", password="", role=Role.TECHNICIAN, password_hash="unused"
        )
        create_technician_profile(tech, skills=[("hvac", 1)])
        token = issue_token_pair(tech, TokenAudience.MOBILE).access_token
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
def test_concurrent_chunks_at_the_same_offset_have_one_winner(race_app):
    auth = _technician_token(race_app)
    contenders = 8
    chunks = [bytes([65 + i]) * (1000 + i) for i in range(contenders)]
    location = race_app.test_client().post(
        "/api/mobile/v1/uploads", headers=auth | TUS | {"Upload-Length": "5000"}
    )
    location = location.headers["Location"]
    first = race_app.test_client().patch(
        location, headers=auth | TUS | CHUNK | {"Upload-Offset": "0"}, data=b"0" * 100
    )
    assert first.status_code == 204

    statuses = race_in_threads(
        contenders,
        lambda i: (
            race_app.test_client()
            .patch(
                location,
                headers=auth | TUS | CHUNK | {"Upload-Offset": "100"},
                data=chunks[i],
            )
            .status_code
        ),
    )

    assert sorted(statuses) == [204] + [409] * (contenders - 1), statuses
    winner = chunks[statuses.index(204)]
    with race_app.app_context():
        upload = db.session.get(Upload, LOCATION.match(location).group(1))
        assert upload.offset == 100 + len(winner)
        assert part_path(uploads_folder(), upload.id).read_bytes() == b"0" * 100 + winner
