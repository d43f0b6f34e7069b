"""Step 3: the candidate's decision, the client's outcome, and reopening a closed application."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.schemas import ApplicationRead
from app.applications.service import applications, client_contact_for, message_context
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import (
    ApplicationClosed,
    ApplicationOpen,
    FeedbackRequestExists,
    InterviewNotFinished,
    NotFound,
    ReferenceNotFound,
)
from app.core.events import record_event
from app.core.records import any_exists
from app.decisions.schemas import DecisionRead, DecisionWrite, OutcomeWrite
from app.feedback.links import FeedbackLinks
from app.feedback.schemas import event_snapshot as feedback_snapshot
from app.feedback.service import request_feedback
from app.follow_ups.service import read_of as follow_up_read
from app.messages.schemas import MessageRead
from app.messages.service import Recipient, queue_message
from app.models import (
    CLOSED_STATUSES,
    Application,
    ApplicationStatus,
    Decision,
    DecisionKind,
    FeedbackRequest,
    FeedbackState,
    FollowUp,
    FollowUpState,
    Interview,
    InterviewStatus,
    Message,
    MessageKind,
    MessageStatus,
    OutcomeKind,
    RecipientType,
)

OUTCOME_STATUS = {
    OutcomeKind.offer: ApplicationStatus.offer,
    OutcomeKind.unsuccessful: ApplicationStatus.unsuccessful,
    OutcomeKind.placed: ApplicationStatus.placed,
}


async def open_application(
    session: AsyncSession, principal: Principal, application_id: UUID
) -> Application:
    application = await applications.get(session, principal, application_id)
    if application.status in CLOSED_STATUSES:
        raise ApplicationClosed(f"The application is {application.status}; reopen it first.")
    return application


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
    decision.decided_at = decision.updated_at = now
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
    if application.status in CLOSED_STATUSES:
        application.closed_at = now
    application.updated_at = max(now, application.updated_at)
    await session.flush()
    record_event(
        session,
        principal,
        clock,
        "application.outcome_recorded",
        application.id,
        snapshot=ApplicationRead.model_validate(application),
        application_id=application.id,
        outcome=data.outcome.value,
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
            await request_feedback(session, principal, clock, links, application.id)
    except ReferenceNotFound:  # nobody to ask yet
        pass
    except FeedbackRequestExists:  # reopened and unsuccessful again: the first request stands
        pass


async def reopen(
    session: AsyncSession, principal: Principal, clock: Clock, application_id: UUID, reason: str
) -> Application:
    """Reopening is explicit and recorded: status back to active, with who and why."""
    application = await applications.get(session, principal, application_id)
    if application.status not in CLOSED_STATUSES:
        raise ApplicationOpen(f"The application is {application.status}, not closed.")
    previous = application.status
    application.status, application.closed_at = ApplicationStatus.active, None
    application.updated_at = max(clock.now(), application.updated_at)
    await session.flush()
    record_event(
        session,
        principal,
        clock,
        "application.reopened",
        application.id,
        snapshot=ApplicationRead.model_validate(application),
        application_id=application.id,
        previous_status=str(previous),
        reason=reason,
    )
    return application


async def _changed(
    session: AsyncSession, principal: Principal, model: Any, statement: Any
) -> list[Any]:
    """Run a bulk UPDATE of the agency's `model` rows; the rows it changed, as they are now."""
    ids = (
        await session.scalars(
            statement.returning(model.id).execution_options(synchronize_session=False)
        )
    ).all()
    if not ids:
        return []
    rows = await session.scalars(
        select(model)
        .where(model.agency_id == principal.agency_id, model.id.in_(ids))
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


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
        Interview.status == InterviewStatus.scheduled,
        Interview.ends_at <= clock.now(),
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
    """Close the application, cancel what is pending for it, thank the client."""
    application.status, application.closed_at = ApplicationStatus.withdrawn, now
    application.updated_at = max(now, application.updated_at)
    mine = (Message.agency_id == principal.agency_id, Message.application_id == application.id)
    cancelled = await _changed(
        session,
        principal,
        Message,
        update(Message)
        .where(*mine, Message.status == MessageStatus.queued)
        .values(status=MessageStatus.cancelled, next_attempt_at=None, updated_at=now),
    )
    for message in cancelled:
        record_event(
            session,
            principal,
            clock,
            "message.cancelled",
            message.id,
            snapshot=MessageRead.model_validate(message),
            application_id=application.id,
            kind=str(message.kind),
        )
    stopped = await _changed(
        session,
        principal,
        FollowUp,
        update(FollowUp)
        .where(
            FollowUp.agency_id == principal.agency_id,
            FollowUp.application_id == application.id,
            FollowUp.state.not_in([FollowUpState.sent, FollowUpState.cancelled]),
        )
        .values(state=FollowUpState.cancelled, updated_at=now, version=FollowUp.version + 1),
    )
    for follow_up in stopped:
        record_event(
            session,
            principal,
            clock,
            "follow_up.cancelled",
            follow_up.id,
            snapshot=await follow_up_read(session, principal, clock, follow_up),
            application_id=application.id,
            interview_id=str(follow_up.interview_id),
        )
    closed = await _changed(  # a reopened, once-unsuccessful application may still be chasing
        session,
        principal,
        FeedbackRequest,
        update(FeedbackRequest)
        .where(
            FeedbackRequest.agency_id == principal.agency_id,
            FeedbackRequest.application_id == application.id,
            FeedbackRequest.state.in_([FeedbackState.requested, FeedbackState.chased]),
        )
        .values(
            state=FeedbackState.expired,
            next_chase_at=None,
            updated_at=now,
            version=FeedbackRequest.version + 1,
        ),
    )
    for request in closed:
        record_event(
            session,
            principal,
            clock,
            "feedback.expired",
            request.id,
            snapshot=feedback_snapshot(request),
            application_id=application.id,
        )
    await session.flush()
    record_event(
        session,
        principal,
        clock,
        "application.withdrawn",
        application.id,
        snapshot=ApplicationRead.model_validate(application),
        application_id=application.id,
    )
    contact = await client_contact_for(session, principal, application, clock.now())
    if contact is not None:
        context = await message_context(session, principal, application)
        await queue_message(
            session,
            principal,
            clock,
            MessageKind.withdrawal_note,
            Recipient(RecipientType.contact, contact.id, contact.email, contact.name),
            context,
            # One note per withdrawal: a reopened application withdrawn again thanks again.
            dedupe_key=f"withdrawal_note:{application.id}:{now.isoformat()}",
            application_id=application.id,
            related={"contact_id": str(contact.id)},
        )
