"""A local stand-in for Google's OAuth token endpoint and the FCM HTTP v1 send API.

``FakeFcm`` is a real HTTP server on 127.0.0.1 (stdlib ``http.server`` in a thread, port 0):

- ``POST /token`` checks an OAuth2 JWT-bearer grant (signature included) and hands out the
  access token ``fake``;
- ``POST /v1/projects/<project>/messages:send`` checks that bearer token, records the request
  and answers with whatever was scripted for the message's device token (success by default).

``write_service_account`` writes a service-account JSON whose ``token_uri`` is this fake's.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PROJECT_ID = "fieldwork-test"
ACCESS_TOKEN = "fake"
CLIENT_EMAIL = f"push@{PROJECT_ID}.iam.gserviceaccount.com"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
INVALID_TOKEN_MESSAGE = "The registration token is not a valid FCM registration token"

_SEND_PATH = re.compile(r"^/v1/projects/(?P<project>[^/]+)/messages:send$")


@dataclass(frozen=True)
class Reply:
    """What the fake answers for one device token."""

    status: int = 200
    body: dict[str, Any] | None = None  # None on success: the fake makes a message name
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sit on the request before answering


@dataclass(frozen=True)
class SendRequest:
    """One request the fake's send method received."""

    project: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any]

    @property
    def message(self) -> dict[str, Any]:
        return self.body["message"]


def fcm_error(
    http_status: int, status: str, message: str, error_code: str | None = None
) -> dict[str, Any]:
    """Return an error body in the FCM v1 format."""
    error: dict[str, Any] = {"code": http_status, "message": message, "status": status}
    if error_code:
        error["details"] = [{"@type": FCM_ERROR_TYPE, "errorCode": error_code}]
    return {"error": error}


def unregistered() -> Reply:
    return Reply(
        404, fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
    )


def invalid_token() -> Reply:
    return Reply(400, fcm_error(400, "INVALID_ARGUMENT", INVALID_TOKEN_MESSAGE, "INVALID_ARGUMENT"))


def invalid_argument(message: str = "Invalid value at 'message.data[0].value'") -> Reply:
    return Reply(400, fcm_error(400, "INVALID_ARGUMENT", message, "INVALID_ARGUMENT"))


def sender_id_mismatch() -> Reply:
    return Reply(
        403,
        fcm_error(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"),
    )


def quota_exceeded(retry_after: str | None = "30") -> Reply:
    body = fcm_error(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Send requests'",
        "QUOTA_EXCEEDED",
    )
    return Reply(429, body, {"Retry-After": retry_after} if retry_after else {})


def unavailable(retry_after: str | None = "10") -> Reply:
    body = fcm_error(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE")
    return Reply(503, body, {"Retry-After": retry_after} if retry_after else {})


def internal() -> Reply:
    return Reply(500, fcm_error(500, "INTERNAL", "Internal error encountered.", "INTERNAL"))


def slow(seconds: float) -> Reply:
    return Reply(delay=seconds)


def http_date(when: Any) -> str:
    """Format an aware datetime as an HTTP date (for Retry-After)."""
    return format_datetime(when, usegmt=True)


class FakeFcm:
    """Serve a fake OAuth token endpoint and FCM v1 send API on 127.0.0.1."""

    def __init__(self, project_id: str = PROJECT_ID) -> None:
        self.project_id = project_id
        self.replies: dict[str, Reply] = {}
        self.requests: list[SendRequest] = []
        self.token_requests = 0
        self.message_ids: dict[str, str] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def start(self) -> FakeFcm:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-fcm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sitting on a slow reply
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeFcm:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reply(self, token: str, reply: Reply) -> None:
        """Script the answer for every message sent to ``token``."""
        self.replies[token] = reply

    def requests_for(self, token: str) -> list[SendRequest]:
        with self._lock:
            return [r for r in self.requests if r.message.get("token") == token]

    def write_service_account(self, path: Path) -> Path:
        """Write a service-account JSON file that authenticates against this fake."""
        pem = self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        info = {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": "fake-key-1",
            "private_key": pem,
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000001",
            "auth_uri": f"{self.url}/auth",
            "token_uri": self.token_uri,
        }
        path.write_text(json.dumps(info), encoding="utf-8")
        return path

    # Called from handler threads.

    def check_grant(self, form: dict[str, list[str]]) -> str | None:
        """Return why a token request is refused, or None when it is a valid JWT grant."""
        if form.get("grant_type") != [JWT_BEARER]:
            return "unsupported_grant_type"
        try:
            header, payload, signature = (_unb64(part) for part in form["assertion"][0].split("."))
            signed = form["assertion"][0].rsplit(".", 1)[0].encode()
            self._key.public_key().verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            claims = json.loads(payload)
        except Exception:  # any malformed assertion is just refused
            return "invalid_grant"
        if json.loads(header).get("alg") != "RS256" or claims.get("iss") != CLIENT_EMAIL:
            return "invalid_grant"
        # google-auth always names Google's token endpoint as the audience, whatever token_uri is.
        if claims.get("aud") != GOOGLE_TOKEN_AUDIENCE:
            return "invalid_grant"
        if CLOUD_PLATFORM_SCOPE not in str(claims.get("scope", "")).split():
            return "invalid_scope"
        return None

    def record(self, request: SendRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            token = request.message.get("token", "")
            reply = self.replies.get(token, Reply())
            if reply.body is None and reply.status == 200:
                name = f"projects/{request.project}/messages/{next(self._ids)}"
                self.message_ids[token] = name
                reply = Reply(200, {"name": name}, reply.headers, reply.delay)
            return reply

    def wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # send_each opens up to 500 connections at once
    fake: FakeFcm

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is part of the script, not a failure.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/token":
            with fake._lock:
                fake.token_requests += 1
            refused = fake.check_grant(parse_qs(raw.decode()))
            if refused:
                self._json(400, {"error": refused})
            else:
                self._json(
                    200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}
                )
            return
        match = _SEND_PATH.match(self.path)
        if not match:
            self._json(404, fcm_error(404, "NOT_FOUND", f"No route for {self.path}"))
            return
        if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            self._json(
                401, fcm_error(401, "UNAUTHENTICATED", "Request had invalid authentication.")
            )
            return
        try:
            body = json.loads(raw)
            assert isinstance(body.get("message"), dict)
        except (ValueError, AssertionError):
            self._json(400, fcm_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received."))
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = fake.record(SendRequest(match["project"], headers, body))
        if reply.delay:
            fake.wait(reply.delay)
        self._json(reply.status, reply.body or {}, reply.headers)

    def _json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)
