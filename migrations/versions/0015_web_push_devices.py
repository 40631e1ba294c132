"""web push devices: a browser's subscription keys beside the endpoint in push_token

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 09:00:00

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    # ``platform`` is a non-native enum (VARCHAR(10), no CHECK constraint): ``web`` needs
    # no change there.
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webpush_p256dh", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("webpush_auth", sa.String(length=40), nullable=True))


def downgrade():
    op.execute("DELETE FROM devices WHERE platform = 'web'")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("webpush_auth")
        batch_op.drop_column("webpush_p256dh")
