"""Step 6: feedback requests to the client for unsuccessful candidates.

    requested --chase--> chased --> received --release--> released;  or expired

`run_chases` is what a worker calls, with any `now`: it sends what is due and expires what is
past its link's life."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.agency.service import get_agency
from app.applications.service import applications, client_contact_for, message_context
from app.core.auth import Principal
from app.core.clock import Clock, add_local_days
from app.core.errors import (
    FeedbackAlreadyReceived,
    FeedbackNotReceived,
    FeedbackRequestExists,
    LinkClosed,
    NotFound,
    OutcomeNotUnsuccessful,
)
from app.core.events import record_event
from app.core.records import get_owned, reference_error, referenced
from app.core.timestamps import touch, update_rows
from app.feedback.links import FeedbackLinks
from app.feedback.schemas import FeedbackWrite, event_snapshot
from app.messages.service import Recipient, queue_message
from app.models import (
    Application,
    ApplicationStatus,
    Candidate,
    ClientContact,
    FeedbackRequest,
    FeedbackState,
    MessageKind,
    RecipientType,
    Vacancy,
)

OPEN_STATES = (FeedbackState.requested, FeedbackState.chased)
ANSWERED_STATES = (FeedbackState.received, FeedbackState.released)


async def get_request(
    session: AsyncSession, principal: Principal, application_id: UUID
) -> FeedbackRequest:
    await applications.get(session, principal, application_id)
    found = await _of_application(session, principal, application_id)
    if found is None:
        raise NotFound("No feedback was requested for that application.")
    return found


async def request_feedback(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    links: FeedbackLinks,
    application_id: UUID,
    contact_id: UUID | None = None,
) -> FeedbackRequest:
    application = await applications.get(session, principal, application_id)
    if application.status != ApplicationStatus.unsuccessful:
        raise OutcomeNotUnsuccessful(f"The application is {application.status}.")
    if await _of_application(session, principal, application_id) is not None:
        raise FeedbackRequestExists("One feedback request per application.")
    contact = await _contact(session, principal, application, contact_id, clock.now())
    agency = await get_agency(session, principal)
    now = clock.now()
    every, zone = agency.feedback_chase_after_days, agency.timezone
    request = FeedbackRequest(
        agency_id=principal.agency_id,
        application_id=application.id,
        contact_id=contact.id,
        state=FeedbackState.requested,
        requested_at=now,
        next_chase_at=add_local_days(now, every, zone) if agency.feedback_max_chases else None,
        expires_at=add_local_days(now, every * (agency.feedback_max_chases + 1), zone),
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(request)
            await session.flush()
    except IntegrityError:
        raise FeedbackRequestExists("One feedback request per application.") from None
    await _ask(
        session,
        principal,
        clock,
        links,
        request,
        application,
        contact,
        MessageKind.feedback_request,
        f"feedback_request:{request.id}",
    )
    _event(session, principal, clock, "feedback.requested", request)
    return request


async def run_chases(
    session: AsyncSession, principal: Principal, clock: Clock, links: FeedbackLinks
) -> int:
    """Chase every request of the agency that is due at `clock.now()`, and expire those past
    their link's life. Returns how many chases were queued. Safe to run again: each chase has
    its own dedupe key."""
    now = clock.now()
    due = await session.scalars(
        select(FeedbackRequest)
        .where(
            FeedbackRequest.agency_id == principal.agency_id,
            FeedbackRequest.state.in_(OPEN_STATES),
            (FeedbackRequest.next_chase_at <= now) | (FeedbackRequest.expires_at <= now),
        )
        .with_for_update(skip_locked=True)
    )
    agency = await get_agency(session, principal)
    chased = 0
    for request in due.all():
        if request.expires_at <= now:
            request.state, request.next_chase_at = FeedbackState.expired, None
            touch(request, now)
            _event(session, principal, clock, "feedback.expired", request)
            continue
        application, contact = await _parties(session, principal, request)
        await _ask(
            session,
            principal,
            clock,
            links,
            request,
            application,
            contact,
            MessageKind.feedback_chase,
            f"feedback_chase:{request.id}:{request.chases_sent + 1}",
        )
        request.chases_sent += 1
        request.state = FeedbackState.chased
        touch(request, now)
        more = request.chases_sent < agency.feedback_max_chases
        request.next_chase_at = (
            add_local_days(request.next_chase_at, agency.feedback_chase_after_days, agency.timezone)
            if more and request.next_chase_at
            else None
        )
        _event(session, principal, clock, "feedback.chased", request, chase=request.chases_sent)
        chased += 1
    await session.flush()
    return chased


async def record_feedback(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    request: FeedbackRequest,
    data: FeedbackWrite,
    submitted_by: str,
) -> FeedbackRequest:
    """Record the client's feedback, once. A consultant may still enter it after the request
    expired (a late reply by email); the expired link itself answers 410 before this."""
    if request.state in ANSWERED_STATES:
        raise FeedbackAlreadyReceived("The feedback was already recorded.")
    now = clock.now()
    request.state, request.received_at, request.submitted_by = (
        FeedbackState.received,
        now,
        submitted_by,
    )
    request.strengths, request.gaps, request.advice = data.strengths, data.gaps, data.advice
    request.next_chase_at = None
    touch(request, now)
    await session.flush()
    _event(session, principal, clock, "feedback.received", request, submitted_by=submitted_by)
    return request


def ensure_link_open(request: FeedbackRequest) -> None:
    """A link takes feedback only while its request is open: once the feedback is in, or the
    request was closed (expired, or the candidate withdrew), the link is gone (410)."""
    if request.state in ANSWERED_STATES:
        raise LinkClosed("Feedback for this request has already been received. Thank you.")
    if request.state not in OPEN_STATES:
        raise LinkClosed("This request has been closed, so no feedback is needed now.")


async def record_link_feedback(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    request: FeedbackRequest,
    data: FeedbackWrite,
) -> FeedbackRequest:
    """The client contact's feedback through the link: accepted while the request is open."""
    ensure_link_open(request)
    return await record_feedback(session, principal, clock, request, data, "client")


