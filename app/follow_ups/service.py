"""Step 4: the thank-you follow-up, agency first.

    not_started --agency-thanks--> agency_thanked --request--> direct_requested
    direct_requested --approve--> direct_approved | --decline--> direct_declined
    any thanked state --send(via_agency)--> sent;  direct_approved --send(direct)--> sent

Only when the candidate's decision is `want`; exactly one follow-up per interview (the row is
locked, so racing sends queue and the second finds it sent).
"""

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.agency.service import get_agency
from app.applications.service import message_context
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.due import FOLLOW_UP
from app.core.errors import (
    AgencyFirstRequired,
    DecisionNotWant,
    DirectContactNotApproved,
    FollowUpAlreadySent,
    FollowUpTooLong,
    FollowUpWrongState,
    Forbidden,
    NoConsultant,
)
from app.core.events import record_event
from app.core.records import reference_error, step_of
from app.core.timestamps import touch, update_rows
from app.follow_ups.schemas import FollowUpRead, FollowUpSend
from app.interviews.service import finished_interview, interviews
from app.messages.service import Recipient, messages_about, queue_message
from app.models import (
    Application,
    ClientContact,
    Debrief,
    DebriefQuestion,
    Decision,
    DecisionKind,
    FollowUp,
    FollowUpRoute,
    FollowUpState,
    Interview,
    Message,
    MessageKind,
    RecipientType,
    User,
)

THANKED = frozenset(
    {
        FollowUpState.agency_thanked,
        FollowUpState.direct_requested,
        FollowUpState.direct_approved,
        FollowUpState.direct_declined,
    }
)


def count_words(text: str) -> int:
    """The words of a note, as the agency's word limit counts them: runs of non-whitespace."""
    return len(text.split())


async def word_limit(session: AsyncSession, principal: Principal) -> int:
    return (await get_agency(session, principal)).follow_up_max_words


async def current(
    session: AsyncSession, principal: Principal, interview_id: UUID
) -> tuple[FollowUp | None, Interview, datetime, int]:
    """The follow-up (None before it starts), its interview, when it is due, the word limit."""
    interview = await interviews.get(session, principal, interview_id)
    agency = await get_agency(session, principal)
    follow_up = await step_of(session, principal, FollowUp, interview_id)
    return follow_up, interview, FOLLOW_UP.at(interview.ends_at, agency), agency.follow_up_max_words


async def deliveries(
    session: AsyncSession, principal: Principal, follow_up: FollowUp | None
) -> list[Message]:
    """The emails a sent follow-up was queued as, with their delivery status."""
    if follow_up is None or follow_up.state != FollowUpState.sent:
        return []
    return await messages_about(
        session, principal, follow_up.application_id, ("follow_up_id", follow_up.id)
    )


