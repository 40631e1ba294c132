"""A technician's photo: stored as a small metadata-free copy, shown to the customer en route."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from server.extensions import blob_store, db
from server.images import MAX_BYTES
from server.models import Role
from server.services.attachments import AttachmentRejected
from server.services.customer_portal import issue_customer_link, revoke_customer_link
from server.services.errors import NotFound
from server.services.technician_photos import (
    PhotoNotAllowed,
    clear_technician_photo,
    set_technician_photo,
    technician_photo,
)
from server.services.work_orders import apply_transition
from tests.factories import add_completion_evidence
from tests.images import bomb_png, gif_bytes


def camera_jpeg(size=(1600, 1200), color=(30, 90, 200)) -> bytes:
    """A phone-camera-like JPEG: GPS position, camera make and a comment in its metadata."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(0x8825).update({1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)})
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", exif=exif, comment=b"home address")
    return buffer.getvalue()


def png_bytes(size=(500, 400)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 160, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture
def store(db_session):
    return blob_store()


@pytest.fixture
def people(create_user):
    """A dispatcher, the technician whose photo it is, and another technician."""
    return (
        create_user(Role.DISPATCHER),
        create_user(Role.TECHNICIAN, display_name="Zhou Jielun 周杰伦"),
        create_user(Role.TECHNICIAN),
    )


# --- The service ------------------------------------------------------------------------------


def test_the_stored_photo_is_a_small_jpeg_without_metadata_never_the_upload(store, people):
    dispatcher, technician, _other = people
    original = camera_jpeg()
    before = set(store.keys())

    set_technician_photo(technician, original, store, dispatcher)

    key = technician_photo(technician)
    assert key is not None
    assert key.endswith(".portrait")
    assert set(store.keys()) - before == {key}  # only the copy is kept
    stored = store.get(key)
    assert stored != original
    image = opened(stored)
    assert image.format == "JPEG"
    assert max(image.size) <= 320
    assert not image.getexif()
    assert "comment" not in image.info
    assert b"home address" not in stored
    assert b"PhoneMaker" not in stored


def test_a_new_photo_replaces_the_old_one_and_its_file_goes_on_commit(store, people):
    dispatcher, technician, _other = people
    set_technician_photo(technician, png_bytes(), store, dispatcher)
    db.session.commit()
    first = technician_photo(technician)

    set_technician_photo(technician, camera_jpeg(), store, dispatcher)
    second = technician_photo(technician)
    assert store.exists(first)  # still named by the committed row until the commit
    db.session.commit()

    assert second != first
    assert store.exists(second)
    assert not store.exists(first)


def test_a_rolled_back_replacement_keeps_the_old_photo_and_drops_the_new_file(store, people):
    dispatcher, technician, _other = people
    set_technician_photo(technician, png_bytes(), store, dispatcher)
    db.session.commit()
    first = technician_photo(technician)
    set_technician_photo(technician, camera_jpeg(), store, dispatcher)
    second = technician_photo(technician)

    db.session.rollback()

    assert technician_photo(technician) == first
    assert store.exists(first)
    assert not store.exists(second)


def test_a_rolled_back_savepoint_undoes_only_the_change_made_inside_it(store, people):
    dispatcher, technician, _other = people
    set_technician_photo(technician, png_bytes(), store, dispatcher)
    first = technician_photo(technician)
    savepoint = db.session.begin_nested()
    set_technician_photo(technician, camera_jpeg(), store, dispatcher)
    second = technician_photo(technician)
    savepoint.rollback()

    db.session.commit()

    assert technician_photo(technician) == first
    assert store.exists(first)
    assert not store.exists(second)


def test_clearing_removes_the_photo_and_its_file(store, people):
    dispatcher, technician, _other = people
    set_technician_photo(technician, png_bytes(), store, dispatcher)
    db.session.commit()
    key = technician_photo(technician)

    assert clear_technician_photo(technician, store, dispatcher) is True
    db.session.commit()

    assert technician_photo(technician) is None
    assert not store.exists(key)
    assert clear_technician_photo(technician, store, dispatcher) is False


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: b"<html><script>alert(1)</script></html>", "image_not_an_image"),
        (lambda: b"", "image_not_an_image"),
        (gif_bytes, "image_type_not_allowed"),
        (lambda: camera_jpeg()[:2000], "image_truncated"),
        (bomb_png, "image_too_many_pixels"),
        (lambda: b"\xff\xd8\xff" + b"\0" * MAX_BYTES, "image_too_large"),
    ],
    ids=["html", "empty", "gif", "truncated", "decompression-bomb", "too-large"],
)
def test_what_is_not_an_acceptable_image_is_refused_and_changes_nothing(store, people, make, code):
    dispatcher, technician, _other = people
    data = make()
    set_technician_photo(technician, png_bytes(), store, dispatcher)
    kept = technician_photo(technician)
    before = set(store.keys())

    with pytest.raises(AttachmentRejected) as refused:
        set_technician_photo(technician, data, store, dispatcher)

    assert refused.value.code == code
    assert technician_photo(technician) == kept
    assert set(store.keys()) == before


def test_only_office_staff_or_the_technician_may_change_a_photo(store, people):
    dispatcher, technician, other = people

    with pytest.raises(PhotoNotAllowed):
        set_technician_photo(technician, png_bytes(), store, other)
    with pytest.raises(PhotoNotAllowed):
        clear_technician_photo(technician, store, other)
    assert technician_photo(technician) is None

    set_technician_photo(technician, png_bytes(), store, technician)
    assert technician_photo(technician) is not None
    dispatcher.is_active = False
    with pytest.raises(PhotoNotAllowed):
        clear_technician_photo(technician, store, dispatcher)


