"""A database of its own with a seeded demo agency (as on the first embedded start)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import create_engine
from app.core.provision import DatabaseUrls, migrate
from app.core.settings import Settings
from app.demo.data import DEMO_ADMIN_EMAIL
from app.demo.seed import seed_demo

if TYPE_CHECKING:
    from tests.conftest import TestDatabase

DEMO_PASSWORD = "demo-password-for-tests"
# As `afterview serve` runs the embedded demo: webhooks may go to a receiver on this machine.
DEMO_SETTINGS = Settings(webhooks_allow_private=True, rate_limit_per_minute=100_000)


_TEMPLATES: dict[str, str] = {}
"""The seeded template database of this process, by server: seeding takes seconds, a copy not."""


@asynccontextmanager
async def seeded_demo(
    test_database: "TestDatabase", runtime_role: str, jwt_secret: str
) -> AsyncIterator[tuple[DatabaseUrls, AsyncEngine]]:
    """A new database with the demo seeded in it (a copy of one seeded, migrated database)."""
    template = _TEMPLATES.get(test_database.superuser_url)
    if template is None:
        urls = test_database.create("afterview_demo_template")
        migrate(urls.owner, runtime_role)
        seeding = create_engine(urls.runtime, pool_size=3, max_overflow=2)
        try:
            await seed_demo(seeding, DEMO_SETTINGS, jwt_secret, DEMO_ADMIN_EMAIL, DEMO_PASSWORD)
        finally:
            await seeding.dispose()  # a template takes no connections
        template = _TEMPLATES[test_database.superuser_url] = str(make_url(urls.owner).database)
    urls = test_database.clone(template, "afterview_demo")
    engine = create_engine(urls.runtime, pool_size=3, max_overflow=2)
    try:
        yield urls, engine
    finally:
        await engine.dispose()
