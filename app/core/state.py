"""What the app holds for its requests (`app.state`), typed: read it through `state_of` or the
dependencies below, never as `request.app.state.<name>`."""

from typing import Annotated, Protocol, cast

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from app.core.clock import Clock
from app.core.limit_store import LimitStore
from app.core.settings import Settings


class AppState(Protocol):
    """Set by `create_app` (the engine, sessions and limits at start-up when it owns them)."""

    settings: Settings
    clock: Clock
    jwt_secret: str
    """The server secret: signs access tokens and links, keys idempotency hashes and the
    webhook secrets' encryption."""
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    limits: LimitStore


def state_of(app: Starlette) -> AppState:
    return cast(AppState, app.state)


async def _state(request: Request) -> AppState:
    return state_of(request.app)


async def _settings(request: Request) -> Settings:
    return state_of(request.app).settings


StateDep = Annotated[AppState, Depends(_state)]
SettingsDep = Annotated[Settings, Depends(_settings)]
