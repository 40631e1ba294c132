"""technician photo

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 19:45:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('technician_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_key', sa.String(length=200), nullable=True))


def downgrade():
    # Never copy the table on SQLite: with foreign keys on, batch mode's DROP TABLE of the
    # old copy cascades into technician_skills, certifications, working_hours and
    # technician_availability and empties them. SQLite 3.35+ drops a plain column in place.
    with op.batch_alter_table('technician_profiles', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('photo_key')
