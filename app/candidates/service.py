"""Candidates and their referees."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidates.schemas import CandidateRead, RefereeRead
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import CandidateErased, InUse, ReferenceNotFound
from app.core.events import record_event
from app.core.pagination import PageParams
from app.core.records import RecordService, any_exists, contains
from app.models import Application, Candidate, Referee, RefereeHeadsUp, User


def ensure_not_erased(candidate: Candidate) -> None:
    """An erased candidate stays erased: their record is not filled in again, and no new
    application, referee or candidate link is made for them."""
    if candidate.erased_at is not None:
        raise CandidateErased(
            "The candidate was erased; if they come back, create them as a new candidate."
        )


class CandidateService(RecordService[Candidate]):
    model = Candidate
    label = "candidate"
    read = CandidateRead
    write_problems = (ReferenceNotFound, CandidateErased)
    delete_problems = (InUse,)
    references = {"owner_id": User}

    def check_change(self, record: Candidate) -> None:
        ensure_not_erased(record)

    async def living(
        self, session: AsyncSession, principal: Principal, candidate_id: UUID
    ) -> Candidate:
        """The candidate, to add something about them (404 another agency's; 409 erased)."""
        candidate = await self.get(session, principal, candidate_id)
        ensure_not_erased(candidate)
        return candidate

    async def check_delete(
        self, session: AsyncSession, principal: Principal, clock: Clock, record: Candidate
    ) -> None:
        has_applications = await any_exists(
            session,
            Application.agency_id == principal.agency_id,
            Application.candidate_id == record.id,
        )
        if has_applications:
            raise InUse("The candidate has applications; close them instead of deleting.")
        going = await session.scalars(
            select(Referee).where(
                Referee.agency_id == principal.agency_id, Referee.candidate_id == record.id
            )
        )
        for referee in going.all():
            record_event(
                session,
                principal,
                clock,
                "referee.deleted",
                referee.id,
                snapshot=RefereeRead.model_validate(referee),
            )

    async def search(
        self,
        session: AsyncSession,
        principal: Principal,
        params: PageParams,
        *,
        name: str | None = None,
        updated_after: datetime | None = None,
        **equals: Any,
    ) -> tuple[list[Candidate], str | None]:
        full_name = func.concat(Candidate.first_name, " ", Candidate.last_name)
        return await self.listing(
            session,
            principal,
            params,
            updated_after=updated_after,
            where=contains(full_name, name),
            **equals,
        )


class RefereeService(RecordService[Referee]):
    model = Referee
    label = "referee"
    read = RefereeRead
    delete_problems = (InUse,)

    async def check_delete(
        self, session: AsyncSession, principal: Principal, clock: Clock, record: Referee
    ) -> None:
        had_heads_up = await any_exists(
            session,
            RefereeHeadsUp.agency_id == principal.agency_id,
            RefereeHeadsUp.referee_id == record.id,
        )
        if had_heads_up:
            raise InUse("The referee had a heads-up; it stays on the application's record.")

    async def for_candidate(
        self, session: AsyncSession, principal: Principal, candidate_id: UUID, params: PageParams
    ) -> tuple[list[Referee], str | None]:
        await candidates.get(session, principal, candidate_id)
        return await self.listing(session, principal, params, candidate_id=candidate_id)


candidates = CandidateService()
referees = RefereeService()
