"""fan-out waits for an endpoint's DELETE: no delivery for an endpoint that is gone

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 09:00:00

`fan_out_event` inserts a delivery for each endpoint an event matches. An endpoint deleted
alongside (the DELETE holds its row) made that insert's foreign key check fail once the
DELETE committed: any write that recorded an event then answered 500. Now the trigger reads
the endpoints FOR KEY SHARE: it waits for a DELETE in progress and, the row gone, skips it
(READ COMMITTED re-checks a row it waited for). Updates of an endpoint do not conflict with
KEY SHARE, so nothing else waits.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FAN_OUT = """
CREATE OR REPLACE FUNCTION fan_out_event() RETURNS trigger
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
           OR split_part(NEW.type, '.', 1) || '.*' = ANY (w.event_types))
    {lock};
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(FAN_OUT.format(lock="FOR KEY SHARE OF w"))


def downgrade() -> None:
    op.execute(FAN_OUT.format(lock=""))
