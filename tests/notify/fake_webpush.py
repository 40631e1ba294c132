"""A local push service that speaks the Web Push protocol, for tests (like ``fake_fcm``).

``FakePushService`` is a real HTTP server on 127.0.0.1 (stdlib ``http.server`` in a thread,
port 0). It plays the browser's side too: ``subscribe(application_server_key)`` makes a
subscription the way a user agent would (a P-256 key pair and a 16-byte auth secret of its
own, an endpoint under this server), and returns it as ``PushSubscription.toJSON()`` does.

``POST /push/<id>`` is checked as a push service and a user agent would, with code written
here from the RFCs (not pywebpush's), so a mistake on the sending side shows:

- RFC 8030: the subscription exists (404 otherwise), a ``TTL`` header is present (400);
- RFC 8292: ``Authorization: vapid t=<JWT>, k=<key>``: ES256 signature valid against ``k``,
  ``aud`` equal to this server's origin, ``exp`` in the future and at most 24 hours ahead
  (401 otherwise); ``k`` equal to the ``applicationServerKey`` the subscription was made
  with (403 otherwise, RFC 8292 §4.2);
- RFC 8291 / RFC 8188: ``Content-Encoding: aes128gcm``, a single record that decrypts with
  the subscription's private key and auth secret (400 otherwise).

Accepted messages are recorded with their plaintext; then the scripted reply for the
subscription is sent (201 Created with a ``Location`` by default; 410, 429, 503, … on
request).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: Longest VAPID token lifetime a push service accepts (RFC 8292 §2).
MAX_VAPID_LIFETIME = 24 * 3600


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    """Encode base64url without padding."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _public_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


# --- RFC 8292: the VAPID check --------------------------------------------------------------


@dataclass(frozen=True)
class VapidCheck:
    """Why a request's VAPID authorization was refused (``status`` 0: it was not)."""

    status: int = 0
    reason: str = ""
    claims: dict[str, Any] = field(default_factory=dict)


def parse_vapid(authorization: str) -> tuple[str, str] | None:
    """Return ``(t, k)`` of an ``Authorization: vapid t=…, k=…`` header, or None."""
    scheme, _, params = authorization.strip().partition(" ")
    if scheme.lower() != "vapid":
        return None
    values: dict[str, str] = {}
    for part in params.split(","):
        name, _, value = part.strip().partition("=")
        values[name.strip().lower()] = value.strip()
    if not values.get("t") or not values.get("k"):
        return None
    return values["t"], values["k"]


def check_vapid(
    authorization: str | None,
    audience: str,
    application_server_key: str | None,
    now: float | None = None,
) -> VapidCheck:
    """Check a VAPID ``Authorization`` header as RFC 8292 tells a push service to."""
    now = time.time() if now is None else now
    parsed = parse_vapid(authorization or "")
    if parsed is None:
        return VapidCheck(401, "no vapid authorization")
    token, key = parsed
    try:
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b64url_decode(key)
        )
        header_b64, claims_b64, signature_b64 = token.split(".")
        header = json.loads(b64url_decode(header_b64))
        claims = json.loads(b64url_decode(claims_b64))
        signature = b64url_decode(signature_b64)
    except (ValueError, TypeError):
        return VapidCheck(401, "malformed token or key")
    if not isinstance(header, dict) or header.get("alg") != "ES256":
        return VapidCheck(401, "alg is not ES256")
    if len(signature) != 64:
        return VapidCheck(401, "signature is not 64 bytes")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public_key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return VapidCheck(401, "signature does not match k")
    if not isinstance(claims, dict):
        return VapidCheck(401, "claims are not an object")
    if claims.get("aud") != audience:
        return VapidCheck(401, f"aud {claims.get('aud')!r} is not {audience!r}", claims)
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now:
        return VapidCheck(401, "expired or no exp", claims)
    if exp > now + MAX_VAPID_LIFETIME:
        return VapidCheck(401, "exp more than 24 hours ahead", claims)
    sub = str(claims.get("sub") or "")
    if sub and not sub.startswith(("mailto:", "https:")):
        return VapidCheck(401, "sub is neither mailto: nor https:", claims)
    if application_server_key is not None and b64url_decode(key) != b64url_decode(
        application_server_key
    ):
        return VapidCheck(403, "k is not the subscription's applicationServerKey", claims)
    return VapidCheck(0, "", claims)


# --- RFC 8291 / RFC 8188: decrypting aes128gcm ---------------------------------------------


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def webpush_ikm(
    ua_private: ec.EllipticCurvePrivateKey, as_public: bytes, auth_secret: bytes
) -> bytes:
    """Return the input keying material of RFC 8291 §3.3 (the user agent's side)."""
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), as_public)
    ecdh_secret = ua_private.exchange(ec.ECDH(), peer)
    prk_key = _hmac(auth_secret, ecdh_secret)
    key_info = b"WebPush: info\x00" + _public_bytes(ua_private.public_key()) + as_public
    return _hmac(prk_key, key_info + b"\x01")  # HKDF-Expand, L = 32: one block


