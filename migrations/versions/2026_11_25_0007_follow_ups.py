"""thank-you follow-ups, agency first (step 4)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 22:23:56.063416
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.tenancy import disable_tenant_rls, enable_tenant_rls

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follow_up",
        sa.Column("interview_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agency_thanked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agency_thanks_note", sa.Text(), nullable=True),
        sa.Column("direct_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("direct_request_reason", sa.Text(), nullable=True),
        sa.Column("direct_decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("direct_decided_by", sa.Uuid(), nullable=True),
        sa.Column("direct_decline_reason", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("route", sa.String(length=20), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column(
            "links", postgresql.ARRAY(sa.String(length=2000)), server_default="{}", nullable=False
        ),
        sa.Column("answers_question_id", sa.Uuid(), nullable=True),
        sa.Column("word_count", sa.Integer(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
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
            "state IN ('not_started', 'agency_thanked', 'direct_requested', 'direct_approved', 'direct_declined', 'sent', 'cancelled')",
            name=op.f("ck_follow_up_state"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "application_id"],
            ["application.agency_id", "application.id"],
            name=op.f("fk_follow_up_agency_id_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "interview_id"],
            ["interview.agency_id", "interview.id"],
            name=op.f("fk_follow_up_agency_id_interview_id_interview"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_follow_up_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_follow_up")),
        sa.UniqueConstraint(
            "agency_id", "interview_id", name=op.f("uq_follow_up_agency_id_interview_id")
        ),
    )
    op.create_index(
        op.f("ix_follow_up_agency_id_application_id"),
        "follow_up",
        ["agency_id", "application_id"],
        unique=False,
    )
    enable_tenant_rls("follow_up")


def downgrade() -> None:
    disable_tenant_rls("follow_up")
    op.drop_index(op.f("ix_follow_up_agency_id_application_id"), table_name="follow_up")
    op.drop_table("follow_up")
