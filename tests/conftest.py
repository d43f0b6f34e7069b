"""Test harness: a real PostgreSQL (embedded by default, or TEST_DATABASE_URL), migrated as the
owner; the app and every raw query connect as the runtime role, so RLS is really in force."""

import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

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
)
from app.core.settings import Settings
from app.main import create_app
from app.models import LoginFailure
from tests.support.problem_log import undeclared, wear_problem_log
from tests.support.tenants import Tenant, make_tenant, new_client

TEST_OWNER = "afterview_test_owner"
TEST_RUNTIME = "afterview_test_app"
JWT_SECRET = "test-" + secrets.token_urlsafe(32)
configure_logging(json_lines=True)
# No per-example deadline: the machine may be shared, and a slow example is not a wrong one.
hypothesis_settings.register_profile("afterview", deadline=None)
hypothesis_settings.load_profile("afterview")


class TestDatabase:
    """Where the tests' databases live, and how to make more of them (for migration tests)."""

    __test__ = False  # not a test class, despite the name

    def __init__(self, superuser_url: str) -> None:
        self.superuser_url = superuser_url
        self.password = random_password()
        self.created: list[str] = []

    def create(self, prefix: str = "afterview_test") -> DatabaseUrls:
        name = f"{prefix}_{secrets.token_hex(4)}"
        self.created.append(name)
        return ensure_roles_and_database(
            self.superuser_url, name, TEST_OWNER, TEST_RUNTIME, password=self.password
        )

    def drop_all(self) -> None:
        with psycopg.connect(self.superuser_url, autocommit=True) as conn:
            for name in self.created:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


@pytest.fixture(scope="session")
def test_database() -> Iterator[TestDatabase]:
    url = os.environ.get("TEST_DATABASE_URL")
    server: EmbeddedPostgres | None = None
    tmp: str | None = None
    if not url:
        tmp = tempfile.mkdtemp(prefix="afterview-test-")
        server = EmbeddedPostgres(Path(tmp)).start()
        url = server.superuser_url()
    db = TestDatabase(url)
    try:
        yield db
    finally:
        db.drop_all()
        if server is not None:
            server.stop()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


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
        patch.setattr(security, "_DUMMY_HASH", cheap.hash(secrets.token_urlsafe(16)))
        yield


@pytest.fixture(autouse=True)
async def no_login_failures(engine: AsyncEngine) -> None:
    """Failed logins count across requests (per account and per client address, and every test
    client logs in from the same address): each test starts with none counted."""
    async with engine.begin() as connection:
        await connection.execute(delete(LoginFailure))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def app(engine: AsyncEngine, clock: FixedClock, database_urls: DatabaseUrls) -> FastAPI:
    settings = Settings(database_url=database_urls.runtime, public_url="http://afterview.test")
    return wear_problem_log(create_app(settings, engine=engine, jwt_secret=JWT_SECRET, clock=clock))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The suite fails when a route answered a problem its OpenAPI entry does not declare."""
    if missing := undeclared():
        lines = "\n".join(f"  {a.method} {a.path} -> {a.status} {a.slug}" for a in missing)
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"Problems answered but not declared in OpenAPI:\n{lines}", red=True
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
