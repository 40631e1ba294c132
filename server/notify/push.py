"""Send push notifications to devices through Firebase Cloud Messaging (FCM HTTP v1).

The sender makes one attempt per message and reports, per message, what the caller should do
next (:class:`PushOutcome`); it never sleeps or retries on its own, so a worker calling it is
blocked for about one HTTP timeout per batch (plus an access-token fetch when one is due).
Retrying, backing off and deactivating devices are the caller's business.

Error mapping (:func:`classify`):

- ``UNREGISTERED``, and ``INVALID_ARGUMENT`` saying the token "is not a valid FCM registration
  token": ``TOKEN_DEAD``; the caller deactivates the device.
- ``SENDER_ID_MISMATCH``: ``PAYLOAD_ERROR``, not ``TOKEN_DEAD``. The token works, only not with
  these credentials; the usual cause is a misrouted message or a wrong service account deployed,
  and treating it as a dead token would deactivate every device of the fleet in one run.
- Every other ``INVALID_ARGUMENT``, and authentication, permission and ``NOT_FOUND`` errors
  (configuration problems): ``PAYLOAD_ERROR``, not retried, shown to admins.
- ``QUOTA_EXCEEDED``, ``UNAVAILABLE``, ``INTERNAL``, timeouts and transport errors: ``RETRY``,
  with ``retry_after`` from the response's ``Retry-After`` header (seconds or an HTTP date).
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import firebase_admin
import requests
from firebase_admin import credentials, exceptions, messaging
from requests.adapters import HTTPAdapter

#: Most messages one ``messaging.send_each`` call accepts.
MAX_BATCH = 500
#: Base URL of Google's FCM HTTP v1 API, used when no endpoint is given.
FCM_ENDPOINT = "https://fcm.googleapis.com"
#: Path of the FCM v1 send method under the base URL.
SEND_PATH = "/v1/projects/{project_id}/messages:send"
#: Longest ``apns-collapse-id`` APNs accepts, in bytes.
MAX_COLLAPSE_KEY_BYTES = 64

_PRIORITIES = {"high": "10", "normal": "5"}  # FCM android priority -> apns-priority header
_INVALID_REGISTRATION_PHRASE = "not a valid fcm registration token"
_RETRY_CODES = frozenset(
    {
        exceptions.RESOURCE_EXHAUSTED,  # QUOTA_EXCEEDED is a subclass
        exceptions.UNAVAILABLE,
        exceptions.INTERNAL,
        exceptions.DEADLINE_EXCEEDED,
        exceptions.UNKNOWN,  # transport failures firebase-admin could not name
        exceptions.ABORTED,
    }
)


class PushOutcome(StrEnum):
    """Say what happened to one message and what the caller should do about it."""

    SENT = "sent"
    TOKEN_DEAD = "token_dead"  # noqa: S105 - an outcome name, not a credential
    PAYLOAD_ERROR = "payload_error"
    RETRY = "retry"


@dataclass(frozen=True)
class PushMessage:
    """Describe one notification for one device."""

    token: str
    title: str
    body: str
    data: Mapping[str, str]
    collapse_key: str | None = None
    priority: str = "high"

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("token must not be empty")
        if self.priority not in _PRIORITIES:
            raise ValueError(f"priority must be 'high' or 'normal', not {self.priority!r}")
        bad = [key for key, value in self.data.items() if not isinstance(value, str)]
        if bad:
            raise ValueError(f"FCM data values must be strings; not so for {sorted(bad)}")
        if self.collapse_key is not None and not (
            0 < len(self.collapse_key.encode()) <= MAX_COLLAPSE_KEY_BYTES
        ):
            raise ValueError(f"collapse_key must be 1 to {MAX_COLLAPSE_KEY_BYTES} bytes")


@dataclass(frozen=True)
class PushResult:
    """Report the outcome of sending one message."""

    token: str
    outcome: PushOutcome
    message_id: str | None = None
    error_code: str | None = None
    detail: str | None = None
    retry_after: float | None = None


class PushSender:
    """Send push messages with one service account, through its own firebase-admin app."""

    def __init__(
        self,
        credentials_path: str,
        endpoint: str | None = None,
        app_name: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._app = firebase_admin.initialize_app(
            credentials.Certificate(credentials_path),
            {"httpTimeout": timeout},
            name=app_name or f"fieldwork-push-{uuid.uuid4().hex}",
        )
        try:
            self._session = _point_messaging_at(self._app, endpoint or FCM_ENDPOINT)
        except BaseException:
            firebase_admin.delete_app(self._app)
            raise

    @property
    def app_name(self) -> str:
        """Return the name of this sender's firebase-admin app."""
        return str(self._app.name)

    def send(self, messages: Sequence[PushMessage]) -> list[PushResult]:
        """Send messages, at most ``MAX_BATCH`` per request batch; return results in input order."""
        pending = list(messages)
        results: list[PushResult] = []
        for start in range(0, len(pending), MAX_BATCH):
            results.extend(self._send_batch(pending[start : start + MAX_BATCH]))
        return results

    def close(self) -> None:
        """Close connections and delete this sender's firebase-admin app."""
        self._session.close()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            firebase_admin.delete_app(self._app)
            return
        # firebase-admin closes its async HTTP client with asyncio.run(), which refuses to
        # run in a thread that already runs an event loop: close it from a thread of its own.
        closer = threading.Thread(target=firebase_admin.delete_app, args=(self._app,))
        closer.start()
        closer.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _send_batch(self, batch: list[PushMessage]) -> list[PushResult]:
        try:
            response = messaging.send_each([_to_fcm(m) for m in batch], app=self._app)
        except exceptions.FirebaseError as error:
            # The whole call failed (e.g. no access token could be fetched): same fate for all.
            return [_failure(m.token, error) for m in batch]
        except ValueError as error:
            # firebase-admin validates every message before sending any; find the bad one(s)
            # instead of failing their neighbours.
            if len(batch) == 1:
                return [_failure(batch[0].token, error)]
            return [result for m in batch for result in self._send_batch([m])]
        return [
            PushResult(m.token, PushOutcome.SENT, message_id=r.message_id)
            if r.success
            else _failure(m.token, r.exception)
            for m, r in zip(batch, response.responses, strict=True)
        ]


