"""hardening: login failures (to throttle guessing) and token revocation on a password change

`login_failure` is global, not a tenant table (a login comes before any agency is known), and
holds only digests of emails and addresses.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 21:27:54.650867
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    op.create_index(
        op.f("ix_login_failure_failed_at"), "login_failure", ["failed_at"], unique=False
    )
    op.create_index(
        op.f("ix_login_failure_scope_key_digest_failed_at"),
        "login_failure",
        ["scope", "key_digest", "failed_at"],
        unique=False,
    )
    op.add_column(
        "app_user", sa.Column("tokens_valid_after", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("app_user", "tokens_valid_after")
    op.drop_index(op.f("ix_login_failure_scope_key_digest_failed_at"), table_name="login_failure")
    op.drop_index(op.f("ix_login_failure_failed_at"), table_name="login_failure")
    op.drop_table("login_failure")
