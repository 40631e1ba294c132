"""The console's technician photo upload when the server has no room to decode (issue #14, 7)."""

from __future__ import annotations

import io

from PIL import Image

from server import images
from server.images import DecodeBudget
from server.models import Role
from server.services.technician_photos import technician_photo


def test_a_photo_upload_with_no_room_to_decode_says_to_try_again(
    client, office, create_user, monkeypatch
):
    _user, token = office
    technician = create_user(Role.TECHNICIAN)
    budget = DecodeBudget(images.decode_budget.limit)
    monkeypatch.setattr(images, "decode_budget", budget)
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 0.0)
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (20, 160, 60)).save(buffer, "JPEG")

    with budget.reserve(budget.limit, timeout=0):
        response = client.post(
            f"/technicians/{technician.id}/photo",
            data={"csrf_token": token, "photo": (io.BytesIO(buffer.getvalue()), "photo.jpg")},
            content_type="multipart/form-data",
        )

    assert response.status_code == 503
    assert "try again in a few seconds" in response.get_data(as_text=True)
    assert technician_photo(technician) is None
