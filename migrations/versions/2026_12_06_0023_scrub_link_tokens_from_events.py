"""scrub link tokens from message events already recorded

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 09:00:00

A message's body holds the links of its email, and each `message.*` event recorded the body
as it was: the feed, webhooks and exports handed the client's and the candidate's link tokens
(their credentials) to any reader. New events show them `[redacted]` (`MessageRead`); this
does the same to the events already recorded, and so to webhook deliveries still pending,
whose bodies are built from them.

The downgrade changes nothing: what was scrubbed is not kept anywhere to put back.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK = r"(/(feedback|candidate)/)eyJ[A-Za-z0-9_.-]+"  # no "(?:": SQLAlchemy reads ":name" as a parameter

SCRUB = f"""
UPDATE event
SET snapshot = jsonb_set(
    snapshot, '{{body}}', to_jsonb(regexp_replace(snapshot->>'body', '{LINK}', '\\1[redacted]', 'g'))
)
WHERE type LIKE 'message.%' AND snapshot->>'body' ~ '{LINK}'
"""


def upgrade() -> None:
    # The owner is bound by the table's row-level security too; this runs across agencies.
    op.execute("ALTER TABLE event NO FORCE ROW LEVEL SECURITY")
    op.execute(SCRUB)
    op.execute("ALTER TABLE event FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    pass
