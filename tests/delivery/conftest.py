"""Delivery tests get a database of their own each: the worker claims due work across every
agency, so another test's queued messages must not be in the room. Each database is copied from
a migrated template (fast), and dropped afterwards."""

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FixedClock
from app.core.db import create_engine
from app.core.provision import DatabaseUrls, migrate
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET, TEST_RUNTIME, TestDatabase
from tests.support.problem_log import wear_problem_log


@pytest.fixture(scope="package")
def template_urls(test_database: TestDatabase) -> DatabaseUrls:
    urls = test_database.create("afterview_delivery_template")
    migrate(urls.owner, TEST_RUNTIME)
    return urls


@pytest.fixture
def database_urls(
    test_database: TestDatabase, template_urls: DatabaseUrls
) -> Iterator[DatabaseUrls]:
    template = make_url(template_urls.owner).database
    urls = test_database.clone(str(template), "afterview_delivery")
    yield urls
    test_database.drop(str(make_url(urls.owner).database))


@pytest.fixture
async def engine(database_urls: DatabaseUrls) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_urls.runtime, pool_size=5, max_overflow=10)
    yield engine
    await engine.dispose()


@pytest.fixture
def app(engine: AsyncEngine, clock: FixedClock, database_urls: DatabaseUrls) -> FastAPI:
    """The app as the other tests have it, except that webhooks may go to loopback (where the
    tests' receiver listens)."""
    settings = Settings(
        database_url=database_urls.runtime,
        public_url="http://afterview.test",
        webhooks_allow_private=True,
    )
    return wear_problem_log(create_app(settings, engine=engine, jwt_secret=JWT_SECRET, clock=clock))
