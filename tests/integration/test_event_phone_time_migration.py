"""Migration 0016 copies the phone's clock that older steps kept in their data."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

from server.extensions import db
from server.models import WorkOrderEvent

MIGRATION = (
    Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0016_event_phone_time.py"
)


def load_migration():
    spec = importlib.util.spec_from_file_location("migration_0016", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_backfill_reads_data_captured_at_and_leaves_the_rest(create_work_order):
    order = create_work_order()
    rows = [
        WorkOrderEvent(work_order_id=order.id, kind="WorkOrderAccepted", data=data)
        for data in (
            {"captured_at": "2026-11-23T09:00:00+08:00"},
            {"captured_at": "not a time"},
            {"captured_at": "2026-11-23T09:00:00"},  # no offset: not trusted
            {"note": "no phone here"},
        )
    ]
    db.session.add_all(rows)
    db.session.flush()

    load_migration().backfill(db.session.connection())
    db.session.expire_all()

    found = [db.session.get(WorkOrderEvent, row.id).captured_at for row in rows]
    assert found == [datetime(2026, 11, 23, 1, 0, tzinfo=UTC), None, None, None]
