"""Consistent backups of the database and the blob store; verification; restore (RELIABILITY H9).

A backup is one folder ``fieldwork-backup-<UTC time>/`` holding the database (``database.sqlite3``
made with SQLite's online backup API, or ``database.pgdump`` made by ``pg_dump --format=custom``),
every blob of the store under ``blobs/`` in the store's own ``ab/cd/<key>`` layout, and
``manifest.json`` with the SHA-256 and size of every file. A folder rather than a tar file:
verify and restore read files in place, blobs never change once written so ``rsync`` of
successive backups to another machine only sends new ones, and one rename publishes it whole.

The database is copied first, then the store: the app writes a blob before the row that
names it, so every blob a copied row references already exists when the store is copied.
The folder is built under a hidden temporary name and renamed when complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import (
    Connection,
    Engine,
    String,
    column,
    create_engine,
    func,
    inspect,
    select,
    table,
)
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from server.services.erasure import BLOB_KEY_COLUMNS, referenced_blob_keys
from server.storage import KEY_PATTERN, BlobNotFoundError, BlobStore, StorageError

FORMAT_NAME = "fieldwork-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SQLITE_DUMP_NAME = "database.sqlite3"
POSTGRES_DUMP_NAME = "database.pgdump"
BLOBS_FOLDER = "blobs"

#: Tables the migrations themselves fill (reference data): rows there are not "data" when
#: restore decides whether the target database is empty.
MIGRATION_SEEDED_TABLES = frozenset(
    {
        "alembic_version",
        "business_calendars",
        "calendar_days",
        "deadline_policies",
        "escalation_steps",
    }
)

_COPY_CHUNK = 1024 * 1024
_COPY_LINE = re.compile(r'^COPY (?:"?([^".\s]+)"?\.)?"?([^"\s(]+)"?\s*(?:\((.*)\))? FROM stdin;$')

Progress = Callable[[str], None]


class BackupError(Exception):
    """Report that a backup could not be made, read or restored; the message says why."""


@dataclass
class Snapshot:
    """What the database held at the backup's point in time."""

    row_counts: dict[str, int]
    alembic_revision: list[str]
    #: Referenced blob key → the first ``table.column`` naming it.
    referenced_keys: dict[str, str]


@dataclass
class VerifyReport:
    """What verification looked at, and every problem it found (none: the backup is good)."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


# --- shared helpers ------------------------------------------------------------------------


def engine_name(database_url: str) -> str:
    """Return ``sqlite`` or ``postgresql`` for a database URL; refuse anything else."""
    backend = make_url(database_url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {backend!r}")
    return backend


def sqlite_path(database_url: str) -> Path:
    """Return the file of a SQLite URL; in-memory databases cannot be backed up or restored."""
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BackupError("an in-memory SQLite database has nothing to back up or restore")
    return Path(database)


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes as lowercase hex, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def blob_relative_path(key: str) -> str:
    """Where a blob lives inside a backup: the store's own fan-out, under ``blobs/``."""
    return f"{BLOBS_FOLDER}/{key[0:2]}/{key[2:4]}/{key}"


def row_counts(connection: Connection) -> dict[str, int]:
    """Count the rows of every table of the connection's default schema."""
    names = sorted(inspect(connection).get_table_names())
    return {
        name: int(connection.execute(select(func.count()).select_from(table(name))).scalar_one())
        for name in names
    }


def alembic_revision(connection: Connection) -> list[str]:
    """Return the schema's Alembic revision(s); several only with unmerged branches."""
    if "alembic_version" not in inspect(connection).get_table_names():
        return []
    return sorted(
        str(v)
        for v in connection.scalars(
            select(column("version_num", String)).select_from(table("alembic_version"))
        )
    )


def take_snapshot(connection: Connection) -> Snapshot:
    """Read counts, revision and blob references, all inside the connection's transaction."""
    return Snapshot(
        row_counts=row_counts(connection),
        alembic_revision=alembic_revision(connection),
        referenced_keys=referenced_blob_keys(connection),
    )


def _plain_engine(database_url: str) -> Engine:
    """An engine without the app's pool or connect hooks, closed when disposed."""
    return create_engine(database_url, poolclass=NullPool)


def _readonly_sqlite_engine(path: Path) -> Engine:
    uri = path.resolve().as_uri() + "?mode=ro"
    return create_engine(
        "sqlite://", poolclass=NullPool, creator=lambda: sqlite3.connect(uri, uri=True)
    )


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found on PATH: install the PostgreSQL client tools of the server's "
            "major version (Debian/Ubuntu: apt-get install postgresql-client)"
        )
    return found


