"""Post-interview reports: how well the agency keeps up its side, per agency, consultant and
client, over a window of time (by default the last 30 days; plain dates are whole days on the
agency's wall clock)."""

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agency.service import get_agency
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import InconsistentValues
from app.models import (
    Application,
    Debrief,
    Event,
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
DEFAULT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Window:
    """[start, end) in instants, and the time zone plain dates were read in."""

    start: datetime
    end: datetime
    timezone: str


@dataclass(frozen=True)
class InterviewFacts:
    consultant_id: UUID | None
    client_id: UUID
    follow_up_sent: bool
    follow_up_on_time: bool | None
    debriefed: bool
    debrief_on_time: bool | None
    debrief_by_candidate: bool = False
    """First submitted by the candidate through their link (a consultant may have revised it)."""
    thanked_by_candidate: bool = False
    """The candidate thanked the agency through their link."""


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
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    window_from: date | datetime | None,
    window_to: date | datetime | None,
) -> dict[str, Any]:
    """The report over [from, to): each bound a `datetime` (that instant), a plain `date` (that
    day in the agency's time zone) or None (`to`: now; `from`: 30 days before `to`)."""
    window = await report_window(session, principal, clock.now(), window_from, window_to)
    interviews = await _interview_facts(session, principal, window.start, window.end)
    feedback = await _feedback_facts(session, principal, window.start, window.end)
    return {
        "window_from": window.start,
        "window_to": window.end,
        "timezone": window.timezone,
        "agency": metrics(interviews, feedback),
        "consultants": _grouped(interviews, feedback, lambda f: f.consultant_id, "consultant_id"),
        "clients": _grouped(interviews, feedback, lambda f: f.client_id, "client_id"),
        "candidate_link": {
            "debriefs": sum(i.debrief_by_candidate for i in interviews),
            "thank_yous": sum(i.thanked_by_candidate for i in interviews),
        },
    }


async def report_window(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    window_from: date | datetime | None,
    window_to: date | datetime | None,
) -> Window:
    timezone = (await get_agency(session, principal)).timezone
    zone = ZoneInfo(timezone)
    end = now if window_to is None else _instant(window_to, zone, day_end=True)
    start = (
        end - timedelta(days=DEFAULT_WINDOW_DAYS)
        if window_from is None
        else _instant(window_from, zone, day_end=False)
    )
    if end <= start or end - start > timedelta(days=MAX_WINDOW_DAYS):
        raise _inconsistent(to_given=window_to is not None)
    return Window(start, end, timezone)


def _instant(bound: date | datetime, zone: ZoneInfo, *, day_end: bool) -> datetime:
    """An instant as given; a plain date as the start of that local day (of the next one for
    the end, which is excluded)."""
    if isinstance(bound, datetime):
        return bound
    day = bound + timedelta(days=1) if day_end else bound
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _inconsistent(*, to_given: bool) -> InconsistentValues:
    """Blame the bound the caller gave: `to`, or `from` when `to` was left out as now."""
    field, message = (
        ("to", f"must be after `from`, and at most {MAX_WINDOW_DAYS} days after it")
        if to_given
        else (
            "from",
            f"must be before `to` (now, when `to` is left out), and at most "
            f"{MAX_WINDOW_DAYS} days before it",
        )
    )
    return InconsistentValues.at_field(field, message, location="query")


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
            _by_candidate(principal, "debrief.submitted", Debrief.id),
            _by_candidate(principal, "follow_up.agency_thanked", FollowUp.id),
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
            debrief_by_candidate=row[6],
            thanked_by_candidate=row[7],
        )
        for row in (await session.execute(stmt)).all()
    ]


def _by_candidate(principal: Principal, event_type: str, object_id: Any) -> ColumnElement[bool]:
    """Whether the candidate did this (the event about `object_id`) through their link."""
    return exists().where(
        Event.agency_id == principal.agency_id,
        Event.object_id == object_id,
        Event.type == event_type,
        Event.via_link == "candidate",
    )


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
