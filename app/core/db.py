"""Engines, sessions and the per-transaction tenant setting that row-level security reads."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.errors import Problem
from app.core.exceptions import causes
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
        # An error's message would carry the statement's parameters: people's names, notes and
        # emails, into the logs. The SQL and the error stay; the values do not.
        hide_parameters=True,
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


_DRIVER_USED = "afterview.driver_used"
"""`session.info` key: the connection `driver_connection` handed out statements under."""

_SET_TENANT = text(f"SELECT set_config('{TENANT_SETTING}', :agency_id, true)")


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
    session.info[_DRIVER_USED] = connection  # see `request_transaction`
    raw = await connection.get_raw_connection()
    return raw.driver_connection


_DRIVER_PACKAGES = frozenset({"asyncpg", "sqlalchemy", "psycopg", "psycopg_pool"})


def _raised_in_driver(exc: BaseException) -> bool:
    """Whether the error came up through the database driver's code: an OSError there is the
    connection failing (a refused or missing socket); elsewhere it is not, e.g. a time zone
    that names a tzdata folder."""
    frame = exc.__traceback__
    while frame is not None:
        module = frame.tb_frame.f_globals.get("__name__", "")
        if module.partition(".")[0] in _DRIVER_PACKAGES:
            return True
        frame = frame.tb_next
    return False


_CONNECTION_ERRORS = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    # The driver's own bookkeeping of a connection an earlier failure left mid-operation.
    asyncpg.exceptions.InternalClientError,
    PoolTimeout,
)


def lost_connection(exc: BaseException) -> bool:
    """A connection that failed or broke, rather than a query PostgreSQL refused."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, (OperationalError, InterfaceError)) and not _refused_by_server(exc):
        return True
    return any(
        isinstance(cause, _CONNECTION_ERRORS)
        or (isinstance(cause, OSError) and _raised_in_driver(cause))
        for cause in causes(exc)
    )


_RETRYABLE_SQLSTATES = frozenset(
    {
        "40P01",  # deadlock detected
        "40001",  # serialization failure
        # A unique or foreign key check that no rule answered: two requests raced to make the
        # same row, or one made a row for another that a third removed meanwhile.
        "23505",
        "23503",
    }
)


def retryable_conflict(exc: BaseException) -> bool:
    """PostgreSQL undid the transaction because it met another head-on (a deadlock, a
    serialization failure, a race a rule did not answer): nothing was written, and the same
    request again may well pass (or get the rule's own answer)."""
    found = driver_error(exc) if isinstance(exc, DBAPIError) else exc  # or asyncpg's own
    return getattr(found, "sqlstate", None) in _RETRYABLE_SQLSTATES


def connection_to_discard(exc: BaseException) -> bool:
    """Whether the connection a request used must not go back to the pool: the request failed
    because it broke. A problem the request answered (a 4xx, even one raised while handling a
    network error of its own, such as an unresolvable webhook host) says nothing about it."""
    return not isinstance(exc, Problem) and lost_connection(exc)


def driver_error(exc: DBAPIError) -> BaseException | None:
    """The asyncpg exception under SQLAlchemy's (its adapter wraps it, then SQLAlchemy wraps
    the adapter's): where PostgreSQL's SQLSTATE and constraint name are."""
    return getattr(exc.orig, "__cause__", None)


def violated_constraint(exc: DBAPIError) -> str | None:
    """The unique (or other) constraint a refused write broke, by name."""
    name = getattr(driver_error(exc), "constraint_name", None)
    return name if isinstance(name, str) else None


def _refused_by_server(exc: DBAPIError) -> bool:
    """An error PostgreSQL answered (it has an SQLSTATE), as opposed to no answer at all."""
    return getattr(driver_error(exc), "sqlstate", None) is not None


@asynccontextmanager
async def request_transaction(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session in one transaction for a request. When its connection broke (also under a
    statement sent straight to the driver, which SQLAlchemy does not see fail), the connection
    is discarded, never handed back to the pool for the next request to meet."""
    async with factory() as session, session.begin():
        try:
            yield session
        except BaseException as exc:
            # Before the transaction ends and hands the connection back to the pool.
            used: AsyncConnection | None = session.info.get(_DRIVER_USED)
            if used is not None and connection_to_discard(exc):
                await used.invalidate()
            raise


@asynccontextmanager
async def tenant_transaction(
    factory: async_sessionmaker[AsyncSession], agency_id: AgencyId
) -> AsyncIterator[AsyncSession]:
    """A session in one transaction already scoped to `agency_id` (for CLI and background work)."""
    async with factory() as session, session.begin():
        await set_tenant(session, agency_id)
        yield session
