"""The outbox and its templates. A step queues a message in its own transaction; a worker
(later) sends each at least once, and `dedupe_key` makes a second copy impossible."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.agency.service import get_agency
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.db import violated_constraint
from app.core.errors import MessageNotFailed, TemplateNotValid
from app.core.etag import ensure_match
from app.core.events import record_event
from app.core.ids import new_row_id
from app.core.pagination import PageParams, paginate
from app.core.records import get_owned
from app.core.timestamps import touch, update_rows
from app.messages.schemas import MessageRead
from app.messages.templates import (
    DEFAULTS,
    RENDER_BUDGET_SECONDS,
    SAVE_BUDGET_SECONDS,
    TemplateInvalid,
    render_in_thread,
)
from app.models import (
    Application,
    Candidate,
    Message,
    MessageKind,
    MessageStatus,
    MessageTemplate,
    RecipientType,
    User,
)

MESSAGE_ID_DOMAIN = "mail.afterview.dev"


@dataclass(frozen=True)
class Recipient:
    type: RecipientType
    id: UUID
    address: str
    name: str | None
    consented: bool = True
    """Candidates and referees are messaged only with their consent."""

    @classmethod
    def candidate(cls, candidate: Candidate) -> "Recipient":
        """The candidate, by first name, messaged only with their `contact_consent`."""
        return cls(
            RecipientType.candidate,
            candidate.id,
            candidate.email,
            candidate.first_name,
            consented=candidate.contact_consent,
        )


@dataclass(frozen=True)
class CurrentTemplate:
    kind: MessageKind
    subject: str
    body: str
    is_default: bool
    version: int


async def current_template(
    session: AsyncSession, principal: Principal, kind: MessageKind
) -> CurrentTemplate:
    stored = await _stored_template(session, principal, kind)
    if stored is None:
        spec = DEFAULTS[kind]
        return CurrentTemplate(kind, spec.subject, spec.body, True, 0)
    return CurrentTemplate(kind, stored.subject, stored.body, False, stored.version)


async def save_template(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    kind: MessageKind,
    subject: str,
    body: str,
    if_match: str | None,
) -> CurrentTemplate:
    await _sample_render(kind, subject, body, SAVE_BUDGET_SECONDS)
    # One save of an agency's template of this kind at a time: two first saves both found no
    # row and both inserted. The second now waits, then finds the first's row and updates it.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"message_template:{principal.agency_id}:{kind.value}"},
    )
    now = clock.now()
    stored = await _stored_template(session, principal, kind)
    if stored is None:
        stored = MessageTemplate(
            agency_id=principal.agency_id,
            kind=kind,
            subject=subject,
            body=body,
            created_at=now,
            updated_at=now,
        )
        session.add(stored)
    else:
        ensure_match(if_match, stored.version, required=False)
        stored.subject, stored.body = subject, body
        touch(stored, now)
    await session.flush()
    return CurrentTemplate(kind, subject, body, False, stored.version)


async def preview_template(template: CurrentTemplate) -> tuple[str, str]:
    """The template rendered with its kind's sample values."""
    return await _sample_render(template.kind, template.subject, template.body)


async def _sample_render(
    kind: MessageKind, subject: str, body: str, budget_seconds: float = RENDER_BUDGET_SECONDS
) -> tuple[str, str]:
    try:
        return await render_in_thread(subject, body, DEFAULTS[kind].sample, budget_seconds)
    except TemplateInvalid as exc:
        raise TemplateNotValid.at_field(
            "body", str(exc), detail=f"The template does not render: {exc}"
        ) from None


async def _stored_template(
    session: AsyncSession, principal: Principal, kind: MessageKind
) -> MessageTemplate | None:
    found: MessageTemplate | None = await session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.agency_id == principal.agency_id, MessageTemplate.kind == kind
        )
    )
    return found


DEDUPE_INDEX = "uq_message_agency_id_dedupe_key"


