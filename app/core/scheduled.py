"""Claiming one run of a periodic job, for one agency and period, however many workers race."""

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.ids import new_id
from app.models import ScheduledRun


async def claim_run(
    session: AsyncSession, principal: Principal, job: str, period: str, now: datetime
) -> bool:
    """Whether this transaction is the one to run `job` for `period`: its row is inserted
    first, so a racing worker waits for this transaction and then finds the period taken (or,
    if this one rolls back, takes it)."""
    claimed = await session.scalar(
        insert(ScheduledRun)
        .values(agency_id=principal.agency_id, id=new_id(), job=job, period=period, ran_at=now)
        .on_conflict_do_nothing(index_elements=["agency_id", "job", "period"])
        .returning(ScheduledRun.id)
    )
    return claimed is not None
