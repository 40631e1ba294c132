"""event phone time: work_order_events.captured_at, the phone's clock beside the server's

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 10:00:00

"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True))
    backfill(op.get_bind())


def backfill(connection):
    """Copy the phone's clock that steps kept in data["captured_at"] (ISO 8601, offset)."""
    events = sa.table(
        "work_order_events",
        sa.column("id", sa.Integer()),
        sa.column("data", sa.JSON()),
        sa.column("captured_at", sa.DateTime(timezone=True)),
    )
    naive_utc = connection.dialect.name == "sqlite"
    last = 0
    while True:
        rows = connection.execute(
            sa.select(events.c.id, events.c.data)
            .where(
                events.c.id > last,
                events.c.captured_at.is_(None),
                sa.cast(events.c.data, sa.Text()).like("%captured_at%"),
            )
            .order_by(events.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for event_id, data in rows:
            value = (data or {}).get("captured_at") if isinstance(data, dict) else None
            try:
                when = datetime.fromisoformat(str(value)) if value else None
            except ValueError:
                when = None
            if when is not None and when.tzinfo is not None:
                when = when.astimezone(UTC)
                if naive_utc:  # as server.models.base.UTCDateTime stores it there
                    when = when.replace(tzinfo=None)
                connection.execute(
                    events.update().where(events.c.id == event_id).values(captured_at=when)
                )
        last = rows[-1][0]


def downgrade():
    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        batch_op.drop_column("captured_at")