def classify(exception: BaseException) -> tuple[PushOutcome, str | None, float | None]:
    """Map a send error to an outcome, an error code and a Retry-After delay in seconds."""
    if isinstance(exception, exceptions.FirebaseError):
        response = exception.http_response
        code = _fcm_error_code(response) or exception.code
        if isinstance(exception, messaging.UnregisteredError):
            return PushOutcome.TOKEN_DEAD, code, None
        if exception.code == exceptions.INVALID_ARGUMENT:
            if _INVALID_REGISTRATION_PHRASE in str(exception).lower():
                return PushOutcome.TOKEN_DEAD, code, None
            return PushOutcome.PAYLOAD_ERROR, code, None
        if exception.code in _RETRY_CODES:
            return PushOutcome.RETRY, code, _retry_after(response)
        return PushOutcome.PAYLOAD_ERROR, code, None
    if isinstance(exception, requests.Timeout | TimeoutError):
        return PushOutcome.RETRY, exceptions.DEADLINE_EXCEEDED, None
    if isinstance(exception, requests.RequestException | ConnectionError):
        return PushOutcome.RETRY, exceptions.UNAVAILABLE, None
    if isinstance(exception, ValueError):
        return PushOutcome.PAYLOAD_ERROR, exceptions.INVALID_ARGUMENT, None
    return PushOutcome.RETRY, exceptions.UNKNOWN, None


def _failure(token: str, exception: BaseException) -> PushResult:
    outcome, code, retry_after = classify(exception)
    return PushResult(token, outcome, None, code, str(exception) or None, retry_after)


def _to_fcm(message: PushMessage) -> messaging.Message:
    # firebase-admin 7.7 deprecates ``token`` (DeprecationWarning) for ``fid``, the Firebase
    # installation ID. Devices still register FCM registration tokens, which are not FIDs and
    # which FCM still accepts; switching needs the mobile app to register FIDs first.
    apns_headers = {"apns-priority": _PRIORITIES[message.priority]}
    if message.collapse_key is not None:
        apns_headers["apns-collapse-id"] = message.collapse_key
    return messaging.Message(
        token=message.token,
        notification=messaging.Notification(title=message.title, body=message.body),
        data=dict(message.data),
        android=messaging.AndroidConfig(
            collapse_key=message.collapse_key, priority=message.priority
        ),
        apns=messaging.APNSConfig(headers=apns_headers),
    )


def _fcm_error_code(response: Any) -> str | None:
    """Return the FCM ``errorCode`` from an FCM v1 error body, if there is one."""
    if response is None:
        return None
    try:
        details = json.loads(response.content)["error"]["details"]
        for detail in details:
            if str(detail.get("@type", "")).endswith("google.firebase.fcm.v1.FcmError"):
                return str(detail["errorCode"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return None


def _retry_after(response: Any) -> float | None:
    """Return the delay a response's ``Retry-After`` header asks for, in seconds, if any."""
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    return retry_after_seconds(value)


def retry_after_seconds(value: str | None) -> float | None:
    """Return the delay a ``Retry-After`` value asks for (seconds or an HTTP date), if any."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _point_messaging_at(app: firebase_admin.App, base_url: str) -> requests.Session:
    """Aim an app's messaging service at ``base_url`` with no hidden retries; return its session.

    firebase-admin has no public setting for the FCM host (its maintainers declined one for every
    SDK), and its HTTP client retries 500/503 up to four times, sleeping as long as Retry-After
    says, and read timeouts once: a send could block a worker for minutes. So this reaches into
    ``messaging._MessagingService`` (checked against firebase-admin 7.7): it sets the send URL
    (``_fcm_url``) and mounts a retry-free adapter on the HTTP session (``_client.session``) for
    the endpoint's origin. It raises instead of silently talking to another host when the
    library changes; ``tests/notify/test_push.py`` checks these internals too.
    """
    service = messaging._get_messaging_service(app)
    client = getattr(service, "_client", None)
    session = getattr(client, "session", None)
    if not isinstance(getattr(service, "_fcm_url", None), str) or not isinstance(
        session, requests.Session
    ):
        raise RuntimeError(
            "firebase-admin's messaging internals changed: cannot set the FCM endpoint; "
            "update server/notify/push.py:_point_messaging_at"
        )
    parts = urlsplit(base_url.rstrip("/"))
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"endpoint must be an http(s) URL, not {base_url!r}")
    service._fcm_url = base_url.rstrip("/") + SEND_PATH.format(project_id=app.project_id)
    session.mount(
        f"{parts.scheme}://{parts.netloc}",
        # send_each runs one thread per message: keep them all (firebase-admin's 100 makes
        # urllib3 discard and log the rest, then reconnect for the next batch).
        HTTPAdapter(pool_connections=1, pool_maxsize=MAX_BATCH, max_retries=0),
    )
    return session
