"""candidate links: the candidate's signed link to debrief, decide and thank

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 09:00:00

`candidate_link` holds an interview's one live link (tenant-owned, row-level security like
every tenant table). Agencies turn the worker's emails on with `candidate_links` and set the
links' life with `candidate_link_days`. A debrief says who wrote it (`author`), an event who
acted through a link (`via_link`). The worker finds agencies with links to send through
`agencies_with_candidate_links_due`, SECURITY DEFINER, ids only, like its other doors.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import (
    create_definer_functions,
    create_worker_policies,
    disable_tenant_rls,
    drop_functions,
    drop_worker_policies,
    enable_tenant_rls,
)

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = (
    "withdrawal_note",
    "follow_up_direct",
    "follow_up_via_agency",
    "referee_heads_up",
    "feedback_request",
    "feedback_chase",
    "feedback_release",
    "daily_digest",
    "webhook_disabled",
)
NEW_KINDS = (*OLD_KINDS, "candidate_link")

# An interview that ended within the agency's link life, held (not cancelled), of an open
# application whose candidate agreed to be contacted, with no link yet.
AGENCIES_WITH_CANDIDATE_LINKS_DUE = """
CREATE FUNCTION agencies_with_candidate_links_due(at timestamptz)
RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT a.id FROM agency a
    WHERE a.candidate_links AND EXISTS (
        SELECT 1 FROM interview i
        JOIN application ap ON ap.agency_id = i.agency_id AND ap.id = i.application_id
        JOIN candidate c ON c.agency_id = ap.agency_id AND c.id = ap.candidate_id
        WHERE i.agency_id = a.id
          AND i.status = 'scheduled'
          AND i.ends_at <= at
          AND i.ends_at > at - make_interval(days => a.candidate_link_days)
          AND ap.status NOT IN ('withdrawn', 'unsuccessful', 'placed')
          AND c.contact_consent
          AND NOT EXISTS (
              SELECT 1 FROM candidate_link l
              WHERE l.agency_id = i.agency_id AND l.interview_id = i.id))
$$
"""
FUNCTIONS = {"agencies_with_candidate_links_due(timestamptz)": AGENCIES_WITH_CANDIDATE_LINKS_DUE}
WORKER_POLICIES = (
    ("interview", "SELECT"),
    ("application", "SELECT"),
    ("candidate", "SELECT"),
    ("candidate_link", "SELECT"),
)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _message_kinds(kinds: Sequence[str]) -> None:
    for table in ("message", "message_template"):
        op.drop_constraint(op.f(f"ck_{table}_kind"), table)
        op.create_check_constraint(op.f(f"ck_{table}_kind"), table, _in("kind", kinds))


def upgrade() -> None:
    op.create_table(
        "candidate_link",
        sa.Column("interview_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("generation", sa.Integer(), server_default="1", nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issued_by", sa.Uuid(), nullable=True),
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
            name=op.f("fk_candidate_link_agency_id_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "interview_id"],
            ["interview.agency_id", "interview.id"],
            name=op.f("fk_candidate_link_agency_id_interview_id_interview"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "issued_by"],
            ["app_user.agency_id", "app_user.id"],
            name=op.f("fk_candidate_link_agency_id_issued_by_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_candidate_link_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_candidate_link")),
        sa.UniqueConstraint(
            "agency_id", "interview_id", name=op.f("uq_candidate_link_agency_id_interview_id")
        ),
    )
    op.create_index(
        op.f("ix_candidate_link_agency_id_application_id"),
        "candidate_link",
        ["agency_id", "application_id"],
    )
    enable_tenant_rls("candidate_link")
    op.create_index(op.f("ix_interview_agency_id_ends_at"), "interview", ["agency_id", "ends_at"])
    op.add_column(
        "agency", sa.Column("candidate_links", sa.Boolean(), server_default="false", nullable=False)
    )
    op.add_column(
        "agency",
        sa.Column("candidate_link_days", sa.Integer(), server_default="3", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_agency_candidate_link_days"), "agency", "candidate_link_days BETWEEN 1 AND 30"
    )
    op.add_column(
        "debrief",
        sa.Column("author", sa.String(length=20), server_default="consultant", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_debrief_author"), "debrief", "author IN ('consultant', 'candidate')"
    )
    op.add_column("event", sa.Column("via_link", sa.String(length=20), nullable=True))
    op.create_check_constraint(
        op.f("ck_event_via_link"), "event", "via_link IN ('candidate', 'client')"
    )
    _message_kinds(NEW_KINDS)
    create_worker_policies(WORKER_POLICIES)
    create_definer_functions(FUNCTIONS)


def downgrade() -> None:
    drop_functions(FUNCTIONS)
    drop_worker_policies(WORKER_POLICIES)
    for table in ("message", "message_template"):
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"DELETE FROM {table} WHERE kind = 'candidate_link'")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    _message_kinds(OLD_KINDS)
    op.drop_constraint(op.f("ck_event_via_link"), "event")
    op.drop_column("event", "via_link")
    op.drop_constraint(op.f("ck_debrief_author"), "debrief")
    op.drop_column("debrief", "author")
    op.drop_constraint(op.f("ck_agency_candidate_link_days"), "agency")
    op.drop_column("agency", "candidate_link_days")
    op.drop_column("agency", "candidate_links")
    op.drop_index(op.f("ix_interview_agency_id_ends_at"), table_name="interview")
    disable_tenant_rls("candidate_link")
    op.drop_index(op.f("ix_candidate_link_agency_id_application_id"), table_name="candidate_link")
    op.drop_table("candidate_link")