def content_key_and_nonce(salt: bytes, ikm: bytes) -> tuple[bytes, bytes]:
    """Return the CEK and NONCE of RFC 8188 §2.2/§2.3."""
    prk = _hmac(salt, ikm)
    cek = _hmac(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
    nonce = _hmac(prk, b"Content-Encoding: nonce\x00\x01")[:12]
    return cek, nonce


def decrypt_aes128gcm(
    body: bytes, ua_private: ec.EllipticCurvePrivateKey, auth_secret: bytes
) -> bytes:
    """Decrypt a Web Push message body; raise ValueError when it is not valid RFC 8291."""
    if len(body) < 21:
        raise ValueError("shorter than an aes128gcm header")
    salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    as_public = body[21 : 21 + id_length]
    if id_length != 65 or as_public[:1] != b"\x04":
        raise ValueError("keyid is not the sender's uncompressed P-256 key (RFC 8291 §4)")
    ciphertext = body[21 + id_length :]
    if record_size < 18 or len(ciphertext) > record_size:
        raise ValueError("a push message is exactly one record (RFC 8291 §4)")
    cek, nonce = content_key_and_nonce(salt, webpush_ikm(ua_private, as_public, auth_secret))
    try:
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None)  # record 0: NONCE xor 0
    except Exception as error:  # InvalidTag: wrong keys or a tampered body
        raise ValueError("the record does not decrypt") from error
    stripped = padded.rstrip(b"\x00")
    if not stripped.endswith(b"\x02"):
        raise ValueError("the last record must end with the 0x02 delimiter")
    return stripped[:-1]


# --- the server -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What the fake answers for one subscription."""

    status: int = 201
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def gone() -> Reply:
    return Reply(410, body=b"push subscription has unsubscribed or expired.")


def too_many_requests(retry_after: str | None = "30") -> Reply:
    return Reply(429, {"Retry-After": retry_after} if retry_after else {})


def unavailable(retry_after: str | None = "10") -> Reply:
    return Reply(503, {"Retry-After": retry_after} if retry_after else {})


def payload_too_large() -> Reply:
    return Reply(413, body=b"payload too large")


@dataclass
class FakeSubscription:
    """A subscription the fake made, with the user agent's secrets."""

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str

    @property
    def p256dh(self) -> str:
        return b64url(_public_bytes(self.private_key.public_key()))

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def to_json(self) -> dict[str, Any]:
        """Return what ``PushSubscription.toJSON()`` gives the app."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        }


@dataclass(frozen=True)
class Received:
    """One message the fake accepted and decrypted."""

    subscription_id: str
    headers: dict[str, str]  # names in lower case
    claims: dict[str, Any]
    plaintext: bytes

    @property
    def payload(self) -> Any:
        return json.loads(self.plaintext)


@dataclass(frozen=True)
class Refused:
    """One request the fake refused before any scripted reply."""

    subscription_id: str
    status: int
    reason: str


class FakePushService:
    """Serve a Web Push service on 127.0.0.1 that checks VAPID and decrypts payloads."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, FakeSubscription] = {}
        self.replies: dict[str, Reply] = {}
        self.received: list[Received] = []
        self.refused: list[Refused] = []
        self.attempts: list[str] = []  # subscription id of every POST, in order
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def origin(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakePushService:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-webpush", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakePushService:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def subscribe(self, application_server_key: str) -> FakeSubscription:
        """Make a subscription as a browser would, restricted to ``application_server_key``."""
        sub_id = secrets.token_urlsafe(16)
        subscription = FakeSubscription(
            id=sub_id,
            endpoint=f"{self.origin}/push/{sub_id}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
            application_server_key=application_server_key,
        )
        with self._lock:
            self.subscriptions[sub_id] = subscription
        return subscription

    def reply(self, subscription: FakeSubscription, reply: Reply) -> None:
        """Script the answer to every message for ``subscription`` (until changed)."""
        with self._lock:
            self.replies[subscription.id] = reply

    def clear_reply(self, subscription: FakeSubscription) -> None:
        with self._lock:
            self.replies.pop(subscription.id, None)

    def received_for(self, subscription: FakeSubscription) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.subscription_id == subscription.id]

    # Called from handler threads.

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        prefix = "/push/"
        sub_id = path[len(prefix) :] if path.startswith(prefix) else ""
        with self._lock:
            self.attempts.append(sub_id)
            subscription = self.subscriptions.get(sub_id)
        if subscription is None:
            return Reply(404, body=b"no such subscription")

        def refuse(status: int, reason: str) -> Reply:
            with self._lock:
                self.refused.append(Refused(sub_id, status, reason))
            return Reply(status, body=reason.encode())

        if "ttl" not in headers or not headers["ttl"].isdigit():
            return refuse(400, "TTL header missing (RFC 8030 §5.2)")
        check = check_vapid(
            headers.get("authorization"), self.origin, subscription.application_server_key
        )
        if check.status:
            return refuse(check.status, check.reason)
        if headers.get("content-encoding") != "aes128gcm":
            return refuse(400, "Content-Encoding is not aes128gcm")
        try:
            plaintext = decrypt_aes128gcm(body, subscription.private_key, subscription.auth_secret)
        except ValueError as error:
            return refuse(400, str(error))
        with self._lock:
            self.received.append(Received(sub_id, dict(headers), check.claims, plaintext))
            reply = self.replies.get(sub_id, Reply())
            if reply.status == 201 and "Location" not in reply.headers:
                location = f"{self.origin}/message/{next(self._ids)}"
                reply = Reply(201, {**reply.headers, "Location": location}, reply.body)
        return reply


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakePushService

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.fake.handle(self.path, headers, body)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass
