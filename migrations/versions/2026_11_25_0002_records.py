"""records an ATS syncs: candidates, referees, clients, contacts, vacancies, applications,
interviews; the event log and idempotency keys; row-level security on all of them

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 21:26:17.586251
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.tenancy import disable_tenant_rls, enable_tenant_rls

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "client",
    "idempotency_key",
    "candidate",
    "client_contact",
    "event",
    "referee",
    "vacancy",
    "application",
    "interview",
    "interview_interviewer",
)


def upgrade() -> None:
    op.create_table(
        "client",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
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
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_client_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_client")),
    )
    op.create_index(
        op.f("ix_client_agency_id_updated_at_id"),
        "client",
        ["agency_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "uq_client_agency_id_external_id",
        "client",
        ["agency_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "idempotency_key",
        sa.Column("credential", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("request_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "response_headers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_idempotency_key_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_idempotency_key")),
    )
    op.create_index(
        op.f("ix_idempotency_key_agency_id_expires_at"),
        "idempotency_key",
        ["agency_id", "expires_at"],
        unique=False,
    )
    op.create_index(
        "uq_idempotency_key_agency_id_credential_key",
        "idempotency_key",
        ["agency_id", "credential", "key"],
        unique=True,
    )
    op.create_table(
        "candidate",
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("contact_consent", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
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
            ["agency_id", "owner_id"],
            ["app_user.agency_id", "app_user.id"],
            name=op.f("fk_candidate_agency_id_owner_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_candidate_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_candidate")),
    )
    op.create_index(
        op.f("ix_candidate_agency_id_email"), "candidate", ["agency_id", "email"], unique=False
    )
    op.create_index(
        op.f("ix_candidate_agency_id_updated_at_id"),
        "candidate",
        ["agency_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "uq_candidate_agency_id_external_id",
        "candidate",
        ["agency_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "client_contact",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
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
            ["agency_id", "client_id"],
            ["client.agency_id", "client.id"],
            name=op.f("fk_client_contact_agency_id_client_id_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_client_contact_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_client_contact")),
    )
    op.create_index(
        op.f("ix_client_contact_agency_id_client_id"),
        "client_contact",
        ["agency_id", "client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_client_contact_agency_id_updated_at_id"),
        "client_contact",
        ["agency_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "uq_client_contact_agency_id_external_id",
        "client_contact",
        ["agency_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "event",
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("api_key_id", sa.Uuid(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "txid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
        ),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id", "api_key_id"],
            ["api_key.agency_id", "api_key.id"],
            name=op.f("fk_event_agency_id_api_key_id_api_key"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "user_id"],
            ["app_user.agency_id", "app_user.id"],
            name=op.f("fk_event_agency_id_user_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_event_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_event")),
    )
    op.create_index(
        op.f("ix_event_agency_id_application_id_occurred_at"),
        "event",
        ["agency_id", "application_id", "occurred_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_event_agency_id_object_id"), "event", ["agency_id", "object_id"], unique=False
    )
    op.create_index(
        op.f("ix_event_agency_id_txid_id"), "event", ["agency_id", "txid", "id"], unique=False
    )
    op.create_table(
        "referee",
        sa.Column("candidate_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("relationship", sa.String(length=200), nullable=False),
        sa.Column("consent_to_contact", sa.Boolean(), server_default="false", nullable=False),
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
            ["agency_id", "candidate_id"],
            ["candidate.agency_id", "candidate.id"],
            name=op.f("fk_referee_agency_id_candidate_id_candidate"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_referee_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_referee")),
    )
    op.create_index(
        op.f("ix_referee_agency_id_candidate_id"),
        "referee",
        ["agency_id", "candidate_id"],
        unique=False,
    )
    op.create_table(
        "vacancy",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("hiring_contact_id", sa.Uuid(), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
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
            ["agency_id", "client_id"],
            ["client.agency_id", "client.id"],
            name=op.f("fk_vacancy_agency_id_client_id_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "hiring_contact_id"],
            ["client_contact.agency_id", "client_contact.id"],
            name=op.f("fk_vacancy_agency_id_hiring_contact_id_client_contact"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_vacancy_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_vacancy")),
    )
    op.create_index(
        op.f("ix_vacancy_agency_id_client_id"), "vacancy", ["agency_id", "client_id"], unique=False
    )
    op.create_index(
        op.f("ix_vacancy_agency_id_updated_at_id"),
        "vacancy",
        ["agency_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "uq_vacancy_agency_id_external_id",
        "vacancy",
        ["agency_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "application",
        sa.Column("candidate_id", sa.Uuid(), nullable=False),
        sa.Column("vacancy_id", sa.Uuid(), nullable=False),
        sa.Column("consultant_id", sa.Uuid(), nullable=True),
        sa.Column(
            "offer_likelihood", sa.String(length=20), server_default="unknown", nullable=False
        ),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
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
            "offer_likelihood IN ('unknown', 'low', 'medium', 'high')",
            name=op.f("ck_application_offer_likelihood"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'offer', 'placed', 'unsuccessful', 'withdrawn')",
            name=op.f("ck_application_status"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "candidate_id"],
            ["candidate.agency_id", "candidate.id"],
            name=op.f("fk_application_agency_id_candidate_id_candidate"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "consultant_id"],
            ["app_user.agency_id", "app_user.id"],
            name=op.f("fk_application_agency_id_consultant_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "vacancy_id"],
            ["vacancy.agency_id", "vacancy.id"],
            name=op.f("fk_application_agency_id_vacancy_id_vacancy"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_application_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_application")),
    )
    op.create_index(
        op.f("ix_application_agency_id_consultant_id_status"),
        "application",
        ["agency_id", "consultant_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_application_agency_id_updated_at_id"),
        "application",
        ["agency_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_application_agency_id_vacancy_id"),
        "application",
        ["agency_id", "vacancy_id"],
        unique=False,
    )
    op.create_index(
        "uq_application_agency_id_candidate_id_vacancy_id",
        "application",
        ["agency_id", "candidate_id", "vacancy_id"],
        unique=True,
    )
    op.create_index(
        "uq_application_agency_id_external_id",
        "application",
        ["agency_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "interview",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("round", sa.Integer(), nullable=True),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="scheduled", nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
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
            "format IN ('in_person', 'video', 'phone')", name=op.f("ck_interview_format")
        ),
        sa.CheckConstraint(
            "status IN ('scheduled', 'cancelled')", name=op.f("ck_interview_status")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_interview_ends_after_start")),
        sa.CheckConstraint("round IS NULL OR round >= 1", name=op.f("ck_interview_round_positive")),
        sa.ForeignKeyConstraint(
            ["agency_id", "application_id"],
            ["application.agency_id", "application.id"],
            name=op.f("fk_interview_agency_id_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_interview_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_interview")),
    )
    op.create_index(
        op.f("ix_interview_agency_id_application_id_starts_at"),
        "interview",
        ["agency_id", "application_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_interview_agency_id_starts_at"),
        "interview",
        ["agency_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_interview_agency_id_updated_at_id"),
        "interview",
        ["agency_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "uq_interview_agency_id_external_id",
        "interview",
        ["agency_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "interview_interviewer",
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("interview_id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id", "contact_id"],
            ["client_contact.agency_id", "client_contact.id"],
            name=op.f("fk_interview_interviewer_agency_id_contact_id_client_contact"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "interview_id"],
            ["interview.agency_id", "interview.id"],
            name=op.f("fk_interview_interviewer_agency_id_interview_id_interview"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "agency_id", "interview_id", "contact_id", name=op.f("pk_interview_interviewer")
        ),
    )
    op.create_index(
        op.f("ix_interview_interviewer_agency_id_contact_id"),
        "interview_interviewer",
        ["agency_id", "contact_id"],
        unique=False,
    )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    op.drop_index(
        op.f("ix_interview_interviewer_agency_id_contact_id"), table_name="interview_interviewer"
    )
    op.drop_table("interview_interviewer")
    op.drop_index(
        "uq_interview_agency_id_external_id",
        table_name="interview",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_interview_agency_id_updated_at_id"), table_name="interview")
    op.drop_index(op.f("ix_interview_agency_id_starts_at"), table_name="interview")
    op.drop_index(op.f("ix_interview_agency_id_application_id_starts_at"), table_name="interview")
    op.drop_table("interview")
    op.drop_index(
        "uq_application_agency_id_external_id",
        table_name="application",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index("uq_application_agency_id_candidate_id_vacancy_id", table_name="application")
    op.drop_index(op.f("ix_application_agency_id_vacancy_id"), table_name="application")
    op.drop_index(op.f("ix_application_agency_id_updated_at_id"), table_name="application")
    op.drop_index(op.f("ix_application_agency_id_consultant_id_status"), table_name="application")
    op.drop_table("application")
    op.drop_index(
        "uq_vacancy_agency_id_external_id",
        table_name="vacancy",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_vacancy_agency_id_updated_at_id"), table_name="vacancy")
    op.drop_index(op.f("ix_vacancy_agency_id_client_id"), table_name="vacancy")
    op.drop_table("vacancy")
    op.drop_index(op.f("ix_referee_agency_id_candidate_id"), table_name="referee")
    op.drop_table("referee")
    op.drop_index(op.f("ix_event_agency_id_txid_id"), table_name="event")
    op.drop_index(op.f("ix_event_agency_id_object_id"), table_name="event")
    op.drop_index(op.f("ix_event_agency_id_application_id_occurred_at"), table_name="event")
    op.drop_table("event")
    op.drop_index(
        "uq_client_contact_agency_id_external_id",
        table_name="client_contact",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_client_contact_agency_id_updated_at_id"), table_name="client_contact")
    op.drop_index(op.f("ix_client_contact_agency_id_client_id"), table_name="client_contact")
    op.drop_table("client_contact")
    op.drop_index(
        "uq_candidate_agency_id_external_id",
        table_name="candidate",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_candidate_agency_id_updated_at_id"), table_name="candidate")
    op.drop_index(op.f("ix_candidate_agency_id_email"), table_name="candidate")
    op.drop_table("candidate")
    op.drop_index("uq_idempotency_key_agency_id_credential_key", table_name="idempotency_key")
    op.drop_index(op.f("ix_idempotency_key_agency_id_expires_at"), table_name="idempotency_key")
    op.drop_table("idempotency_key")
    op.drop_index(
        "uq_client_agency_id_external_id",
        table_name="client",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_client_agency_id_updated_at_id"), table_name="client")
    op.drop_table("client")
