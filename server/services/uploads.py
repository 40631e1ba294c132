"""Resumable uploads (tus): chunks appended crash-safely, the finished file attached once.

The bytes received so far live in ``<instance>/uploads/<id>.part``; the row's ``offset``
says how many of them count. Only the caller that wins a conditional UPDATE on
``(id, offset)`` writes, and it writes while that row lock is held: it cuts the file back to
the old offset (dropping anything a crashed writer left behind), writes at the offset,
fsyncs, and then the caller commits. If anything fails before the commit has succeeded,
the file is cut back to the old offset. An ``flock`` on the file is held from the write
until that clean-up is done, so a later winner never has its bytes cut away. Bytes past
``offset`` are therefore never trusted: they can only be the leftovers of a crash, and the
next writer removes them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update

from server.extensions import db
from server.images import MAX_BYTES
from server.models import Attachment, Upload, User, WorkOrder
from server.services.attachments import (
    ClientIdConflict,
    Stored,
    add_photo,
    check_upload_quota,
)
from server.services.errors import NotFound, ServiceError
from server.storage import BlobStore, new_key, sha256_hex

#: How long an upload lives after its creation or its last chunk.
LIFETIME = timedelta(hours=24)
#: Largest file a resumable upload may carry (the photo limit).
MAX_LENGTH = MAX_BYTES
#: Largest chunk one PATCH may carry.
MAX_CHUNK = 8 * 1024 * 1024
#: Chunk checksum algorithms of the tus checksum extension.
CHECKSUM_ALGORITHMS = ("sha1", "sha256")
#: A partial file with no row is removed once it is this old (a crash between steps).
ORPHAN_AGE = timedelta(hours=1)

_ID = re.compile(r"[0-9a-f]{32}")
_PART = re.compile(r"([0-9a-f]{32})\.part")


@dataclass(frozen=True)
class Started:
    """The upload and whether this call created it (False: a repeated creation)."""

    upload: Upload
    created: bool


class UploadNotFound(NotFound):
    """No such upload, or not yours, or expired (one answer for all three)."""

    def __init__(self) -> None:
        super().__init__("not_found", "No such upload (unknown, expired or not yours).")


class UploadTooLarge(ServiceError):
    """The file, or this chunk on top of what was received, is bigger than allowed."""

    status = 413


class BadUploadLength(ServiceError):
    """The declared length is not a positive number of bytes."""

    def __init__(self) -> None:
        super().__init__("bad_upload_length", "Upload-Length must be at least 1.")


class OffsetMismatch(ServiceError):
    """The chunk does not start where the received bytes end; ``offset`` says where."""

    status = 409

    def __init__(self, offset: int) -> None:
        super().__init__(
            "offset_mismatch",
            "The upload is at another offset; continue from there.",
            offset=offset,
        )


class ChecksumMismatch(ServiceError):
    """The chunk's bytes do not match the checksum sent with them (tus: 460)."""

    status = 460

    def __init__(self) -> None:
        super().__init__(
            "checksum_mismatch", "The chunk does not match its Upload-Checksum; send it again."
        )


class UploadIncomplete(ServiceError):
    """Not every byte has arrived yet."""

    status = 409

    def __init__(self, offset: int, length: int) -> None:
        super().__init__(
            "upload_incomplete",
            "The upload is not finished; send the remaining bytes first.",
            offset=offset,
            length=length,
        )


class UploadConsumed(ServiceError):
    """The upload already became a different photo."""

    status = 409

    def __init__(self) -> None:
        super().__init__(
            "upload_consumed", "This upload is already attached; upload the file again."
        )


class DigestMismatch(ServiceError):
    """The whole file does not have the SHA-256 the phone declared; nothing is attached."""

    status = 422

    def __init__(self) -> None:
        super().__init__(
            "sha256_mismatch",
            "The uploaded file does not match the declared sha256; upload it again.",
        )


class UploadLost(ServiceError):
    """The received bytes are missing on disk (restored backup, wiped folder)."""

    status = 410

    def __init__(self) -> None:
        super().__init__("upload_lost", "The received bytes were lost; start a new upload.")


