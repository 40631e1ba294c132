"""A scripted technician's phone: plays a whole working day against a running Fieldwork.

Run: ``python -m tools.phone_client --base-url http://127.0.0.1:5000 --username tech01``.
It signs in, registers the phone, syncs, takes the first assigned job through accept,
travel, arrival, photos, report, signature and completion, and syncs again — retrying
some calls the way a phone on a bad network does, with the same Idempotency-Key.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any


class PhoneError(RuntimeError):
    """The server answered something a phone would not expect."""


@dataclass
class Phone:
    """A minimal HTTP client speaking the mobile API."""

    base_url: str
    token: str | None = None
    log: list[str] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        expect: tuple[int, ...] = (200, 201, 204),
    ) -> tuple[int, Any]:
        """Send one request; return (status, parsed JSON or None)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if not self.base_url.startswith(("http://", "https://")):
            raise PhoneError("the base URL must be http:// or https://")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            self.base_url + path, data=data, method=method
        )
        if data is not None:
            request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if key:
            request.add_header("Idempotency-Key", key)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        self.log.append(f"{method} {path} -> {status}")
        parsed = json.loads(payload) if payload and payload[:1] in (b"{", b"[") else None
        if status not in expect:
            raise PhoneError(f"{method} {path}: {status} {parsed}")
        return status, parsed

    def move(self, job: dict[str, Any], transition: str, **extra: Any) -> dict[str, Any]:
        """Apply a transition with the job's version; return the job as the server has it."""
        body = {
            "transition": transition,
            "expected_version": job["version"],
            "captured_at": "2026-11-23T09:00:00+08:00",
        } | extra
        _status, moved = self.call(
            "POST", f"/api/mobile/v1/jobs/{job['id']}/transitions", body, key=str(uuid.uuid4())
        )
        return dict(moved)


def _multipart(
    fields: dict[str, str], file_field: str, filename: str, content: bytes
) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _photo(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1200, 900), color).save(buffer, "JPEG")
    return buffer.getvalue()


def _signature_png() -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (400, 150), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(20, 100), (120, 40), (220, 110), (380, 30)], fill="black", width=4)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def play_day(base_url: str, username: str, password: str) -> dict[str, Any]:
    """Play a technician's day; return a summary of what happened."""
    phone = Phone(base_url.rstrip("/"))
    _s, tokens = phone.call(
        "POST", "/api/mobile/v1/auth/token", {"username": username, "password": password}
    )
    phone.token = tokens["access_token"]
    phone.call(
        "POST",
        "/api/mobile/v1/devices",
        {
            "push_token": f"fcm-{uuid.uuid4().hex}",
            "platform": "android",
            "app_version": "2.3.1",
            "locale": "zh_CN",
        },
        key=str(uuid.uuid4()),
    )
    phone.call("POST", "/api/mobile/v1/me/status", {"status": "available"}, key=str(uuid.uuid4()))
    _s, first_sync = phone.call("GET", "/api/mobile/v1/jobs")
    cursor = first_sync["sync_cursor"]
    assigned = [job for job in first_sync["items"] if job["state"] == "assigned"]
    if not assigned:
        raise PhoneError("no assigned job to work on")
    _s, job = phone.call("GET", f"/api/mobile/v1/jobs/{assigned[0]['id']}")
    job = phone.move(job, "accept")
    job = phone.move(job, "start_travel")
    job = phone.move(job, "arrive", location={"latitude": 31.19, "longitude": 121.43})
    job = phone.move(job, "start_work")

    # Two photos; the first is sent twice, as after a timeout in the lift.
    photo_ids = set()
    for attempt, color in ((1, (200, 40, 40)), (1, (200, 40, 40)), (2, (40, 40, 200))):
        body, content_type = _multipart(
            {"client_id": str(uuid.UUID(int=attempt)), "caption": f"照片 {attempt}"},
            "file",
            f"IMG_{attempt}.jpg",
            _photo(color),
        )
        _s, photo = phone.call(
            "POST",
            f"/api/mobile/v1/jobs/{job['id']}/photos",
            raw=body,
            content_type=content_type,
            key=f"photo-{job['id']}-{attempt}",
        )
        photo_ids.add(photo["id"])

    answers = [{"key": item["key"], "answer": "ok", "ok": True} for item in job["checklist"]]
    phone.call(
        "PUT",
        f"/api/mobile/v1/jobs/{job['id']}/report",
        {
            "work_notes": "更换启动电容，测试运行正常。",
            "checklist": answers,
            "parts": [{"part_number": "CAP-35", "description": "启动电容 35µF", "quantity": 1}],
            "labour_minutes": 50,
            "resolution_code": "replaced_part",
            "follow_up_needed": False,
        },
        key=str(uuid.uuid4()),
    )
    phone.call(
        "POST",
        f"/api/mobile/v1/jobs/{job['id']}/signature",
        {
            "client_id": str(uuid.uuid4()),
            "signer_name": "王先生",
            "signer_role": "customer",
            "signed_at": "2026-11-23T11:30:00+08:00",
            "png_base64": _signature_png(),
        },
        key=str(uuid.uuid4()),
    )
    _s, job = phone.call("GET", f"/api/mobile/v1/jobs/{job['id']}")
    job = phone.move(job, "complete", input={"resolution_code": "replaced_part"})
    _s, delta = phone.call("GET", f"/api/mobile/v1/jobs?since={cursor}")
    return {
        "job_id": job["id"],
        "final_state": job["state"],
        "photos": len(photo_ids),
        "delta_changed": [item["id"] for item in delta["items"]],
        "requests": phone.log,
    }


def main() -> None:
    """Play the day and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    parser.add_argument("--username", default="tech01")
    parser.add_argument("--password", default="fieldwork-demo")
    args = parser.parse_args()
    try:
        summary = play_day(args.base_url, args.username, args.password)
    except PhoneError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
    for line in summary.pop("requests"):
        print(line)
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
