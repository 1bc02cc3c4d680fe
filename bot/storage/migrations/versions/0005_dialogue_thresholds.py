"""dialogue thresholds: how sure the model must be before the conversation acts on it, kept
as knowledge admins edit (they were constants in the code)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 18:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dialogue_thresholds",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("usage", sa.Text(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("dialogue_thresholds")
