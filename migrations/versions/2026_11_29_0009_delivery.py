"""delivery: message leases and Message-IDs, the daily digest, and the worker's narrow doors

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 20:00:00

The worker finds due work across all agencies without bypassing row-level security: each
function below is SECURITY DEFINER (it runs as the owner), returns ids only, and is the one
place the owner's own policies (`worker_*`) let it see past the tenant setting. The worker then
reads and changes each row in a transaction scoped to that row's agency, like any request.
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

revision: str = "0009"
down_revision: str | None = "0008"
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
)
NEW_KINDS = (*OLD_KINDS, "daily_digest")
OLD_STATUSES = ("queued", "sent", "failed", "cancelled")
NEW_STATUSES = ("queued", "sending", "sent", "failed", "cancelled")

CLAIM_MESSAGES = """
CREATE FUNCTION claim_messages(at timestamptz, batch integer, lease_seconds integer)
RETURNS TABLE (agency_id uuid, id uuid, lease_token uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    WITH queued AS (
        SELECT m.agency_id, m.id FROM message m
        WHERE m.status = 'queued' AND m.next_attempt_at <= at
        ORDER BY m.next_attempt_at LIMIT batch FOR UPDATE SKIP LOCKED
    ), lease_lost AS (
        SELECT m.agency_id, m.id FROM message m
        WHERE m.status = 'sending' AND m.lease_until <= at
        ORDER BY m.lease_until LIMIT batch FOR UPDATE SKIP LOCKED
    ), due AS (
        SELECT * FROM queued UNION ALL SELECT * FROM lease_lost
    ), claim AS (SELECT gen_random_uuid() AS token)
    UPDATE message m
    SET status = 'sending',
        lease_until = at + make_interval(secs => lease_seconds),
        lease_token = claim.token,
        attempts = m.attempts + 1,
        updated_at = greatest(m.updated_at, at)
    FROM due, claim
    WHERE m.agency_id = due.agency_id AND m.id = due.id
    RETURNING m.agency_id, m.id, m.lease_token
$$
"""

AGENCIES_WITH_FEEDBACK_DUE = """
CREATE FUNCTION agencies_with_feedback_due(at timestamptz)
RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT agency_id FROM feedback_request
    WHERE state IN ('requested', 'chased') AND next_chase_at <= at
    UNION
    SELECT agency_id FROM feedback_request
    WHERE state IN ('requested', 'chased') AND expires_at <= at
$$
"""

AGENCIES_DUE_FOR_DIGEST = """
CREATE FUNCTION agencies_due_for_digest(at timestamptz, local_hour integer)
RETURNS TABLE (agency_id uuid, local_date text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT a.id, to_char(l.local_time, 'YYYY-MM-DD')
    FROM agency a CROSS JOIN LATERAL (SELECT at AT TIME ZONE a.timezone AS local_time) l
    WHERE extract(hour FROM l.local_time) >= local_hour
      AND NOT EXISTS (
          SELECT 1 FROM scheduled_run r
          WHERE r.agency_id = a.id AND r.job = 'daily_digest'
            AND r.period = to_char(l.local_time, 'YYYY-MM-DD'))
$$
"""

SWEEP_IDEMPOTENCY_KEYS = """
CREATE FUNCTION sweep_idempotency_keys(at timestamptz, max_rows integer)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    WITH gone AS (
        DELETE FROM idempotency_key k
        USING (SELECT agency_id, id FROM idempotency_key WHERE expires_at <= at
               ORDER BY expires_at LIMIT max_rows) old
        WHERE k.agency_id = old.agency_id AND k.id = old.id
        RETURNING 1)
    SELECT count(*) FROM gone
$$
"""

SWEEP_SCHEDULED_RUNS = """
CREATE FUNCTION sweep_scheduled_runs(before timestamptz, max_rows integer)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    WITH gone AS (
        DELETE FROM scheduled_run r
        USING (SELECT agency_id, id FROM scheduled_run WHERE ran_at < before
               LIMIT max_rows) old
        WHERE r.agency_id = old.agency_id AND r.id = old.id
        RETURNING 1)
    SELECT count(*) FROM gone
$$
"""

FUNCTIONS = {
    "claim_messages(timestamptz, integer, integer)": CLAIM_MESSAGES,
    "agencies_with_feedback_due(timestamptz)": AGENCIES_WITH_FEEDBACK_DUE,
    "agencies_due_for_digest(timestamptz, integer)": AGENCIES_DUE_FOR_DIGEST,
    "sweep_idempotency_keys(timestamptz, integer)": SWEEP_IDEMPOTENCY_KEYS,
    "sweep_scheduled_runs(timestamptz, integer)": SWEEP_SCHEDULED_RUNS,
}

# The owner's own policies: what the functions above may see and change across agencies.
WORKER_POLICIES = (
    ("message", "SELECT"),
    ("message", "UPDATE"),
    ("feedback_request", "SELECT"),
    ("scheduled_run", "SELECT"),
    ("scheduled_run", "DELETE"),
    ("idempotency_key", "SELECT"),
    ("idempotency_key", "DELETE"),
)

NOTIFY_OUTBOX = """
CREATE FUNCTION notify_outbox() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('afterview_outbox', '');
    RETURN NULL;
END
$$
"""


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _as_owner_of_all_rows(table: str, *statements: str) -> None:
    """Run data fixes on every agency's rows: RLS binds the owner too, so lift FORCE for them
    (inside the migration's transaction, so no other session ever sees it lifted)."""
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    for statement in statements:
        op.execute(statement)
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def upgrade() -> None:
    op.add_column("message", sa.Column("message_id_header", sa.String(length=255)))
    _as_owner_of_all_rows(
        "message", "UPDATE message SET message_id_header = '<' || id || '@mail.afterview.dev>'"
    )
    op.alter_column("message", "message_id_header", nullable=False)
    op.add_column("message", sa.Column("reply_to_address", sa.String(length=320)))
    op.add_column("message", sa.Column("reply_to_name", sa.String(length=200)))
    op.add_column("message", sa.Column("lease_until", sa.DateTime(timezone=True)))
    op.add_column("message", sa.Column("lease_token", sa.Uuid()))
    for table, column, values in (
        ("message", "status", NEW_STATUSES),
        ("message", "kind", NEW_KINDS),
        ("message_template", "kind", NEW_KINDS),
    ):
        op.drop_constraint(op.f(f"ck_{table}_{column}"), table)
        op.create_check_constraint(op.f(f"ck_{table}_{column}"), table, _in(column, values))
    op.create_index(
        "ix_message_due",
        "message",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index(
        "ix_message_leased",
        "message",
        ["lease_until"],
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.create_index(
        "ix_feedback_request_open_chase",
        "feedback_request",
        ["next_chase_at"],
        postgresql_where=sa.text("state IN ('requested', 'chased')"),
    )
    op.create_index(
        "ix_feedback_request_open_expiry",
        "feedback_request",
        ["expires_at"],
        postgresql_where=sa.text("state IN ('requested', 'chased')"),
    )
    op.create_index("ix_idempotency_key_expires_at", "idempotency_key", ["expires_at"])
    op.add_column(
        "app_user",
        sa.Column("daily_digest", sa.Boolean(), server_default="true", nullable=False),
    )
    op.create_table(
        "scheduled_run",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_scheduled_run_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_scheduled_run")),
        sa.UniqueConstraint(
            "agency_id", "job", "period", name=op.f("uq_scheduled_run_agency_id_job_period")
        ),
    )
    enable_tenant_rls("scheduled_run")
    create_worker_policies(WORKER_POLICIES)
    create_definer_functions(FUNCTIONS)
    # Wake the worker at commit (LISTEN/NOTIFY) whenever a message becomes due to send.
    op.execute(NOTIFY_OUTBOX)
    op.execute(
        "CREATE TRIGGER message_queued AFTER INSERT OR UPDATE OF status ON message "
        "FOR EACH ROW WHEN (NEW.status = 'queued') EXECUTE FUNCTION notify_outbox()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER message_queued ON message")
    op.execute("DROP FUNCTION notify_outbox()")
    drop_functions(FUNCTIONS)
    drop_worker_policies(WORKER_POLICIES)
    disable_tenant_rls("scheduled_run")
    op.drop_table("scheduled_run")
    op.drop_column("app_user", "daily_digest")
    op.drop_index("ix_idempotency_key_expires_at", table_name="idempotency_key")
    op.drop_index("ix_feedback_request_open_expiry", table_name="feedback_request")
    op.drop_index("ix_feedback_request_open_chase", table_name="feedback_request")
    op.drop_index("ix_message_leased", table_name="message")
    op.drop_index("ix_message_due", table_name="message")
    # Rows the old schema cannot hold: digests go, a message mid-send goes back to the queue.
    _as_owner_of_all_rows(
        "message",
        "DELETE FROM message WHERE kind = 'daily_digest'",
        "UPDATE message SET status = 'queued' WHERE status = 'sending'",
    )
    _as_owner_of_all_rows(
        "message_template", "DELETE FROM message_template WHERE kind = 'daily_digest'"
    )
    for table, column, values in (
        ("message", "status", OLD_STATUSES),
        ("message", "kind", OLD_KINDS),
        ("message_template", "kind", OLD_KINDS),
    ):
        op.drop_constraint(op.f(f"ck_{table}_{column}"), table)
        op.create_check_constraint(op.f(f"ck_{table}_{column}"), table, _in(column, values))
    for column in (
        "lease_token",
        "lease_until",
        "reply_to_name",
        "reply_to_address",
        "message_id_header",
    ):
        op.drop_column("message", column)
