"""Step 2: debrief notes, and the per-client question bank they build up."""

import re
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, and_, func, literal, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.agency.service import get_agency
from app.clients.service import clients
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.due import DEBRIEF
from app.core.etag import ensure_match
from app.core.events import record_event
from app.core.pagination import PageParams, decode_values, encode_cursor
from app.core.records import step_of
from app.core.timestamps import touch
from app.debriefs.schemas import DebriefRead, DebriefWrite
from app.interviews.service import finished_interview, recorded_step
from app.models import AnswerQuality, Debrief, DebriefAuthor, DebriefQuestion, Vacancy

_SPACES = re.compile(r"\s+")


def normalize_question(text: str) -> str:
    """How questions are matched across interviews: case, spacing and end punctuation aside."""
    return _SPACES.sub(" ", text).strip().lower().rstrip("?.!:; ")


async def get_debrief(session: AsyncSession, principal: Principal, interview_id: UUID) -> Debrief:
    missing = "No debrief is recorded for that interview yet."
    return await recorded_step(session, principal, Debrief, interview_id, missing)


async def submit_debrief(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    interview_id: UUID,
    data: DebriefWrite,
    if_match: str | None,
) -> tuple[Debrief, bool]:
    """Submit (or revise) an interview's debrief; True when first submitted."""
    interview, application = await finished_interview(session, principal, clock, interview_id)
    agency = await get_agency(session, principal)
    vacancy = await session.scalar(
        select(Vacancy).where(
            Vacancy.agency_id == principal.agency_id, Vacancy.id == application.vacancy_id
        )
    )
    assert vacancy is not None  # guaranteed by the composite foreign key
    now = clock.now()
    debrief = await step_of(session, principal, Debrief, interview_id)
    created = debrief is None
    if debrief is None:
        due_at = DEBRIEF.at(interview.ends_at, agency)
        debrief = Debrief(
            agency_id=principal.agency_id,
            interview_id=interview.id,
            application_id=application.id,
            submitted_at=now,
            due_at=due_at,
            on_time=now <= due_at,
            created_at=now,
        )
        set_committed_value(debrief, "questions", [])
        session.add(debrief)
    else:
        ensure_match(if_match, debrief.version, required=False)
    # Whoever wrote it last: the candidate through their link, or a consultant (taking over).
    via_candidate = principal.via == "candidate"
    debrief.author = DebriefAuthor.candidate if via_candidate else DebriefAuthor.consultant
    debrief.went_well, debrief.could_improve = data.went_well, data.could_improve
    debrief.links = [str(link) for link in data.links]
    touch(debrief, now)
    debrief.questions = [
        DebriefQuestion(
            agency_id=principal.agency_id,
            client_id=vacancy.client_id,
            vacancy_id=vacancy.id,
            position=position,
            text=q.text,
            normalized_text=normalize_question(q.text),
            topic=q.topic,
            answer_quality=q.answer_quality,
            half_answered=q.half_answered,
            asked_at=interview.ends_at,
        )
        for position, q in enumerate(data.questions)
    ]
    await session.flush()
    record_event(
        session,
        principal,
        clock,
        "debrief.submitted" if created else "debrief.updated",
        debrief.id,
        snapshot=DebriefRead.model_validate(debrief),
        application_id=application.id,
        interview_id=str(interview.id),
        on_time=debrief.on_time,
        questions=len(data.questions),
    )
    return debrief, created


async def question_bank(
    session: AsyncSession,
    principal: Principal,
    client_id: UUID,
    params: PageParams,
    vacancy_id: UUID | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The client's questions, most asked first (then alphabetically), keyset-paginated."""
    await clients.get(session, principal, client_id)
    q = DebriefQuestion
    times = func.count().label("times_asked")
    struggled = (
        func.count()
        .filter(or_(q.answer_quality == AnswerQuality.weak, q.half_answered))
        .label("weak_or_half_answered")
    )
    stmt = (
        select(
            q.normalized_text,
            times,
            func.max(q.asked_at).label("last_asked_at"),
            func.array_agg(aggregate_order_by(q.text, q.asked_at.desc())).label("wordings"),
            func.array_remove(func.array_agg(func.distinct(q.topic)), None).label("topics"),
            func.array_agg(func.distinct(q.vacancy_id)).label("vacancy_ids"),
            struggled,
        )
        .where(q.agency_id == principal.agency_id, q.client_id == client_id)
        .group_by(q.normalized_text)
    )
    if vacancy_id is not None:
        stmt = stmt.where(q.vacancy_id == vacancy_id)
    if params.cursor:
        count, text = decode_values(params.cursor, [int, str])
        asked = literal(count, BigInteger())  # count(*) is a bigint: so is the bound
        stmt = stmt.having(or_(times < asked, and_(times == asked, q.normalized_text > text)))
    rows = (
        await session.execute(
            stmt.order_by(times.desc(), q.normalized_text).limit(params.limit + 1)
        )
    ).all()
    entries = [
        {
            "text": row.wordings[0],
            "normalized_text": row.normalized_text,
            "times_asked": row.times_asked,
            "last_asked_at": row.last_asked_at,
            "topics": sorted(row.topics),
            "vacancy_ids": sorted(row.vacancy_ids),
            "weak_or_half_answered": row.weak_or_half_answered,
        }
        for row in rows[: params.limit]
    ]
    next_cursor = None
    if len(rows) > params.limit:
        next_cursor = encode_cursor([entries[-1]["times_asked"], entries[-1]["normalized_text"]])
    return entries, next_cursor
