"""What the candidate's page shows: the interview, what happens next, and where each of the
candidate's steps stands (read fresh, in the link's agency, every time the page is drawn)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_links.service import LinkVisit
from app.core.clock import Clock
from app.core.due import DEBRIEF, FOLLOW_UP
from app.models import (
    Agency,
    Application,
    Client,
    Debrief,
    DebriefQuestion,
    Decision,
    FollowUp,
    FollowUpState,
    Interview,
    InterviewStatus,
    NextSteps,
    Vacancy,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Progress:
    agency_name: str
    timezone: str
    word_limit: int
    candidate_first_name: str
    role_title: str
    client_name: str
    interview: Interview
    application: Application
    next_steps: NextSteps | None
    debrief: Debrief | None
    decision: Decision | None
    follow_up: FollowUp | None
    debrief_due_at: datetime
    follow_up_due_at: datetime
    ended: bool

    @property
    def open(self) -> bool:
        """Whether the candidate can still act: an open application, an interview held."""
        return self.application.is_open and self.interview.status != InterviewStatus.cancelled

    @property
    def follow_up_state(self) -> FollowUpState:
        return FollowUpState(self.follow_up.state) if self.follow_up else FollowUpState.not_started

    @property
    def half_answered(self) -> list[DebriefQuestion]:
        """The questions the debrief marked half-answered: a note may answer one of them."""
        return [q for q in self.debrief.questions if q.half_answered] if self.debrief else []

    def local(self, instant: datetime) -> str:
        """An instant on the agency's wall clock, as a person reads it."""
        moment = instant.astimezone(ZoneInfo(self.timezone))
        return f"{moment:%A} {moment.day} {moment:%B %Y, %H:%M} ({self.timezone})"

    def page_context(self) -> dict[str, Any]:
        return {"p": self, "local": self.local}


async def progress(session: AsyncSession, visit: LinkVisit, clock: Clock) -> Progress:
    agency_id = visit.principal.agency_id
    interview_id, application_id = visit.interview.id, visit.application.id
    agency = await _one(session, select(Agency).where(Agency.id == agency_id))
    interview = await _one(
        session,
        select(Interview).where(Interview.agency_id == agency_id, Interview.id == interview_id),
    )
    application = await _one(
        session,
        select(Application).where(
            Application.agency_id == agency_id, Application.id == application_id
        ),
    )
    vacancy = await _one(
        session,
        select(Vacancy).where(Vacancy.agency_id == agency_id, Vacancy.id == application.vacancy_id),
    )
    client = await _one(
        session, select(Client).where(Client.agency_id == agency_id, Client.id == vacancy.client_id)
    )

    def step(model: Any) -> Select[Any]:
        return select(model).where(model.agency_id == agency_id, model.interview_id == interview_id)

    decision = select(Decision).where(
        Decision.agency_id == agency_id, Decision.application_id == application_id
    )
    return Progress(
        agency_name=agency.sender_name or agency.name,
        timezone=agency.timezone,
        word_limit=agency.follow_up_max_words,
        candidate_first_name=visit.candidate.first_name,
        role_title=vacancy.title,
        client_name=client.name,
        interview=interview,
        application=application,
        next_steps=await _maybe(session, step(NextSteps)),
        debrief=await _maybe(session, step(Debrief)),
        decision=await _maybe(session, decision),
        follow_up=await _maybe(session, step(FollowUp)),
        debrief_due_at=DEBRIEF.at(interview.ends_at, agency),
        follow_up_due_at=FOLLOW_UP.at(interview.ends_at, agency),
        ended=interview.has_ended(clock.now()),
    )


async def _maybe(session: AsyncSession, stmt: Select[T]) -> T | None:
    """The row, refreshed (a form's rolled-back attempt may have left it stale)."""
    found: T | None = await session.scalar(stmt.execution_options(populate_existing=True))
    return found


async def _one(session: AsyncSession, stmt: Select[T]) -> T:
    found = await _maybe(session, stmt)
    assert found is not None  # the link's own rows, joined by composite foreign keys
    return found
