"""Post-interview reports: how well the agency keeps up its side, per agency, consultant and
client, over a window of time."""

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.errors import FieldError, InconsistentValues
from app.models import (
    Application,
    Debrief,
    FeedbackRequest,
    FeedbackState,
    FollowUp,
    FollowUpState,
    Interview,
    InterviewStatus,
    Vacancy,
)

OBTAINED = (FeedbackState.received, FeedbackState.released)
MAX_WINDOW_DAYS = 400


@dataclass(frozen=True)
class InterviewFacts:
    consultant_id: UUID | None
    client_id: UUID
    follow_up_sent: bool
    follow_up_on_time: bool | None
    debriefed: bool
    debrief_on_time: bool | None


@dataclass(frozen=True)
class FeedbackFacts:
    consultant_id: UUID | None
    client_id: UUID
    days_to_answer: float | None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def metrics(interviews: list[InterviewFacts], feedback: list[FeedbackFacts]) -> dict[str, Any]:
    sent = [i for i in interviews if i.follow_up_sent]
    debriefed = [i for i in interviews if i.debriefed]
    answered = [f.days_to_answer for f in feedback if f.days_to_answer is not None]
    return {
        "interviews": len(interviews),
        "follow_ups_sent": len(sent),
        "follow_up_rate": _rate(len(sent), len(interviews)),
        "follow_up_on_time_rate": _rate(sum(1 for i in sent if i.follow_up_on_time), len(sent)),
        "debriefs": len(debriefed),
        "debrief_on_time_rate": _rate(
            sum(1 for i in debriefed if i.debrief_on_time), len(debriefed)
        ),
        "feedback_requests": len(feedback),
        "feedback_obtained": len(answered),
        "feedback_obtained_rate": _rate(len(answered), len(feedback)),
        "median_days_to_feedback": round(statistics.median(answered), 2) if answered else None,
    }


async def post_interview_report(
    session: AsyncSession, principal: Principal, window_from: datetime, window_to: datetime
) -> dict[str, Any]:
    if window_to <= window_from or window_to - window_from > timedelta(days=MAX_WINDOW_DAYS):
        message = f"must be after `from`, and at most {MAX_WINDOW_DAYS} days after it"
        raise InconsistentValues(
            f"to: {message}.",
            errors=[FieldError(field="to", location="query", message=message).model_dump()],
        )
    interviews = await _interview_facts(session, principal, window_from, window_to)
    feedback = await _feedback_facts(session, principal, window_from, window_to)
    return {
        "window_from": window_from,
        "window_to": window_to,
        "agency": metrics(interviews, feedback),
        "consultants": _grouped(interviews, feedback, lambda f: f.consultant_id, "consultant_id"),
        "clients": _grouped(interviews, feedback, lambda f: f.client_id, "client_id"),
    }


def _grouped(
    interviews: Iterable[InterviewFacts],
    feedback: Iterable[FeedbackFacts],
    key: Callable[[Any], UUID | None],
    name: str,
) -> list[dict[str, Any]]:
    by_interviews: dict[UUID | None, list[InterviewFacts]] = defaultdict(list)
    by_feedback: dict[UUID | None, list[FeedbackFacts]] = defaultdict(list)
    for i in interviews:
        by_interviews[key(i)].append(i)
    for f in feedback:
        by_feedback[key(f)].append(f)
    keys = sorted(set(by_interviews) | set(by_feedback), key=lambda k: str(k or ""))
    return [{name: k, **metrics(by_interviews[k], by_feedback[k])} for k in keys]


def _scoped(model: Any, principal: Principal) -> Any:
    return model.agency_id == principal.agency_id


async def _interview_facts(
    session: AsyncSession, principal: Principal, window_from: datetime, window_to: datetime
) -> list[InterviewFacts]:
    stmt = (
        select(
            Application.consultant_id,
            Vacancy.client_id,
            FollowUp.state,
            FollowUp.on_time,
            Debrief.id,
            Debrief.on_time,
        )
        .select_from(Interview)
        .join(
            Application,
            and_(_scoped(Application, principal), Application.id == Interview.application_id),
        )
        .join(Vacancy, and_(_scoped(Vacancy, principal), Vacancy.id == Application.vacancy_id))
        .outerjoin(
            FollowUp, and_(_scoped(FollowUp, principal), FollowUp.interview_id == Interview.id)
        )
        .outerjoin(Debrief, and_(_scoped(Debrief, principal), Debrief.interview_id == Interview.id))
        .where(
            _scoped(Interview, principal),
            Interview.status == InterviewStatus.scheduled,
            Interview.ends_at >= window_from,
            Interview.ends_at < window_to,
        )
    )
    return [
        InterviewFacts(
            consultant_id=row[0],
            client_id=row[1],
            follow_up_sent=row[2] == FollowUpState.sent,
            follow_up_on_time=row[3] if row[2] == FollowUpState.sent else None,
            debriefed=row[4] is not None,
            debrief_on_time=row[5],
        )
        for row in (await session.execute(stmt)).all()
    ]


async def _feedback_facts(
    session: AsyncSession, principal: Principal, window_from: datetime, window_to: datetime
) -> list[FeedbackFacts]:
    stmt = (
        select(
            Application.consultant_id,
            Vacancy.client_id,
            FeedbackRequest.state,
            FeedbackRequest.requested_at,
            FeedbackRequest.received_at,
        )
        .select_from(FeedbackRequest)
        .join(
            Application,
            and_(_scoped(Application, principal), Application.id == FeedbackRequest.application_id),
        )
        .join(Vacancy, and_(_scoped(Vacancy, principal), Vacancy.id == Application.vacancy_id))
        .where(
            _scoped(FeedbackRequest, principal),
            FeedbackRequest.requested_at >= window_from,
            FeedbackRequest.requested_at < window_to,
        )
    )
    facts = []
    for consultant_id, client_id, state, requested_at, received_at in (
        await session.execute(stmt)
    ).all():
        days = None
        if state in OBTAINED and received_at is not None:
            days = (received_at - requested_at).total_seconds() / 86_400
        facts.append(FeedbackFacts(consultant_id, client_id, days))
    return facts
