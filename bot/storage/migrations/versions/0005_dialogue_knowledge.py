"""dialogue knowledge admins edit (these were tables in the code): the confidence thresholds
the conversation acts on, and what the bot answers to each conversation intent

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
    op.create_table(
        "dialogue_replies",
        sa.Column("intent", sa.String(length=120), primary_key=True),
        sa.Column("text_key", sa.String(length=120), nullable=False),
        sa.Column("need_buttons", sa.String(length=20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dialogue_replies")
    op.drop_table("dialogue_thresholds")
