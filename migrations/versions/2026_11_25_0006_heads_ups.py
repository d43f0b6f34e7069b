"""referee heads-ups (step 5)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 22:21:30.445834
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import disable_tenant_rls, enable_tenant_rls

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referee_heads_up",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("referee_id", sa.Uuid(), nullable=False),
        sa.Column("why_want_job", sa.Text(), nullable=False),
        sa.Column("key_points", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
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
            ["agency_id", "application_id"],
            ["application.agency_id", "application.id"],
            name=op.f("fk_referee_heads_up_agency_id_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "message_id"],
            ["message.agency_id", "message.id"],
            name=op.f("fk_referee_heads_up_agency_id_message_id_message"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "referee_id"],
            ["referee.agency_id", "referee.id"],
            name=op.f("fk_referee_heads_up_agency_id_referee_id_referee"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_referee_heads_up_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_referee_heads_up")),
    )
    op.create_index(
        "uq_referee_heads_up_agency_id_application_id_referee_id",
        "referee_heads_up",
        ["agency_id", "application_id", "referee_id"],
        unique=True,
    )
    enable_tenant_rls("referee_heads_up")


def downgrade() -> None:
    disable_tenant_rls("referee_heads_up")
    op.drop_index(
        "uq_referee_heads_up_agency_id_application_id_referee_id", table_name="referee_heads_up"
    )
    op.drop_table("referee_heads_up")
