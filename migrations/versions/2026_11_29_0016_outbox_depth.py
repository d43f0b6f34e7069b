"""outbox depth: a count of outbox messages per status, for `/metrics`

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 23:59:00

The runtime role sees no message without an agency set. `outbox_depth` (SECURITY DEFINER,
owned by the owner, whose `worker_select` policy on `message` already lets it see every
agency's rows) returns only a count per status: no id, no agency, nothing else. `afterview
migrate` grants EXECUTE to the runtime role, as for the other functions.
"""

from collections.abc import Sequence

from migrations.tenancy import create_definer_functions, drop_functions

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The statuses a message waits in (queued, sending) and the one that needs a person (failed);
# `sent` and `cancelled` are history, not depth, and grow without end.
OUTBOX_DEPTH = """
CREATE FUNCTION outbox_depth()
RETURNS TABLE (status text, messages bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT s.status, count(m.id)
    FROM unnest(ARRAY['queued', 'sending', 'failed']) AS s(status)
    LEFT JOIN message m ON m.status = s.status
    GROUP BY s.status
$$
"""
SIGNATURE = "outbox_depth()"


def upgrade() -> None:
    create_definer_functions({SIGNATURE: OUTBOX_DEPTH})


def downgrade() -> None:
    drop_functions([SIGNATURE])
