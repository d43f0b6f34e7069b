"""Step 3: the candidate's decision, the client's outcome, and reopening a closed application."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.service import (
    applications,
    client_contact_for,
    message_context,
    open_application,
)
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import (
    ApplicationOpen,
    FeedbackRequestExists,
    InterviewNotFinished,
    NotFound,
    ReferenceNotFound,
)
from app.core.events import record_event
from app.core.records import any_exists
from app.core.timestamps import touch
from app.decisions.schemas import DecisionRead, DecisionWrite, OutcomeWrite
from app.feedback import service as feedback
from app.feedback.links import FeedbackLinks
from app.follow_ups import service as follow_ups
from app.heads_ups import service as heads_ups
from app.messages import service as messages
from app.models import (
    Application,
    ApplicationStatus,
    Decision,
    DecisionKind,
    Interview,
    MessageKind,
    OutcomeKind,
    RecipientType,
)

OUTCOME_STATUS = {
    OutcomeKind.offer: ApplicationStatus.offer,
    OutcomeKind.unsuccessful: ApplicationStatus.unsuccessful,
    OutcomeKind.placed: ApplicationStatus.placed,
}


async def get_decision(
    session: AsyncSession, principal: Principal, application_id: UUID
) -> tuple[Decision, Application]:
    application = await applications.get(session, principal, application_id)
    found = await _decision_of(session, principal, application_id)
    if found is None:
        raise NotFound("No decision is recorded for that application yet.")
    return found, application


async def record_decision(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    application_id: UUID,
    data: DecisionWrite,
) -> tuple[Decision, Application]:
    application = await open_application(session, principal, application_id)
    await _ensure_an_interview_ended(session, principal, clock, application)
    now = clock.now()
    decision = await _decision_of(session, principal, application_id)
    if decision is None:
        decision = Decision(
            agency_id=principal.agency_id,
            application_id=application.id,
            created_at=now,
            decision=data.decision,
            decided_at=now,
        )
        session.add(decision)
    decision.decision, decision.reason = data.decision, data.reason
    decision.open_questions = list(data.open_questions)
    decision.decided_at = now
    touch(decision, now)
    await session.flush()
    record_event(
        session,
        principal,
        clock,
        "decision.recorded",
        decision.id,
        snapshot=DecisionRead.of(decision, application),
        application_id=application.id,
        decision=data.decision.value,
    )
    if data.decision == DecisionKind.withdraw:
        await _withdraw(session, principal, clock, application, now)
    return decision, application


async def record_outcome(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    application_id: UUID,
    data: OutcomeWrite,
    links: FeedbackLinks,
) -> tuple[Application, list[str]]:
    """Record the client's outcome; returns the open questions to raise when it is an offer."""
    application = await open_application(session, principal, application_id)
    now = clock.now()
    application.status = OUTCOME_STATUS[data.outcome]
    application.outcome_note = data.note
    if not application.is_open:
        application.closed_at = now
    touch(application, now)
    await session.flush()
    outcome = data.outcome.value
    applications.event(session, principal, clock, "outcome_recorded", application, outcome=outcome)
    if not application.is_open:  # the candidate's link would open a closed application
        await messages.cancel_queued(
            session, principal, clock, application.id, [MessageKind.candidate_link]
        )
    if data.outcome == OutcomeKind.unsuccessful:
        await _ask_for_feedback(session, principal, clock, links, application)
    decision = await _decision_of(session, principal, application_id)
    unsure = decision is not None and decision.decision == DecisionKind.unsure
    questions = list(decision.open_questions) if unsure and decision else []
    return application, questions if data.outcome == OutcomeKind.offer else []


async def _ask_for_feedback(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    links: FeedbackLinks,
    application: Application,
) -> None:
    """An unsuccessful outcome asks the client for feedback at once, when there is a contact
    to ask (otherwise a consultant names one with POST …/feedback-request)."""
    try:
        async with session.begin_nested():
            await feedback.request_feedback(session, principal, clock, links, application.id)
    except ReferenceNotFound:  # nobody to ask yet
        pass
    except FeedbackRequestExists:  # reopened and unsuccessful again: the first request stands
        pass


async def reopen(
    session: AsyncSession, principal: Principal, clock: Clock, application_id: UUID, reason: str
) -> Application:
    """Reopening is explicit and recorded: status back to active, with who and why."""
    application = await applications.get(session, principal, application_id)
    if application.is_open:
        raise ApplicationOpen(f"The application is {application.status}, not closed.")
    previous = str(application.status)
    application.status, application.closed_at = ApplicationStatus.active, None
    touch(application, clock.now())
    await session.flush()
    applications.event(
        session, principal, clock, "reopened", application, previous_status=previous, reason=reason
    )
    return application


async def _decision_of(
    session: AsyncSession, principal: Principal, application_id: UUID
) -> Decision | None:
    found: Decision | None = await session.scalar(
        select(Decision).where(
            Decision.agency_id == principal.agency_id, Decision.application_id == application_id
        )
    )
    return found


async def _ensure_an_interview_ended(
    session: AsyncSession, principal: Principal, clock: Clock, application: Application
) -> None:
    ended = await any_exists(
        session,
        Interview.agency_id == principal.agency_id,
        Interview.application_id == application.id,
        Interview.has_ended(clock.now()),
    )
    if not ended:
        raise InterviewNotFinished("A decision follows an interview that has ended.")


async def _withdraw(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    application: Application,
    now: datetime,
) -> None:
    """Close the application, have each step cancel what is pending for it, thank the
    client."""
    application.status, application.closed_at = ApplicationStatus.withdrawn, now
    touch(application, now)
    await heads_ups.cancel_pending(session, principal, clock, application.id)
    await messages.cancel_queued(session, principal, clock, application.id)
    await follow_ups.cancel_pending(session, principal, clock, application.id)
    # A reopened, once-unsuccessful application may still be chasing feedback.
    await feedback.expire_open(session, principal, clock, application.id)
    await session.flush()
    applications.event(session, principal, clock, "withdrawn", application)
    contact = await client_contact_for(session, principal, application, clock.now())
    if contact is not None:
        context = await message_context(session, principal, application)
        await messages.queue_message(
            session,
            principal,
            clock,
            MessageKind.withdrawal_note,
            messages.Recipient(RecipientType.contact, contact.id, contact.email, contact.name),
            context,
            # One note per withdrawal: a reopened application withdrawn again thanks again.
            dedupe_key=f"withdrawal_note:{application.id}:{now.isoformat()}",
            application_id=application.id,
            related={"contact_id": str(contact.id)},
        )