def _libpq_target(database_url: str) -> tuple[str, dict[str, str]]:
    """Return a libpq URL without the password, and an environment carrying it instead.

    The password goes in PGPASSWORD so it never shows in the process list.
    """
    url = make_url(database_url)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return plain, env


def _run_tool(arguments: list[str], env: Mapping[str, str] | None = None) -> None:
    # Arguments are a list (no shell): the tool path from shutil.which and our own values.
    result = subprocess.run(  # noqa: S603
        arguments, capture_output=True, text=True, env=env, check=False
    )
    if result.returncode != 0:
        name = Path(arguments[0]).name
        detail = (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
        raise BackupError(f"{name} failed: {detail}")


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as file:
        os.fsync(file.fileno())


def _copy_stream(source: Any, destination: Path) -> tuple[str, int]:
    """Copy an open binary stream to a new file, fsync'ed; return its SHA-256 and size."""
    digest = hashlib.sha256()
    size = 0
    destination.parent.mkdir(parents=True, exist_ok=True)
    with destination.open("xb") as out:
        while chunk := source.read(_COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _noop(_message: str) -> None:
    pass


# --- create ------------------------------------------------------------------------------


def _backup_sqlite(database_url: str, destination: Path) -> Snapshot:
    """Copy a live SQLite database with the online backup API, in one consistent step."""
    source_path = sqlite_path(database_url)
    if not source_path.is_file():
        raise BackupError(f"the SQLite database {source_path} does not exist")
    # mode=rw: never create an empty database where the configured one is missing.
    source = sqlite3.connect(source_path.resolve().as_uri() + "?mode=rw", uri=True, timeout=30)
    try:
        target = sqlite3.connect(destination)
        try:
            # pages=-1 copies everything in one step under one read transaction: a snapshot,
            # while writers go on (WAL). Step-wise copying restarts on every write instead.
            source.backup(target, pages=-1)
            # A self-contained file: no -wal/-shm companions appear when it is read.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    except sqlite3.Error as error:
        raise BackupError(f"SQLite backup of {source_path} failed: {error}") from error
    finally:
        source.close()
    _fsync_file(destination)
    engine = _readonly_sqlite_engine(destination)
    try:
        with engine.connect() as connection:
            return take_snapshot(connection)
    finally:
        engine.dispose()


def _backup_postgresql(database_url: str, destination: Path) -> Snapshot:
    """Dump with pg_dump inside an exported snapshot that the counts are taken in too."""
    pg_dump = _tool("pg_dump")
    target, env = _libpq_target(database_url)
    engine = _plain_engine(database_url)
    try:
        with engine.connect() as base:
            connection = base.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                snapshot_id = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
                snapshot = take_snapshot(connection)
                # The exporting transaction stays open while pg_dump imports its snapshot,
                # so the dump holds exactly the rows counted above.
                _run_tool(
                    [
                        pg_dump,
                        "--format=custom",
                        f"--snapshot={snapshot_id}",
                        f"--file={destination}",
                        f"--dbname={target}",
                    ],
                    env,
                )
    except BackupError:
        raise
    except Exception as error:
        raise BackupError(f"could not read the PostgreSQL database: {error}") from error
    finally:
        engine.dispose()
    _fsync_file(destination)
    return snapshot


def _copy_blobs(store: BlobStore, folder: Path, files: dict[str, dict[str, Any]]) -> int:
    copied = 0
    try:
        for key in store.keys():
            relative = blob_relative_path(key)
            try:
                source = store.open(key)
            except BlobNotFoundError:
                continue  # deleted since listed; if a row names it, the caller reports it
            with source:
                sha256, size = _copy_stream(source, folder / relative)
            files[relative] = {"sha256": sha256, "size": size}
            copied += 1
    except StorageError as error:
        raise BackupError(f"could not copy the blob store: {error}") from error
    except OSError as error:
        raise BackupError(f"could not write the backup: {error}") from error
    return copied


def create_backup(
    database_url: str,
    store: BlobStore,
    destination_dir: Path,
    progress: Progress = _noop,
    now: datetime | None = None,
) -> Path:
    """Write a complete backup folder into ``destination_dir`` and return its path.

    Nothing named like a finished backup exists until every file and the manifest are
    written and flushed; on any error the partial folder is removed.
    """
    engine = engine_name(database_url)
    created = (now or datetime.now(UTC)).astimezone(UTC)
    name = f"fieldwork-backup-{created:%Y%m%dT%H%M%S%fZ}"
    try:
        destination_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=destination_dir))
    except OSError as error:
        raise BackupError(f"cannot write into {destination_dir}: {error}") from error
    final = destination_dir / name
    try:
        dump_name = SQLITE_DUMP_NAME if engine == "sqlite" else POSTGRES_DUMP_NAME
        if engine == "sqlite":
            snapshot = _backup_sqlite(database_url, work / dump_name)
        else:
            snapshot = _backup_postgresql(database_url, work / dump_name)
        files: dict[str, dict[str, Any]] = {
            dump_name: {
                "sha256": file_sha256(work / dump_name),
                "size": (work / dump_name).stat().st_size,
            }
        }
        progress(f"database copied ({sum(snapshot.row_counts.values())} rows)")
        # Only now the store: every blob the copied rows name was written before its row.
        blob_count = _copy_blobs(store, work, files)
        missing = sorted(
            f"{key} ({where})"
            for key, where in snapshot.referenced_keys.items()
            if blob_relative_path(key) not in files
        )
        if missing:
            raise BackupError(
                "blobs the database references are not in the store (deleted while the "
                f"backup ran, or lost earlier): {', '.join(missing[:10])}"
                + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            )
        progress(f"{blob_count} blobs copied")
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "engine": engine,
            "database_file": dump_name,
            "alembic_revision": snapshot.alembic_revision,
            "row_counts": snapshot.row_counts,
            "referenced_blobs": len(snapshot.referenced_keys),
            "files": dict(sorted(files.items())),
        }
        manifest_path = work / MANIFEST_NAME
        manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        _fsync_file(manifest_path)
        for directory in sorted({(work / p).parent for p in files}, reverse=True):
            _fsync_directory(directory)
        _fsync_directory(work)
        os.rename(work, final)
        _fsync_directory(destination_dir)
    except BaseException as error:
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(error, OSError):
            raise BackupError(f"could not write the backup: {error}") from error
        raise
    return final


