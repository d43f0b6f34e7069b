"""outbox: queued messages and per-agency message templates

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 22:07:58.474335
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.tenancy import disable_tenant_rls, enable_tenant_rls

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("message", "message_template")


def upgrade() -> None:
    op.create_table(
        "message",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="queued", nullable=False),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("recipient_type", sa.String(length=20), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("to_name", sa.String(length=200), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column(
            "related", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('withdrawal_note', 'follow_up_direct', 'follow_up_via_agency', 'referee_heads_up', 'feedback_request', 'feedback_chase', 'feedback_release')",
            name=op.f("ck_message_kind"),
        ),
        sa.CheckConstraint(
            "recipient_type IN ('candidate', 'referee', 'contact', 'user')",
            name=op.f("ck_message_recipient_type"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'failed', 'cancelled')", name=op.f("ck_message_status")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_message_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_message")),
        sa.UniqueConstraint(
            "agency_id", "dedupe_key", name=op.f("uq_message_agency_id_dedupe_key")
        ),
    )
    op.create_index(
        op.f("ix_message_agency_id_application_id_created_at"),
        "message",
        ["agency_id", "application_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_message_agency_id_created_at_id"),
        "message",
        ["agency_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_message_agency_id_status_next_attempt_at"),
        "message",
        ["agency_id", "status", "next_attempt_at"],
        unique=False,
    )
    op.create_table(
        "message_template",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "kind IN ('withdrawal_note', 'follow_up_direct', 'follow_up_via_agency', 'referee_heads_up', 'feedback_request', 'feedback_chase', 'feedback_release')",
            name=op.f("ck_message_template_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_message_template_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_message_template")),
        sa.UniqueConstraint("agency_id", "kind", name=op.f("uq_message_template_agency_id_kind")),
    )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    op.drop_table("message_template")
    op.drop_index(op.f("ix_message_agency_id_status_next_attempt_at"), table_name="message")
    op.drop_index(op.f("ix_message_agency_id_created_at_id"), table_name="message")
    op.drop_index(op.f("ix_message_agency_id_application_id_created_at"), table_name="message")
    op.drop_table("message")
