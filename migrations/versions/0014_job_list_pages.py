"""job list pages: the phone's first page of GET /jobs, kept while its ETag holds

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:40:00

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_list_pages",
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["users.id"],
            name=op.f("fk_job_list_pages_technician_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("technician_id", "scope", name=op.f("pk_job_list_pages")),
    )


def downgrade():
    op.drop_table("job_list_pages")
