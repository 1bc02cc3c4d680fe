"""outbox streams: what must arrive in order (a request's events to one department, the
messages to one chat), so a retried row is not overtaken by a newer one

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 18:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PENDING = "delivered_at IS NULL AND gave_up_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("stream", sa.String(length=160), nullable=True))
    # The same keys as bot.delivery.outbox gives new rows; the chat id was only in the payload.
    outbox = sa.table(
        "outbox",
        sa.column("kind", sa.String),
        sa.column("channel", sa.String),
        sa.column("request_id", sa.Integer),
        sa.column("department_key", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("stream", sa.String),
    )
    op.execute(
        outbox.update()
        .where(outbox.c.kind == "webhook")
        .values(
            stream="webhook:"
            + sa.cast(outbox.c.request_id, sa.String)
            + ":"
            + outbox.c.department_key
        )
    )
    op.execute(
        outbox.update()
        .where(outbox.c.kind == "resident")
        .values(
            stream="resident:" + outbox.c.channel + ":" + outbox.c.payload["chat_id"].as_string()
        )
    )
    op.create_index(
        "ix_outbox_pending_stream",
        "outbox",
        ["stream", "id"],
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_pending_stream", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("stream")
