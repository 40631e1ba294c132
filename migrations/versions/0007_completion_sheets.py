"""completion sheets

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 16:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('completion_sheets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.String(length=32), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('completion_event_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('page_size', sa.String(length=10), nullable=False),
    sa.Column('signer_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('is_timestamped', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['completion_event_id'], ['work_order_events.id'], name=op.f('fk_completion_sheets_completion_event_id_work_order_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_completion_sheets_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_completion_sheets')),
    sa.UniqueConstraint('completion_event_id', name=op.f('uq_completion_sheets_completion_event_id')),
    sa.UniqueConstraint('document_id', name=op.f('uq_completion_sheets_document_id')),
    sa.UniqueConstraint('work_order_id', 'revision', name=op.f('uq_completion_sheets_work_order_id_revision'))
    )
    with op.batch_alter_table('completion_sheets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_completion_sheets_sha256'), ['sha256'], unique=False)


def downgrade():
    with op.batch_alter_table('completion_sheets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_completion_sheets_sha256'))

    op.drop_table('completion_sheets')
