"""Test harness: a real PostgreSQL (embedded by default, or TEST_DATABASE_URL), migrated as the
owner; the app and every raw query connect as the runtime role, so RLS is really in force."""

import compileall
import gc
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import settings as hypothesis_settings
from psycopg import sql
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core import security
from app.core.clock import FixedClock
from app.core.db import create_engine
from app.core.logging import configure_logging
from app.core.provision import (
    DatabaseUrls,
    EmbeddedPostgres,
    ensure_roles_and_database,
    migrate,
    random_password,
    with_credentials,
)
from app.core.settings import Settings
from app.main import create_app
from app.models import LoginFailure
from tests.support.cli import invoke  # noqa: F401 - the CLI tests' fixture, for every module
from tests.support.problem_log import Answer, undeclared, wear_problem_log
from tests.support.tenants import Tenant, make_tenant, new_client

TEST_OWNER = "afterview_test_owner"
TEST_RUNTIME = "afterview_test_app"
JWT_SECRET = "test-" + secrets.token_urlsafe(32)
configure_logging(json_lines=True)
# No per-example deadline: the machine may be shared, and a slow example is not a wrong one.
hypothesis_settings.register_profile("afterview", deadline=None)
hypothesis_settings.load_profile("afterview")


ROLE_PASSWORD = "AFTERVIEW_TEST_ROLE_PASSWORD"
"""The test roles' password, one per run: pytest-xdist workers share the roles (and inherit it)."""


class TestDatabase:
    """Where the tests' databases live, and how to make more of them (for migration tests)."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, superuser_url: str) -> None:
        self.superuser_url = superuser_url
        self.password = os.environ.get(ROLE_PASSWORD) or random_password()
        self.created: list[str] = []

    def create(self, prefix: str = "afterview_test") -> DatabaseUrls:
        name = f"{prefix}_{secrets.token_hex(4)}"
        self.created.append(name)
        # Other processes of the run (xdist workers) alter the same roles: one at a time.
        with psycopg.connect(self.superuser_url, autocommit=True) as lock:
            lock.execute("SELECT pg_advisory_lock(hashtext('afterview test roles'))")
            return ensure_roles_and_database(
                self.superuser_url, name, TEST_OWNER, TEST_RUNTIME, password=self.password
            )

    def clone(self, template: str, prefix: str) -> DatabaseUrls:
        """A new database copied from `template` (which nobody may be connected to)."""
        name = f"{prefix}_{secrets.token_hex(4)}"
        self.created.append(name)
        with psycopg.connect(self.superuser_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(template), sql.Identifier(TEST_OWNER)
                )
            )
        return DatabaseUrls(
            owner=with_credentials(self.superuser_url, TEST_OWNER, self.password, name),
            runtime=with_credentials(self.superuser_url, TEST_RUNTIME, self.password, name),
        )

    def drop(self, name: str) -> None:
        with psycopg.connect(self.superuser_url, autocommit=True) as conn:
            _drop(conn, name)
        self.created.remove(name)

    def drop_all(self) -> None:
        with psycopg.connect(self.superuser_url, autocommit=True) as conn:
            for name in self.created:
                _drop(conn, name)


def _drop(conn: psycopg.Connection, name: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


EMBEDDED = pytest.StashKey[tuple[EmbeddedPostgres, str]]()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Once per run, before any xdist worker starts (they inherit the environment): the roles'
    password, and an embedded PostgreSQL when TEST_DATABASE_URL names none."""
    if is_xdist_worker(session.config):
        return
    for package in ("app", "migrations"):  # what child processes import, compiled once
        compileall.compile_dir(Path(__file__).parents[1] / package, quiet=1)
    os.environ.setdefault(ROLE_PASSWORD, random_password())
    # Webhook URLs are vetted by resolving their host. A resolver that drops a query makes
    # glibc wait 5 s before asking again (seen under schemathesis: `ats.example.com`, twice a
    # run); every process of the run asks again after 1 s instead.
    os.environ.setdefault("RES_OPTIONS", "timeout:1 attempts:3")
    if not os.environ.get("TEST_DATABASE_URL"):
        tmp = tempfile.mkdtemp(prefix="afterview-test-")
        server = EmbeddedPostgres(Path(tmp)).start()
        session.config.stash[EMBEDDED] = (server, tmp)
        os.environ["TEST_DATABASE_URL"] = server.superuser_url()
        # A cluster that lives for one run need not survive a power cut: commits and the
        # checkpoints of CREATE/DROP DATABASE stop waiting for the disk.
        with psycopg.connect(server.superuser_url(), autocommit=True) as conn:
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                conn.execute(f"ALTER SYSTEM SET {setting} = off")
            conn.execute("SELECT pg_reload_conf()")


def pytest_unconfigure(config: pytest.Config) -> None:
    # The interpreter's last collections at exit would walk everything the run made (seconds
    # per xdist worker, which the run waits for): frozen objects are left to the OS.
    gc.freeze()
    if (embedded := config.stash.get(EMBEDDED, None)) is not None:
        server, tmp = embedded
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        del os.environ["TEST_DATABASE_URL"]


@pytest.fixture(scope="session")
def test_database() -> Iterator[TestDatabase]:
    db = TestDatabase(os.environ["TEST_DATABASE_URL"])
    try:
        yield db
    finally:
        db.drop_all()


@pytest.fixture(scope="session")
def database_urls(test_database: TestDatabase) -> DatabaseUrls:
    urls = test_database.create()
    migrate(urls.owner, TEST_RUNTIME)
    return urls


