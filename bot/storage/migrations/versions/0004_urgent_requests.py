"""urgent requests: the resident asked for priority because the answer would come too late

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(
            sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("urgent")
