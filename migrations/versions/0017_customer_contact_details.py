"""customer contact details: preferred channel, message consent, and the customer's history

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 12:00:00

"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    # Existing customers keep getting what they got so far: every channel we have an
    # address for. Nobody's consent is assumed: it is recorded when given.
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "preferred_channel",
                sa.Enum("sms", "email", "both", "none", name="messagepreference",
                        native_enum=False, length=10),
                server_default="both",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("message_consent_at", sa.DateTime(timezone=True), nullable=True)
        )

    op.create_table(
        "customer_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_customer_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_events_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_events")),
    )
    with op.batch_alter_table("customer_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customer_events_customer_id", ["customer_id", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("customer_events", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_events_customer_id")
    op.drop_table("customer_events")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("message_consent_at")
        batch_op.drop_column("preferred_channel")
