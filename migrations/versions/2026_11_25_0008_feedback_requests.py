"""feedback requests (step 6)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 22:41:11.706304
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import disable_tenant_rls, enable_tenant_rls

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_request",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chases_sent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_chase_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.String(length=20), nullable=True),
        sa.Column("strengths", sa.Text(), nullable=True),
        sa.Column("gaps", sa.Text(), nullable=True),
        sa.Column("advice", sa.Text(), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("debrief_call", sa.Boolean(), nullable=True),
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
            "state IN ('requested', 'chased', 'received', 'released', 'expired')",
            name=op.f("ck_feedback_request_state"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "application_id"],
            ["application.agency_id", "application.id"],
            name=op.f("fk_feedback_request_agency_id_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "contact_id"],
            ["client_contact.agency_id", "client_contact.id"],
            name=op.f("fk_feedback_request_agency_id_contact_id_client_contact"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_feedback_request_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_feedback_request")),
        sa.UniqueConstraint(
            "agency_id", "application_id", name=op.f("uq_feedback_request_agency_id_application_id")
        ),
    )
    op.create_index(
        op.f("ix_feedback_request_agency_id_state_next_chase_at"),
        "feedback_request",
        ["agency_id", "state", "next_chase_at"],
        unique=False,
    )
    enable_tenant_rls("feedback_request")


def downgrade() -> None:
    disable_tenant_rls("feedback_request")
    op.drop_index(
        op.f("ix_feedback_request_agency_id_state_next_chase_at"), table_name="feedback_request"
    )
    op.drop_table("feedback_request")
