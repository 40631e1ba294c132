"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.extensions import db
from server.models.base import render_migration_type


def test_models_and_migrations_do_not_drift(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_item": render_migration_type}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == [], f"run `flask --app server db migrate`: {differences}"


def test_migrations_create_every_table(app):
    from sqlalchemy import inspect

    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables


def test_every_migration_downgrades_and_upgrades_again(databases, tmp_path):
    """A release can be rolled back: base ← heads → heads again, on a fresh database."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from tests.conftest import build_app, dispose

    app = build_app(databases.create(), tmp_path)  # migrated to heads
    try:
        with app.app_context():
            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
            upgrade(revision="heads")
            assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
    finally:
        dispose(app)
