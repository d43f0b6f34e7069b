"""login skips removed users: another agency cannot crowd a person out of logging in

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 09:00:00

`login_candidates` returns the accounts with an email across agencies, at most 10, by agency
id. Removed users stayed among them, so an admin of one agency could create and remove a user
with someone else's email ten times, and that person's own account, in an agency whose id
sorts later, was never reached: their right password answered 401. A removed user cannot log
in anyway; now they are not candidates, and one agency holds at most one row per email (the
partial unique index on active emails).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOGIN_CANDIDATES = """
CREATE OR REPLACE FUNCTION login_candidates(login_email text)
RETURNS TABLE (agency_id uuid, user_id uuid, password_hash text, active boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT u.agency_id, u.id, u.password_hash, u.active
    FROM app_user u WHERE u.email = lower(login_email){removed}
    ORDER BY u.agency_id LIMIT 10
$$
"""


def upgrade() -> None:
    op.execute(LOGIN_CANDIDATES.format(removed=" AND u.removed_at IS NULL"))


def downgrade() -> None:
    op.execute(LOGIN_CANDIDATES.format(removed=""))
