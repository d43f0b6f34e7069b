"""A served process moves what start-up made out of the collector's reach (issue 11): unfrozen,
a full collection scanned the whole app and paused every request in flight for 100-130 ms."""

import gc
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.provision import DatabaseUrls
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process keeps collecting what its apps leave behind…
    gc.collect()  # …and pays for the full collection that follows now, not in a later test


def _settings(urls: DatabaseUrls) -> Settings:
    return Settings(database_url=urls.runtime, public_url="http://afterview.test")


async def test_a_served_app_freezes_what_start_up_made(
    unfrozen: None, database_urls: DatabaseUrls
) -> None:
    app = create_app(_settings(database_urls), jwt_secret=JWT_SECRET, run_worker=False)
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000  # modules, routes, schemas, mappers
        assert app.state.engine is not None


async def test_an_app_given_its_engine_leaves_the_collector_alone(
    unfrozen: None, database_urls: DatabaseUrls, engine: AsyncEngine
) -> None:
    app = create_app(_settings(database_urls), engine=engine, jwt_secret=JWT_SECRET)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() == 0
