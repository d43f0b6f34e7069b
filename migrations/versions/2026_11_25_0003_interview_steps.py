"""interview steps: next steps, debriefs and their questions (the client question bank)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 22:04:32.839785
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.tenancy import disable_tenant_rls, enable_tenant_rls

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("next_steps", "debrief", "debrief_question")


def upgrade() -> None:
    op.create_table(
        "debrief",
        sa.Column("interview_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("went_well", sa.Text(), nullable=False),
        sa.Column("could_improve", sa.Text(), nullable=False),
        sa.Column(
            "links", postgresql.ARRAY(sa.String(length=2000)), server_default="{}", nullable=False
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["agency_id", "interview_id"],
            ["interview.agency_id", "interview.id"],
            name=op.f("fk_debrief_agency_id_interview_id_interview"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_debrief_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_debrief")),
        sa.UniqueConstraint(
            "agency_id", "interview_id", name=op.f("uq_debrief_agency_id_interview_id")
        ),
    )
    op.create_table(
        "next_steps",
        sa.Column("interview_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("decision_expected_by", sa.DateTime(timezone=True), nullable=False),
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
            "kind IN ('another_round', 'assessment', 'decision', 'offer_call', 'unknown')",
            name=op.f("ck_next_steps_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "interview_id"],
            ["interview.agency_id", "interview.id"],
            name=op.f("fk_next_steps_agency_id_interview_id_interview"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_next_steps_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_next_steps")),
        sa.UniqueConstraint(
            "agency_id", "interview_id", name=op.f("uq_next_steps_agency_id_interview_id")
        ),
    )
    op.create_index(
        op.f("ix_next_steps_agency_id_decision_expected_by"),
        "next_steps",
        ["agency_id", "decision_expected_by"],
        unique=False,
    )
    op.create_table(
        "debrief_question",
        sa.Column("debrief_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("vacancy_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("normalized_text", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=True),
        sa.Column("answer_quality", sa.String(length=10), nullable=False),
        sa.Column("half_answered", sa.Boolean(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "answer_quality IN ('strong', 'adequate', 'weak')",
            name=op.f("ck_debrief_question_answer_quality"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "client_id"],
            ["client.agency_id", "client.id"],
            name=op.f("fk_debrief_question_agency_id_client_id_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "debrief_id"],
            ["debrief.agency_id", "debrief.id"],
            name=op.f("fk_debrief_question_agency_id_debrief_id_debrief"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_debrief_question_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_debrief_question")),
    )
    op.create_index(
        op.f("ix_debrief_question_agency_id_client_id_normalized_text"),
        "debrief_question",
        ["agency_id", "client_id", "normalized_text"],
        unique=False,
    )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    op.drop_index(
        op.f("ix_debrief_question_agency_id_client_id_normalized_text"),
        table_name="debrief_question",
    )
    op.drop_table("debrief_question")
    op.drop_index(op.f("ix_next_steps_agency_id_decision_expected_by"), table_name="next_steps")
    op.drop_table("next_steps")
    op.drop_table("debrief")
