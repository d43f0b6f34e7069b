"""Step 5: heads-ups to referees once an offer looks likely."""

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.service import applications, message_context, open_application
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import HeadsUpAlreadySent, OfferNotLikely, RefereeNoConsent
from app.core.events import record_event
from app.core.pagination import PageParams, paginate
from app.core.records import reference_error, referenced
from app.heads_ups.schemas import HeadsUpCreate, HeadsUpRead
from app.messages.service import Recipient, cancel_queued, queue_message
from app.models import (
    Message,
    MessageKind,
    OfferLikelihood,
    RecipientType,
    Referee,
    RefereeHeadsUp,
)


async def send_heads_up(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    application_id: UUID,
    data: HeadsUpCreate,
) -> tuple[RefereeHeadsUp, Message | None]:
    application = await open_application(session, principal, application_id)
    if application.offer_likelihood != OfferLikelihood.high:
        raise OfferNotLikely(f"offer_likelihood is {application.offer_likelihood}, not high.")
    referee = await referenced(session, Referee, principal, data.referee_id, "referee_id")
    if referee.candidate_id != application.candidate_id:
        raise reference_error("referee_id", "not a referee of this application's candidate")
    if not referee.consent_to_contact:
        raise RefereeNoConsent("Ask the referee's consent first (consent_to_contact).")
    if await _already(session, principal, application_id, referee.id):
        raise HeadsUpAlreadySent("At most one heads-up per referee per application.")
    now = clock.now()
    heads_up = RefereeHeadsUp(
        agency_id=principal.agency_id,
        application_id=application.id,
        referee_id=referee.id,
        why_want_job=data.why_want_job,
        key_points=data.key_points,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():  # two racing requests: the index lets one through
            session.add(heads_up)
            await session.flush()
    except IntegrityError:
        raise HeadsUpAlreadySent("At most one heads-up per referee per application.") from None
    context = await message_context(session, principal, application)
    message = await queue_message(
        session,
        principal,
        clock,
        MessageKind.referee_heads_up,
        Recipient(
            RecipientType.referee,
            referee.id,
            referee.email,
            referee.name,
            consented=referee.consent_to_contact,
        ),
        {**context, "why_want_job": data.why_want_job, "key_points": data.key_points},
        dedupe_key=f"heads_up:{application.id}:{referee.id}",
        application_id=application.id,
        related={"referee_id": str(referee.id), "heads_up_id": str(heads_up.id)},
    )
    heads_up.message_id = message.id if message else None
    await session.flush()
    record_event(
        session,
        principal,
        clock,
        "heads_up.sent",
        heads_up.id,
        snapshot=HeadsUpRead.of(heads_up, message.status if message else None),
        application_id=application.id,
        referee_id=str(referee.id),
    )
    return heads_up, message


async def cancel_pending(
    session: AsyncSession, principal: Principal, clock: Clock, application_id: UUID
) -> list[Message]:
    """Stop the application's heads-ups not yet sent: the candidate withdrew, so no reference
    request will follow. Their queued messages are cancelled (`message.cancelled`)."""
    return await cancel_queued(
        session, principal, clock, application_id, kinds=(MessageKind.referee_heads_up,)
    )


async def list_heads_ups(
    session: AsyncSession, principal: Principal, application_id: UUID, params: PageParams
) -> tuple[list[tuple[RefereeHeadsUp, str | None]], str | None]:
    """The application's heads-ups with the status of each one's message."""
    await applications.get(session, principal, application_id)
    stmt = select(RefereeHeadsUp).where(
        RefereeHeadsUp.agency_id == principal.agency_id,
        RefereeHeadsUp.application_id == application_id,
    )
    items, next_cursor = await paginate(
        session, stmt, [RefereeHeadsUp.created_at, RefereeHeadsUp.id], params
    )
    statuses = await message_statuses(session, principal, [h.message_id for h in items])
    return [(h, statuses.get(h.message_id)) for h in items], next_cursor


async def message_statuses(
    session: AsyncSession, principal: Principal, message_ids: list[UUID | None]
) -> dict[UUID | None, str]:
    wanted = [m for m in message_ids if m is not None]
    if not wanted:
        return {}
    rows = await session.execute(
        select(Message.id, Message.status).where(
            Message.agency_id == principal.agency_id, Message.id.in_(wanted)
        )
    )
    return {row.id: row.status for row in rows}


async def _already(
    session: AsyncSession, principal: Principal, application_id: UUID, referee_id: UUID
) -> bool:
    found = await session.scalar(
        select(RefereeHeadsUp.id).where(
            RefereeHeadsUp.agency_id == principal.agency_id,
            RefereeHeadsUp.application_id == application_id,
            RefereeHeadsUp.referee_id == referee_id,
        )
    )
    return found is not None
