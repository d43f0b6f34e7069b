"""decisions (step 3) and application outcomes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 22:10:21.181781
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.tenancy import disable_tenant_rls, enable_tenant_rls

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "decision",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "open_questions", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
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
            "decision IN ('want', 'unsure', 'withdraw')", name=op.f("ck_decision_decision")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "application_id"],
            ["application.agency_id", "application.id"],
            name=op.f("fk_decision_agency_id_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_decision_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_decision")),
        sa.UniqueConstraint(
            "agency_id", "application_id", name=op.f("uq_decision_agency_id_application_id")
        ),
    )
    op.add_column("application", sa.Column("outcome_note", sa.Text(), nullable=True))
    op.add_column("application", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    enable_tenant_rls("decision")


def downgrade() -> None:
    disable_tenant_rls("decision")
    op.drop_column("application", "closed_at")
    op.drop_column("application", "outcome_note")
    op.drop_table("decision")
