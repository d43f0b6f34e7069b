"""Typed request dependencies: the database session, the clock and the settings."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.core.clock import Clock
from app.core.db import request_transaction
from app.core.errors import StaleEtag
from app.core.state import state_of


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request, committed before the response is sent
    (so a failed commit is an error response, never a false success)."""
    try:
        async with request_transaction(state_of(request.app).sessions) as session:
            yield session
    except StaleDataError as exc:
        raise StaleEtag("Someone else changed this object; read it again.") from exc


async def _clock(request: Request) -> Clock:
    return state_of(request.app).clock


SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
ClockDep = Annotated[Clock, Depends(_clock)]
