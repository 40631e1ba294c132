"""deadline policies, business calendars, clocks, escalations, owner chains

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 17:20:00

Also inserts the shipped defaults: the China office calendar with the 2026 (official) and
2027 (provisional) public holidays and make-up days, a 24x7 calendar, and the deadline
policies with their escalation ladders (see server/services/deadline_policies.py).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('business_calendars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('name_zh', sa.String(length=120), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('weekly_hours', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('makeup_hours', sa.String(length=120), nullable=True),
    sa.Column('working_day_minutes', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=40), nullable=True),
    sa.Column('region', sa.String(length=80), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_calendars')),
    sa.UniqueConstraint('code', name=op.f('uq_business_calendars_code'))
    )
    op.create_table('calendar_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_working', sa.Boolean(), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('name_zh', sa.String(length=120), nullable=False),
    sa.Column('is_provisional', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['business_calendars.id'], name=op.f('fk_calendar_days_calendar_id_business_calendars'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_days')),
    sa.UniqueConstraint('calendar_id', 'day', name=op.f('uq_calendar_days_calendar_id_day'))
    )
    op.create_table('deadline_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('name_zh', sa.String(length=120), nullable=False),
    sa.Column('category_code', sa.String(length=40), nullable=True),
    sa.Column('workflow_name', sa.String(length=60), nullable=True),
    sa.Column('priority', sa.Enum('emergency', 'high', 'normal', 'low', name='priority', native_enum=False, length=10), nullable=True),
    sa.Column('severity', sa.String(length=20), nullable=True),
    sa.Column('customer_tier', sa.Enum('vip', 'key', 'standard', name='customertier', native_enum=False, length=10), nullable=True),
    sa.Column('respond_within', sa.String(length=40), nullable=True),
    sa.Column('arrive_within', sa.String(length=40), nullable=True),
    sa.Column('resolve_within', sa.String(length=40), nullable=True),
    sa.Column('followup_within', sa.String(length=40), nullable=True),
    sa.Column('warn_percent', sa.Integer(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('pause_states', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('supervisor_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['business_calendars.id'], name=op.f('fk_deadline_policies_calendar_id_business_calendars')),
    sa.ForeignKeyConstraint(['supervisor_id'], ['users.id'], name=op.f('fk_deadline_policies_supervisor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_policies'))
    )
    op.create_table('escalation_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('clock', sa.String(length=10), nullable=False),
    sa.Column('trigger', sa.String(length=12), nullable=False),
    sa.Column('after_minutes', sa.Integer(), nullable=False),
    sa.Column('actions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['deadline_policies.id'], name=op.f('fk_escalation_steps_policy_id_deadline_policies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_steps')),
    sa.UniqueConstraint('policy_id', 'clock', 'trigger', 'after_minutes', name=op.f('uq_escalation_steps_policy_id_clock_trigger_after_minutes'))
    )
    op.create_table('deadline_clocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('within', sa.String(length=40), nullable=False),
    sa.Column('is_working_time', sa.Boolean(), nullable=False),
    sa.Column('warn_percent', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_total_seconds', sa.Integer(), nullable=False),
    sa.Column('paused_counted_seconds', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_check_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('breached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['calendar_id'], ['business_calendars.id'], name=op.f('fk_deadline_clocks_calendar_id_business_calendars'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['policy_id'], ['deadline_policies.id'], name=op.f('fk_deadline_clocks_policy_id_deadline_policies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_deadline_clocks_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_clocks'))
    )
    with op.batch_alter_table('deadline_clocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_clocks_due_at'), ['due_at'], unique=False)
        batch_op.create_index('ix_deadline_clocks_next_check_at', ['next_check_at', 'id'], unique=False, postgresql_where=sa.text('next_check_at IS NOT NULL'), sqlite_where=sa.text('next_check_at IS NOT NULL'))
        batch_op.create_index(batch_op.f('ix_deadline_clocks_warn_at'), ['warn_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deadline_clocks_work_order_id'), ['work_order_id'], unique=False)
        batch_op.create_index('ux_deadline_clocks_running', ['work_order_id', 'kind'], unique=True, postgresql_where=sa.text('stopped_at IS NULL'), sqlite_where=sa.text('stopped_at IS NULL'))

    op.create_table('work_order_owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('from_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('to_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('handed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['handed_by_id'], ['users.id'], name=op.f('fk_work_order_owners_handed_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_work_order_owners_user_id_users')),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_work_order_owners_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_order_owners'))
    )
    with op.batch_alter_table('work_order_owners', schema=None) as batch_op:
        batch_op.create_index('ix_work_order_owners_order', ['work_order_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_order_owners_user_id'), ['user_id'], unique=False)

    op.create_table('clock_pauses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clock_id', sa.Integer(), nullable=False),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_clock_pauses_actor_id_users')),
    sa.ForeignKeyConstraint(['clock_id'], ['deadline_clocks.id'], name=op.f('fk_clock_pauses_clock_id_deadline_clocks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock_pauses'))
    )
    with op.batch_alter_table('clock_pauses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clock_pauses_clock_id'), ['clock_id'], unique=False)

    op.create_table('escalation_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clock_id', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['clock_id'], ['deadline_clocks.id'], name=op.f('fk_escalation_records_clock_id_deadline_clocks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['step_id'], ['escalation_steps.id'], name=op.f('fk_escalation_records_step_id_escalation_steps'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_escalation_records_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_records')),
    sa.UniqueConstraint('clock_id', 'step_id', name=op.f('uq_escalation_records_clock_id_step_id'))
    )
    with op.batch_alter_table('escalation_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_records_work_order_id'), ['work_order_id'], unique=False)

    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('severity', sa.String(length=20), nullable=True))

    _insert_defaults()


def _insert_defaults():
    """Insert the shipped calendars, holidays, policies and ladders."""
    from datetime import datetime, timezone

    from server.services.deadline_policies import default_rows

    now = datetime.now(timezone.utc)
    rows = default_rows()
    json = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    calendars = sa.table(
        'business_calendars',
        sa.column('id', sa.Integer()), sa.column('code', sa.String()),
        sa.column('name_en', sa.String()), sa.column('name_zh', sa.String()),
        sa.column('timezone', sa.String()), sa.column('weekly_hours', json),
        sa.column('makeup_hours', sa.String()), sa.column('working_day_minutes', sa.Integer()),
        sa.column('team', sa.String()), sa.column('region', sa.String()),
        sa.column('is_default', sa.Boolean()),
        sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('updated_at', sa.DateTime(timezone=True)),
    )
    days = sa.table(
        'calendar_days',
        sa.column('calendar_id', sa.Integer()), sa.column('day', sa.Date()),
        sa.column('is_working', sa.Boolean()), sa.column('name_en', sa.String()),
        sa.column('name_zh', sa.String()), sa.column('is_provisional', sa.Boolean()),
    )
    policies = sa.table(
        'deadline_policies',
        sa.column('id', sa.Integer()), sa.column('name_en', sa.String()),
        sa.column('name_zh', sa.String()), sa.column('category_code', sa.String()),
        sa.column('workflow_name', sa.String()), sa.column('priority', sa.String()),
        sa.column('severity', sa.String()), sa.column('customer_tier', sa.String()),
        sa.column('respond_within', sa.String()), sa.column('arrive_within', sa.String()),
        sa.column('resolve_within', sa.String()), sa.column('followup_within', sa.String()),
        sa.column('warn_percent', sa.Integer()), sa.column('calendar_id', sa.Integer()),
        sa.column('pause_states', json), sa.column('is_active', sa.Boolean()),
        sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('updated_at', sa.DateTime(timezone=True)),
    )
    steps = sa.table(
        'escalation_steps',
        sa.column('id', sa.Integer()), sa.column('policy_id', sa.Integer()),
        sa.column('clock', sa.String()), sa.column('trigger', sa.String()),
        sa.column('after_minutes', sa.Integer()), sa.column('actions', json),
    )
    stamps = {'created_at': now, 'updated_at': now}
    op.bulk_insert(calendars, [row | stamps for row in rows['business_calendars']])
    op.bulk_insert(days, rows['calendar_days'])
    op.bulk_insert(policies, [row | stamps for row in rows['deadline_policies']])
    op.bulk_insert(steps, rows['escalation_steps'])
    if op.get_bind().dialect.name == 'postgresql':
        # The rows were inserted with explicit ids: move the sequences past them.
        for table in ('business_calendars', 'deadline_policies', 'escalation_steps'):
            op.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )


def downgrade():
    with op.batch_alter_table('work_orders', schema=None) as batch_op:
        batch_op.drop_column('severity')

    with op.batch_alter_table('escalation_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_records_work_order_id'))

    op.drop_table('escalation_records')
    with op.batch_alter_table('clock_pauses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clock_pauses_clock_id'))

    op.drop_table('clock_pauses')
    with op.batch_alter_table('work_order_owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_order_owners_user_id'))
        batch_op.drop_index('ix_work_order_owners_order')

    op.drop_table('work_order_owners')
    with op.batch_alter_table('deadline_clocks', schema=None) as batch_op:
        batch_op.drop_index('ux_deadline_clocks_running', postgresql_where=sa.text('stopped_at IS NULL'), sqlite_where=sa.text('stopped_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_deadline_clocks_work_order_id'))
        batch_op.drop_index(batch_op.f('ix_deadline_clocks_warn_at'))
        batch_op.drop_index('ix_deadline_clocks_next_check_at', postgresql_where=sa.text('next_check_at IS NOT NULL'), sqlite_where=sa.text('next_check_at IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_deadline_clocks_due_at'))

    op.drop_table('deadline_clocks')
    op.drop_table('escalation_steps')
    op.drop_table('deadline_policies')
    op.drop_table('calendar_days')
    op.drop_table('business_calendars')
