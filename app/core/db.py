"""Engines, sessions and the per-transaction tenant setting that row-level security reads."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.ids import AgencyId

ASYNC_DRIVER = "asyncpg"
SYNC_DRIVER = "psycopg"
TENANT_SETTING = "app.agency_id"
IDLE_IN_TRANSACTION_TIMEOUT_MS = "60000"


def to_sqlalchemy_url(url: str | URL, driver: str = ASYNC_DRIVER) -> URL:
    """Accept `postgresql://user@host:port/db` (or any postgres driver URL) and pin the driver."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername=f"postgresql+{driver}")


def to_libpq_url(url: str | URL) -> str:
    """The plain `postgresql://` form, for libpq tools and bare driver calls."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def create_engine(url: str | URL, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    return create_async_engine(
        to_sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping: it costs a round trip on every checkout (measured in bench/records.py);
        # recycling connections bounds how stale one can get instead.
        pool_recycle=300,
        connect_args={
            "server_settings": {
                "application_name": "afterview",
                # A transaction left open holds back every reader of the event feed (it serves
                # only what is below the oldest running transaction): never let one linger.
                "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_TIMEOUT_MS,
            }
        },
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


_SET_TENANT = text(f"SELECT set_config('{TENANT_SETTING}', :agency_id, true)")
SET_TENANT_SQL = f"SELECT set_config('{TENANT_SETTING}', $1, true)"
"""`set_tenant` for a bare asyncpg connection in a transaction (the value bound as $1)."""


async def set_tenant(session: AsyncSession, agency_id: AgencyId) -> None:
    """Scope the current transaction to one agency (RLS reads this; `is_local` = this tx only).

    The value travels as a bound parameter, never spliced into SQL.
    """
    await session.execute(_SET_TENANT, {"agency_id": str(agency_id)})


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under `session`'s transaction, for the few statements every
    request runs (they skip SQLAlchemy's statement machinery). Call it only once the
    transaction has begun (after `set_tenant`): a statement sent before would run outside it."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


@asynccontextmanager
async def tenant_transaction(
    factory: async_sessionmaker[AsyncSession], agency_id: AgencyId
) -> AsyncIterator[AsyncSession]:
    """A session in one transaction already scoped to `agency_id` (for CLI and background work)."""
    async with factory() as session, session.begin():
        await set_tenant(session, agency_id)
        yield session
