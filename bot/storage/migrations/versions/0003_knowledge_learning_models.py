"""knowledge in the database, the NLU inbox, trained models, the audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:50:38.742097
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_texts",
        sa.Column("group", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("nl", sa.Text(), nullable=False),
        sa.Column("en", sa.Text(), nullable=True),
        sa.Column("usage", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("group", "key"),
    )
    op.create_table(
        "intents",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("cv_f1", sa.Float(), nullable=True),
        sa.Column("cv_measured_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "needs",
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("intent", sa.String(length=120), nullable=False),
        sa.Column("label", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "nlu_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("running", sa.String(length=3), nullable=True),
        sa.Column("phase", sa.String(length=120), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("data_hash", sa.String(length=64), nullable=True),
        sa.Column("started_by", sa.String(length=120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("intent_f1", sa.Float(), nullable=True),
        sa.Column("entity_f1", sa.Float(), nullable=True),
        sa.Column("baseline_intent_f1", sa.Float(), nullable=True),
        sa.Column("intent_scores", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("running"),
    )
    op.create_index(op.f("ix_nlu_models_status"), "nlu_models", ["status"], unique=False)
    op.create_table(
        "nlu_resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("examples", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("subject_key", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_subject"), "audit_log", ["subject"], unique=False)
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_key", sa.String(length=20), nullable=True),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.JSON(), nullable=False),
        sa.Column("prompt", sa.JSON(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("optional", sa.Boolean(), nullable=False),
        sa.Column("validation", sa.JSON(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("from_entity", sa.String(length=40), nullable=True),
        sa.Column("entity_index", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["need_key"],
            ["needs.key"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("need_key", "key"),
    )
    op.create_index(op.f("ix_questions_need_key"), "questions", ["need_key"], unique=False)
    op.create_table(
        "training_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intent", sa.String(length=120), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["intent"],
            ["intents.name"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_training_examples_intent"), "training_examples", ["intent"], unique=False
    )
    op.create_table(
        "nlu_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("guessed_intent", sa.String(length=120), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("runner_up", sa.String(length=120), nullable=True),
        sa.Column("runner_up_confidence", sa.Float(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("resolved_intent", sa.String(length=120), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_nlu_inbox_created_at"), "nlu_inbox", ["created_at"], unique=False)
    op.create_index(op.f("ix_nlu_inbox_status"), "nlu_inbox", ["status"], unique=False)
    op.add_column(
        "departments",
        sa.Column("is_fallback", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("departments", "is_fallback")
    op.drop_index(op.f("ix_nlu_inbox_status"), table_name="nlu_inbox")
    op.drop_index(op.f("ix_nlu_inbox_created_at"), table_name="nlu_inbox")
    op.drop_table("nlu_inbox")
    op.drop_index(op.f("ix_training_examples_intent"), table_name="training_examples")
    op.drop_table("training_examples")
    op.drop_index(op.f("ix_questions_need_key"), table_name="questions")
    op.drop_table("questions")
    op.drop_index(op.f("ix_audit_log_subject"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("nlu_resources")
    op.drop_index(op.f("ix_nlu_models_status"), table_name="nlu_models")
    op.drop_table("nlu_models")
    op.drop_table("needs")
    op.drop_table("intents")
    op.drop_table("bot_texts")
