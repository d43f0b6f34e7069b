"""DDL for the tenancy walls, shared by migrations. Append-only: change a helper and every old
migration that called it changes too, so add new helpers instead of editing these."""

from alembic import op

CURRENT_AGENCY_FUNCTION = """
CREATE FUNCTION app_current_agency() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT NULLIF(current_setting('app.agency_id', true), '')::uuid $$
"""


def enable_tenant_rls(table: str, column: str = "agency_id") -> None:
    """Row-level security, forced (the owner is subject to it too), scoped to the agency set for
    the current transaction. No setting means no rows, for reads and writes alike."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({column} = app_current_agency()) "
        f"WITH CHECK ({column} = app_current_agency())"
    )


def disable_tenant_rls(table: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
