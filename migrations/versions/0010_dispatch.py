"""dispatch: policies per category, offers, technician positions

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 17:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dispatch_policies',
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.Enum('off', 'suggest', 'assign', name='autoassignmode', native_enum=False, length=10), nullable=False),
    sa.Column('acceptance_minutes', sa.Integer(), nullable=False),
    sa.Column('required_certifications', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_dispatch_policies_category_id_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('category_id', name=op.f('pk_dispatch_policies'))
    )
    op.create_table('dispatch_offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('work_order_id', sa.Integer(), nullable=False),
    sa.Column('technician_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('offered', 'accepted', 'declined', 'expired', 'withdrawn', name='offerstatus', native_enum=False, length=12), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['technician_id'], ['users.id'], name=op.f('fk_dispatch_offers_technician_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_orders.id'], name=op.f('fk_dispatch_offers_work_order_id_work_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_offers'))
    )
    op.create_index('ix_dispatch_offers_status_expires', 'dispatch_offers', ['status', 'expires_at'], unique=False)
    op.create_index(op.f('ix_dispatch_offers_work_order_id'), 'dispatch_offers', ['work_order_id'], unique=False)
    op.create_table('technician_positions',
    sa.Column('technician_id', sa.Integer(), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=False),
    sa.Column('longitude', sa.Double(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['technician_id'], ['technician_profiles.user_id'], name=op.f('fk_technician_positions_technician_id_technician_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('technician_id', name=op.f('pk_technician_positions'))
    )


def downgrade():
    op.drop_table('technician_positions')
    op.drop_index(op.f('ix_dispatch_offers_work_order_id'), table_name='dispatch_offers')
    op.drop_index('ix_dispatch_offers_status_expires', table_name='dispatch_offers')
    op.drop_table('dispatch_offers')
    op.drop_table('dispatch_policies')
