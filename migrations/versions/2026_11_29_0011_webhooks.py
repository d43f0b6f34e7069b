"""webhooks: endpoints, deliveries and their attempts; fan-out of events; the worker's claim

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 20:52:30.810360

Every event appended fans out, in its own transaction, to a delivery for each enabled endpoint
of its agency that wants its type (a trigger: no write path can forget it). The worker claims
due deliveries across agencies through `claim_webhook_deliveries`, SECURITY DEFINER like
`claim_messages`, and settles each in its agency's own transaction.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.tenancy import (
    create_definer_functions,
    create_worker_policies,
    disable_tenant_rls,
    drop_functions,
    drop_worker_policies,
    enable_tenant_rls,
)

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("webhook_endpoint", "webhook_delivery", "webhook_attempt")
OLD_KINDS = (
    "withdrawal_note",
    "follow_up_direct",
    "follow_up_via_agency",
    "referee_heads_up",
    "feedback_request",
    "feedback_chase",
    "feedback_release",
    "daily_digest",
)
NEW_KINDS = (*OLD_KINDS, "webhook_disabled")
WORKER_POLICIES = (
    ("webhook_delivery", "SELECT"),
    ("webhook_delivery", "UPDATE"),
    ("webhook_delivery", "DELETE"),
)

FAN_OUT = """
CREATE FUNCTION fan_out_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- A test ping goes only to the endpoint that asked for it (POST …/test).
    IF NEW.type = 'webhook.test' THEN
        RETURN NULL;
    END IF;
    INSERT INTO webhook_delivery (agency_id, id, endpoint_id, event_id, state, attempts,
                                  next_attempt_at, created_at, updated_at)
    SELECT NEW.agency_id, gen_random_uuid(), w.id, NEW.id, 'pending', 0,
           NEW.occurred_at, NEW.occurred_at, NEW.occurred_at
    FROM webhook_endpoint w
    WHERE w.agency_id = NEW.agency_id AND w.enabled
      AND (w.event_types IS NULL
           OR NEW.type = ANY (w.event_types)
           OR split_part(NEW.type, '.', 1) || '.*' = ANY (w.event_types));
    RETURN NULL;
END
$$
"""

CLAIM_WEBHOOK_DELIVERIES = """
CREATE FUNCTION claim_webhook_deliveries(at timestamptz, batch integer, lease_seconds integer)
RETURNS TABLE (agency_id uuid, id uuid, lease_token uuid)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    WITH due AS (
        SELECT d.agency_id, d.id FROM webhook_delivery d
        WHERE d.state = 'pending' AND d.next_attempt_at <= at
          AND (d.lease_until IS NULL OR d.lease_until <= at)
        ORDER BY d.next_attempt_at LIMIT batch FOR UPDATE SKIP LOCKED
    ), claim AS (SELECT gen_random_uuid() AS token)
    UPDATE webhook_delivery d
    SET lease_until = at + make_interval(secs => lease_seconds),
        lease_token = claim.token,
        attempts = d.attempts + 1,
        updated_at = greatest(d.updated_at, at)
    FROM due, claim
    WHERE d.agency_id = due.agency_id AND d.id = due.id
    RETURNING d.agency_id, d.id, d.lease_token
$$
"""

SWEEP_WEBHOOK_DELIVERIES = """
CREATE FUNCTION sweep_webhook_deliveries(before timestamptz, max_rows integer)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    WITH gone AS (
        DELETE FROM webhook_delivery d
        USING (SELECT agency_id, id FROM webhook_delivery
               WHERE state <> 'pending' AND updated_at < before LIMIT max_rows) old
        WHERE d.agency_id = old.agency_id AND d.id = old.id
        RETURNING 1)
    SELECT count(*) FROM gone
