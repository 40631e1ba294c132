"""workflow timers

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 17:20:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('workflow_timer_schedules',
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('state_entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_workflow_timer_schedules_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('work_order_id', name=op.f('pk_workflow_timer_schedules'))
    )
    op.create_index(op.f('ix_workflow_timer_schedules_next_at'), 'workflow_timer_schedules', ['next_at'], unique=False)
    op.create_table('workflow_timer_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('timer', sa.String(length=60), nullable=False),
    sa.Column('state_entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_workflow_timer_runs_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_timer_runs')),
    sa.UniqueConstraint('work_order_id', 'timer', 'state_entered_at', name=op.f('uq_workflow_timer_runs_work_order_id_timer_state_entered_at'))
    )
    op.create_index(op.f('ix_workflow_timer_runs_work_order_id'), 'workflow_timer_runs', ['work_order_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_workflow_timer_runs_work_order_id'), table_name='workflow_timer_runs')
    op.drop_table('workflow_timer_runs')
    op.drop_index(op.f('ix_workflow_timer_schedules_next_at'), table_name='workflow_timer_schedules')
    op.drop_table('workflow_timer_schedules')