async def thank_agency(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    interview_id: UUID,
    note: str | None,
) -> FollowUp:
    interview, application = await _ready(session, principal, clock, interview_id)
    follow_up = await step_of(session, principal, FollowUp, interview_id, lock=True)
    if follow_up is not None:
        _refuse_sent(follow_up)
        raise FollowUpWrongState("The candidate already thanked the agency.")
    now = clock.now()
    follow_up = FollowUp(
        agency_id=principal.agency_id,
        interview_id=interview.id,
        application_id=application.id,
        state=FollowUpState.agency_thanked,
        due_at=FOLLOW_UP.at(interview.ends_at, await get_agency(session, principal)),
        agency_thanked_at=now,
        agency_thanks_note=note,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():  # racing thanks: the second insert meets the first
            session.add(follow_up)
            await session.flush()
    except IntegrityError:
        raise FollowUpWrongState("The candidate already thanked the agency.") from None
    await _event(session, principal, clock, "follow_up.agency_thanked", follow_up)
    return follow_up


async def request_direct_contact(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    interview_id: UUID,
    reason: str | None,
    draft: FollowUpSend | None = None,
) -> FollowUp:
    """Ask for direct contact; with `draft` (the note the candidate wrote through their link),
    the note itself waits for the consultant, checked as a send checks it (word limit, the
    half-answered question). Nothing is sent: the consultant approves, then sends it as
    drafted or edited, or sends it via the agency."""
    follow_up, _ = await _thanked(session, principal, clock, interview_id)
    if follow_up.state != FollowUpState.agency_thanked:
        raise FollowUpWrongState(f"The follow-up is {follow_up.state}.")
    now = clock.now()
    if draft is not None:
        follow_up.word_count = await _checked_words(session, principal, interview_id, draft)
        follow_up.subject, follow_up.body = draft.subject, draft.body
        follow_up.links = [str(link) for link in draft.links]
        follow_up.answers_question_id = draft.answers_question_id
    follow_up.state, follow_up.direct_requested_at = FollowUpState.direct_requested, now
    follow_up.direct_request_reason = reason
    touch(follow_up, now)
    await session.flush()
    await _event(session, principal, clock, "follow_up.direct_contact_requested", follow_up)
    return follow_up


async def decide_direct_contact(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    interview_id: UUID,
    *,
    approve: bool,
    reason: str | None = None,
) -> FollowUp:
    """The consultant approves a direct note, or declines it (the note then goes via us)."""
    await interviews.get(session, principal, interview_id)  # another agency's: 404 first
    if not principal.is_person:
        raise Forbidden("A consultant decides on direct contact, not an integration.")
    follow_up, _ = await _thanked(session, principal, clock, interview_id)
    if follow_up.state != FollowUpState.direct_requested:
        raise FollowUpWrongState(
            f"There is no pending request; the follow-up is {follow_up.state}."
        )
    now = clock.now()
    follow_up.state = FollowUpState.direct_approved if approve else FollowUpState.direct_declined
    follow_up.direct_decided_at, follow_up.direct_decided_by = now, principal.user_id
    follow_up.direct_decline_reason = None if approve else reason
    touch(follow_up, now)
    await session.flush()
    verb = "approved" if approve else "declined"
    await _event(session, principal, clock, f"follow_up.direct_contact_{verb}", follow_up)
    return follow_up


async def send(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    interview_id: UUID,
    data: FollowUpSend,
) -> FollowUp:
    follow_up, application = await _thanked(session, principal, clock, interview_id)
    if data.route == FollowUpRoute.direct and follow_up.state != FollowUpState.direct_approved:
        raise DirectContactNotApproved(
            "Request direct contact and have it approved, or send it via_agency."
        )
    if data.route == FollowUpRoute.via_agency and not (
        application.consultant_id or principal.user_id
    ):
        raise NoConsultant("Set the application's consultant_id, or send On-Behalf-Of.")
    words = await _checked_words(session, principal, interview_id, data)
    now = clock.now()
    follow_up.state, follow_up.sent_at, follow_up.route = FollowUpState.sent, now, data.route
    follow_up.subject, follow_up.body = data.subject, data.body
    follow_up.links = [str(link) for link in data.links]
    follow_up.answers_question_id, follow_up.word_count = data.answers_question_id, words
    follow_up.on_time = now <= follow_up.due_at
    touch(follow_up, now)
    await session.flush()
    await _queue_note(session, principal, clock, follow_up, application)
    await _event(
        session,
        principal,
        clock,
        "follow_up.sent",
        follow_up,
        route=data.route.value,
        on_time=follow_up.on_time,
    )
    return follow_up


async def cancel_pending(
    session: AsyncSession, principal: Principal, clock: Clock, application_id: UUID
) -> list[FollowUp]:
    """Stop the application's follow-ups not yet sent (the candidate withdrew); each is
    recorded as `follow_up.cancelled`."""
    stopped = await update_rows(
        session,
        FollowUp,
        principal.agency_id,
        [
            FollowUp.application_id == application_id,
            FollowUp.state.not_in([FollowUpState.sent, FollowUpState.cancelled]),
        ],
        {"state": FollowUpState.cancelled},
        clock.now(),
    )
    for follow_up in stopped:
        await _event(session, principal, clock, "follow_up.cancelled", follow_up)
    return stopped


async def _ready(
    session: AsyncSession, principal: Principal, clock: Clock, interview_id: UUID
) -> tuple[Interview, Application]:
    """An ended interview of an open application whose candidate wants the job."""
    interview, application = await finished_interview(session, principal, clock, interview_id)
    decision = await session.scalar(
        select(Decision.decision).where(
            Decision.agency_id == principal.agency_id,
            Decision.application_id == application.id,
        )
    )
    if decision != DecisionKind.want:
        raise DecisionNotWant(f"The decision is {decision or 'not recorded'}.")
    return interview, application


async def _thanked(
    session: AsyncSession, principal: Principal, clock: Clock, interview_id: UUID
) -> tuple[FollowUp, Application]:
    """The follow-up, locked, once the agency was thanked and before it was sent."""
    _interview, application = await _ready(session, principal, clock, interview_id)
    follow_up = await step_of(session, principal, FollowUp, interview_id, lock=True)
    if follow_up is None:
        raise AgencyFirstRequired("Record the candidate's thanks to the agency first.")
    _refuse_sent(follow_up)
    if follow_up.state not in THANKED:
        raise FollowUpWrongState(f"The follow-up is {follow_up.state}.")
    return follow_up, application


async def _checked_words(
    session: AsyncSession, principal: Principal, interview_id: UUID, note: FollowUpSend
) -> int:
    """The note's words, within the agency's limit; its answer, to a half-answered question."""
    agency = await get_agency(session, principal)
    words = count_words(note.body)
    if words > agency.follow_up_max_words:
        raise FollowUpTooLong(
            f"The note has {words} words; the limit is {agency.follow_up_max_words}.",
            word_count=words,
            word_limit=agency.follow_up_max_words,
        )
    if note.answers_question_id is not None:
        await _ensure_half_answered(session, principal, interview_id, note.answers_question_id)
    return words


def _refuse_sent(follow_up: FollowUp) -> None:
    if follow_up.state == FollowUpState.sent:
        raise FollowUpAlreadySent("Exactly one follow-up per interview.")


async def _ensure_half_answered(
    session: AsyncSession, principal: Principal, interview_id: UUID, question_id: UUID
) -> None:
    found = await session.scalar(
        select(DebriefQuestion.id)
        .join(
            Debrief,
            (Debrief.agency_id == DebriefQuestion.agency_id)
            & (Debrief.id == DebriefQuestion.debrief_id),
        )
        .where(
            DebriefQuestion.agency_id == principal.agency_id,
            DebriefQuestion.id == question_id,
            DebriefQuestion.half_answered,
            Debrief.interview_id == interview_id,
        )
    )
    if found is None:
        raise reference_error(
            "answers_question_id", "not a question this interview's debrief marked half-answered"
        )


async def _queue_note(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    follow_up: FollowUp,
    application: Application,
) -> None:
    """Direct: to each interviewer. Via the agency: to the consultant, for forwarding."""
    context = {
        **await message_context(session, principal, application),
        "subject": follow_up.subject or "",
        "body": follow_up.body or "",
        "links": list(follow_up.links),
    }
    related = {"interview_id": str(follow_up.interview_id), "follow_up_id": str(follow_up.id)}
    for recipient, kind in await _recipients(session, principal, follow_up, application):
        await queue_message(
            session,
            principal,
            clock,
            kind,
            recipient,
            context,
            dedupe_key=f"follow_up:{follow_up.interview_id}:{recipient.id}",
            application_id=application.id,
            related=related,
        )


async def _recipients(
    session: AsyncSession, principal: Principal, follow_up: FollowUp, application: Application
) -> list[tuple[Recipient, MessageKind]]:
    if follow_up.route == FollowUpRoute.direct:
        interview = await interviews.get(session, principal, follow_up.interview_id)
        contacts = await session.scalars(
            select(ClientContact).where(
                ClientContact.agency_id == principal.agency_id,
                ClientContact.id.in_(interview.interviewer_ids),
            )
        )
        return [
            (Recipient(RecipientType.contact, c.id, c.email, c.name), MessageKind.follow_up_direct)
            for c in contacts
        ]
    consultant = await session.scalar(
        select(User).where(
            User.agency_id == principal.agency_id,
            User.id == (application.consultant_id or principal.user_id),
        )
    )
    if consultant is None:
        return []
    return [
        (
            Recipient(RecipientType.user, consultant.id, consultant.email, consultant.name),
            MessageKind.follow_up_via_agency,
        )
    ]


async def read_of(
    session: AsyncSession, principal: Principal, clock: Clock, follow_up: FollowUp
) -> FollowUpRead:
    """The follow-up as `GET …/follow-up` answers it."""
    limit = await word_limit(session, principal)
    messages = await deliveries(session, principal, follow_up)
    return FollowUpRead.of(
        follow_up, follow_up.interview_id, follow_up.due_at, limit, clock.now(), messages
    )


async def _event(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    event_type: str,
    follow_up: FollowUp,
    **data: object,
) -> None:
    record_event(
        session,
        principal,
        clock,
        event_type,
        follow_up.id,
        snapshot=await read_of(session, principal, clock, follow_up),
        application_id=follow_up.application_id,
        interview_id=str(follow_up.interview_id),
        **data,
    )