def test_only_technicians_have_a_photo(store, people):
    dispatcher, _technician, _other = people

    with pytest.raises(NotFound):
        set_technician_photo(dispatcher, png_bytes(), store, dispatcher)
    assert technician_photo(dispatcher) is None


# --- The customer's page ----------------------------------------------------------------------


@pytest.fixture
def trip(create_work_order, create_customer, people, store):
    """An order of an English-speaking customer, its link, and its technician with a photo."""
    dispatcher, technician, _other = people
    original = camera_jpeg()
    set_technician_photo(technician, original, store, dispatcher)
    order = create_work_order(
        customer=create_customer(name="Carol", preferred_locale="en"), actor=dispatcher
    )
    link = issue_customer_link(order, None)

    def move(*transitions: str) -> None:
        for name in transitions:
            actor = dispatcher if name in ("assign", "cancel") else technician
            data = {"assign": {"assignee_id": technician.id}, "cancel": {"reason": "x"}}
            apply_transition(order, name, actor, data.get(name, {}), order.version)

    return {"order": order, "link": link, "move": move, "original": original, "tech": technician}


def test_the_photo_is_shown_and_served_while_the_technician_is_on_the_way(client, trip, store):
    trip["move"]("assign", "accept", "start_travel")
    path = trip["link"].path

    page = client.get(path).get_data(as_text=True)
    photo = client.get(f"{path}/technician.jpg")

    assert f'src="{path}/technician.jpg"' in page
    assert 'alt="Photo of Zhou"' in page
    assert "Jielun" not in page
    assert photo.status_code == 200
    assert photo.headers["Content-Type"] == "image/jpeg"
    assert photo.headers["Cache-Control"] == "private, max-age=300"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert photo.data == store.get(technician_photo(trip["tech"]))
    assert photo.data != trip["original"]
    image = opened(photo.data)
    assert max(image.size) <= 320
    assert not image.getexif()


@pytest.mark.parametrize(
    "transitions",
    [
        (),
        ("assign",),
        ("assign", "accept"),
        ("assign", "accept", "start_travel", "arrive"),
        ("assign", "accept", "start_travel", "cancel"),
    ],
    ids=["new", "assigned", "accepted", "arrived", "cancelled"],
)
def test_no_photo_unless_the_technician_is_on_the_way(client, trip, transitions):
    trip["move"](*transitions)
    path = trip["link"].path

    page = client.get(path).get_data(as_text=True)

    assert "technician.jpg" not in page
    assert client.get(f"{path}/technician.jpg").status_code == 404


def test_no_photo_once_the_work_is_completed(client, trip):
    order, technician = trip["order"], trip["tech"]
    trip["move"]("assign", "accept", "start_travel", "arrive", "start_work")
    add_completion_evidence(order, technician)
    apply_transition(order, "complete", technician, {"resolution_code": "fixed"}, order.version)
    assert order.state == "completed"

    assert "technician.jpg" not in client.get(trip["link"].path).get_data(as_text=True)
    assert client.get(f"{trip['link'].path}/technician.jpg").status_code == 404


def test_a_technician_without_a_photo_shows_the_initial_and_serves_nothing(client, trip, store):
    clear_technician_photo(trip["tech"], store, trip["tech"])
    trip["move"]("assign", "accept", "start_travel")
    path = trip["link"].path

    page = client.get(path).get_data(as_text=True)

    assert "Zhou is coming to you." in page
    assert "technician.jpg" not in page
    assert '<span class="avatar" aria-hidden="true">Z</span>' in page
    assert client.get(f"{path}/technician.jpg").status_code == 404


def test_a_forged_link_gets_no_photo(client, trip):
    trip["move"]("assign", "accept", "start_travel")

    response = client.get("/r/q3L8bWk2mZp5Xr1T9sVd0Yh4Nc7Ju6Fa_Eg-Oi2KlQ/technician.jpg")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "This link does not work" in response.get_data(as_text=True)


def test_an_expired_or_revoked_link_gets_no_photo(client, trip):
    trip["move"]("assign", "accept", "start_travel")
    link = trip["link"]
    assert client.get(f"{link.path}/technician.jpg").status_code == 200

    revoke_customer_link(link.link)
    revoked = client.get(f"{link.path}/technician.jpg")
    other = issue_customer_link(trip["order"], None)
    other.link.expires_at = other.link.created_at
    db.session.flush()
    expired = client.get(f"{other.path}/technician.jpg")

    assert revoked.status_code == 410
    assert "This link is no longer valid" in revoked.get_data(as_text=True)
    assert expired.status_code == 410
    assert "This link has expired" in expired.get_data(as_text=True)


def test_a_link_shows_only_its_own_orders_technician(
    client, trip, create_work_order, create_customer, people, store
):
    dispatcher, _technician, other = people
    set_technician_photo(other, png_bytes(), store, dispatcher)
    trip["move"]("assign", "accept", "start_travel")
    other_order = create_work_order(customer=create_customer(), actor=dispatcher)
    other_link = issue_customer_link(other_order, None)

    mine = client.get(f"{trip['link'].path}/technician.jpg")

    assert mine.data == store.get(technician_photo(trip["tech"]))
    assert mine.data != store.get(technician_photo(other))
    assert client.get(f"{other_link.path}/technician.jpg").status_code == 404
