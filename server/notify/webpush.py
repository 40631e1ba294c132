"""Send Web Push messages to browsers (RFC 8030), signed with VAPID (RFC 8292), by pywebpush.

pywebpush encrypts each payload for its subscription (``aes128gcm``, RFC 8291 / RFC 8188) and
POSTs it to the subscription's endpoint with a VAPID ``Authorization: vapid t=…, k=…`` header
(an ES256 JWT whose ``aud`` is the endpoint's origin, ``exp`` 12 hours ahead, well inside the
24 hours RFC 8292 allows, and whose ``sub`` says who runs this server).

Like the FCM sender (``server.notify.push``) this makes one attempt per message and reports,
per message, what the caller should do next; it never sleeps or retries on its own.

Status mapping (:func:`classify_status`):

- 200, 201 (RFC 8030's answer), 202: ``SENT``; the push message's ``Location`` is its id.
- 404, 410: ``TOKEN_DEAD``; the subscription expired or was withdrawn (RFC 8030 §7.3/§8):
  the caller deactivates the device.
- 429 and 5xx: ``RETRY``, with ``Retry-After`` (seconds or an HTTP date) when given.
- 413 (payload too large), 400, 401/403 (VAPID refused: the key changed, or the
  subscription belongs to another application server's key), redirects and any other answer:
  ``PAYLOAD_ERROR``: our bug or our configuration, not retried and not the phone's fault, so
  nothing is deactivated.
- Timeouts and transport errors: ``RETRY``.

Endpoints are chosen by whoever registers a subscription, so the requests are guarded like
webhooks (``server.notify.outbound_http``): the host is resolved once, every address must be
public, the socket connects to exactly those addresses, no redirect is followed and no proxy
from the environment is used; a refused host is reported like an unreachable one (``RETRY``).
``FIELDWORK_WEBPUSH_ALLOW_LOOPBACK`` lets tests reach a push service on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

from server.notify.outbound_http import (
    PrivateAddressRefused,
    is_public_address,
    resolve_public,
)
from server.notify.push import PushOutcome, PushResult, retry_after_seconds

log = logging.getLogger("fieldwork.notify")

#: Seconds a push service keeps a message for a phone that is offline (RFC 8030 ``TTL``).
DEFAULT_TTL = 24 * 3600
#: Lifetime of a VAPID token; RFC 8292 §2 allows at most 24 hours.
VAPID_TOKEN_SECONDS = 12 * 3600
#: Largest plaintext: push services accept 4,096 bytes of body, and aes128gcm adds a
#: 86-byte header (salt, record size, the 65-byte key id), a 16-byte tag and 1 delimiter.
MAX_PAYLOAD_BYTES = 4096 - 86 - 16 - 1
#: ``Urgency`` values of RFC 8030 §5.3.
URGENCIES = ("very-low", "low", "normal", "high")

_TOPIC_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def origin_of(endpoint: str) -> str:
    """Return the origin (``scheme://host[:port]``) of an endpoint: the VAPID audience."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class WebPushMessage:
    """Describe one push message for one browser subscription."""

    endpoint: str
    p256dh: str
    auth: str
    payload: Mapping[str, Any]
    topic: str | None = None
    urgency: str = "normal"
    ttl: int = DEFAULT_TTL
    body: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if urlsplit(self.endpoint).scheme not in ("http", "https"):
            raise ValueError("endpoint must be an http(s) URL")
        if self.urgency not in URGENCIES:
            raise ValueError(f"urgency must be one of {URGENCIES}, not {self.urgency!r}")
        # RFC 8030 §5.4: at most 32 characters of the URL-safe base64 alphabet.
        if self.topic is not None and not (
            0 < len(self.topic) <= 32 and set(self.topic) <= _TOPIC_ALPHABET
        ):
            raise ValueError("topic must be 1 to 32 characters of the base64url alphabet")
        if not 0 <= self.ttl <= 28 * 24 * 3600:
            raise ValueError("ttl must be 0 to 28 days")
        body = json.dumps(self.payload, separators=(",", ":"), sort_keys=True).encode()
        if len(body) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload is {len(body)} bytes; at most {MAX_PAYLOAD_BYTES} fit")
        object.__setattr__(self, "body", body)


class WebPushSender:
    """Send Web Push messages with one VAPID key over one guarded HTTP session."""

    def __init__(
        self,
        private_key: str,
        subject: str,
        *,
        timeout: float = 10.0,
        allow_loopback: bool = False,
    ) -> None:
        self._vapid = Vapid.from_string(private_key=private_key)
        self.subject = subject
        self.timeout = timeout
        self.allow_loopback = allow_loopback
        self._session = _guarded_session(allow_loopback)

    def send(self, messages: Sequence[WebPushMessage]) -> list[PushResult]:
        """Send each message once; return the results in input order."""
        return [self._send_one(message) for message in messages]

    def close(self) -> None:
        """Close the HTTP connections."""
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _send_one(self, message: WebPushMessage) -> PushResult:
        endpoint = message.endpoint
        if urlsplit(endpoint).scheme != "https" and not (
            self.allow_loopback and is_loopback_host(urlsplit(endpoint).hostname or "")
        ):
            return PushResult(endpoint, PushOutcome.PAYLOAD_ERROR, None, "insecure_endpoint")
        headers: dict[str, str | int | float] = {"Urgency": message.urgency}
        if message.topic:
            headers["Topic"] = message.topic
        # pywebpush writes "aud" and "exp" into the claims it is given: a fresh dict each time.
        claims: dict[str, str | int] = {
            "sub": self.subject,
            "aud": origin_of(endpoint),
            "exp": int(time.time()) + VAPID_TOKEN_SECONDS,
        }
        try:
            response = webpush(
                {"endpoint": endpoint, "keys": {"p256dh": message.p256dh, "auth": message.auth}},
                data=message.body.decode(),
                vapid_private_key=self._vapid,
                vapid_claims=claims,
                content_encoding="aes128gcm",
                timeout=self.timeout,
                ttl=message.ttl,
                headers=headers,
                requests_session=self._session,
            )
        except WebPushException as error:
            if error.response is None:  # refused before sending: a malformed subscription
                return PushResult(
                    endpoint, PushOutcome.PAYLOAD_ERROR, None, "invalid", error.message
                )
            status = int(error.status_code or 0)
            outcome, retry_after = classify_status(status, error.retry_after)
            detail = (getattr(error.response, "text", "") or "")[:200] or None
            return PushResult(endpoint, outcome, None, str(status), detail, retry_after)
        except requests.Timeout:
            return PushResult(endpoint, PushOutcome.RETRY, None, "timeout")
        except requests.RequestException:
            # Not resolvable, refused as internal, closed, not answering: one outcome.
            return PushResult(endpoint, PushOutcome.RETRY, None, "unreachable")
        except (ValueError, TypeError) as error:  # undecodable keys, a point not on the curve
            return PushResult(endpoint, PushOutcome.PAYLOAD_ERROR, None, "invalid", str(error))
        status = int(response.status_code)  # type: ignore[union-attr]
        if status // 100 == 3:  # not followed: a push service answers, it does not redirect
            return PushResult(endpoint, PushOutcome.PAYLOAD_ERROR, None, str(status), "redirect")
        location = response.headers.get("Location")  # type: ignore[union-attr]
        return PushResult(endpoint, PushOutcome.SENT, (location or str(status))[:255])


def classify_status(status: int, retry_after: str | None) -> tuple[PushOutcome, float | None]:
    """Map a push service's HTTP status to an outcome and a Retry-After delay in seconds."""
    if status in (404, 410):
        return PushOutcome.TOKEN_DEAD, None
    if status == 429 or 500 <= status <= 599:
        wait = retry_after_seconds(retry_after)
        return PushOutcome.RETRY, None if wait is None else min(wait, 86400.0)
    if 200 <= status <= 202:
        return PushOutcome.SENT, None
    return PushOutcome.PAYLOAD_ERROR, None


def is_loopback_host(host: str) -> bool:
    """Return whether ``host`` names this machine (``localhost`` or a loopback literal)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _checked_addresses(host: str, port: int, allow_loopback: bool) -> list[tuple[Any, ...]]:
    """Resolve ``host`` once; every address must be public (or loopback, when allowed)."""
    if not allow_loopback:
        return resolve_public(host, port)
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for *_rest, sockaddr in answers:
        address = str(sockaddr[0])
        if not (is_public_address(address) or is_loopback_host(address)):
            raise PrivateAddressRefused(f"{host} is at {address}, an internal address")
    return answers


def _connect(connection: Any, allow_loopback: bool) -> socket.socket:
    """Open the socket of a urllib3 connection to the checked addresses of its host only.

    There is no second lookup, so a name whose answer changes in between (DNS rebinding)
    cannot slip through; TLS still verifies the certificate against the name. A refused
    address and one that does not answer raise the same error: the caller must not tell
    them apart (that difference is what a port scan reads).
    """
    try:
        answers = _checked_addresses(connection._dns_host, connection.port, allow_loopback)
    except (OSError, UnicodeError) as error:
        log.info("web push to %s refused or not resolved: %r", connection.host, error)
        raise NewConnectionError(connection, "no public address of this host answered") from None
    failure: Exception | None = None
    for *_rest, sockaddr in answers:
        try:
            return create_connection(
                (str(sockaddr[0]), int(sockaddr[1])),
                connection.timeout,
                source_address=connection.source_address,
                socket_options=connection.socket_options,
            )
        except OSError as error:
            failure = error
    if isinstance(failure, TimeoutError | socket.timeout):
        raise ConnectTimeoutError(connection, f"connecting to {connection.host} timed out")
    raise NewConnectionError(connection, "no public address of this host answered")


def _guarded_session(allow_loopback: bool) -> requests.Session:
    """Return a session that connects only to public addresses, follows no redirect."""

    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            return _connect(self, allow_loopback)

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            return _connect(self, allow_loopback)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    class GuardedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {
                "http": GuardedHTTPPool,
                "https": GuardedHTTPSPool,
            }

    session = _NoRedirectSession()
    session.trust_env = False  # no proxy from the environment: the peer check must see the host
    adapter = GuardedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _NoRedirectSession(requests.Session):
    """A session that never follows redirects (pywebpush cannot ask for that per call)."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)