def uploads_folder() -> Path:
    """Return the folder of the partial files: ``<instance>/uploads``."""
    return Path(current_app.instance_path) / "uploads"


def part_path(folder: Path, upload_id: str) -> Path:
    """Return the partial file of an upload; only server-generated ids make a name."""
    if not _ID.fullmatch(upload_id):
        raise ValueError("invalid upload id")
    return folder / f"{upload_id}.part"


def find_upload(user: User, upload_id: str, now: datetime) -> Upload:
    """Load an unexpired upload of ``user``, or raise ``UploadNotFound``."""
    if not _ID.fullmatch(upload_id):
        raise UploadNotFound()
    upload = db.session.scalar(
        select(Upload).where(
            Upload.id == upload_id, Upload.user_id == user.id, Upload.expires_at > now
        )
    )
    if upload is None:
        raise UploadNotFound()
    return upload


def start_upload(
    user: User,
    length: int,
    now: datetime,
    *,
    client_id: str | None = None,
    declared_sha256: str | None = None,
) -> Started:
    """Create an upload of ``length`` bytes, or return the live one with the same client_id.

    A new upload over a quota (open uploads, daily volume with ``length`` reserved) raises
    ``QuotaExceeded``; attaching it checks the work order's quotas and the volume again.
    """
    if length < 1:
        raise BadUploadLength()
    if length > MAX_LENGTH:
        raise UploadTooLarge("upload_too_large", "A photo may be at most 20 MB.")
    if client_id is not None:
        found = db.session.scalar(
            select(Upload).where(Upload.user_id == user.id, Upload.client_id == client_id)
        )
        if found is not None and found.expires_at > now:
            if (found.length, found.declared_sha256) != (length, declared_sha256):
                raise ClientIdConflict(
                    "client_id_reused",
                    "This client_id already names a different upload; use a new one.",
                )
            return Started(found, created=False)
        if found is not None:
            # Expired but not swept yet: free its client_id (the orphan sweep takes the file).
            db.session.execute(delete(Upload).where(Upload.id == found.id))
    # A repeated creation was answered above; only a new upload counts against the quotas.
    check_upload_quota(user, length, now)
    upload = Upload(
        id=new_key(),
        user_id=user.id,
        length=length,
        offset=0,
        client_id=client_id,
        declared_sha256=declared_sha256,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    db.session.add(upload)
    db.session.flush()
    return Started(upload, created=True)


@contextmanager
def _locked_part(folder: Path, upload_id: str) -> Iterator[int]:
    """Open (creating) the partial file and hold an exclusive ``flock`` on it."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(
        part_path(folder, upload_id),
        os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
        0o600,
    )
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # also releases the lock


def _write_at(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def append_chunk(
    upload: Upload,
    offset: int,
    data: bytes,
    folder: Path,
    now: datetime,
    checksum: tuple[str, bytes] | None = None,
) -> Iterator[int]:
    """Append ``data`` at ``offset`` and yield the new offset; the caller commits inside.

    ``checksum`` is ``(algorithm, digest)`` of the chunk. Raises ``OffsetMismatch`` when
    another chunk got there first, ``ChecksumMismatch`` and ``UploadTooLarge`` before
    anything is written.
    """
    if offset != upload.offset:
        raise OffsetMismatch(upload.offset)
    end = offset + len(data)
    if end > upload.length:
        raise UploadTooLarge(
            "chunk_past_length",
            "The chunk goes past the declared Upload-Length.",
            offset=upload.offset,
            length=upload.length,
        )
    if checksum is not None and hashlib.new(checksum[0], data).digest() != checksum[1]:
        raise ChecksumMismatch()
    if not data:
        yield offset
        return
    won = db.session.execute(
        update(Upload)
        .where(Upload.id == upload.id, Upload.offset == offset, Upload.expires_at > now)
        .values(
            offset=end,
            expires_at=now + LIFETIME,
            completed_at=now if end == upload.length else None,
        )
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        current = db.session.scalar(
            select(Upload.offset).where(Upload.id == upload.id, Upload.expires_at > now)
        )
        if current is None:
            raise UploadNotFound()
        raise OffsetMismatch(current)
    db.session.expire(upload)
    # We hold the row lock until the caller's transaction ends: no other writer for this id.
    with _locked_part(folder, upload.id) as fd:
        if os.fstat(fd).st_size < offset:
            raise UploadLost()
        try:
            os.ftruncate(fd, offset)
            _write_at(fd, data, offset)
            os.fsync(fd)
            if offset == 0:
                _fsync_folder(folder)  # make the new file's name durable too
            yield end
        except BaseException:
            # The row still says ``offset`` (the commit did not happen or failed).
            os.ftruncate(fd, offset)
            raise


def read_upload(upload: Upload, folder: Path) -> bytes:
    """Return the ``length`` bytes of a finished upload."""
    try:
        fd = os.open(part_path(folder, upload.id), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise UploadLost() from None
    with os.fdopen(fd, "rb") as file:
        data = file.read(upload.length)
    if len(data) != upload.length:
        raise UploadLost()
    return data


def _replay_attach(upload: Upload, order: WorkOrder, client_id: str | None) -> Stored:
    photo = db.session.get(Attachment, upload.attachment_id) if upload.attachment_id else None
    if photo is None or photo.work_order_id != order.id or photo.client_id != client_id:
        raise UploadConsumed()
    return Stored(photo, created=False)


def attach_upload(
    order: WorkOrder,
    upload: Upload,
    meta: Mapping[str, Any],
    actor: User,
    store: BlobStore,
    folder: Path,
    now: datetime,
    sha256: str | None = None,
) -> Stored:
    """Turn a finished upload into a photo of ``order`` (once; a repeat returns that photo).

    ``add_photo`` checks the quotas again (this order's photos, the user's daily volume).
    """
    if upload.consumed_at is not None:
        return _replay_attach(upload, order, meta.get("client_id"))
    if upload.offset != upload.length:
        raise UploadIncomplete(upload.offset, upload.length)
    data = read_upload(upload, folder)
    digest = sha256_hex(data)
    for declared in (upload.declared_sha256, sha256):
        if declared is not None and declared.lower() != digest:
            raise DigestMismatch()
    stored = add_photo(order, data, meta, actor, store)
    claimed = db.session.execute(
        update(Upload)
        .where(Upload.id == upload.id, Upload.consumed_at.is_(None))
        .values(consumed_at=now, attachment_id=stored.attachment.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise UploadConsumed()  # a concurrent attach won; our photo rolls back with us
    db.session.expire(upload)
    return stored


def terminate_upload(upload: Upload) -> None:
    """Forget an upload; remove its file with ``remove_part`` once that is committed."""
    db.session.delete(upload)
    db.session.flush()


def remove_part(folder: Path, upload_id: str) -> None:
    """Delete an upload's partial file, if there is one."""
    part_path(folder, upload_id).unlink(missing_ok=True)


def sweep_expired_uploads(now: datetime, folder: Path | None = None) -> int:
    """Delete expired uploads and their files, and files no upload owns; return the count.

    Files go before the caller commits: an expired row is invisible already, so a row that
    outlives its file (rollback, crash) is only swept again.
    """
    folder = folder or uploads_folder()
    expired = db.session.scalars(
        delete(Upload).where(Upload.expires_at <= now).returning(Upload.id)
    ).all()
    for upload_id in expired:
        remove_part(folder, upload_id)
    _sweep_orphans(folder, now)
    return len(expired)


def _sweep_orphans(folder: Path, now: datetime) -> None:
    try:
        with os.scandir(folder) as entries:
            parts = {
                match.group(1): entry
                for entry in entries
                if (match := _PART.fullmatch(entry.name)) and entry.is_file(follow_symlinks=False)
            }
    except FileNotFoundError:
        return
    if not parts:
        return
    known = set(db.session.scalars(select(Upload.id).where(Upload.id.in_(list(parts)))))
    cutoff = (now - ORPHAN_AGE).timestamp()
    for upload_id, entry in parts.items():
        if upload_id not in known and entry.stat(follow_symlinks=False).st_mtime < cutoff:
            remove_part(folder, upload_id)
