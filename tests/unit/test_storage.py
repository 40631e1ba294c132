"""server.storage: server-generated keys only, files under the root only, crash-safe puts."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from server.storage import (
    KEY_PATTERN,
    BlobNotFoundError,
    BlobStore,
    LocalBlobStore,
    StorageError,
    new_key,
    open_store,
    sha256_hex,
)

BAD_KEYS = [
    "../x",
    "..\\x",
    "CON",
    "a\x00b",
    "a" * 300,
    "é" * 300,
    "0123456789ABCDEF0123456789ABCDEF",
    "0123456789abcdef0123456789abcdef\n",
    "0123456789abcdef0123456789abcdef.THUMB",
    "0123456789abcdef0123456789abcdef/../../x",
    "0123456789abcdef0123456789abcdef.",
    "/etc/passwd",
    "",
]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_under(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file())


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def test_new_keys_are_32_lowercase_hex_and_distinct() -> None:
    keys = {new_key() for _ in range(100)}
    assert len(keys) == 100
    assert all(KEY_PATTERN.fullmatch(key) and len(key) == 32 for key in keys)


def test_sha256_hex_is_lowercase_hex_digest() -> None:
    assert sha256_hex(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_put_then_get_round_trips(store: LocalBlobStore) -> None:
    key = new_key()
    store.put(key, b"\x00photo bytes\xff", "image/jpeg")
    assert store.get(key) == b"\x00photo bytes\xff"
    assert store.exists(key)
    assert store.size(key) == 13
    with store.open(key) as file:
        assert file.read() == b"\x00photo bytes\xff"


def test_put_replaces_existing_bytes(store: LocalBlobStore) -> None:
    key = new_key()
    store.put(key, b"first", "text/plain")
    store.put(key, b"second", "text/plain")
    assert store.get(key) == b"second"


def test_local_store_satisfies_the_protocol(store: LocalBlobStore) -> None:
    assert isinstance(store, BlobStore)


def test_keys_fan_out_into_two_level_folders(store: LocalBlobStore) -> None:
    key = new_key()
    store.put(key, b"x", "image/png")
    store.put(key + ".thumb", b"y", "image/jpeg")
    assert (store.root / key[:2] / key[2:4] / key).read_bytes() == b"x"
    assert (store.root / key[:2] / key[2:4] / (key + ".thumb")).read_bytes() == b"y"


def test_root_is_created_lazily_and_private(tmp_path: Path) -> None:
    root = tmp_path / "not" / "yet" / "there"
    store = LocalBlobStore(root)
    assert not root.exists()
    assert list(store.keys()) == []
    assert not root.exists()
    store.put(new_key(), b"x", "image/png")
    assert mode(root) == 0o700


def test_files_are_readable_by_owner_only(store: LocalBlobStore) -> None:
    key = new_key()
    store.put(key, b"x", "image/png")
    assert mode(store.root / key[:2] / key[2:4] / key) == 0o600
    assert mode(store.root / key[:2]) == 0o700
    assert mode(store.root / key[:2] / key[2:4]) == 0o700


@pytest.mark.parametrize("key", BAD_KEYS)
@pytest.mark.parametrize(
    "call",
    [
        lambda store, key: store.put(key, b"evil", "image/png"),
        lambda store, key: store.get(key),
        lambda store, key: store.open(key),
        lambda store, key: store.exists(key),
        lambda store, key: store.size(key),
        lambda store, key: store.delete(key),
    ],
    ids=["put", "get", "open", "exists", "size", "delete"],
)
def test_bad_keys_are_refused_by_every_method(
    tmp_path: Path, key: str, call: Callable[[LocalBlobStore, str], object]
) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    with pytest.raises(ValueError, match="invalid blob key"):
        call(store, key)
    assert files_under(tmp_path) == []


def test_files_land_under_the_root_only(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    for key in BAD_KEYS:
        with pytest.raises(ValueError, match="invalid blob key"):
            store.put(key, b"evil", "image/png")
    stored = [new_key() for _ in range(5)]
    for key in stored:
        store.put(key, key.encode(), "image/png")
        store.put(key + ".thumb", b"t", "image/jpeg")
    everything = files_under(tmp_path)
    assert len(everything) == 10
    assert all(path.is_relative_to(tmp_path / "blobs") for path in everything)
    assert all(KEY_PATTERN.fullmatch(path.name) for path in everything)


def test_keys_lists_puts_and_ignores_temp_and_stray_files(store: LocalBlobStore) -> None:
    first, second = sorted(new_key() for _ in range(2))
    store.put(first, b"1", "image/png")
    store.put(second, b"2", "image/png")
    store.put(first + ".thumb", b"t", "image/jpeg")
    folder = store.root / first[:2] / first[2:4]
    # What a crash between mkstemp and os.replace leaves behind.
    (folder / f".tmp-{new_key()}").write_bytes(b"half")
    (folder / "notes.txt").write_bytes(b"?")
    (store.root / new_key()).write_bytes(b"misplaced, not under its fan-out folder")
    (store.root / "zz").mkdir()
    assert list(store.keys()) == sorted([first, first + ".thumb", second])


def test_missing_blobs_raise_blob_not_found(store: LocalBlobStore) -> None:
    key = new_key()
    assert not store.exists(key)
    with pytest.raises(BlobNotFoundError):
        store.get(key)
    with pytest.raises(BlobNotFoundError):
        store.open(key)
    with pytest.raises(BlobNotFoundError):
        store.size(key)
    assert issubclass(BlobNotFoundError, StorageError)


def test_delete_removes_and_is_idempotent(store: LocalBlobStore) -> None:
    key = new_key()
    store.put(key, b"x", "image/png")
    store.delete(key)
    assert not store.exists(key)
    assert list(store.keys()) == []
    store.delete(key)
    store.delete(new_key())


def test_put_fsyncs_file_and_directory_before_returning(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def replace(source: str, target: Path) -> None:
        events.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store.put(new_key(), b"x", "image/png")
    assert events.index("fsync-file") < events.index("replace")
    assert events[-1] == "fsync-dir"


def test_failed_rename_leaves_neither_blob_nor_temp_file(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(source: str, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    key = new_key()
    with pytest.raises(StorageError, match="could not write blob"):
        store.put(key, b"x", "image/png")
    assert not store.exists(key)
    assert files_under(store.root) == []


def test_open_store_accepts_absolute_file_url(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/blobs")
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "blobs"
    key = new_key()
    store.put(key, b"x", "image/png")
    assert (tmp_path / "blobs" / key[:2] / key[2:4] / key).exists()


def test_open_store_resolves_relative_file_url_against_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("file://instance/blobs")
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "instance" / "blobs"


def test_open_store_refuses_s3_with_a_clear_message() -> None:
    with pytest.raises(StorageError) as error:
        open_store("s3://bucket/prefix")
    assert str(error.value) == "S3 storage is not available in this build; use file://"


@pytest.mark.parametrize(
    "url", ["/var/blobs", "file://", "http://user:secret@host/x", "ftp://host/blobs"]
)
def test_open_store_refuses_other_urls_without_echoing_them(url: str) -> None:
    with pytest.raises(StorageError) as error:
        open_store(url)
    assert "secret" not in str(error.value)
