"""removed users: `DELETE /v1/users/{id}` removes (not only suspends) a user

The email stays unique among the users not removed, so it can be given to a new user. A
downgrade fails if that happened (two users of one agency would share an email).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 23:56:51.522428
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint(op.f("uq_app_user_agency_id_email"), "app_user", type_="unique")
    op.create_index(
        "uq_app_user_agency_id_email",
        "app_user",
        ["agency_id", "email"],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_app_user_agency_id_email",
        table_name="app_user",
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_unique_constraint(
        op.f("uq_app_user_agency_id_email"),
        "app_user",
        ["agency_id", "email"],
        postgresql_nulls_not_distinct=False,
    )
    op.drop_column("app_user", "removed_at")
