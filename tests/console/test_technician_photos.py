"""The technicians page: upload, show and remove a technician's photo."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from server.extensions import blob_store, db
from server.images import MAX_BYTES
from server.models import Role
from server.services.technician_photos import technician_photo
from tests.factories import PASSWORD
from tests.images import bomb_png, gif_bytes


def csrf_token(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def sign_in(client, user):
    response = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302


@pytest.fixture
def technician(create_user):
    return create_user(Role.TECHNICIAN, display_name="Li Wei 李伟")


def jpeg_with_location(size=(1200, 900)) -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)})
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def png_bytes(size=(400, 400)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 160, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def upload(client, token, user_id, data, filename="photo.jpg"):
    """POST the photo form; the body is built here because the test client's own encoder
    leaves a temporary file open for large uploads."""
    boundary = "fieldwork-test-boundary"
    body = b""
    if token is not None:
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        ).encode()
    if data is not None:
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    body += f"--{boundary}--\r\n".encode()
    return client.post(
        f"/technicians/{user_id}/photo",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_each_technician_row_has_its_initial_and_an_upload_form(client, office, technician):
    page = client.get("/technicians").get_data(as_text=True)
    row = page.split(f'id="technician-{technician.id}"')[1].split("</tr>")[0]

    assert '<span class="tech-photo initial" aria-hidden="true">L</span>' in row
    assert f'action="/technicians/{technician.id}/photo"' in row
    assert 'enctype="multipart/form-data"' in row
    assert 'accept="image/jpeg,image/png,image/webp,image/heic"' in row
    assert 'name="csrf_token"' in row
    assert "/photo/delete" not in row  # nothing to remove yet


def test_an_uploaded_photo_is_saved_shown_and_served_as_a_small_copy(client, office, technician):
    _user, token = office
    original = jpeg_with_location()

    response = upload(client, token, technician.id, original)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/technicians#technician-{technician.id}")
    page = client.get("/technicians").get_data(as_text=True)
    assert "The photo of Li Wei 李伟 is saved." in page
    row = page.split(f'id="technician-{technician.id}"')[1].split("</tr>")[0]
    src = re.search(r'<img class="tech-photo" src="([^"]+)"', row).group(1)
    assert src.startswith(f"/technicians/{technician.id}/photo?v=")
    assert 'alt="Photo of Li Wei 李伟"' in row
    assert f'action="/technicians/{technician.id}/photo/delete"' in row
    served = client.get(src)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["Cache-Control"] == "private"
    assert served.data != original
    image = Image.open(io.BytesIO(served.data))
    assert max(image.size) <= 320
    assert not image.getexif()


@pytest.mark.parametrize(
    ("make", "filename", "message"),
    [
        (lambda: None, None, "Choose a photo to upload."),
        (lambda: b"", "empty.jpg", "Choose a photo to upload."),
        (
            lambda: b"<html><script>alert(1)</script></html>",
            "x.jpg",
            "This file is not a photo. Upload a JPEG, PNG or WebP photo.",
        ),
        (
            gif_bytes,
            "x.gif",
            "This kind of image cannot be used. Upload a JPEG, PNG or WebP photo.",
        ),
        (
            lambda: jpeg_with_location()[:3000],
            "x.jpg",
            "The photo file is incomplete. Upload it again.",
        ),
        (bomb_png, "bomb.png", "The photo has too many pixels to be read safely."),
        (
            lambda: b"\xff\xd8\xff" + b"\0" * MAX_BYTES,
            "huge.jpg",
            "The photo is larger than 20 MB.",
        ),
    ],
    ids=["no-file", "empty", "html", "gif", "truncated", "decompression-bomb", "too-large"],
)
def test_bad_uploads_are_explained_on_the_page_and_change_nothing(
    client, office, technician, make, filename, message
):
    _user, token = office
    assert upload(client, token, technician.id, png_bytes()).status_code == 302
    kept = technician_photo(technician)
    before = set(blob_store().keys())

    response = upload(client, token, technician.id, make(), filename or "")

    assert response.status_code == 302
    page = client.get("/technicians").get_data(as_text=True)
    assert f'<p class="flash error">{message}</p>' in page
    db.session.expire_all()
    assert technician_photo(technician) == kept
    assert set(blob_store().keys()) == before


def test_removing_the_photo_goes_back_to_the_initial(client, office, technician):
    _user, token = office
    upload(client, token, technician.id, png_bytes())
    key = technician_photo(technician)

    response = client.post(f"/technicians/{technician.id}/photo/delete", data={"csrf_token": token})

    assert response.status_code == 302
    page = client.get("/technicians").get_data(as_text=True)
    assert "The photo of Li Wei 李伟 is removed." in page
    assert '<span class="tech-photo initial" aria-hidden="true">L</span>' in page
    db.session.expire_all()
    assert technician_photo(technician) is None
    assert not blob_store().exists(key)
    assert client.get(f"/technicians/{technician.id}/photo").status_code == 404


def test_a_form_without_its_csrf_token_is_refused(client, office, technician):
    _user, token = office
    upload(client, token, technician.id, png_bytes())
    key = technician_photo(technician)

    posted = upload(client, None, technician.id, jpeg_with_location())
    removed = client.post(f"/technicians/{technician.id}/photo/delete")

    assert posted.status_code == 400
    assert removed.status_code == 400
    db.session.expire_all()
    assert technician_photo(technician) == key


def test_only_technicians_have_photos(client, office, create_user):
    user, token = office

    assert upload(client, token, user.id, png_bytes()).status_code == 404
    assert upload(client, token, 999_999, png_bytes()).status_code == 404
    assert client.get(f"/technicians/{user.id}/photo").status_code == 404


def test_a_technician_cannot_use_the_photo_routes(client, technician, create_user):
    other = create_user(Role.TECHNICIAN)
    sign_in(client, other)
    token = csrf_token(client, "/profile")

    assert upload(client, token, technician.id, png_bytes()).status_code == 403
    assert client.get(f"/technicians/{technician.id}/photo").status_code == 403
    assert (
        client.post(
            f"/technicians/{technician.id}/photo/delete", data={"csrf_token": token}
        ).status_code
        == 403
    )
    assert technician_photo(technician) is None


def test_signed_out_visitors_are_sent_to_the_login_page(client, technician):
    response = client.get(f"/technicians/{technician.id}/photo")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
