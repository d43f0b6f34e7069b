"""event feed: each event's snapshot of its object, purged after the feed's retention

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 21:30:00

`event` stays append-only for the runtime role; only `purge_event_snapshots` (SECURITY DEFINER,
owned by the owner) may empty old snapshots, across agencies.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.tenancy import (
    create_definer_functions,
    create_worker_policies,
    drop_functions,
    drop_worker_policies,
)

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURGE_EVENT_SNAPSHOTS = """
CREATE FUNCTION purge_event_snapshots(before timestamptz, max_rows integer)
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    WITH purged AS (
        UPDATE event e SET snapshot = NULL
        FROM (SELECT agency_id, id FROM event
              WHERE occurred_at < before AND snapshot IS NOT NULL
              ORDER BY occurred_at LIMIT max_rows) old
        WHERE e.agency_id = old.agency_id AND e.id = old.id
        RETURNING 1)
    SELECT count(*) FROM purged
$$
"""
SIGNATURE = "purge_event_snapshots(timestamptz, integer)"
WORKER_POLICIES = (("event", "SELECT"), ("event", "UPDATE"))


def upgrade() -> None:
    op.add_column("event", sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text())))
    op.create_index(op.f("ix_event_occurred_at"), "event", ["occurred_at"])
    create_worker_policies(WORKER_POLICIES)
    create_definer_functions({SIGNATURE: PURGE_EVENT_SNAPSHOTS})


def downgrade() -> None:
    drop_functions([SIGNATURE])
    drop_worker_policies(WORKER_POLICIES)
    op.drop_index(op.f("ix_event_occurred_at"), table_name="event")
    op.drop_column("event", "snapshot")
