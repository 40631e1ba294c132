"""Use cases for a technician's portrait: set, clear and read it.

The customer's job page shows the portrait while the technician is on the way, so only a
metadata-free copy of at most 320 px made from the upload is stored (no EXIF location, no
camera data, no appended payload); the uploaded bytes themselves are never kept.

A replaced portrait's blob is deleted only once the new key is committed, and a new blob
is deleted again if the change is rolled back: the row never names a missing file, and a
rollback never costs the previous photo.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from server.auth.permissions import Capability, can
from server.extensions import db
from server.images import THUMBNAIL_LONG_SIDE, ImageBusy, ImageRejected, derive_copies
from server.models import TechnicianProfile, User
from server.services.attachments import AttachmentRejected, ImageProcessingBusy
from server.services.errors import NotFound, ServiceError
from server.storage import BlobNotFoundError, BlobStore, StorageError, new_key

log = logging.getLogger(__name__)

#: Suffix of portrait blob keys, so a stray blob says what it is.
PORTRAIT_SUFFIX = ".portrait"
#: What the stored portrait always is.
PORTRAIT_CONTENT_TYPE = "image/jpeg"


class PhotoNotAllowed(ServiceError):
    """The actor may not change this technician's photo."""

    status = 403


def set_technician_photo(technician: User, data: bytes, store: BlobStore, actor: User) -> None:
    """Check ``data`` and make a metadata-free copy of it the technician's photo.

    Raises ``PhotoNotAllowed`` unless ``actor`` is office staff or the technician, NotFound
    for a user without a technician profile, ``AttachmentRejected`` (code
    ``image_<reason>``) for anything that is not an acceptable image, and
    ``ImageProcessingBusy`` when the server had no room to decode it in time; then nothing
    changes.
    """
    _check_actor(technician, actor)
    # Decoded before the profile is locked: a large photo takes a while to check.
    try:
        # One decode for the checks and the copy.
        (portrait,) = derive_copies(data, (THUMBNAIL_LONG_SIDE,)).copies
    except ImageRejected as error:
        raise AttachmentRejected(error) from None
    except ImageBusy as error:
        raise ImageProcessingBusy(error) from None
    profile = _locked_profile(technician)
    key = f"{new_key()}{PORTRAIT_SUFFIX}"
    # Written (fsync'ed, renamed) before the row names it, like every other blob.
    store.put(key, portrait, PORTRAIT_CONTENT_TYPE)
    _settle_blobs(store, replaced=profile.photo_key, added=key)
    profile.photo_key = key
    db.session.flush()
    log.info("technician photo set: technician=%s actor=%s key=%s", technician.id, actor.id, key)


def clear_technician_photo(technician: User, store: BlobStore, actor: User) -> bool:
    """Remove the technician's photo; return False if there was none."""
    _check_actor(technician, actor)
    profile = _locked_profile(technician)
    replaced = profile.photo_key
    if replaced is None:
        return False
    _settle_blobs(store, replaced=replaced, added=None)
    profile.photo_key = None
    db.session.flush()
    log.info("technician photo cleared: technician=%s actor=%s", technician.id, actor.id)
    return True


def technician_photo(technician: User) -> str | None:
    """Return the blob key of the technician's photo, or None."""
    profile = technician.technician_profile
    return profile.photo_key if profile is not None else None


def technician_photo_bytes(technician: User, store: BlobStore) -> bytes | None:
    """Return the technician's photo as JPEG bytes, or None if there is none to serve."""
    key = technician_photo(technician)
    if key is None:
        return None
    try:
        return store.get(key)
    except BlobNotFoundError:
        log.warning("technician photo blob missing: technician=%s key=%s", technician.id, key)
        return None


def _check_actor(technician: User, actor: User) -> None:
    # Office staff manage everyone's photo; a technician may only change their own.
    if can(actor, Capability.CONSOLE_USE):
        return
    if actor.is_active and actor.id == technician.id:
        return
    raise PhotoNotAllowed("forbidden", "Only office staff may change a technician's photo.")


def _locked_profile(technician: User) -> TechnicianProfile:
    """Return the technician's profile, locked so concurrent changes do not lose a blob."""
    # FOR UPDATE on PostgreSQL; SQLite's write transactions are serialised anyway.
    profile: TechnicianProfile | None = db.session.scalar(
        select(TechnicianProfile)
        .where(TechnicianProfile.user_id == technician.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if profile is None:
        raise NotFound("not_found", "No such technician.")
    return profile


# --- Deleting blobs once the transaction's outcome is known ----------------------------------

_PENDING_KEY = "fieldwork.technician_photos.pending"


@dataclass(frozen=True)
class _BlobChange:
    """One photo change: which blob goes on commit, which if it is undone."""

    store: BlobStore
    #: The innermost transaction the change was made in.
    transaction: SessionTransaction
    replaced: str | None
    added: str | None


def _settle_blobs(store: BlobStore, *, replaced: str | None, added: str | None) -> None:
    """Delete ``replaced`` when the session commits, ``added`` if the change is undone."""
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:  # pragma: no cover - locking the profile began one
        raise RuntimeError("no transaction to attach the blob change to")
    changes: list[_BlobChange] = session.info.setdefault(_PENDING_KEY, [])
    changes.append(_BlobChange(store, transaction, replaced, added))
    if not event.contains(session, "after_commit", _after_commit):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_soft_rollback)
        event.listen(session, "after_transaction_end", _after_transaction_end)


def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a released savepoint: the outer transaction may still roll back
    for change in session.info.pop(_PENDING_KEY, []):
        if change.replaced is not None:
            _delete_quietly(change.store, change.replaced)


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    # A rolled-back savepoint undoes the changes made inside it, and only those.
    kept: list[_BlobChange] = []
    for change in session.info.get(_PENDING_KEY, []):
        if not _within(change.transaction, previous_transaction):
            kept.append(change)
        elif change.added is not None:
            _delete_quietly(change.store, change.added)
    if kept:
        session.info[_PENDING_KEY] = kept
    else:
        session.info.pop(_PENDING_KEY, None)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without after_commit taking the list: rolled back or
    # closed, so whatever it added is referenced by no row.
    if transaction.parent is not None:
        return
    for change in session.info.pop(_PENDING_KEY, []):
        if change.added is not None:
            _delete_quietly(change.store, change.added)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _delete_quietly(store: BlobStore, key: str) -> None:
    # The database outcome is final by now: a blob that cannot be deleted is only waste.
    try:
        store.delete(key)
    except StorageError:
        log.warning("could not delete technician photo blob %s", key, exc_info=True)
