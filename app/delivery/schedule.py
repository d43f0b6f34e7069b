"""The schedule the worker runs by itself: feedback chases and link expiry, candidate links
for interviews just ended (agencies with `candidate_links` on), the daily digest,
the daily retention job (erasing candidates closed longer than `retention_days`), and sweeping
what has expired (idempotency keys, finished webhook deliveries, login failures, event
snapshots past the feed's retention).

Each due item is handled at most once however many workers run: chases lock their rows (SKIP
LOCKED) and carry one dedupe key each; a digest or retention day is claimed by inserting its
`scheduled_run` row; sweeps work in batches (a second sweeper finds the rows done)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import throttle
from app.candidate_links.links import CandidateLinks
from app.candidate_links.service import run_candidate_links
from app.core import rate_limits
from app.core.auth import Principal, worker_principal
from app.core.clock import Clock
from app.core.db import tenant_transaction
from app.core.ids import AgencyId
from app.data_rights.service import RETENTION_JOB, RETENTION_LOCAL_HOUR, apply_retention
from app.feedback.links import FeedbackLinks
from app.feedback.service import run_chases
from app.worklist.digest import DIGEST_JOB, DIGEST_LOCAL_HOUR, send_daily_digests

log = structlog.get_logger("afterview.schedule")

SWEEP_BATCH = 5_000
SCHEDULED_RUNS_KEPT = timedelta(days=30)
DEFAULT_EVENT_RETENTION = timedelta(days=30)
WEBHOOK_DELIVERIES_KEPT = timedelta(days=30)
"""Finished deliveries (and their attempts) are kept this long; the events stay in the feed."""


@dataclass
class ScheduleReport:
    chases: int = 0
    candidate_links: int = 0
    digests: int = 0
    idempotency_keys_swept: int = 0
    event_snapshots_purged: int = 0
    erased: int = 0
    failed_agencies: int = 0


async def run_schedule(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    links: FeedbackLinks,
    event_retention: timedelta = DEFAULT_EVENT_RETENTION,
) -> ScheduleReport:
    """One pass over everything due at `clock.now()`."""
    report = ScheduleReport()
    now = clock.now()

    async def chases(session: AsyncSession, principal: Principal, _day: str) -> int:
        return await run_chases(session, principal, clock, links)

    async def digests(session: AsyncSession, principal: Principal, day: str) -> int:
        return await send_daily_digests(session, principal, clock, day)

    async def retention(session: AsyncSession, principal: Principal, day: str) -> int:
        return await apply_retention(session, principal, clock, day)

    async def candidate_links(session: AsyncSession, principal: Principal, _day: str) -> int:
        signer = CandidateLinks(links.secret, links.base_url)
        return await run_candidate_links(session, principal, clock, signer)

    feedback_due = [(agency_id, "") for agency_id in await _feedback_due(sessions, now)]
    report.chases = await _per_agency(sessions, report, "feedback_chases", feedback_due, chases)
    links_due = [(agency_id, "") for agency_id in await _candidate_links_due(sessions, now)]
    report.candidate_links = await _per_agency(
        sessions, report, "candidate_links", links_due, candidate_links
    )
    due = await _due_days(sessions, now, DIGEST_LOCAL_HOUR, DIGEST_JOB)
    report.digests = await _per_agency(sessions, report, "daily_digest", due, digests)
    due = await _due_days(sessions, now, RETENTION_LOCAL_HOUR, RETENTION_JOB)
    report.erased = await _per_agency(sessions, report, "retention", due, retention)
    async with sessions() as session, session.begin():
        report.idempotency_keys_swept = int(
            await session.scalar(
                text("SELECT sweep_idempotency_keys(:at, :n)"), {"at": now, "n": SWEEP_BATCH}
            )
            or 0
        )
        await session.execute(
            text("SELECT sweep_scheduled_runs(:before, :n)"),
            {"before": now - SCHEDULED_RUNS_KEPT, "n": SWEEP_BATCH},
        )
        await session.execute(
            text("SELECT sweep_webhook_deliveries(:before, :n)"),
            {"before": now - WEBHOOK_DELIVERIES_KEPT, "n": SWEEP_BATCH},
        )
        await throttle.sweep(session, now)
        await rate_limits.sweep(session, now)
        report.event_snapshots_purged = int(
            await session.scalar(
                text("SELECT purge_event_snapshots(:before, :n)"),
                {"before": now - event_retention, "n": SWEEP_BATCH},
            )
            or 0
        )
    return report


async def _per_agency(
    sessions: async_sessionmaker[AsyncSession],
    report: ScheduleReport,
    job: str,
    due: list[tuple[AgencyId, str]],
    run: Callable[[AsyncSession, Principal, str], Awaitable[int]],
) -> int:
    """Run `job` for each due agency in its own transaction; one agency's failure is logged
    and does not stop the others. Returns the sum of what the runs return."""
    total = 0
    for agency_id, day in due:
        try:
            async with tenant_transaction(sessions, agency_id) as session:
                total += await run(session, worker_principal(agency_id), day)
        except Exception:  # one agency's bad data must not stop the others' schedule
            report.failed_agencies += 1
            log.exception(f"{job}_failed", agency_id=str(agency_id))
    return total


async def _feedback_due(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> list[AgencyId]:
    async with sessions() as session, session.begin():
        rows = await session.scalars(text("SELECT agencies_with_feedback_due(:at)"), {"at": now})
        return [AgencyId(agency_id) for agency_id in rows]


async def _candidate_links_due(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> list[AgencyId]:
    async with sessions() as session, session.begin():
        rows = await session.scalars(
            text("SELECT agencies_with_candidate_links_due(:at)"), {"at": now}
        )
        return [AgencyId(agency_id) for agency_id in rows]


async def _due_days(
    sessions: async_sessionmaker[AsyncSession], now: datetime, local_hour: int, job: str
) -> list[tuple[AgencyId, str]]:
    """Agencies whose local clock has passed `local_hour` on a day `job` has not run yet."""
    async with sessions() as session, session.begin():
        rows = await session.execute(
            text("SELECT agency_id, local_date FROM agencies_due_for_job(:at, :hour, :job)"),
            {"at": now, "hour": local_hour, "job": job},
        )
        return [(AgencyId(row.agency_id), row.local_date) for row in rows]
