"""What a scrape reads from the database: the outbox's depth, across agencies."""

import asyncio

import structlog
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger("afterview.metrics")
DEPTH_TIMEOUT_SECONDS = 2.0
# A SECURITY DEFINER function (migration 0016): counts per status, nothing else, since the
# runtime role sees no message without an agency set.
_OUTBOX_DEPTH = text("SELECT status, messages FROM outbox_depth()")


async def outbox_depth(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int] | None:
    """Messages per status (queued, sending, failed); None when the database cannot say now
    (the scrape still answers, with `afterview_outbox_depth_up 0`)."""
    try:
        async with asyncio.timeout(DEPTH_TIMEOUT_SECONDS), sessions() as session:
            rows = (await session.execute(_OUTBOX_DEPTH)).all()
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        log.warning("outbox_depth_failed", error=f"{type(exc).__name__}: {exc}")
        return None
    return {str(row.status): int(row.messages) for row in rows}