# --- verify ------------------------------------------------------------------------------


def read_manifest(backup: Path) -> dict[str, Any]:
    """Load and sanity-check a backup's manifest."""
    path = backup / MANIFEST_NAME
    if not path.is_file():
        raise BackupError(f"{backup} is not a finished backup: it has no {MANIFEST_NAME}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} cannot be read: {error}") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise BackupError(f"{path} is not a Fieldwork backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has format version {manifest.get('format_version')!r}; "
            f"this version of Fieldwork reads {FORMAT_VERSION}"
        )
    if manifest.get("engine") not in ("sqlite", "postgresql") or not isinstance(
        manifest.get("files"), dict
    ):
        raise BackupError(f"{path} is incomplete")
    return manifest


def _files_on_disk(backup: Path) -> Iterator[str]:
    for path in sorted(backup.rglob("*")):
        if path.is_file() or path.is_symlink():
            relative = path.relative_to(backup).as_posix()
            if relative != MANIFEST_NAME:
                yield relative


def _check_hashes(backup: Path, manifest: dict[str, Any], report: VerifyReport) -> None:
    files: dict[str, dict[str, Any]] = manifest["files"]
    for relative, expected in files.items():
        path = backup / relative
        if ".." in Path(relative).parts or Path(relative).is_absolute():
            report.problems.append(f"{relative}: not a path inside the backup")
        elif path.is_symlink() or not path.is_file():
            report.problems.append(f"{relative}: missing")
        elif path.stat().st_size != expected.get("size"):
            report.problems.append(
                f"{relative}: size {path.stat().st_size}, manifest says {expected.get('size')}"
            )
        elif file_sha256(path) != expected.get("sha256"):
            report.problems.append(f"{relative}: SHA-256 differs from the manifest (corrupted)")
    extra = [relative for relative in _files_on_disk(backup) if relative not in files]
    report.problems.extend(f"{relative}: not listed in the manifest" for relative in extra)
    report.checked.append(f"SHA-256 and size of {len(files)} files")


def _compare_counts(
    expected: Mapping[str, int], actual: Mapping[str, int], where: str, report: VerifyReport
) -> None:
    for name, count in sorted(expected.items()):
        if actual.get(name) != count:
            report.problems.append(
                f"{where}: table {name} has {actual.get(name, 'no')} rows, manifest says {count}"
            )
    report.checked.append(f"row counts of {len(expected)} tables in {where}")


def _check_references(
    referenced: Mapping[str, str], manifest: dict[str, Any], report: VerifyReport
) -> None:
    files = manifest["files"]
    for key, where in sorted(referenced.items()):
        if not KEY_PATTERN.fullmatch(key):
            report.problems.append(f"{where} names {key!r}, which is not a blob key")
        elif blob_relative_path(key) not in files:
            report.problems.append(f"blob {key} referenced by {where} is not in the backup")
    report.checked.append(f"{len(referenced)} blob keys referenced by the database are present")