async def release(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    application_id: UUID,
    debrief_call: bool,
) -> FeedbackRequest:
    """After review, pass the feedback to the candidate (if they consented to contact)."""
    request = await get_request(session, principal, application_id)
    if request.state != FeedbackState.received:
        raise FeedbackNotReceived(f"The request is {request.state}.")
    application = await applications.get(session, principal, application_id)
    candidate = await session.scalar(
        select(Candidate).where(
            Candidate.agency_id == principal.agency_id, Candidate.id == application.candidate_id
        )
    )
    assert candidate is not None
    now = clock.now()
    context = {
        **await message_context(session, principal, application),
        "strengths": request.strengths or "",
        "gaps": request.gaps or "",
        "advice": request.advice or "",
    }
    await queue_message(
        session,
        principal,
        clock,
        MessageKind.feedback_release,
        Recipient.candidate(candidate),
        context,
        dedupe_key=f"feedback_release:{request.id}",
        application_id=application.id,
        related={"feedback_request_id": str(request.id)},
    )
    request.state, request.released_at = FeedbackState.released, now
    request.debrief_call = debrief_call
    touch(request, now)
    await session.flush()
    _event(session, principal, clock, "feedback.released", request, debrief_call=debrief_call)
    return request


async def expire_open(
    session: AsyncSession, principal: Principal, clock: Clock, application_id: UUID
) -> list[FeedbackRequest]:
    """Close the application's request while it is still asking (the candidate withdrew, so
    no feedback is needed and its link answers 410); each is recorded as `feedback.expired`."""
    closed = await update_rows(
        session,
        FeedbackRequest,
        principal.agency_id,
        [
            FeedbackRequest.application_id == application_id,
            FeedbackRequest.state.in_(OPEN_STATES),
        ],
        {"state": FeedbackState.expired, "next_chase_at": None},
        clock.now(),
    )
    for request in closed:
        _event(session, principal, clock, "feedback.expired", request)
    return closed


def _event(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    event_type: str,
    request: FeedbackRequest,
    **data: object,
) -> None:
    record_event(
        session,
        principal,
        clock,
        event_type,
        request.id,
        snapshot=event_snapshot(request),
        application_id=request.application_id,
        **data,
    )


async def public_request(
    session: AsyncSession, principal: Principal, request_id: UUID
) -> tuple[FeedbackRequest, dict[str, str]]:
    """The request a link names, and what its form may show (first name and role only)."""
    request = await get_owned(
        session,
        FeedbackRequest,
        principal,
        request_id,
        "No feedback request at that link.",
        lock=True,
    )
    application, _contact = await _parties(session, principal, request)
    return request, await message_context(session, principal, application)


async def _of_application(
    session: AsyncSession, principal: Principal, application_id: UUID
) -> FeedbackRequest | None:
    found: FeedbackRequest | None = await session.scalar(
        select(FeedbackRequest).where(
            FeedbackRequest.agency_id == principal.agency_id,
            FeedbackRequest.application_id == application_id,
        )
    )
    return found


async def _contact(
    session: AsyncSession,
    principal: Principal,
    application: Application,
    contact_id: UUID | None,
    now: datetime,
) -> ClientContact:
    if contact_id is None:
        found = await client_contact_for(session, principal, application, now)
        if found is None:
            raise reference_error("contact_id", "the vacancy has no hiring contact: name one")
        return found
    contact = await referenced(session, ClientContact, principal, contact_id, "contact_id")
    client_id = await session.scalar(
        select(Vacancy.client_id).where(
            Vacancy.agency_id == principal.agency_id, Vacancy.id == application.vacancy_id
        )
    )
    if contact.client_id != client_id:
        raise reference_error("contact_id", "not a contact of the vacancy's client")
    return contact


async def _parties(
    session: AsyncSession, principal: Principal, request: FeedbackRequest
) -> tuple[Application, ClientContact]:
    application = await applications.get(session, principal, request.application_id)
    contact = await session.scalar(
        select(ClientContact).where(
            ClientContact.agency_id == principal.agency_id, ClientContact.id == request.contact_id
        )
    )
    assert contact is not None  # the composite foreign key guarantees it
    return application, contact


async def _ask(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    links: FeedbackLinks,
    request: FeedbackRequest,
    application: Application,
    contact: ClientContact,
    kind: MessageKind,
    dedupe_key: str,
) -> None:
    context = {
        **await message_context(session, principal, application),
        "feedback_link": links.url(principal.agency_id, request.id, request.expires_at),
    }
    await queue_message(
        session,
        principal,
        clock,
        kind,
        Recipient(RecipientType.contact, contact.id, contact.email, contact.name),
        context,
        dedupe_key=dedupe_key,
        application_id=application.id,
        related={"feedback_request_id": str(request.id)},
    )
