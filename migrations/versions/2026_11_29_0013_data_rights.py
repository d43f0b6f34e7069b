"""data rights: erased candidates, and scrubbing their events; the daily jobs share one door

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 23:40:00

`erase_event_snapshots` runs as the owner (the runtime role may only append to `event`) but
touches only the calling transaction's own agency (`app_current_agency()`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.tenancy import create_definer_functions, drop_functions

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ERASE_EVENT_SNAPSHOTS = """
CREATE FUNCTION erase_event_snapshots(object_ids uuid[], application_ids uuid[])
RETURNS bigint
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    WITH scrubbed AS (
        UPDATE event SET snapshot = NULL, data = data - 'reason'
        WHERE agency_id = app_current_agency()
          AND (object_id = ANY (object_ids) OR application_id = ANY (application_ids))
        RETURNING 1)
    SELECT count(*) FROM scrubbed
$$
"""

AGENCIES_DUE_FOR_JOB = """
CREATE FUNCTION agencies_due_for_job(at timestamptz, local_hour integer, job_name text)
RETURNS TABLE (agency_id uuid, local_date text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT a.id, to_char(l.local_time, 'YYYY-MM-DD')
    FROM agency a CROSS JOIN LATERAL (SELECT at AT TIME ZONE a.timezone AS local_time) l
    WHERE extract(hour FROM l.local_time) >= local_hour
      AND NOT EXISTS (
          SELECT 1 FROM scheduled_run r
          WHERE r.agency_id = a.id AND r.job = job_name
            AND r.period = to_char(l.local_time, 'YYYY-MM-DD'))
$$
"""

# 0009's digest-only door, which `agencies_due_for_job` replaces (restored by the downgrade).
AGENCIES_DUE_FOR_DIGEST = AGENCIES_DUE_FOR_JOB.replace(
    "agencies_due_for_job(at timestamptz, local_hour integer, job_name text)",
    "agencies_due_for_digest(at timestamptz, local_hour integer)",
).replace("r.job = job_name", "r.job = 'daily_digest'")
DIGEST_SIGNATURE = "agencies_due_for_digest(timestamptz, integer)"

FUNCTIONS = {
    "erase_event_snapshots(uuid[], uuid[])": ERASE_EVENT_SNAPSHOTS,
    "agencies_due_for_job(timestamptz, integer, text)": AGENCIES_DUE_FOR_JOB,
}


def upgrade() -> None:
    op.add_column("candidate", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    create_definer_functions(FUNCTIONS)
    drop_functions([DIGEST_SIGNATURE])


def downgrade() -> None:
    create_definer_functions({DIGEST_SIGNATURE: AGENCIES_DUE_FOR_DIGEST})
    drop_functions(FUNCTIONS)
    op.drop_column("candidate", "erased_at")
