"""Backups taken under write load verify, catch corruption, and restore what was there (H9)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import threading

import psycopg
import pytest
from PIL import Image
from sqlalchemy import String, func, inspect, select
from sqlalchemy.engine import make_url

from server.backup import (
    BLOB_KEY_COLUMNS,
    MANIFEST_NAME,
    BackupError,
    create_backup,
    database_has_data,
    row_counts,
)
from tests.conftest import dispose, postgres_admin_url
from tests.integration.races import make_app


def jpeg(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "JPEG")
    return buffer.getvalue()


def add_photo_committed(app, order_id, actor_id, data):
    from server.extensions import blob_store, db
    from server.models import User, WorkOrder
    from server.services.attachments import add_photo

    with app.app_context():
        order = db.session.get(WorkOrder, order_id)
        actor = db.session.get(User, actor_id)
        stored = add_photo(order, data, {}, actor, blob_store())
        db.session.commit()
        return stored.attachment.id


def seed(app):
    """Commit a technician's order with one photo; return the ids and the photo's bytes."""
    from tests.integration.races import seed_race

    data = seed_race(app, 1, 1, assign_to_first=True)
    order_id, tech_id = data["orders"][0], data["techs"][0]
    photo = jpeg((30, 90, 200))
    add_photo_committed(app, order_id, tech_id, photo)
    return order_id, tech_id, photo


def drop_postgres_database(url):
    admin = make_url(postgres_admin_url()).set(drivername="postgresql")
    name = make_url(url).database
    with psycopg.connect(admin.render_as_string(False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_app(databases, tmp_path_factory):
    """Return a function making apps on new databases; PostgreSQL ones are dropped after."""
    made = []

    def make(migrate=True):
        url = databases.create()
        app = make_app(url, tmp_path_factory.mktemp("instance"), migrate=migrate)
        made.append((app, url))
        return app

    yield make
    for app, url in made:
        dispose(app)
        if url.startswith("postgresql"):
            drop_postgres_database(url)


class PhotoWriter(threading.Thread):
    """Keeps adding committed photos to an order until stopped."""

    def __init__(self, app, order_id, actor_id):
        super().__init__(daemon=True)
        self.app, self.order_id, self.actor_id = app, order_id, actor_id
        self.written = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.progress = threading.Condition()

    def run(self):
        from server.extensions import sqlite_write_intent

        # Like the POST requests it stands for: on SQLite each transaction queues for the
        # write lock (BEGIN IMMEDIATE) instead of failing when its read snapshot went stale.
        sqlite_write_intent.set(True)
        try:
            while not self.stop.is_set():
                shade = self.written % 250
                add_photo_committed(self.app, self.order_id, self.actor_id, jpeg((shade, 10, 10)))
                with self.progress:
                    self.written += 1
                    self.progress.notify_all()
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error
            with self.progress:
                self.progress.notify_all()

    def wait_for(self, count):
        with self.progress:
            self.progress.wait_for(lambda: self.written >= count or self.error is not None)
        assert self.error is None, self.error


def count_photos(app):
    from server.extensions import db
    from server.models import Attachment

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Attachment))


@pytest.fixture
def backed_up(fresh_app, tmp_path, monkeypatch):
    """Back up a database while a writer thread keeps committing photos with their blobs."""
    from server.extensions import blob_store
    from server.services import attachments

    # The writer runs freely until the backup is done: on a fast run it passes the
    # per-order photo quota, which is not what this test is about.
    monkeypatch.setattr(attachments, "MAX_PHOTOS_PER_ORDER", 1_000_000)

    source = fresh_app()
    order_id, tech_id, photo = seed(source)
    writer = PhotoWriter(source, order_id, tech_id)
    writer.start()
    writer.wait_for(3)

    def during_backup(message):
        # Between copying the database and copying the store: more rows and blobs arrive,
        # so the store holds blobs the copied database does not know yet.
        if message.startswith("database copied"):
            writer.wait_for(writer.written + 3)

    try:
        before = count_photos(source)
        with source.app_context():
            path = create_backup(
                source.config["SQLALCHEMY_DATABASE_URI"],
                blob_store(),
                tmp_path / "backups",
                progress=during_backup,
            )
        writer.wait_for(writer.written + 1)
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None, writer.error
    after = count_photos(source)
    return {
        "source": source,
        "path": path,
        "order_id": order_id,
        "photo": photo,
        "photos_before": before,
        "photos_after": after,
    }


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["backup", *args])


def test_a_backup_under_write_load_is_a_consistent_snapshot_that_verifies(backed_up):
    path = backed_up["path"]
    manifest = json.loads((path / MANIFEST_NAME).read_text())
    photos = manifest["row_counts"]["attachments"]
    # A point in time inside the backup, never a mix: more than before, fewer than after.
    assert backed_up["photos_before"] <= photos < backed_up["photos_after"]
    blobs = [name for name in manifest["files"] if name.startswith("blobs/")]
    # Three blobs a photo for the rows, plus those written after the database was copied.
    assert len(blobs) > 3 * photos
    assert manifest["engine"] in ("sqlite", "postgresql")
    assert manifest["alembic_revision"]
    assert manifest["created_at"].endswith("Z")
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((path / name).read_bytes()).hexdigest() == entry["sha256"]
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")], "temp left behind"

    result = invoke(backed_up["source"], "verify", str(path))
    assert result.exit_code == 0, result.output + result.stderr
    assert "integrity_check" in result.output or "pg_restore --list" in result.output
    assert f"{manifest['referenced_blobs']} blob keys referenced" in result.output


def test_a_flipped_byte_in_a_blob_fails_verification_naming_the_file(backed_up, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(backed_up["path"], copy)
    manifest = json.loads((copy / MANIFEST_NAME).read_text())
    blob = next(name for name in manifest["files"] if name.startswith("blobs/"))
    data = bytearray((copy / blob).read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / blob).write_bytes(bytes(data))

    result = invoke(backed_up["source"], "verify", str(copy))

    assert result.exit_code != 0
    assert blob in result.stderr
    assert "corrupted" in result.stderr


def test_a_referenced_blob_missing_from_the_backup_fails_verification(backed_up, tmp_path):
    from server.extensions import db
    from server.models import Attachment

    copy = tmp_path / "copy"
    shutil.copytree(backed_up["path"], copy)
    with backed_up["source"].app_context():
        key = db.session.scalar(
            select(Attachment.thumbnail_key).where(
                Attachment.work_order_id == backed_up["order_id"]
            )
        )
    # Remove the file and its manifest line: the hashes agree, only the reference check sees it.
    manifest = json.loads((copy / MANIFEST_NAME).read_text())
    relative = f"blobs/{key[0:2]}/{key[2:4]}/{key}"
    del manifest["files"][relative]
    (copy / relative).unlink()
    (copy / MANIFEST_NAME).write_text(json.dumps(manifest))

    result = invoke(backed_up["source"], "verify", str(copy))

    assert result.exit_code != 0
    assert f"blob {key} referenced by attachments.thumbnail_key" in result.stderr


def test_restore_into_an_empty_database_and_store_gives_back_the_order_and_its_photo(
    backed_up, fresh_app
):
    from server.extensions import blob_store, db
    from server.models import Attachment, WorkOrder

    path = backed_up["path"]
    manifest = json.loads((path / MANIFEST_NAME).read_text())
    source = backed_up["source"]
    with source.app_context():
        number = db.session.get(WorkOrder, backed_up["order_id"]).number
    target = fresh_app(migrate=False)
    with target.app_context():
        assert list(blob_store().keys()) == []

    result = invoke(target, "restore", str(path))

    assert result.exit_code == 0, result.output + result.stderr
    with target.app_context():
        order = db.session.scalar(select(WorkOrder).where(WorkOrder.number == number))
        assert order is not None
        first = db.session.scalars(
            select(Attachment).where(Attachment.work_order_id == order.id).order_by(Attachment.id)
        ).first()
        restored = blob_store().get(first.storage_key)
        assert hashlib.sha256(restored).digest() == hashlib.sha256(backed_up["photo"]).digest()
        assert blob_store().get(first.thumbnail_key)
        # Counted on the session's own connection: a second one would queue behind its
        # transaction on SQLite when an earlier test left the thread marked as a writer.
        assert row_counts(db.session.connection()) == manifest["row_counts"]


def test_restore_refuses_a_database_with_data_unless_forced(backed_up, fresh_app):
    target = fresh_app()
    seed(target)

    refused = invoke(target, "restore", str(backed_up["path"]))
    assert refused.exit_code != 0
    assert "already holds data" in refused.stderr
    assert "--force" in refused.stderr

    forced = invoke(target, "restore", str(backed_up["path"]), "--force")
    assert forced.exit_code == 0, forced.output + forced.stderr
    assert "row counts of" in forced.output


def test_restore_refuses_a_backup_that_does_not_verify(backed_up, fresh_app, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(backed_up["path"], copy)
    manifest = json.loads((copy / MANIFEST_NAME).read_text())
    database = copy / manifest["database_file"]
    data = bytearray(database.read_bytes())
    data[-100] ^= 0xFF
    database.write_bytes(bytes(data))
    target = fresh_app(migrate=False)

    result = invoke(target, "restore", str(copy))

    assert result.exit_code != 0
    assert manifest["database_file"] in result.stderr
    from server.extensions import blob_store

    with target.app_context():
        assert list(blob_store().keys()) == []


def test_the_create_command_writes_a_finished_backup_folder(fresh_app, tmp_path):
    app = fresh_app()
    seed(app)

    result = invoke(app, "create", str(tmp_path / "backups"))

    assert result.exit_code == 0, result.output + result.stderr
    (folder,) = (tmp_path / "backups").iterdir()
    assert folder.name.startswith("fieldwork-backup-")
    assert f"Backup written to {folder}" in result.output
    assert invoke(app, "verify", str(folder)).exit_code == 0


def test_a_freshly_migrated_database_counts_as_empty(fresh_app):
    app = fresh_app()
    assert not database_has_data(app.config["SQLALCHEMY_DATABASE_URI"])
    seed(app)
    assert database_has_data(app.config["SQLALCHEMY_DATABASE_URI"])


class FailingStore:
    """A store whose second blob cannot be read."""

    def __init__(self, inner):
        self.inner = inner

    def keys(self):
        return self.inner.keys()

    def open(self, key):
        from server.storage import StorageError

        if key == sorted(self.inner.keys())[1]:
            raise StorageError(f"could not read blob {key}")
        return self.inner.open(key)


def test_a_failed_backup_leaves_nothing_that_looks_complete(fresh_app, tmp_path):
    from server.extensions import blob_store

    app = fresh_app()
    seed(app)
    destination = tmp_path / "backups"
    with app.app_context(), pytest.raises(BackupError, match="could not read blob"):
        create_backup(
            app.config["SQLALCHEMY_DATABASE_URI"], FailingStore(blob_store()), destination
        )
    assert list(destination.iterdir()) == []


@pytest.mark.postgresql_only  # pg_dump is only used for PostgreSQL
def test_a_missing_pg_dump_is_a_clear_error(fresh_app, tmp_path, monkeypatch):
    app = fresh_app()
    monkeypatch.setattr("server.backup.shutil.which", lambda name: None)

    result = invoke(app, "create", str(tmp_path / "backups"))

    assert result.exit_code != 0
    assert "pg_dump was not found" in result.stderr
    assert list((tmp_path / "backups").iterdir()) == []


def test_every_blob_key_column_is_known_to_the_backup(app):
    from server.extensions import db

    # Columns named like blob keys; another kind of "key" is listed here on purpose.
    not_blobs = {("idempotency_records", "key")}
    with app.app_context(), db.engine.connect() as connection:
        inspector = inspect(connection)
        candidates = {
            (table_name, col["name"])
            for table_name in inspector.get_table_names()
            for col in inspector.get_columns(table_name)
            if (col["name"] == "key" or col["name"].endswith("_key"))
            and isinstance(col["type"], String)
        }
    known = {(t, c) for t, columns in BLOB_KEY_COLUMNS.items() for c in columns}
    assert candidates - not_blobs == known
