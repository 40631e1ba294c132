"""Authorization on the mobile API: technicians only, and only their own jobs.

Technician A cannot read, list, photograph, sign or move technician B's job (404, the same
answer as for a job that does not exist); office tokens, even minted for this API, and
anonymous callers get nothing.
"""

from __future__ import annotations

import base64
import io
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.models import Role, TokenAudience
from tests.mobile_api.conftest import jpeg_bytes, new_id, png_bytes


def photo_form():
    return {
        "data": {"file": (io.BytesIO(jpeg_bytes()), "p.jpg"), "client_id": new_id()},
        "content_type": "multipart/form-data",
    }


def signature_json():
    return {
        "json": {
            "client_id": new_id(),
            "signer_name": "A",
            "signer_role": "customer",
            "signed_at": "2026-11-23T10:00:00+08:00",
            "png_base64": base64.b64encode(png_bytes()).decode(),
        }
    }


def web_push_json():
    from tests.notify.fake_webpush import b64url

    point = ec.generate_private_key(ec.SECP256R1()).public_key()
    p256dh = point.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "endpoint": f"https://push.example.net/push/{new_id()}",
        "keys": {"p256dh": b64url(p256dh), "auth": b64url(uuid.uuid4().bytes)},
    }


# (method, url, request kwargs factory, whether it names a job)
ENDPOINTS = [
    ("GET", "/api/mobile/v1/jobs", lambda w: {}, False),
    ("GET", "/api/mobile/v1/jobs/{job}", lambda w: {}, True),
    (
        "POST",
        "/api/mobile/v1/jobs/{job}/transitions",
        lambda w: {"json": {"transition": "accept", "expected_version": w["version"]}},
        True,
    ),
    ("PUT", "/api/mobile/v1/jobs/{job}/report", lambda w: {"json": {"work_notes": "n"}}, True),
    ("POST", "/api/mobile/v1/jobs/{job}/photos", lambda w: photo_form(), True),
    ("GET", "/api/mobile/v1/jobs/{job}/photos/{photo}", lambda w: {}, True),
    ("GET", "/api/mobile/v1/jobs/{job}/photos/{photo}/thumbnail", lambda w: {}, True),
    ("POST", "/api/mobile/v1/jobs/{job}/signature", lambda w: signature_json(), True),
    ("GET", "/api/mobile/v1/jobs/{job}/signatures/{signature}", lambda w: {}, True),
    ("GET", "/api/mobile/v1/me", lambda w: {}, False),
    ("POST", "/api/mobile/v1/me/status", lambda w: {"json": {"status": "available"}}, False),
    (
        "POST",
        "/api/mobile/v1/devices",
        lambda w: {"json": {"push_token": new_id(), "platform": "ios"}},
        False,
    ),
    ("DELETE", "/api/mobile/v1/devices/{device}", lambda w: {}, False),
    ("GET", "/api/mobile/v1/devices/web-push-key", lambda w: {}, False),
    ("POST", "/api/mobile/v1/devices/web-push", lambda w: {"json": web_push_json()}, False),
    ("GET", "/api/mobile/v1/me/notification-preferences", lambda w: {}, False),
    (
        "PATCH",
        "/api/mobile/v1/me/notification-preferences",
        lambda w: {"json": {"digest": {"email": False}}},
        False,
    ),
]
PUBLIC = [
    ("POST", "/api/mobile/v1/auth/token"),
    ("POST", "/api/mobile/v1/auth/refresh"),
    ("POST", "/api/mobile/v1/auth/logout"),
    ("GET", "/api/mobile/v1/openapi.json"),
]


@pytest.fixture
def world(client, create_work_order, create_user, api_headers, assign, dispatcher):
    tech_a, tech_b = create_user(Role.TECHNICIAN), create_user(Role.TECHNICIAN)
    job_b = assign(create_work_order(actor=dispatcher), tech_b)
    headers_b = api_headers(tech_b, TokenAudience.MOBILE)
    photo = client.post(f"/api/mobile/v1/jobs/{job_b.id}/photos", headers=headers_b, **photo_form())
    signature = client.post(
        f"/api/mobile/v1/jobs/{job_b.id}/signature", headers=headers_b, **signature_json()
    )
    device = client.post(
        "/api/mobile/v1/devices",
        headers=headers_b,
        json={"push_token": "b-token", "platform": "android"},
    )
    return {
        "job": job_b.id,
        "version": job_b.version,
        "photo": photo.get_json()["id"],
        "signature": signature.get_json()["id"],
        "device": device.get_json()["id"],
        "tech_a": api_headers(tech_a, TokenAudience.MOBILE),
        "tech_b": headers_b,
        "office_api": api_headers(dispatcher, TokenAudience.API),
        "office_mobile": api_headers(dispatcher, TokenAudience.MOBILE),
    }


def test_every_mobile_route_is_covered(app):
    routes = {
        (m, r.rule)
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("mobile.")
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    named = {
        (
            m,
            u.replace("{job}", "<int:job_id>")
            .replace("{photo}", "<int:photo_id>")
            .replace("{signature}", "<int:signature_id>")
            .replace("{device}", "<int:device_id>"),
        )
        for m, u, _k, _j in ENDPOINTS
    } | set(PUBLIC)
    uploads = {route for route in routes if "/uploads" in route[1] or "from-upload" in route[1]}
    assert routes - uploads <= named, routes - uploads - named


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "names_job"),
    ENDPOINTS,
    ids=[f"{m} {u}" for m, u, _k, _j in ENDPOINTS],
)
def test_other_technicians_and_office_tokens_get_nothing(
    client, world, method, url, kwargs, names_job
):
    path = url.format(**world)
    as_a = client.open(path, method=method, headers=world["tech_a"], **kwargs(world))
    if names_job or "{device}" in url:
        assert as_a.status_code == 404, as_a.get_json()
    else:
        assert as_a.status_code < 300
    for who in ("office_api",):
        assert (
            client.open(path, method=method, headers=world[who], **kwargs(world)).status_code == 401
        )
    assert client.open(path, method=method, **kwargs(world)).status_code == 401
    office = client.open(path, method=method, headers=world["office_mobile"], **kwargs(world))
    assert office.status_code == 403


def test_technician_a_does_not_see_b_in_lists(client, world):
    body = client.get("/api/mobile/v1/jobs", headers=world["tech_a"]).get_json()
    assert body["items"] == []
    owner = client.get("/api/mobile/v1/jobs", headers=world["tech_b"]).get_json()
    assert [item["id"] for item in owner["items"]] == [world["job"]]
