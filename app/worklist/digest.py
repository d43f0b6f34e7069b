"""The daily digest: at 08:00 in the agency's time zone, each consultant who has not opted out
gets one email listing their overdue worklist items (a passed decision date among them)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agency.service import get_agency
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.scheduled import claim_run
from app.messages.service import Recipient, queue_message
from app.models import MessageKind, RecipientType, User
from app.worklist.schemas import WorkItem, WorkKind
from app.worklist.service import work_items

DIGEST_JOB = "daily_digest"
DIGEST_LOCAL_HOUR = 8

WHAT: dict[WorkKind, str] = {
    WorkKind.capture_next_steps: "Record the next steps",
    WorkKind.write_debrief: "Write the debrief",
    WorkKind.follow_up_due: "Thank-you follow-up due",
    WorkKind.approve_direct_contact: "Approve or decline direct contact",
    WorkKind.chase_client_decision: "Chase the client: the decision date has passed",
    WorkKind.heads_up_suggested: "Give a referee a heads-up",
    WorkKind.feedback_chase_due: "Feedback chase due",
    WorkKind.release_feedback: "Review and release the client's feedback",
    WorkKind.review_candidate_input: "Review what the candidate sent through their link",
}


async def send_daily_digests(
    session: AsyncSession, principal: Principal, clock: Clock, local_date: str
) -> int:
    """Queue the agency's digests for `local_date` (YYYY-MM-DD, its own calendar), once: the
    run's row is inserted first, so a second worker waits for this transaction and then finds
    the day done. Returns how many digests were queued."""
    if not await claim_run(session, principal, DIGEST_JOB, local_date, clock.now()):
        return 0
    now = clock.now()
    agency = await get_agency(session, principal)
    zone, agency_name = ZoneInfo(agency.timezone), agency.sender_name or agency.name
    users = await session.scalars(
        select(User)
        .where(User.agency_id == principal.agency_id, User.active, User.daily_digest)
        .order_by(User.id)
    )
    queued = 0
    for user in users.all():
        overdue = [i for i in await work_items(session, principal, now, user.id) if i.overdue]
        if not overdue:
            continue
        lines = _lines(overdue, zone)
        message = await queue_message(
            session,
            principal,
            clock,
            MessageKind.daily_digest,
            Recipient(RecipientType.user, user.id, user.email, user.name),
            {"agency_name": agency_name, "count": len(lines), "items": lines},
            dedupe_key=f"{DIGEST_JOB}:{user.id}:{local_date}",
            related={"user_id": str(user.id)},
        )
        queued += message is not None
    return queued


def _lines(items: list[WorkItem], zone: ZoneInfo) -> list[dict[str, str]]:
    return [
        {
            "what": WHAT[item.kind],
            "candidate": item.candidate_name,
            "role": item.vacancy_title,
            "client": item.client_name,
            "due": _local(item.due_at, zone),
        }
        for item in items
    ]


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%a %d %b %H:%M")
