"""worklist in SQL: next steps found by application; the planner told a consultant is one agency's

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 23:59:30

The worklist pages in one statement. Its chase-the-client SELECT joins a consultant's
applications to `next_steps` by `application_id`, which no index led to. And the planner, not
knowing that `consultant_id` decides `agency_id`, multiplied their selectivities and expected a
twentieth of a consultant's applications (in a database of twenty agencies), so it chose nested
loops that were right for a hundred rows and slow for thousands. Extended statistics
(functional dependencies) tell it; `ANALYZE application` builds them now rather than at the next
autovacuum.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATISTICS = "st_application_agency_id_consultant_id"


def upgrade() -> None:
    op.create_index(
        "ix_next_steps_agency_id_application_id", "next_steps", ["agency_id", "application_id"]
    )
    op.execute(
        f"CREATE STATISTICS {STATISTICS} (dependencies) ON agency_id, consultant_id "
        "FROM application"
    )
    op.execute("ANALYZE application")


def downgrade() -> None:
    op.execute(f"DROP STATISTICS {STATISTICS}")
    op.drop_index("ix_next_steps_agency_id_application_id", table_name="next_steps")
