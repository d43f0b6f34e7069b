"""enter as a person: the tenant setting and the person's check in one statement

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 09:00:00

Every request a person makes scopes its transaction to their agency (`set_config` with a bound
parameter) and then reads whether they are still active and since when their tokens hold. Two
round trips; `app_enter_as_person` makes them one, in that order (plpgsql runs its statements in
sequence, so the lookup runs under row-level security already scoped to the agency). SECURITY
INVOKER: it runs with the caller's rights, under the caller's row-level security, and can do
nothing the caller could not do with the two statements. Its search path is fixed, like the
other functions': a caller's own path cannot substitute another `app_user` or `set_config`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNATURE = "app_enter_as_person(uuid, uuid)"


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION app_enter_as_person(agency uuid, person uuid)
        RETURNS TABLE (role varchar, tokens_valid_after timestamptz)
        LANGUAGE plpgsql VOLATILE SECURITY INVOKER SET search_path = pg_catalog, public
        AS $$
        BEGIN
            PERFORM set_config('app.agency_id', agency::text, true);
            RETURN QUERY
                SELECT u.role, u.tokens_valid_after FROM app_user u
                WHERE u.agency_id = agency AND u.id = person AND u.active;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SIGNATURE}")
