"""The candidate's signed link to an interview's steps 2-4: issued by a consultant (or by the
worker when the interview ends, `run_candidate_links`), revoked by a consultant, opened by the
candidate (`open_link`, for the pages).

One row per interview (`candidate_link`): issuing again bumps its generation, so the previous
token answers 410; revoking sets `revoked_at`. Events `candidate_link.issued` and
`candidate_link.revoked` go on the application's timeline."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.agency.service import get_agency
from app.applications.service import message_context
from app.candidate_links.links import CandidateLinks, CandidateLinksDep
from app.candidate_links.schemas import CandidateLinkSnapshot
from app.candidates.service import candidates
from app.core.auth import Principal
from app.core.clock import Clock, add_local_days
from app.core.db import set_tenant
from app.core.errors import LinkClosed, LinkExpired, NotFound
from app.core.events import record_event
from app.core.ids import new_row_id
from app.core.timestamps import touch, update_rows
from app.interviews.service import finished_interview, interviews
from app.messages.service import Recipient, message_event, queue_message
from app.models import (
    Application,
    Candidate,
    CandidateLink,
    Interview,
    Message,
    MessageKind,
    MessageStatus,
)

__all__ = [
    "CandidateLinks",
    "CandidateLinksDep",
    "IssuedLink",
    "LinkVisit",
    "candidate_link_url",
    "issue_link",
    "open_link",
    "revoke_link",
    "run_candidate_links",
]


@dataclass(frozen=True)
class LinkVisit:
    """A genuine, live link opened: who acts (the candidate, through the link) and on what."""

    principal: Principal
    """`Principal.link_holder(agency_id, via="candidate")`"""
    link_id: UUID
    """The `candidate_link` row (the pages' CSRF token is bound to it)."""
    interview: Interview
    application: Application
    candidate: Candidate


@dataclass(frozen=True)
class IssuedLink:
    link: CandidateLink
    token: str
    url: str
    expires_at: datetime
    emailed: bool


def candidate_link_url(links: CandidateLinks, token: str) -> str:
    """`{public_url}/candidate/{token}`"""
    return links.url(token)


async def open_link(
    session: AsyncSession, links: CandidateLinks, token: str, now: datetime
) -> LinkVisit:
    """The link `token` names, scoped to its agency (the transaction's tenant is set here).
    404 `not-found` for a forged or unknown token; 410 `link-closed` when it was revoked or
    issued again since; 410 `link-expired` past its `expires_at`."""
    claims = links.read(token)
    await set_tenant(session, claims.agency_id)
    principal = Principal.link_holder(claims.agency_id, via="candidate")
    link = await session.scalar(
        select(CandidateLink).where(
            CandidateLink.agency_id == principal.agency_id, CandidateLink.id == claims.link_id
        )
    )
    if link is None:
        raise NotFound("No candidate link at that address.")
    if link.revoked_at is not None or link.generation != claims.generation:
        raise LinkClosed("This link no longer works; your consultant can send you a new one.")
    if link.expires_at <= now:
        raise LinkExpired("This link has expired; your consultant can send you a new one.")
    interview = await interviews.get(session, principal, link.interview_id)
    application = await session.get(Application, (principal.agency_id, link.application_id))
    assert application is not None  # the composite foreign key guarantees it
    candidate = await session.get(Candidate, (principal.agency_id, application.candidate_id))
    assert candidate is not None
    return LinkVisit(principal, link.id, interview, application, candidate)


async def issue_link(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    links: CandidateLinks,
    interview_id: UUID,
    *,
    email: bool,
) -> IssuedLink:
    """A fresh link for an interview that has ended, of an open application, of a candidate
    not erased (404 another agency's; 409 `interview-cancelled`, `interview-not-finished`,
    `application-closed`, `candidate-erased`). The interview's previous link stops working
    (410). With `email`, the link is emailed to the candidate when they agreed to be contacted
    (`emailed` says whether)."""
    interview, application = await finished_interview(session, principal, clock, interview_id)
    await candidates.living(session, principal, application.candidate_id)
    link = await _link_of(session, principal, interview.id, lock=True)
    if link is None:
        link = await _insert(session, principal, clock, interview, application)
        if link is None:  # another transaction issued the first one just now: replace it
            link = await _link_of(session, principal, interview.id, lock=True)
            assert link is not None
            await _renew(session, principal, clock, link)
    else:
        await _renew(session, principal, clock, link)
    return await _issued(session, principal, clock, links, link, application, email)


async def revoke_link(
    session: AsyncSession, principal: Principal, clock: Clock, interview_id: UUID
) -> CandidateLink:
    """Stop the interview's live link (it answers 410); 404 when it has none."""
    await interviews.get(session, principal, interview_id)
    now = clock.now()
    link = await _link_of(session, principal, interview_id, lock=True)
    if link is None or link.revoked_at is not None or link.expires_at <= now:
        raise NotFound("The interview has no live candidate link.")
    link.revoked_at = now
    touch(link, now)
    await session.flush()
    await _cancel_emails(session, principal, clock, link)
    _event(session, principal, clock, "candidate_link.revoked", link)
    return link


async def revoke_for_applications(
    session: AsyncSession, principal: Principal, clock: Clock, application_ids: list[UUID]
) -> int:
    """Stop every live link of these applications (an outcome closed one, or the candidate was
    erased): the page answers 410 rather than forms that can no longer be sent, and an email
    still queued is not sent. Returns how many were stopped."""
    now = clock.now()
    live = await session.scalars(
        select(CandidateLink)
        .where(
            CandidateLink.agency_id == principal.agency_id,
            CandidateLink.application_id.in_(application_ids),
            CandidateLink.revoked_at.is_(None),
            CandidateLink.expires_at > now,
        )
        .order_by(CandidateLink.id)
        .with_for_update()
    )
    stopped = list(live.all())
    for link in stopped:
        link.revoked_at = now
        touch(link, now)
    await session.flush()
    for link in stopped:
        await _cancel_emails(session, principal, clock, link)
        _event(session, principal, clock, "candidate_link.revoked", link)
    return len(stopped)


async def run_candidate_links(
    session: AsyncSession, principal: Principal, clock: Clock, links: CandidateLinks
) -> int:
    """The worker's pass for one agency: when its `candidate_links` setting is on, email a link
    for each interview that ended within `candidate_link_days`, held, of an open application,
    whose candidate agreed to be contacted, and that has no link yet (once per interview: a
    second worker's insert meets the unique row and skips). Returns how many were emailed."""
    agency = await get_agency(session, principal)
    if not agency.candidate_links:
        return 0
    now = clock.now()
    due = await session.scalars(
        select(Interview)
        .join(
            Application,
            (Application.agency_id == Interview.agency_id)
            & (Application.id == Interview.application_id),
        )
        .join(
            Candidate,
            (Candidate.agency_id == Application.agency_id)
            & (Candidate.id == Application.candidate_id),
        )
        .where(
            Interview.agency_id == principal.agency_id,
            Interview.has_ended(now),
            Interview.ends_at > now - timedelta(days=agency.candidate_link_days),
            Application.is_open,
            Candidate.contact_consent,
            ~select(CandidateLink.id)
            .where(
                CandidateLink.agency_id == Interview.agency_id,
                CandidateLink.interview_id == Interview.id,
            )
            .exists(),
        )
        .order_by(Interview.ends_at)
    )
    emailed = 0
    for interview in due.all():
        application = await session.get(
            Application, (principal.agency_id, interview.application_id)
        )
        assert application is not None
        link = await _insert(session, principal, clock, interview, application)
        if link is None:  # another worker got there first
            continue
        issued = await _issued(session, principal, clock, links, link, application, True)
        emailed += issued.emailed
    return emailed


async def _link_of(
    session: AsyncSession, principal: Principal, interview_id: UUID, *, lock: bool = False
) -> CandidateLink | None:
    stmt = select(CandidateLink).where(
        CandidateLink.agency_id == principal.agency_id, CandidateLink.interview_id == interview_id
    )
    found: CandidateLink | None = await session.scalar(stmt.with_for_update() if lock else stmt)
    return found


async def _days(session: AsyncSession, principal: Principal) -> tuple[int, str]:
    agency = await get_agency(session, principal)
    return agency.candidate_link_days, agency.timezone


async def _insert(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    interview: Interview,
    application: Application,
) -> CandidateLink | None:
    """The interview's first link; None when another transaction inserted it first."""
    days, zone = await _days(session, principal)
    now = clock.now()
    link = CandidateLink(
        agency_id=principal.agency_id,
        id=new_row_id("candidate_link"),
        interview_id=interview.id,
        application_id=application.id,
        generation=1,
        issued_at=now,
        expires_at=add_local_days(now, days, zone),
        issued_by=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(link)
            await session.flush()
    except IntegrityError:
        return None
    return link


async def _renew(
    session: AsyncSession, principal: Principal, clock: Clock, link: CandidateLink
) -> None:
    """Issue the link again: a new generation (the old token answers 410), a new life."""
    days, zone = await _days(session, principal)
    now = clock.now()
    link.generation += 1
    link.issued_at, link.expires_at = now, add_local_days(now, days, zone)
    link.revoked_at, link.emailed_at, link.issued_by = None, None, principal.user_id
    touch(link, now)
    await session.flush()


async def _issued(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    links: CandidateLinks,
    link: CandidateLink,
    application: Application,
    email: bool,
) -> IssuedLink:
    """Sign the link's current generation, email it when asked and allowed, record the event."""
    await _cancel_emails(session, principal, clock, link)
    token = links.token(principal.agency_id, link.id, link.generation, link.expires_at)
    url = candidate_link_url(links, token)
    emailed = email and await _email(session, principal, clock, link, application, url)
    if emailed:
        link.emailed_at = clock.now()
        await session.flush()
    _event(session, principal, clock, "candidate_link.issued", link, emailed=emailed)
    return IssuedLink(link, token, url, link.expires_at, emailed)


async def _email(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    link: CandidateLink,
    application: Application,
    url: str,
) -> bool:
    candidate = await session.get(Candidate, (principal.agency_id, application.candidate_id))
    assert candidate is not None
    if not candidate.contact_consent:
        return False
    agency = await get_agency(session, principal)
    context = {
        **await message_context(session, principal, application),
        "candidate_link": url,
        "link_expires": _local(link.expires_at, agency.timezone),
    }
    message = await queue_message(
        session,
        principal,
        clock,
        MessageKind.candidate_link,
        Recipient.candidate(candidate),
        context,
        dedupe_key=f"candidate_link:{link.id}:{link.generation}",
        application_id=application.id,
        related={"candidate_link_id": str(link.id), "interview_id": str(link.interview_id)},
    )
    return message is not None


def _local(instant: datetime, zone: str) -> str:
    return instant.astimezone(ZoneInfo(zone)).strftime("%a %d %b %H:%M")


async def _cancel_emails(
    session: AsyncSession, principal: Principal, clock: Clock, link: CandidateLink
) -> None:
    """An earlier link's email still queued would carry a dead link: it is not sent."""
    cancelled = await update_rows(
        session,
        Message,
        principal.agency_id,
        [
            Message.application_id == link.application_id,
            Message.kind == MessageKind.candidate_link,
            Message.status == MessageStatus.queued,
            Message.related["candidate_link_id"].astext == str(link.id),
        ],
        {"status": MessageStatus.cancelled, "next_attempt_at": None},
        clock.now(),
    )
    for message in cancelled:
        message_event(session, principal, clock, "message.cancelled", message)


def _event(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    event_type: str,
    link: CandidateLink,
    **data: object,
) -> None:
    record_event(
        session,
        principal,
        clock,
        event_type,
        link.id,
        snapshot=CandidateLinkSnapshot.model_validate(link),
        application_id=link.application_id,
        interview_id=str(link.interview_id),
        **data,
    )