def _verify_sqlite(dump: Path, manifest: dict[str, Any], report: VerifyReport) -> None:
    engine = _readonly_sqlite_engine(dump)
    try:
        with engine.connect() as connection:
            result = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
            if result != ["ok"]:
                report.problems.append(f"{dump.name}: integrity_check: {'; '.join(result[:5])}")
            report.checked.append(f"PRAGMA integrity_check of {dump.name}")
            snapshot = take_snapshot(connection)
    except Exception as error:
        report.problems.append(f"{dump.name}: cannot be read as SQLite: {error}")
        return
    finally:
        engine.dispose()
    _compare_counts(manifest.get("row_counts", {}), snapshot.row_counts, dump.name, report)
    _check_references(snapshot.referenced_keys, manifest, report)


def read_postgres_dump(dump: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Count the rows and collect the blob keys in a custom-format dump, via pg_restore."""
    pg_restore = _tool("pg_restore")
    counts: dict[str, int] = {}
    keys: dict[str, str] = {}
    current: str | None = None
    key_columns: list[tuple[int, str]] = []
    # stderr goes to a file: a full pipe there would stall pg_restore while we read stdout.
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(  # noqa: S603
            [pg_restore, "--data-only", "--file=-", str(dump)],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            encoding="utf-8",
        ) as process,
    ):
        for line in process.stdout or ():
            line = line.rstrip("\n")
            if current is None:
                match = _COPY_LINE.match(line)
                if match and match.group(1) in (None, "public"):
                    current = match.group(2)
                    names = [n.strip().strip('"') for n in (match.group(3) or "").split(",")]
                    wanted = BLOB_KEY_COLUMNS.get(current, ())
                    key_columns = [(i, n) for i, n in enumerate(names) if n in wanted]
                    counts[current] = 0
                continue
            if line == "\\.":
                current = None
                continue
            counts[current] += 1
            # COPY text format: one row a line, tab-separated, NULL as \N; keys are plain hex.
            values = line.split("\t")
            for index, name in key_columns:
                if index < len(values) and values[index] != "\\N":
                    keys.setdefault(values[index], f"{current}.{name}")
        if process.wait() != 0:
            errors.seek(0)
            detail = errors.read().decode("utf-8", "replace").strip()
            raise BackupError(f"pg_restore could not read {dump.name}: {detail}")
    return counts, keys


def _verify_postgresql(dump: Path, manifest: dict[str, Any], report: VerifyReport) -> None:
    try:
        _run_tool([_tool("pg_restore"), "--list", str(dump)])
        report.checked.append(f"pg_restore --list of {dump.name}")
        counts, keys = read_postgres_dump(dump)
    except BackupError as error:
        report.problems.append(f"{dump.name}: {error}")
        return
    # Tables without rows may have no COPY block at all.
    expected = manifest.get("row_counts", {})
    actual = {name: counts.get(name, 0) for name in expected} | counts
    _compare_counts(expected, actual, dump.name, report)
    _check_references(keys, manifest, report)


def verify_backup(backup: Path) -> VerifyReport:
    """Check every file against the manifest, the database dump itself and its blob references."""
    manifest = read_manifest(backup)
    report = VerifyReport()
    _check_hashes(backup, manifest, report)
    dump = backup / str(manifest.get("database_file"))
    if not dump.is_file():
        report.problems.append(f"{manifest.get('database_file')}: the database file is missing")
    elif manifest["engine"] == "sqlite":
        _verify_sqlite(dump, manifest, report)
    else:
        _verify_postgresql(dump, manifest, report)
    return report


# --- restore ------------------------------------------------------------------------------


def database_has_data(database_url: str) -> bool:
    """Tell whether the database holds rows besides the reference data migrations insert."""
    if engine_name(database_url) == "sqlite":
        path = sqlite_path(database_url)
        if not path.is_file() or path.stat().st_size == 0:
            return False
    engine = _plain_engine(database_url)
    try:
        with engine.connect() as connection:
            counts = row_counts(connection)
    except Exception as error:
        raise BackupError(f"cannot read the configured database: {error}") from error
    finally:
        engine.dispose()
    return any(count for name, count in counts.items() if name not in MIGRATION_SEEDED_TABLES)


def _restore_sqlite(dump: Path, database_url: str) -> None:
    target = sqlite_path(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.restore-", dir=target.parent)
    try:
        with dump.open("rb") as source, os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out, _COPY_CHUNK)
            out.flush()
            os.fsync(out.fileno())
        # A leftover WAL of the old database would be replayed into the new file.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        os.replace(temp_name, target)
        _fsync_directory(target.parent)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _restore_postgresql(dump: Path, database_url: str) -> None:
    pg_restore = _tool("pg_restore")
    target, env = _libpq_target(database_url)
    # One transaction: a failed restore leaves the database as it was.
    _run_tool(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            f"--dbname={target}",
            str(dump),
        ],
        env,
    )


def restore_backup(
    backup: Path,
    database_url: str,
    store: BlobStore,
    *,
    force: bool = False,
    progress: Progress = _noop,
) -> dict[str, Any]:
    """Restore a verified backup into the database and store given; return its manifest.

    Blobs go in before the database, as the app writes them: an interrupted restore leaves
    at most unreferenced blobs, never rows whose files are missing.
    """
    manifest = read_manifest(backup)
    engine = engine_name(database_url)
    if manifest["engine"] != engine:
        raise BackupError(
            f"the backup is of a {manifest['engine']} database; the configured one is {engine}"
        )
    report = verify_backup(backup)
    if not report.ok:
        raise BackupError("the backup does not verify: " + "; ".join(report.problems[:5]))
    progress("backup verified")
    if not force and database_has_data(database_url):
        raise BackupError(
            "the configured database already holds data; restoring replaces all of it "
            "(pass --force to do so)"
        )
    blobs = [p for p in manifest["files"] if p.startswith(f"{BLOBS_FOLDER}/")]
    try:
        for relative in blobs:
            key = relative.rsplit("/", 1)[-1]
            # The content type lives in the rows; the local store does not keep it.
            store.put(key, (backup / relative).read_bytes(), "application/octet-stream")
    except (StorageError, ValueError, OSError) as error:
        raise BackupError(f"could not restore the blobs: {error}") from error
    progress(f"{len(blobs)} blobs restored")
    dump = backup / str(manifest["database_file"])
    try:
        if engine == "sqlite":
            _restore_sqlite(dump, database_url)
        else:
            _restore_postgresql(dump, database_url)
    except OSError as error:
        raise BackupError(f"could not restore the database: {error}") from error
    progress("database restored")
    checked = _plain_engine(database_url)
    try:
        with checked.connect() as connection:
            counts = row_counts(connection)
    finally:
        checked.dispose()
    wrong = [
        f"{name}: {counts.get(name, 'no')} rows, backup has {count}"
        for name, count in sorted(manifest["row_counts"].items())
        if counts.get(name) != count
    ]
    if wrong:
        raise BackupError("restored row counts differ from the backup: " + "; ".join(wrong))
    progress(f"row counts of {len(counts)} tables match the backup")
    return manifest


# --- CLI ---------------------------------------------------------------------------------

backup_cli = AppGroup("backup", help="Back up, verify and restore the database and files.")


def _configured() -> tuple[str, BlobStore]:
    settings = current_app.config["FIELDWORK_SETTINGS"]
    return settings.database_url, current_app.extensions["fieldwork.blob_store"]


@backup_cli.command("create")
@click.argument("dest_dir", type=click.Path(file_okay=False, path_type=Path))
def create_command(dest_dir: Path) -> None:
    """Write a consistent backup folder into DEST_DIR while the app keeps running."""
    database_url, store = _configured()
    try:
        path = create_backup(database_url, store, dest_dir, progress=click.echo)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written to {path}")


@backup_cli.command("verify")
@click.argument("backup", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify_command(backup: Path) -> None:
    """Check a backup's files, database and blob references; exit 1 on any problem."""
    try:
        report = verify_backup(backup)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    for line in report.checked:
        click.echo(f"checked: {line}")
    if not report.ok:
        for problem in report.problems:
            click.echo(f"PROBLEM: {problem}", err=True)
        raise click.ClickException(f"{backup} does not verify ({len(report.problems)} problems)")
    click.echo(f"{backup} is good.")


@backup_cli.command("restore")
@click.argument("backup", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def restore_command(backup: Path, force: bool) -> None:
    """Restore BACKUP into the configured database and blob store.

    Stop the web app, worker and scheduler first: SQLite's file is replaced in place and
    PostgreSQL's tables are dropped and recreated. Refuses a database holding data unless
    --force. Run `flask --app server db upgrade` afterwards when the code is newer.
    """
    from server.extensions import db

    database_url, store = _configured()
    db.engine.dispose()  # this process must hold no connection to the file being replaced
    try:
        manifest = restore_backup(backup, database_url, store, force=force, progress=click.echo)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.engine.dispose()
    revision = ", ".join(manifest["alembic_revision"]) or "none"
    click.echo(f"Restored {backup} (taken {manifest['created_at']}, schema revision {revision}).")
