"""Creating, and rebuilding, the demo agency."""

import secrets
from dataclasses import dataclass

import psycopg
from psycopg import sql

from app.agency.service import agency_count, create_agency
from app.core.clock import SystemClock
from app.core.db import create_engine, session_factory
from app.core.ids import planned_ids
from app.core.settings import Settings
from app.demo import ids
from app.demo.data import AGENCY_NAME, DEMO_ADMIN_EMAIL
from app.demo.seed import seed_demo
from app.models import Base


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    generated: bool
    """True when the password was made up now (shown once); False when it is the setting's."""


def demo_login(settings: Settings) -> DemoLogin:
    email = settings.demo_email or DEMO_ADMIN_EMAIL
    if settings.demo_password is not None:
        return DemoLogin(email, settings.demo_password.get_secret_value(), generated=False)
    return DemoLogin(email, secrets.token_urlsafe(12), generated=True)


async def create_demo(runtime_url: str, settings: Settings, jwt_secret: str) -> DemoLogin:
    """The demo agency with its month of history (or, with `AFTERVIEW_DEMO_DATA=false`, only
    its admin)."""
    login = demo_login(settings)
    engine = create_engine(runtime_url, pool_size=2, max_overflow=0)
    try:
        if settings.demo_data:
            await seed_demo(engine, settings, jwt_secret, login.email, login.password)
        else:
            with planned_ids(agency=ids.AGENCY, app_user=ids.ADMIN):
                await create_agency(
                    session_factory(engine),
                    SystemClock(),
                    AGENCY_NAME,
                    login.email,
                    login.password,
                    "Alex Morgan",
                )
    finally:
        await engine.dispose()
    return login


async def first_start(runtime_url: str, settings: Settings, jwt_secret: str) -> DemoLogin | None:
    """On the first start of an empty database: the demo agency. Later starts: nothing."""
    engine = create_engine(runtime_url, pool_size=1, max_overflow=0)
    try:
        async with session_factory(engine)() as session:
            if await agency_count(session):
                return None
    finally:
        await engine.dispose()
    return await create_demo(runtime_url, settings, jwt_secret)


def remove_demo(owner_url: str) -> int:
    """Delete the demo agency and every row it owns (as the owner, inside the agency's own
    row-level security scope, children before parents). Returns the rows deleted."""
    deleted = 0
    with psycopg.connect(owner_url) as conn:
        conn.execute("SELECT set_config('app.agency_id', %s, true)", [str(ids.AGENCY)])
        for table in reversed(Base.metadata.sorted_tables):
            column = "id" if table.name == "agency" else "agency_id"
            if column not in table.c:
                continue
            statement = sql.SQL("DELETE FROM {} WHERE {} = %s").format(
                sql.Identifier(table.name), sql.Identifier(column)
            )
            deleted += conn.execute(statement, [ids.AGENCY]).rowcount
    return deleted
