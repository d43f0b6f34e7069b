"""A database of its own with a freshly seeded demo agency (as on the first embedded start)."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import create_engine
from app.core.provision import DatabaseUrls, migrate
from app.core.settings import Settings
from app.demo.data import DEMO_ADMIN_EMAIL
from app.demo.seed import seed_demo

DEMO_PASSWORD = "demo-password-for-tests"
# As `afterview serve` runs the embedded demo: webhooks may go to a receiver on this machine.
DEMO_SETTINGS = Settings(webhooks_allow_private=True, rate_limit_per_minute=100_000)


@asynccontextmanager
async def seeded_demo(
    create_database: Callable[[str], DatabaseUrls], runtime_role: str, jwt_secret: str
) -> AsyncIterator[tuple[DatabaseUrls, AsyncEngine]]:
    """A new database (`create_database`), migrated, with the demo seeded in it."""
    urls = create_database("afterview_demo")
    migrate(urls.owner, runtime_role)
    engine = create_engine(urls.runtime, pool_size=3, max_overflow=2)
    try:
        await seed_demo(engine, DEMO_SETTINGS, jwt_secret, DEMO_ADMIN_EMAIL, DEMO_PASSWORD)
        yield urls, engine
    finally:
        await engine.dispose()
