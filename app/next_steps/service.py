"""Step 1: next steps and the decision timeframe, recorded once the interview has ended."""

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import ValidationFailed
from app.core.etag import ensure_match
from app.core.events import record_event
from app.core.records import step_of
from app.core.timestamps import touch
from app.interviews.service import finished_interview, recorded_step
from app.models import NextSteps
from app.next_steps.schemas import NextStepsRead, NextStepsWrite


async def get_next_steps(
    session: AsyncSession, principal: Principal, interview_id: UUID
) -> NextSteps:
    missing = "No next steps are recorded for that interview yet."
    return await recorded_step(session, principal, NextSteps, interview_id, missing)


async def record_next_steps(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    interview_id: UUID,
    data: NextStepsWrite,
    if_match: str | None,
) -> tuple[NextSteps, bool]:
    """Record (or correct) an interview's next steps; True when first recorded."""
    interview, application = await finished_interview(session, principal, clock, interview_id)
    if data.decision_expected_by <= interview.ends_at:
        raise ValidationFailed.at_field("decision_expected_by", "must be after the interview ended")
    now = clock.now()
    steps = await step_of(session, principal, NextSteps, interview_id)
    created = steps is None
    if steps is None:
        steps = NextSteps(
            agency_id=principal.agency_id,
            interview_id=interview.id,
            application_id=application.id,
            created_at=now,
            **data.model_dump(),
        )
        session.add(steps)
    else:
        ensure_match(if_match, steps.version, required=False)
        for name, value in data.model_dump().items():
            setattr(steps, name, value)
    touch(steps, now)
    await session.flush()
    record_event(
        session,
        principal,
        clock,
        "next_steps.recorded" if created else "next_steps.updated",
        steps.id,
        snapshot=NextStepsRead.model_validate(steps),
        application_id=application.id,
        interview_id=str(interview.id),
    )
    return steps, created
