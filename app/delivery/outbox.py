"""The outbox seen from the worker: claim due messages across agencies, then prepare, finish or
release each one inside its own agency's transaction.

A claim leases the row (`sending`, `lease_until`, a fresh `lease_token`) and counts the attempt.
Only the holder of the token may finish it; a worker that dies loses the lease and the row is
claimed again, carrying the same Message-ID.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.agency.service import get_agency
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.ids import AgencyId
from app.core.timestamps import touch
from app.delivery.mail import DeliveryFailed, Mailbox, Outgoing, compose
from app.messages.service import message_event
from app.models import Candidate, Message, MessageStatus, RecipientType, Referee

_CLAIM = text("SELECT agency_id, id, lease_token FROM claim_messages(:at, :batch, :lease)")


@dataclass(frozen=True)
class Claim:
    agency_id: AgencyId
    message_id: UUID
    token: UUID


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: `base`, then twice that, … (each ±25%), until
    `max_attempts` attempts were made. The default (8 attempts, 10 minutes) spans about a day."""

    max_attempts: int
    base_seconds: float

    def delay(self, attempt: int, rng: random.Random) -> timedelta:
        return timedelta(seconds=self.base_seconds * 2 ** (attempt - 1) * rng.uniform(0.75, 1.25))


async def claim_due(
    session: AsyncSession, now: datetime, batch: int, lease_seconds: int
) -> list[Claim]:
    """Lease up to `batch` due messages of any agency (and as many whose lease ran out).

    `claim_messages` is the narrow SECURITY DEFINER door: it sees every agency's due rows and
    returns their ids only; SKIP LOCKED lets any number of workers claim side by side."""
    rows = await session.execute(_CLAIM, {"at": now, "batch": batch, "lease": lease_seconds})
    return [Claim(AgencyId(row.agency_id), row.id, row.lease_token) for row in rows]


async def prepare(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    claim: Claim,
    default_sender: Mailbox,
    policy: RetryPolicy,
) -> Outgoing | None:
    """The email to send for a claimed row, or None when there is nothing to send: the lease
    was lost, the recipient withdrew consent meanwhile, or the row cannot become an email."""
    message = await _held(session, principal, claim)
    if message is None:
        return None
    if message.attempts > policy.max_attempts:  # leases lost again and again: a worker crashed
        fail_message(session, principal, clock, message, "gave up: the worker sending it stopped")
        return None
    if not await _recipient_consents(session, principal, message):
        _settle(message, MessageStatus.cancelled, clock.now(), "the recipient has not consented")
        _event(session, principal, clock, "message.cancelled", message)
        return None
    agency = await get_agency(session, principal)
    sender = Mailbox(
        agency.sender_name or agency.name or default_sender.name,
        agency.sender_email or default_sender.address,
    )
    reply_to = (
        Mailbox(message.reply_to_name, message.reply_to_address)
        if message.reply_to_address
        else None
    )
    try:
        return compose(
            key=str(message.id),
            message_id=message.message_id_header,
            sender=sender,
            to=Mailbox(message.to_name, message.to_address),
            reply_to=reply_to,
            subject=message.subject,
            body=message.body,
            date=clock.now(),
        )
    except DeliveryFailed as exc:
        fail_message(session, principal, clock, message, exc.reason)
        return None


async def finish(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    claim: Claim,
    failure: DeliveryFailed | None,
    policy: RetryPolicy,
    rng: random.Random,
) -> MessageStatus | None:
    """Record how the attempt went: sent, back to the queue for a later retry, or failed.
    None when the lease was lost meanwhile (another worker now holds the row)."""
    message = await _held(session, principal, claim)
    if message is None:
        return None
    now = clock.now()
    if failure is None:
        _settle(message, MessageStatus.sent, now, None)
        message.sent_at = now
        _event(session, principal, clock, "message.sent", message)
    elif failure.permanent or message.attempts >= policy.max_attempts:
        fail_message(session, principal, clock, message, failure.reason)
    else:
        _settle(message, MessageStatus.queued, now, failure.reason)
        message.next_attempt_at = now + policy.delay(message.attempts, rng)
        _event(
            session,
            principal,
            clock,
            "message.deferred",
            message,
            next_attempt_at=message.next_attempt_at.isoformat(),
        )
    await session.flush()
    return message.status


async def release(session: AsyncSession, principal: Principal, claim: Claim) -> None:
    """Give a claimed, unsent row back (the worker is stopping): queued again, attempt uncounted."""
    message = await _held(session, principal, claim)
    if message is not None:
        message.status, message.lease_until, message.lease_token = MessageStatus.queued, None, None
        message.attempts = max(message.attempts - 1, 0)
        await session.flush()


async def _held(session: AsyncSession, principal: Principal, claim: Claim) -> Message | None:
    """The row, locked, if this claim still holds its lease."""
    found: Message | None = await session.scalar(
        select(Message)
        .where(
            Message.agency_id == principal.agency_id,
            Message.id == claim.message_id,
            Message.status == MessageStatus.sending,
            Message.lease_token == claim.token,
        )
        .with_for_update()
    )
    return found


async def _recipient_consents(
    session: AsyncSession, principal: Principal, message: Message
) -> bool:
    """Candidates and referees are messaged only while they consent (checked again at send
    time: consent withdrawn after queueing still stops the message)."""
    if message.recipient_type == RecipientType.candidate:
        column: Any = Candidate.contact_consent
        model: Any = Candidate
    elif message.recipient_type == RecipientType.referee:
        column, model = Referee.consent_to_contact, Referee
    else:
        return True
    consent = await session.scalar(
        select(column).where(
            model.agency_id == principal.agency_id, model.id == message.recipient_id
        )
    )
    return bool(consent)


def _settle(message: Message, status: MessageStatus, now: datetime, error: str | None) -> None:
    message.status = status
    touch(message, now)
    message.lease_until, message.lease_token = None, None
    message.next_attempt_at = None
    if error is not None:
        message.last_error = error[:2000]


def fail_message(
    session: AsyncSession, principal: Principal, clock: Clock, message: Message, reason: str
) -> None:
    _settle(message, MessageStatus.failed, clock.now(), reason)
    _event(session, principal, clock, "message.failed", message)


def _event(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    event_type: str,
    message: Message,
    **data: Any,
) -> None:
    """On the application's timeline, with the attempts so far. Ids and counts only: the error
    text (which may name the address) stays on the message."""
    message_event(session, principal, clock, event_type, message, attempts=message.attempts, **data)
