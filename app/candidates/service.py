"""Candidates and their referees."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.errors import InUse
from app.core.pagination import PageParams
from app.core.records import RecordService, referenced
from app.models import Application, Candidate, Referee, User


class CandidateService(RecordService[Candidate]):
    model = Candidate
    label = "candidate"

    async def check(
        self,
        session: AsyncSession,
        principal: Principal,
        values: dict[str, Any],
        current: Candidate | None,
    ) -> None:
        if values.get("owner_id") is not None:
            await referenced(session, User, principal, values["owner_id"], "owner_id")

    async def check_delete(
        self, session: AsyncSession, principal: Principal, record: Candidate
    ) -> None:
        has_applications = await session.scalar(
            select(
                exists().where(
                    Application.agency_id == principal.agency_id,
                    Application.candidate_id == record.id,
                )
            )
        )
        if has_applications:
            raise InUse("The candidate has applications; close them instead of deleting.")

    async def search(
        self,
        session: AsyncSession,
        principal: Principal,
        params: PageParams,
        *,
        email: str | None = None,
        name: str | None = None,
        external_id: str | None = None,
        owner_id: UUID | None = None,
        updated_after: datetime | None = None,
    ) -> tuple[list[Candidate], str | None]:
        stmt = self.base_query(principal)
        if email is not None:
            stmt = stmt.where(Candidate.email == email.lower())
        if external_id is not None:
            stmt = stmt.where(Candidate.external_id == external_id)
        if owner_id is not None:
            stmt = stmt.where(Candidate.owner_id == owner_id)
        if name:
            pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            full_name = func.concat(Candidate.first_name, " ", Candidate.last_name)
            stmt = stmt.where(or_(full_name.ilike(pattern), Candidate.last_name.ilike(pattern)))
        return await self.page(session, stmt, params, updated_after)


class RefereeService(RecordService[Referee]):
    model = Referee
    label = "referee"

    async def for_candidate(
        self, session: AsyncSession, principal: Principal, candidate_id: UUID, params: PageParams
    ) -> tuple[list[Referee], str | None]:
        await candidates.get(session, principal, candidate_id)
        stmt = self.base_query(principal).where(Referee.candidate_id == candidate_id)
        return await self.page(session, stmt, params)


candidates = CandidateService()
referees = RefereeService()