@pytest.fixture(scope="session")
async def engine(database_urls: DatabaseUrls) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_urls.runtime, pool_size=5, max_overflow=5)
    yield engine
    await engine.dispose()


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """In this process only, argon2id at its lowest cost: every test logs in, and the
    production profile costs about 0.3 s a hash. `afterview` child processes, and the test of
    the production parameters (tests/test_auth.py), use the real one."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", cheap)
        yield


@dataclass(frozen=True)
class RunLock:
    """This xdist worker's connection, and the advisory lock of this run (its workers only)."""

    connection: psycopg.Connection
    key: int


@pytest.fixture(scope="session")
def run_lock(
    request: pytest.FixtureRequest, test_database: TestDatabase
) -> Iterator[RunLock | None]:
    if not is_xdist_worker(request.config):
        yield None
        return
    run_id: str = request.config.workerinput["testrunuid"]  # type: ignore[attr-defined]
    with psycopg.connect(test_database.superuser_url, autocommit=True) as conn:
        yield RunLock(conn, int(run_id[:15], 16))


@pytest.fixture(autouse=True)
def alone_if_it_reads_the_event_horizon(
    request: pytest.FixtureRequest, run_lock: RunLock | None
) -> Iterator[None]:
    """The event feed serves only events older than every transaction running in the cluster
    (so it never skips one). A test marked `horizon` reads it right after writing, so it runs
    while no other xdist worker runs a test: they hold the lock shared, it holds it alone."""
    if run_lock is None:
        yield
        return
    mode = "" if request.node.get_closest_marker("horizon") else "_shared"
    run_lock.connection.execute(f"SELECT pg_advisory_lock{mode}(%s)", (run_lock.key,))
    try:
        yield
    finally:
        run_lock.connection.execute(f"SELECT pg_advisory_unlock{mode}(%s)", (run_lock.key,))


@pytest.fixture(autouse=True)
async def no_login_failures(engine: AsyncEngine) -> None:
    """Failed logins count across requests (per account and per client address, and every test
    client logs in from the same address): each test starts with none counted."""
    async with engine.begin() as connection:
        await connection.execute(delete(LoginFailure))


@pytest.fixture(scope="session")
def session_clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def clock(session_clock: FixedClock) -> FixedClock:
    """The app's clock, set to now (to the second) for each test."""
    session_clock.set(datetime.now(UTC).replace(microsecond=0))
    return session_clock


def build_app(engine: AsyncEngine, clock: FixedClock, urls: DatabaseUrls) -> FastAPI:
    settings = Settings(database_url=urls.runtime, public_url="http://afterview.test")
    return wear_problem_log(create_app(settings, engine=engine, jwt_secret=JWT_SECRET, clock=clock))


@pytest.fixture(scope="session")
def shared_app(
    engine: AsyncEngine, session_clock: FixedClock, database_urls: DatabaseUrls
) -> FastAPI:
    return build_app(engine, session_clock, database_urls)


@pytest.fixture
def app(shared_app: FastAPI, clock: FixedClock) -> FastAPI:
    """One app for the session (FastAPI prepares each route once per app, on its first request:
    a new app per test paid that every time); `clock` has just been reset. A test that adds
    routes takes `fresh_app` instead."""
    return shared_app


@pytest.fixture
def fresh_app(engine: AsyncEngine, clock: FixedClock, database_urls: DatabaseUrls) -> FastAPI:
    """An app of the test's own, on the same database and clock."""
    return build_app(engine, clock, database_urls)


SLOW_FIRST = (
    "tests/test_schemathesis.py",
    "tests/delivery/test_worker_processes.py",
    "tests/test_docs_browser.py",
    "tests/test_cli.py",
    "tests/test_rate_limits.py",
    "tests/test_generated_client.py",
    "tests/test_demo.py",
    "tests/test_metrics.py",
    "tests/test_outage.py",
    "tests/test_redis_limits.py",
    "tests/test_cli_signals.py",
    "tests/test_feedback_browser.py",
)
"""Modules of long tests (mostly child processes), longest first: started first, they overlap
with the rest under pytest-xdist instead of finishing last."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("horizon"):
            return -1  # before any long test: under xdist they wait for every other to end
        module = item.nodeid.split("::", 1)[0]
        return SLOW_FIRST.index(module) if module in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: each module keeps its order


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The suite fails when a route answered a problem its OpenAPI entry does not declare
    (an xdist worker hands its findings to the controller, which reports them all)."""
    config = session.config
    if is_xdist_worker(config):
        config.workeroutput["undeclared"] = [asdict(a) for a in undeclared()]  # type: ignore[attr-defined]
        return
    missing = sorted({*undeclared(), *config.stash.get(WORKERS_UNDECLARED, set())})
    if missing:
        lines = "\n".join(f"  {a.method} {a.path} -> {a.status} {a.slug}" for a in missing)
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"Problems answered but not declared in OpenAPI:\n{lines}", red=True
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


WORKERS_UNDECLARED = pytest.StashKey[set[Answer]]()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist: a worker finished; keep what it found undeclared."""
    found = node.workeroutput.get("undeclared", [])
    node.config.stash.setdefault(WORKERS_UNDECLARED, set()).update(Answer(**a) for a in found)


@pytest.fixture
async def anon(app: FastAPI) -> AsyncIterator[AsyncClient]:
    async with new_client(app) as client:
        yield client


@pytest.fixture
async def agency_a(app: FastAPI, clock: FixedClock) -> AsyncIterator[Tenant]:
    async with make_tenant(app, clock, "Agency A") as tenant:
        yield tenant


@pytest.fixture
async def agency_b(app: FastAPI, clock: FixedClock) -> AsyncIterator[Tenant]:
    async with make_tenant(app, clock, "Agency B") as tenant:
        yield tenant
