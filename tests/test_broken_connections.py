"""A pooled connection whose server process has gone (a restart, a killed backend, a network
cut) is discarded when a request meets it, whichever road the request took: the fast lanes
and the statements every request sends straight to the driver included. The request that met
it answers 503 with Retry-After (never 500), and the next ones get fresh connections."""

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import psycopg
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FixedClock
from app.core.db import connection_to_discard, create_engine, lost_connection
from app.core.errors import ServiceUnavailable, ValidationFailed
from app.core.guards import _problem_for
from app.core.provision import DatabaseUrls
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET, TestDatabase
from tests.support.lanes import fresh_token
from tests.support.records import make_candidate
from tests.support.tenants import Tenant, make_tenant, new_client

POOL = 3


@pytest.fixture
async def own_engine(database_urls: DatabaseUrls) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_urls.runtime, pool_size=POOL, max_overflow=0)
    yield engine
    await engine.dispose()


@pytest.fixture
async def tenant(
    own_engine: AsyncEngine, clock: FixedClock, database_urls: DatabaseUrls
) -> AsyncIterator[Tenant]:
    settings = Settings(database_url=database_urls.runtime, public_url="http://afterview.test")
    app = create_app(settings, engine=own_engine, jwt_secret=JWT_SECRET, clock=clock)
    async with make_tenant(app, clock, "Broken Connection Agency") as made:
        yield made


async def _pooled_backends(engine: AsyncEngine) -> set[int]:
    """The server processes behind every connection of the pool (all checked out at once)."""
    connections = [await engine.connect() for _ in range(POOL)]
    try:
        return {int(await c.scalar(text("SELECT pg_backend_pid()")) or 0) for c in connections}
    finally:
        for connection in connections:
            await connection.close()


def _terminate(superuser_url: str, pids: set[int]) -> None:
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


@pytest.mark.parametrize("road", ["fast read", "fast create", "route"])
async def test_a_request_meeting_a_dead_connection_is_a_503_and_the_next_get_fresh_ones(
    tenant: Tenant, own_engine: AsyncEngine, test_database: TestDatabase, road: str
) -> None:
    app: FastAPI = tenant.app
    candidate = await make_candidate(tenant)
    token = await fresh_token(tenant)
    key = (await tenant.api_key())["key"]
    killed = await _pooled_backends(own_engine)
    assert len(killed) == POOL
    _terminate(test_database.superuser_url, killed)

    async def ask() -> int:
        if road == "fast read":
            async with new_client(app, token) as client:
                return (await client.get(f"/v1/candidates/{candidate['id']}")).status_code
        credential = token if road == "fast create" else key
        async with new_client(app, credential) as client:
            body = {"first_name": "Ada", "last_name": "Osei", "email": "ada@example.com"}
            answer = await client.post("/v1/candidates", json=body)
        if answer.status_code == 503:
            assert answer.headers["retry-after"] == "5"
        return answer.status_code

    statuses = [await ask() for _ in range(POOL + 3)]
    assert set(statuses) <= {200, 201, 503}, statuses
    assert 503 in statuses[:POOL]  # the dead connections were met…
    assert set(statuses[-3:]) <= {200, 201}, statuses  # …and replaced
    assert not killed & await _pooled_backends(own_engine)


def _vet_an_unresolvable_host() -> None:
    """As the webhook URL check does: the resolver's error becomes a 422, `from None`."""
    try:
        raise OSError("Name or service not known")
    except OSError:
        raise ValidationFailed("That host does not resolve.") from None


def test_a_problem_answered_while_handling_a_network_error_keeps_its_connection() -> None:
    """The request answered that 422, and its connection is sound (the OSError stays in the
    problem's `__context__`). A connection error is not."""
    with pytest.raises(ValidationFailed) as caught:
        _vet_an_unresolvable_host()
    assert isinstance(caught.value.__context__, OSError)
    assert not connection_to_discard(caught.value)
    assert connection_to_discard(asyncpg.exceptions.ConnectionDoesNotExistError("closed"))


async def test_an_os_error_is_a_lost_connection_only_when_the_driver_raised_it(
    tmp_path: Path,
) -> None:
    """A lost connection answers 503 "the database cannot be reached"; any other OSError (an
    input that names a file, say) is a bug to log as one, not an outage. Real errors each."""
    with pytest.raises(ConnectionRefusedError) as refused:  # nothing listens on port 1
        await asyncpg.connect(host="127.0.0.1", port=1, user="x", database="x", timeout=5)
    with pytest.raises(
        FileNotFoundError
    ) as missing:  # a server's socket directory, the server gone
        await asyncpg.connect(host=str(tmp_path), port=5432, user="x", database="x", timeout=5)
    with pytest.raises(IsADirectoryError) as folder:
        ZoneInfo("Europe")
    assert lost_connection(refused.value)
    assert lost_connection(missing.value)
    assert not lost_connection(folder.value)


async def test_a_database_error_keeps_the_statement_but_not_its_values(
    own_engine: AsyncEngine,
) -> None:
    """What a failed statement logs: the SQL and PostgreSQL's error, not the list of parameters
    (people's names, notes and emails; a driver's own message may still quote the one value it
    refused)."""
    marker = "Amara Okafor's private note"
    async with own_engine.connect() as connection:
        with pytest.raises(DBAPIError) as failed:
            await connection.execute(text("SELECT CAST(:value AS text), 1 / 0"), {"value": marker})
    assert "division by zero" in str(failed.value)
    assert "SELECT CAST" in str(failed.value)
    assert marker not in str(failed.value)


@pytest.mark.parametrize(("sqlstate", "why"), [("40P01", "deadlock"), ("40001", "serialization")])
async def test_a_transaction_postgres_undid_for_a_conflict_is_a_503_to_retry(
    own_engine: AsyncEngine, sqlstate: str, why: str
) -> None:
    """PostgreSQL's own error (raised here on purpose), as a request would meet it: nothing
    was written, so the answer says to send it again, not that the server broke."""
    async with own_engine.connect() as connection:
        with pytest.raises(DBAPIError) as failed:
            await connection.execute(
                text(f"DO $$ BEGIN RAISE EXCEPTION '{why}' USING ERRCODE = '{sqlstate}'; END $$")
            )
    problem = _problem_for(failed.value, {"type": "http", "path": "/v1/candidates"})
    assert isinstance(problem, ServiceUnavailable)
    assert problem.headers["Retry-After"] == "1"
    assert not connection_to_discard(failed.value)  # the connection itself is sound


async def test_a_conflict_met_on_the_driver_itself_is_a_503_too(own_engine: AsyncEngine) -> None:
    """Events and fast creates go to asyncpg directly: its own exception, no SQLAlchemy
    wrapper."""
    async with own_engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        with pytest.raises(asyncpg.exceptions.ForeignKeyViolationError) as failed:
            await raw.execute("DO $$ BEGIN RAISE EXCEPTION 'gone' USING ERRCODE = '23503'; END $$")
    problem = _problem_for(failed.value, {"type": "http", "path": "/v1/candidates"})
    assert isinstance(problem, ServiceUnavailable)
