"""Store uploaded bytes under server-generated keys, durably, outside any web root.

User file names never reach this module: callers pass a key from :func:`new_key` (plus an
optional short suffix such as ``.thumb``), and every method refuses anything else, so no
path traversal is possible. Writes go to a temp file, are fsync'ed and atomically renamed,
so a key either has all its bytes or does not exist, even after a crash.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

#: A blob key: 32 lowercase hex characters, optionally a short lowercase suffix.
KEY_PATTERN = re.compile(r"^[0-9a-f]{32}(\.[a-z0-9]{1,16})?$")

_TEMP_PREFIX = ".tmp-"
_FAN_OUT = re.compile(r"[0-9a-f]{2}")
_S3_UNAVAILABLE = "S3 storage is not available in this build; use file://"


class StorageError(Exception):
    """Report that blob storage could not be configured, read or written."""


class BlobNotFoundError(StorageError):
    """Report that no blob is stored under a key."""


@runtime_checkable
class BlobStore(Protocol):
    """Keep bytes under server-generated keys."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` atomically, replacing any previous bytes."""
        ...

    def get(self, key: str) -> bytes:
        """Return the bytes stored under ``key``."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Open the blob for streaming; the caller closes it."""
        ...

    def exists(self, key: str) -> bool:
        """Tell whether a blob is stored under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob under ``key``; a missing blob is not an error."""
        ...

    def keys(self) -> Iterator[str]:
        """Yield every stored key."""
        ...

    def size(self, key: str) -> int:
        """Return the size in bytes of the blob under ``key``."""
        ...

    def modified_at(self, key: str) -> datetime:
        """Return when the blob under ``key`` was written (UTC)."""
        ...


class LocalBlobStore:
    """Keep blobs as files under a root directory, fanned out as ``ab/cd/<key>``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write ``data`` under ``key`` durably: temp file, fsync, rename, fsync directory."""
        # content_type is unused: it lives in the database row, a file has nowhere to keep it.
        path = self._path(key)
        try:
            self._make_dirs(path.parent)
            fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        except OSError as exc:
            raise StorageError(f"could not create a file for blob {key}") from exc
        # mkstemp creates the file with mode 0o600, which the rename keeps.
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp_name, path)
            _fsync_directory(path.parent)
        except BaseException as exc:
            # Also on KeyboardInterrupt: a stray temp file would only wait for the sweeper.
            _remove_quietly(temp_name)
            if isinstance(exc, OSError):
                raise StorageError(f"could not write blob {key}") from exc
            raise

    def get(self, key: str) -> bytes:
        """Return the bytes stored under ``key``."""
        with self.open(key) as file:
            return file.read()

    def open(self, key: str) -> BinaryIO:
        """Open the blob for streaming; the caller closes it."""
        path = self._path(key)
        try:
            return path.open("rb")
        except FileNotFoundError as exc:
            raise BlobNotFoundError(f"no blob stored under {key}") from exc
        except OSError as exc:
            raise StorageError(f"could not read blob {key}") from exc

    def exists(self, key: str) -> bool:
        """Tell whether a blob is stored under ``key``."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the blob under ``key``; a missing blob is not an error."""
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
            _fsync_directory(path.parent)
        except FileNotFoundError:
            pass  # the fan-out directory itself is missing: nothing was ever stored there
        except OSError as exc:
            raise StorageError(f"could not delete blob {key}") from exc

    def keys(self) -> Iterator[str]:
        """Yield every stored key, skipping temp files and anything not laid out by put."""
        for first in _children(self.root, _FAN_OUT, directories=True):
            for second in _children(self.root / first, _FAN_OUT, directories=True):
                folder = self.root / first / second
                for name in _children(folder, KEY_PATTERN, directories=False):
                    if name[0:2] == first and name[2:4] == second:
                        yield name

    def modified_at(self, key: str) -> datetime:
        """Return when the blob under ``key`` was written (UTC)."""
        path = self._path(key)
        try:
            return datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except FileNotFoundError as exc:
            raise BlobNotFoundError(f"no blob stored under {key}") from exc
        except OSError as exc:
            raise StorageError(f"could not read blob {key}") from exc

    def size(self, key: str) -> int:
        """Return the size in bytes of the blob under ``key``."""
        path = self._path(key)
        try:
            return path.stat().st_size
        except FileNotFoundError as exc:
            raise BlobNotFoundError(f"no blob stored under {key}") from exc
        except OSError as exc:
            raise StorageError(f"could not read blob {key}") from exc

    def _path(self, key: str) -> Path:
        check_key(key)
        return self.root / key[0:2] / key[2:4] / key

    def _make_dirs(self, directory: Path) -> None:
        """Create the root (0o700) and fan-out folders, making each new entry durable."""
        missing: list[Path] = []
        current = directory
        while not current.is_dir():
            missing.append(current)
            if current == self.root:
                break
            current = current.parent
        for folder in reversed(missing):
            # parents=True only for the root, whose ancestors the operator configured.
            folder.mkdir(mode=0o700, parents=folder == self.root, exist_ok=True)
            _fsync_directory(folder.parent)


def check_key(key: str) -> None:
    """Raise ValueError unless ``key`` is a server-generated blob key."""
    # fullmatch, because "$" alone would also accept a trailing newline.
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValueError("invalid blob key")


def open_store(url: str) -> BlobStore:
    """Return the blob store a storage URL names (``file:///abs`` or ``file://relative``)."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise StorageError("storage URL must look like file:///absolute/path")
    scheme = scheme.lower()
    if scheme == "s3":
        raise StorageError(_S3_UNAVAILABLE)
    if scheme != "file":
        # Only the scheme is echoed: the rest of a URL may carry credentials.
        raise StorageError(f"unsupported storage URL scheme {scheme!r}; use file://")
    if not rest:
        raise StorageError("file:// storage URL needs a path")
    # A relative path is resolved against the working directory now, at configuration time.
    return LocalBlobStore(Path(rest).absolute())


def new_key() -> str:
    """Return a fresh random blob key of 32 lowercase hex characters."""
    return secrets.token_hex(16)


def sha256_hex(data: bytes) -> str:
    """Return the SHA-256 of ``data`` as lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def _fsync_directory(directory: Path) -> None:
    """Flush a directory so the names created or removed in it survive a crash."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass  # already renamed or never fully created; the sweeper copes with leftovers


def _children(directory: Path, pattern: re.Pattern[str], *, directories: bool) -> list[str]:
    """Return the sorted names of plain files or folders in ``directory`` matching ``pattern``."""
    # Symlinks are skipped: put never makes them, so one can only point somewhere else.
    try:
        with os.scandir(directory) as entries:
            return sorted(
                entry.name
                for entry in entries
                if pattern.fullmatch(entry.name)
                and (
                    entry.is_dir(follow_symlinks=False)
                    if directories
                    else entry.is_file(follow_symlinks=False)
                )
            )
    except FileNotFoundError:
        # The root before the first put, or a folder removed while we walk.
        return []