$$
"""

FUNCTIONS = {
    "claim_webhook_deliveries(timestamptz, integer, integer)": CLAIM_WEBHOOK_DELIVERIES,
    "sweep_webhook_deliveries(timestamptz, integer)": SWEEP_WEBHOOK_DELIVERIES,
}


def _message_kinds(kinds: Sequence[str]) -> None:
    allowed = ", ".join(repr(k) for k in kinds)
    for table in ("message", "message_template"):
        op.drop_constraint(op.f(f"ck_{table}_kind"), table)
        op.create_check_constraint(op.f(f"ck_{table}_kind"), table, f"kind IN ({allowed})")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoint",
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=64)), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("disabled_reason", sa.String(length=500), nullable=True),
        sa.Column("secret_salt", sa.LargeBinary(length=32), nullable=False),
        sa.Column("previous_secret_salt", sa.LargeBinary(length=32), nullable=True),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
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
            name=op.f("fk_webhook_endpoint_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_webhook_endpoint")),
    )
    op.create_index(
        op.f("ix_webhook_endpoint_agency_id_created_at_id"),
        "webhook_endpoint",
        ["agency_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.Uuid(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
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
        sa.CheckConstraint(
            "state IN ('pending', 'succeeded', 'failed')", name=op.f("ck_webhook_delivery_state")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "endpoint_id"],
            ["webhook_endpoint.agency_id", "webhook_endpoint.id"],
            name=op.f("fk_webhook_delivery_agency_id_endpoint_id_webhook_endpoint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "event_id"],
            ["event.agency_id", "event.id"],
            name=op.f("fk_webhook_delivery_agency_id_event_id_event"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_webhook_delivery_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "agency_id",
            "endpoint_id",
            "event_id",
            name=op.f("uq_webhook_delivery_agency_id_endpoint_id_event_id"),
        ),
    )
    op.create_index(
        op.f("ix_webhook_delivery_agency_id_endpoint_id_created_at_id"),
        "webhook_delivery",
        ["agency_id", "endpoint_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_webhook_delivery_due",
        "webhook_delivery",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_table(
        "webhook_attempt",
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agency_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id", "delivery_id"],
            ["webhook_delivery.agency_id", "webhook_delivery.id"],
            name=op.f("fk_webhook_attempt_agency_id_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_webhook_attempt_agency_id_agency"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("agency_id", "id", name=op.f("pk_webhook_attempt")),
    )
    op.create_index(
        op.f("ix_webhook_attempt_agency_id_delivery_id_attempt"),
        "webhook_attempt",
        ["agency_id", "delivery_id", "attempt"],
        unique=False,
    )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    create_worker_policies(WORKER_POLICIES)
    create_definer_functions(FUNCTIONS)
    op.execute(FAN_OUT)
    op.execute(
        "CREATE TRIGGER event_fan_out AFTER INSERT ON event "
        "FOR EACH ROW EXECUTE FUNCTION fan_out_event()"
    )
    op.execute(
        "CREATE TRIGGER webhook_delivery_due AFTER INSERT OR UPDATE OF next_attempt_at "
        "ON webhook_delivery FOR EACH ROW WHEN (NEW.state = 'pending') "
        "EXECUTE FUNCTION notify_outbox()"
    )
    _message_kinds(NEW_KINDS)


def downgrade() -> None:
    op.execute("ALTER TABLE message NO FORCE ROW LEVEL SECURITY")
    op.execute("DELETE FROM message WHERE kind = 'webhook_disabled'")
    op.execute("ALTER TABLE message FORCE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE message_template NO FORCE ROW LEVEL SECURITY")
    op.execute("DELETE FROM message_template WHERE kind = 'webhook_disabled'")
    op.execute("ALTER TABLE message_template FORCE ROW LEVEL SECURITY")
    _message_kinds(OLD_KINDS)
    op.execute("DROP TRIGGER webhook_delivery_due ON webhook_delivery")
    op.execute("DROP TRIGGER event_fan_out ON event")
    op.execute("DROP FUNCTION fan_out_event()")
    drop_functions(FUNCTIONS)
    drop_worker_policies(WORKER_POLICIES)
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    op.drop_index(
        op.f("ix_webhook_attempt_agency_id_delivery_id_attempt"), table_name="webhook_attempt"
    )
    op.drop_table("webhook_attempt")
    op.drop_index(
        "ix_webhook_delivery_due",
        table_name="webhook_delivery",
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.drop_index(
        op.f("ix_webhook_delivery_agency_id_endpoint_id_created_at_id"),
        table_name="webhook_delivery",
    )
    op.drop_table("webhook_delivery")
    op.drop_index(
        op.f("ix_webhook_endpoint_agency_id_created_at_id"), table_name="webhook_endpoint"
    )
    op.drop_table("webhook_endpoint")
