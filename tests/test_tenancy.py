"""The walls between agencies: schema rules, row-level security, and the connection pool."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.core.clock import FixedClock
from app.core.db import TENANT_SETTING, create_engine
from app.core.provision import DatabaseUrls, connect, migrate, role_of
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET, TestDatabase
from tests.support.tenants import Tenant, login, make_tenant, new_client

TENANT_TABLES_SQL = """
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) AS has_policy
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND (c.relname = 'agency' OR EXISTS (
        SELECT 1 FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attname = 'agency_id' AND NOT a.attisdropped))
ORDER BY 1
"""

CONSTRAINT_COLUMNS_SQL = """
SELECT con.conname, con.contype::text AS contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) k
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k) AS columns,
       confrelid::regclass::text AS referenced
FROM pg_constraint con
WHERE con.conrelid = CAST(:table AS regclass) AND con.contype IN ('p', 'f')
"""


async def _tenant_tables(conn: AsyncConnection) -> list[Any]:
    return list((await conn.execute(text(TENANT_TABLES_SQL))).all())


async def wall_breaches(conn: AsyncConnection) -> list[str]:
    """Every table with `agency_id` (and the agency table) lacking RLS, FORCE or a policy, or
    lacking `agency_id` in its primary key or in any foreign key."""
    problems = []
    for table in await _tenant_tables(conn):
        if not (table.relrowsecurity and table.relforcerowsecurity and table.has_policy):
            problems.append(f"{table.relname}: RLS enabled/forced/policy missing")
        if table.relname == "agency":
            continue
        constraints = (
            await conn.execute(text(CONSTRAINT_COLUMNS_SQL), {"table": table.relname})
        ).all()
        if not any(c.contype == "p" for c in constraints):
            problems.append(f"{table.relname}: no primary key")
        for con in constraints:
            if "agency_id" not in con.columns:
                problems.append(f"{table.relname}.{con.conname} lacks agency_id")
    return problems


async def test_every_tenant_table_is_walled(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        tables = {t.relname for t in await _tenant_tables(conn)}
        assert tables >= {"agency", "app_user", "api_key", "audit_entry"}
        assert await wall_breaches(conn) == []


async def test_the_catalog_check_catches_a_careless_table(test_database: TestDatabase) -> None:
    """The check above is only worth having if it fails on a table that forgets the rules."""
    urls = test_database.create()
    migrate(urls.owner, role_of(urls.runtime))
    with connect(urls.owner) as owner:
        owner.execute("CREATE TABLE careless (agency_id uuid NOT NULL, id uuid PRIMARY KEY)")
        owner.execute(
            "CREATE TABLE half_walled (agency_id uuid NOT NULL REFERENCES agency (id), "
            "id uuid NOT NULL, user_id uuid, PRIMARY KEY (agency_id, id))"
        )
        owner.execute(
            "ALTER TABLE half_walled ADD FOREIGN KEY (user_id, agency_id) "
            "REFERENCES app_user (id, agency_id)"
        )
        owner.execute("ALTER TABLE half_walled ADD COLUMN other_id uuid")
        owner.execute("ALTER TABLE half_walled ADD FOREIGN KEY (other_id) REFERENCES careless (id)")
        owner.execute("ALTER TABLE half_walled ENABLE ROW LEVEL SECURITY")
    probe = create_engine(urls.runtime, pool_size=1, max_overflow=0)
    try:
        async with probe.connect() as conn:
            breaches = await wall_breaches(conn)
    finally:
        await probe.dispose()
    assert "careless: RLS enabled/forced/policy missing" in breaches
    assert "careless.careless_pkey lacks agency_id" in breaches
    assert "half_walled: RLS enabled/forced/policy missing" in breaches
    assert "half_walled.half_walled_other_id_fkey lacks agency_id" in breaches
    assert not any("user_id_agency_id_fkey" in b for b in breaches)  # composite FK is fine


async def test_policies_read_the_transaction_setting(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT tablename, qual, with_check FROM pg_policies "
                    "WHERE policyname = 'tenant_isolation'"
                )
            )
        ).all()
    assert rows
    for row in rows:
        assert "app_current_agency()" in row.qual, row
        assert "app_current_agency()" in row.with_check, row


@pytest.fixture
async def runtime_conn(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        yield conn


INSUFFICIENT_PRIVILEGE = "42501"


def sqlstate(error: DBAPIError) -> str | None:
    """The PostgreSQL error code behind a driver error."""
    code: str | None = getattr(error.orig, "sqlstate", None)
    return code


async def _scope(conn: AsyncConnection, agency_id: UUID | None) -> None:
    await conn.rollback()
    await conn.begin()
    if agency_id is not None:
        await conn.execute(
            text("SELECT set_config(:name, :value, true)"),
            {"name": TENANT_SETTING, "value": str(agency_id)},
        )


async def test_other_agency_rows_are_invisible(
    runtime_conn: AsyncConnection, agency_a: Tenant, agency_b: Tenant
) -> None:
    await _scope(runtime_conn, agency_a.agency_id)
    own = (await runtime_conn.execute(text("SELECT agency_id FROM app_user"))).scalars().all()
    assert own and set(own) == {agency_a.agency_id}

    await _scope(runtime_conn, agency_b.agency_id)
    for table in ("agency", "app_user", "audit_entry", "api_key"):
        column = "id" if table == "agency" else "agency_id"
        leaked = await runtime_conn.scalar(
            text(f"SELECT count(*) FROM {table} WHERE {column} = :a"),
            {"a": agency_a.agency_id},
        )
        assert leaked == 0, table
    # Even a query that forgets to filter sees only B.
    seen = (await runtime_conn.execute(text("SELECT DISTINCT agency_id FROM app_user"))).scalars()
    assert set(seen.all()) == {agency_b.agency_id}


async def test_entering_as_a_person_scopes_the_transaction_before_the_lookup(
    runtime_conn: AsyncConnection, agency_a: Tenant, agency_b: Tenant
) -> None:
    """`app_enter_as_person` (one statement per request) sets the tenant, then reads the person
    under the row-level security it just scoped: their row shows, another agency's never, and
    the setting lasts until the transaction ends."""
    enter = text("SELECT role FROM app_enter_as_person(:agency, :user)")
    current = text("SELECT current_setting(:name, true)")
    await _scope(runtime_conn, None)  # nothing set yet: without the setting nothing is visible
    found = await runtime_conn.scalar(
        enter, {"agency": agency_a.agency_id, "user": agency_a.admin_id}
    )
    assert found == "admin"
    assert await runtime_conn.scalar(current, {"name": TENANT_SETTING}) == str(agency_a.agency_id)
    await _scope(runtime_conn, None)
    crossed = {"agency": agency_b.agency_id, "user": agency_a.admin_id}
    assert (await runtime_conn.execute(enter, crossed)).all() == []
    await runtime_conn.commit()
    assert await runtime_conn.scalar(current, {"name": TENANT_SETTING}) in ("", None)


async def test_insert_into_another_agency_is_refused(
    runtime_conn: AsyncConnection, agency_a: Tenant, agency_b: Tenant
) -> None:
    await _scope(runtime_conn, agency_b.agency_id)
    with pytest.raises(ProgrammingError, match="violates row-level security") as refused:
        await runtime_conn.execute(
            text(
                "INSERT INTO app_user (agency_id, id, email, name, role, password_hash) "
                "VALUES (:a, gen_random_uuid(), 'intruder@example.com', 'X', 'admin', 'x')"
            ),
            {"a": agency_a.agency_id},
        )
    assert sqlstate(refused.value) == INSUFFICIENT_PRIVILEGE
    await _scope(runtime_conn, agency_a.agency_id)
    intruders = await runtime_conn.scalar(
        text("SELECT count(*) FROM app_user WHERE email = 'intruder@example.com'")
    )
    assert intruders == 0


async def test_update_cannot_move_a_row_to_another_agency(
    runtime_conn: AsyncConnection, agency_a: Tenant, agency_b: Tenant
) -> None:
    await _scope(runtime_conn, agency_a.agency_id)
    with pytest.raises(ProgrammingError, match="violates row-level security") as refused:
        await runtime_conn.execute(
            text("UPDATE app_user SET agency_id = :b WHERE id = :u"),
            {"b": agency_b.agency_id, "u": agency_a.admin_id},
        )
    assert sqlstate(refused.value) == INSUFFICIENT_PRIVILEGE


async def test_without_a_setting_nothing_is_visible(
    runtime_conn: AsyncConnection, agency_a: Tenant
) -> None:
    await _scope(runtime_conn, None)
    for table in ("agency", "app_user", "api_key", "audit_entry"):
        count = await runtime_conn.scalar(text(f"SELECT count(*) FROM {table}"))
        assert count == 0, table
    # An empty setting (what a reused connection holds after a scoped transaction) is "none".
    await _scope(runtime_conn, agency_a.agency_id)
    await _scope(runtime_conn, None)
    assert await runtime_conn.scalar(text("SELECT current_setting('app.agency_id', true)")) == ""
    assert await runtime_conn.scalar(text("SELECT count(*) FROM app_user")) == 0


async def test_runtime_role_cannot_switch_rls_off(runtime_conn: AsyncConnection) -> None:
    await _scope(runtime_conn, None)
    with pytest.raises(ProgrammingError, match="must be owner") as refused:
        await runtime_conn.execute(text("ALTER TABLE app_user NO FORCE ROW LEVEL SECURITY"))
    assert sqlstate(refused.value) == INSUFFICIENT_PRIVILEGE


async def test_one_connection_alternating_agencies_never_mixes(
    database_urls: DatabaseUrls, clock: FixedClock
) -> None:
    """With a pool of one connection, every request reuses the previous agency's connection."""
    single = create_engine(database_urls.runtime, pool_size=1, max_overflow=0)
    app: FastAPI = create_app(
        Settings(database_url=database_urls.runtime),
        engine=single,
        jwt_secret=JWT_SECRET,
        clock=clock,
    )
    try:
        async with make_tenant(app, clock, "Pool A") as a, make_tenant(app, clock, "Pool B") as b:
            for tenant in (a, b):
                for _ in range(3):
                    await tenant.add_user()
            emails = {
                t.agency_id: {u["email"] for u in (await t.admin.get("/v1/users")).json()["items"]}
                for t in (a, b)
            }
            assert len(emails[a.agency_id]) == 4 and len(emails[b.agency_id]) == 4

            async def users_seen(tenant: Tenant) -> set[str]:
                response = await tenant.admin.get("/v1/users", params={"limit": 200})
                assert response.status_code == 200
                return {u["email"] for u in response.json()["items"]}

            for round_ in range(10):
                first, second = (a, b) if round_ % 2 == 0 else (b, a)
                assert await users_seen(first) == emails[first.agency_id]
                assert await users_seen(second) == emails[second.agency_id]
            # And concurrently: requests queue for the one connection, still never mixing.
            results = await asyncio.gather(*(users_seen(t) for t in [a, b] * 10))
            for tenant, seen in zip([a, b] * 10, results, strict=True):
                assert seen == emails[tenant.agency_id]
    finally:
        await single.dispose()


async def test_a_token_cannot_be_pointed_at_another_agency(
    app: FastAPI, agency_a: Tenant, agency_b: Tenant
) -> None:
    """The agency comes from the verified credential; nothing in a request can change it."""
    token = await login(app, agency_a.admin_email, agency_a.admin_password)
    async with new_client(app, token) as client:
        response = await client.get(
            "/v1/users",
            params={"agency_id": str(agency_b.agency_id)},
            headers={"X-Agency-Id": str(agency_b.agency_id)},
        )
    assert response.status_code == 200
    assert {u["id"] for u in response.json()["items"]} == {str(agency_a.admin_id)}
