"""``Idempotency-Key`` for mutating calls (the IETF draft and Stripe are the references).

A key is scoped to the user who sends it and kept for ``RETENTION``. The first request with a
key claims it (committed at once, so a concurrent duplicate sees the claim); the view then
runs and its response is stored *in the same transaction* as the view's own changes, so a
change and the record of its response commit together or not at all. A later request with
the same key and the same content gets the stored response back and changes nothing; with
different content it gets 422; while the first is still running it gets 409. Responses that
say "try again" (409 from a concurrent change, 429, 5xx) are not stored: the key is released
so the client's retry runs for real.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial, wraps
from typing import Any, TypeVar

from flask import Response, current_app, g, make_response, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models import IdempotencyRecord, User
from server.models.base import utcnow
from server.problems import Problem

F = TypeVar("F", bound=Callable[..., Any])

#: How long a key is remembered: longer than any realistic offline period.
RETENTION = timedelta(days=7)
#: A request still "running" after this long died with its process; its key may be reused.
LEASE = timedelta(seconds=60)
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
#: Headers replayed with a stored response.
_REPLAYED_HEADERS = ("Location", "ETag", "Upload-Expires", "Upload-Offset", "Tus-Resumable")

POLICY = (
    "Every mutating call accepts an `Idempotency-Key` header (1-255 printable ASCII characters, "
    "a UUID is ideal). Keys are scoped to the signed-in technician and kept for 7 days. "
    "Repeating a request with the same key and the same body returns the first response "
    "(same status and body, header `Idempotent-Replayed: true`) and changes nothing. The same "
    "key with a different body gets 422 `idempotency_key_reused`; a repeat while the first "
    "request is still running gets 409 `idempotency_in_progress` with `Retry-After`. "
    "Responses asking to retry (409 concurrent change, 429, 5xx) are not stored, so a retry "
    "with the same key runs again. Creating a photo or signature with a `client_id` that "
    "already exists is a replay too, with or without a key."
)


def _fingerprint() -> str:
    """Hash what the request asks for (multipart: the parts, not the random boundary)."""
    digest = hashlib.sha256()

    def add(text: str) -> None:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")

    add(request.method)
    add(request.full_path)
    for name in ("Upload-Length", "Upload-Offset", "Upload-Metadata", "Upload-Checksum"):
        add(f"{name}:{request.headers.get(name, '')}")
    if request.mimetype == "multipart/form-data":
        for name, value in sorted(request.form.items(multi=True)):
            add(f"{name}={value}")
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            content = hashlib.sha256()
            for block in iter(partial(upload.stream.read, 1 << 16), b""):
                content.update(block)
            upload.stream.seek(0)
            add(f"{name}:{content.hexdigest()}")
    else:
        add(request.mimetype)
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(
        record.response_body or b"",
        status=record.response_status or 200,
        content_type=record.response_content_type,
    )
    for name, value in json.loads(record.response_headers or "{}").items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _claim(user: User, key: str, fingerprint: str) -> IdempotencyRecord | Response:
    """Claim ``key`` for this request, or return what answers it instead."""
    db.session.commit()  # end the authentication read; the claim is its own transaction
    now = utcnow()
    try:
        with db.session.begin_nested():
            record = IdempotencyRecord(
                user_id=user.id,
                key=key,
                fingerprint=fingerprint,
                status="running",
                started_at=now,
                expires_at=now + RETENTION,
            )
            db.session.add(record)
        db.session.commit()
        return record
    except IntegrityError:
        db.session.rollback()
    existing = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key
        )
    )
    if existing is None:  # released between our insert and our read: try once more
        return _claim(user, key, fingerprint)
    if existing.expires_at <= now:
        db.session.delete(existing)
        db.session.commit()
        return _claim(user, key, fingerprint)
    if existing.fingerprint != fingerprint:
        raise Problem(
            422, "idempotency_key_reused", "This Idempotency-Key was used for a different request."
        )
    if existing.status == "done":
        return _replay(existing)
    if now - existing.started_at < LEASE:
        raise Problem(
            409,
            "idempotency_in_progress",
            "A request with this Idempotency-Key is still running; retry shortly.",
            headers={"Retry-After": "1"},
        )
    # The first attempt died without an answer (its changes rolled back): take it over.
    taken = db.session.execute(
        update(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == existing.id, IdempotencyRecord.started_at == existing.started_at
        )
        .values(started_at=now)
    )
    db.session.commit()
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Problem(
            409, "idempotency_in_progress", "Retry shortly.", headers={"Retry-After": "1"}
        )
    return existing


def _storable(response: Response) -> bool:
    if response.status_code >= 500 or response.status_code == 429:
        return False
    if response.status_code == 409:
        body = response.get_json(silent=True) or {}
        return body.get("code") not in ("concurrent_update", "idempotency_in_progress")
    return True


def _release(record_id: int) -> None:
    db.session.rollback()
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
    db.session.commit()


def idempotent(view: F) -> F:
    """Run a mutating view at most once per ``Idempotency-Key``; commit its changes.

    The wrapped view must not commit: this wrapper commits once, with the stored response.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            response = make_response(view(*args, **kwargs))
            if response.status_code < 400:
                db.session.commit()
            return response
        if not _KEY.match(key):
            raise Problem(
                400,
                "bad_idempotency_key",
                "Idempotency-Key must be 1-255 printable ASCII characters.",
            )
        claimed = _claim(g.api_user, key, _fingerprint())
        if isinstance(claimed, Response):
            return claimed
        record_id = claimed.id
        try:
            response = make_response(view(*args, **kwargs))
        except Exception as error:  # noqa: BLE001 - rendered below, then stored or released
            db.session.rollback()
            response = make_response(current_app.handle_user_exception(error))
        if not _storable(response):
            _release(record_id)
            return response
        if response.status_code >= 400:
            db.session.rollback()  # a refusal changes nothing; only its answer is kept
        response.direct_passthrough = False
        headers = {k: response.headers[k] for k in _REPLAYED_HEADERS if k in response.headers}
        db.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id)
            .values(
                status="done",
                response_status=response.status_code,
                response_content_type=response.content_type,
                response_body=response.get_data(),
                response_headers=json.dumps(headers),
            )
        )
        db.session.commit()
        return response

    wrapper.idempotent = True  # type: ignore[attr-defined]  (documented in OpenAPI)
    return wrapper  # type: ignore[return-value]
