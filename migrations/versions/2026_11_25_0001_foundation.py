"""foundation: agencies, users, API keys, audit entries; row-level security

Revision ID: 0001
Revises:
Create Date: 2026-11-25 20:59:18.584601
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.tenancy import CURRENT_AGENCY_FUNCTION, disable_tenant_rls, enable_tenant_rls

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("app_user", "api_key", "audit_entry")

LOGIN_CANDIDATES_FUNCTION = """
CREATE FUNCTION login_candidates(login_email text)
RETURNS TABLE (agency_id uuid, user_id uuid, password_hash text, active boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT u.agency_id, u.id, u.password_hash, u.active
    FROM app_user u WHERE u.email = lower(login_email)
    ORDER BY u.agency_id LIMIT 10
$$
"""

AGENCY_COUNT_FUNCTION = """
CREATE FUNCTION agency_count() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ SELECT count(*) FROM agency $$
"""


def upgrade() -> None:
    op.execute(CURRENT_AGENCY_FUNCTION)
    op.create_table(
        "agency",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("debrief_due_hours", sa.Integer(), server_default="24", nullable=False),
        sa.Column("follow_up_window_hours", sa.Integer(), server_default="24", nullable=False),
        sa.Column("follow_up_max_words", sa.Integer(), server_default="150", nullable=False),
        sa.Column("feedback_chase_after_days", sa.Integer(), server_default="5", nullable=False),
        sa.Column("feedback_max_chases", sa.Integer(), server_default="3", nullable=False),
        sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=True),
        sa.Column("sender_email", sa.String(length=320), nullable=True),
        sa.Column("retention_days", sa.Integer(), server_default="730", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
            "debrief_due_hours BETWEEN 1 AND 720", name=op.f("ck_agency_debrief_due_hours")
        ),
        sa.CheckConstraint(
            "feedback_chase_after_days BETWEEN 1 AND 90",
            name=op.f("ck_agency_feedback_chase_after_days"),
        ),
        sa.CheckConstraint(
            "feedback_max_chases BETWEEN 0 AND 20", name=op.f("ck_agency_feedback_max_chases")
        ),
        sa.CheckConstraint(
            "follow_up_max_words BETWEEN 10 AND 2000", name=op.f("ck_agency_follow_up_max_words")
        ),
        sa.CheckConstraint(
            "follow_up_window_hours BETWEEN 1 AND 720",
            name=op.f("ck_agency_follow_up_window_hours"),
        ),
        sa.CheckConstraint(
            "retention_days BETWEEN 30 AND 3650", name=op.f("ck_agency_retention_days")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agency")),
    )
    op.create_table(
        "app_user",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
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
        sa.CheckConstraint("role IN ('admin', 'consultant')", name=op.f("ck_app_user_role")),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_app_user_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("agency_id", "email", name=op.f("uq_app_user_agency_id_email")),
    )
    op.create_table(
        "api_key",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("scopes", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.ForeignKeyConstraint(
            ["agency_id", "created_by_id"],
            ["app_user.agency_id", "app_user.id"],
            name=op.f("fk_api_key_agency_id_created_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_api_key_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("agency_id", "key_hash", name=op.f("uq_api_key_agency_id_key_hash")),
    )
    op.create_table(
        "audit_entry",
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("api_key_id", sa.Uuid(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id", "api_key_id"],
            ["api_key.agency_id", "api_key.id"],
            name=op.f("fk_audit_entry_agency_id_api_key_id_api_key"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "user_id"],
            ["app_user.agency_id", "app_user.id"],
            name=op.f("fk_audit_entry_agency_id_user_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_audit_entry_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_audit_entry")),
    )
    op.create_index(
        op.f("ix_audit_entry_agency_id_occurred_at_id"),
        "audit_entry",
        ["agency_id", "occurred_at", "id"],
        unique=False,
    )
    enable_tenant_rls("agency", column="id")
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    # Narrow doors through the walls, owned by the owner role (SECURITY DEFINER):
    # the owner may read agencies and users, and only through these functions does the runtime
    # role learn which agency a login or an empty database belongs to.
    op.execute("CREATE POLICY owner_read ON agency FOR SELECT TO CURRENT_USER USING (true)")
    op.execute("CREATE POLICY owner_read ON app_user FOR SELECT TO CURRENT_USER USING (true)")
    op.execute(LOGIN_CANDIDATES_FUNCTION)
    op.execute(AGENCY_COUNT_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION agency_count()")
    op.execute("DROP FUNCTION login_candidates(text)")
    op.execute("DROP POLICY owner_read ON app_user")
    op.execute("DROP POLICY owner_read ON agency")
    for table in ("agency", *TENANT_TABLES):
        disable_tenant_rls(table)
    op.drop_index(op.f("ix_audit_entry_agency_id_occurred_at_id"), table_name="audit_entry")
    op.drop_table("audit_entry")
    op.drop_table("api_key")
    op.drop_table("app_user")
    op.drop_table("agency")
    op.execute("DROP FUNCTION app_current_agency()")
