"""DDL for the tenancy walls, shared by migrations. Append-only: change a helper and every old
migration that called it changes too, so add new helpers instead of editing these."""

from collections.abc import Iterable, Sequence

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


def create_worker_policies(policies: Sequence[tuple[str, str]]) -> None:
    """`(table, command)` policies for the owner role (the migration's CURRENT_USER): what the
    worker's SECURITY DEFINER functions may see and change across agencies. The runtime role
    gets none of them."""
    for table, command in policies:
        check = " WITH CHECK (true)" if command == "UPDATE" else ""
        op.execute(
            f"CREATE POLICY worker_{command.lower()} ON {table} FOR {command} "
            f"TO CURRENT_USER USING (true){check}"
        )


def drop_worker_policies(policies: Sequence[tuple[str, str]]) -> None:
    for table, command in policies:
        op.execute(f"DROP POLICY worker_{command.lower()} ON {table}")


def create_definer_functions(functions: dict[str, str]) -> None:
    """`{signature: CREATE FUNCTION …}`; nobody but the roles granted later may call them."""
    for signature, body in functions.items():
        op.execute(body)
        op.execute(f"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC")


def drop_functions(signatures: Iterable[str]) -> None:
    for signature in signatures:
        op.execute(f"DROP FUNCTION {signature}")