async def queue_message(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    kind: MessageKind,
    recipient: Recipient,
    context: dict[str, Any],
    *,
    dedupe_key: str,
    application_id: UUID | None = None,
    related: dict[str, str] | None = None,
) -> Message | None:
    """Render and queue one message; None when the recipient has not consented or the same
    purpose was already queued (the dedupe key exists)."""
    if not recipient.consented:
        return None
    existing = await session.scalar(
        select(Message).where(
            Message.agency_id == principal.agency_id, Message.dedupe_key == dedupe_key
        )
    )
    if existing is not None:
        return None
    template = await current_template(session, principal, kind)
    try:
        subject, body = await render_in_thread(
            template.subject, template.body, {**context, "recipient_name": recipient.name or ""}
        )
    except TemplateInvalid as exc:  # it rendered with the samples, not with these values
        raise TemplateNotValid.at_field(
            f"templates.{kind.value}",
            str(exc),
            location="template",
            detail=f"the agency's {kind.value} template does not render for this message: {exc}",
        ) from None
    now = clock.now()
    message_uuid = new_row_id("message")
    reply_to = await _consultant(session, principal, application_id)
    sender_email = (await get_agency(session, principal)).sender_email
    message = Message(
        id=message_uuid,
        message_id_header=message_id_header(message_uuid, sender_email),
        reply_to_address=reply_to.email if reply_to else None,
        reply_to_name=reply_to.name if reply_to else None,
        agency_id=principal.agency_id,
        kind=kind,
        status=MessageStatus.queued,
        dedupe_key=dedupe_key,
        recipient_type=recipient.type,
        recipient_id=recipient.id,
        to_address=recipient.address,
        to_name=recipient.name,
        subject=subject,
        body=body,
        application_id=application_id,
        related=related or {},
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    await session.flush()  # what is pending stays out of the savepoint below
    try:
        async with session.begin_nested():
            session.add(message)
            await session.flush()
    except IntegrityError as exc:
        # A request running alongside queued the same purpose after the look above.
        if violated_constraint(exc) == DEDUPE_INDEX:
            return None
        raise
    return message


def message_id_header(message_id: UUID, sender_email: str | None) -> str:
    """`<uuid@domain>`: unique by the message's id, on the agency's mail domain when it has one."""
    domain = sender_email.rpartition("@")[2] if sender_email else MESSAGE_ID_DOMAIN
    return f"<{message_id}@{domain}>"


async def _consultant(
    session: AsyncSession, principal: Principal, application_id: UUID | None
) -> User | None:
    """Who a reply should reach: the application's consultant, else the person acting."""
    consultant_id: UUID | None = principal.user_id
    if application_id is not None:  # usually loaded already by the step queueing the message
        application = await session.get(Application, (principal.agency_id, application_id))
        consultant_id = (application.consultant_id if application else None) or consultant_id
    if consultant_id is None:
        return None
    return await session.get(User, (principal.agency_id, consultant_id))


async def list_messages(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    status: MessageStatus | None = None,
    kind: MessageKind | None = None,
    application_id: UUID | None = None,
) -> tuple[list[Message], str | None]:
    stmt = select(Message).where(Message.agency_id == principal.agency_id)
    for column, value in (
        (Message.status, status),
        (Message.kind, kind),
        (Message.application_id, application_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return await paginate(session, stmt, [Message.created_at, Message.id], params, descending=True)


async def get_message(
    session: AsyncSession, principal: Principal, message_id: UUID, *, lock: bool = False
) -> Message:
    return await get_owned(
        session, Message, principal, message_id, "No message with that id.", lock=lock
    )


async def retry_message(
    session: AsyncSession, principal: Principal, clock: Clock, message_id: UUID
) -> Message:
    """Queue a failed message again, with a fresh set of attempts (same Message-ID)."""
    message = await get_message(session, principal, message_id, lock=True)
    if message.status != MessageStatus.failed:
        raise MessageNotFailed(f"The message is {message.status}.")
    now = clock.now()
    message.status, message.attempts, message.next_attempt_at = MessageStatus.queued, 0, now
    touch(message, now)
    await session.flush()
    message_event(session, principal, clock, "message.requeued", message)
    return message


async def cancel_queued(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    application_id: UUID,
    kinds: Collection[MessageKind] | None = None,
) -> list[Message]:
    """Cancel the application's messages still queued (of `kinds`, when given): the
    application closed before they went. Each is recorded as `message.cancelled`."""
    where = [Message.application_id == application_id, Message.status == MessageStatus.queued]
    if kinds is not None:
        where.append(Message.kind.in_(list(kinds)))
    cancelled = await update_rows(
        session,
        Message,
        principal.agency_id,
        where,
        {"status": MessageStatus.cancelled, "next_attempt_at": None},
        clock.now(),
    )
    for message in cancelled:
        message_event(session, principal, clock, "message.cancelled", message)
    return cancelled


def message_event(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    event_type: str,
    message: Message,
    **data: Any,
) -> None:
    """`message.<verb>`, on the application's timeline."""
    record_event(
        session,
        principal,
        clock,
        event_type,
        message.id,
        snapshot=MessageRead.model_validate(message),
        application_id=message.application_id,
        kind=str(message.kind),
        **data,
    )


async def messages_about(
    session: AsyncSession, principal: Principal, application_id: UUID, related: tuple[str, UUID]
) -> list[Message]:
    """The application's messages whose `related` names that object (e.g. one follow-up)."""
    key, value = related
    found = await session.scalars(
        select(Message)
        .where(
            Message.agency_id == principal.agency_id,
            Message.application_id == application_id,
            Message.related[key].astext == str(value),
        )
        .order_by(Message.created_at, Message.id)
    )
    return list(found.all())
