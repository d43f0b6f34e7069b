"""Interviews: an application's rounds, with a panel of the client's contacts."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import ColumnExpressionArgument, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.applications.service import hold_open
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import (
    Immutable,
    InconsistentValues,
    InterviewAlreadyHeld,
    InterviewCancelled,
    InterviewerNotAtClient,
    InterviewNotFinished,
    NotFound,
    ReferenceNotFound,
)
from app.core.etag import ensure_match
from app.core.pagination import PageParams
from app.core.records import RecordService, StepT, owned, referenced, step_of
from app.core.timestamps import touch
from app.interviews.schemas import InterviewRead
from app.models import (
    Application,
    ClientContact,
    Interview,
    InterviewInterviewer,
    InterviewStatus,
    Vacancy,
)

StatusFilter = Literal["scheduled", "completed", "cancelled"]


class InterviewService(RecordService[Interview]):
    model = Interview
    label = "interview"
    read = InterviewRead
    write_problems = (
        InconsistentValues,
        ReferenceNotFound,
        InterviewerNotAtClient,
        InterviewCancelled,
        Immutable,
    )
    delete_problems = (InterviewAlreadyHeld,)

    def application_of(self, record: Interview) -> UUID | None:
        return record.application_id

    async def check(
        self,
        session: AsyncSession,
        principal: Principal,
        values: dict[str, Any],
        current: Interview | None,
    ) -> None:
        if current is not None:
            if current.status == InterviewStatus.cancelled:
                raise InterviewCancelled("A cancelled interview cannot change.")
            if values.get("application_id", current.application_id) != current.application_id:
                raise Immutable("application_id cannot change; schedule a new interview.")
        application_id: UUID = (
            current.application_id if current is not None else values["application_id"]
        )
        application = await referenced(
            session, Application, principal, application_id, "application_id"
        )
        starts = values.get("starts_at") or (current.starts_at if current else None)
        ends = values.get("ends_at") or (current.ends_at if current else None)
        if starts is not None and ends is not None and ends <= starts:
            message = "ends_at must be after starts_at"
            raise InconsistentValues.at_field("ends_at", message, detail=message)
        if values.get("interviewer_ids"):
            await self._ensure_panel_at_client(
                session, principal, application, values["interviewer_ids"]
            )

    async def _ensure_panel_at_client(
        self,
        session: AsyncSession,
        principal: Principal,
        application: Application,
        contact_ids: list[UUID],
    ) -> None:
        client_id = await session.scalar(
            select(Vacancy.client_id).where(
                Vacancy.agency_id == principal.agency_id, Vacancy.id == application.vacancy_id
            )
        )
        at_client = set(
            await session.scalars(
                select(ClientContact.id).where(
                    ClientContact.agency_id == principal.agency_id,
                    ClientContact.client_id == client_id,
                    ClientContact.id.in_(contact_ids),
                )
            )
        )
        strangers = [str(c) for c in contact_ids if c not in at_client]
        if strangers:
            message = f"not contacts of the vacancy's client: {', '.join(strangers)}"
            raise InterviewerNotAtClient.at_field("interviewer_ids", message)

    async def write_extra(
        self,
        session: AsyncSession,
        principal: Principal,
        record: Interview,
        data: BaseModel,
        *,
        creating: bool,
    ) -> list[str]:
        """Set the panel (a new interview's `panel` is empty and not loaded, so not read)."""
        wanted: list[UUID] = getattr(data, "interviewer_ids", None) or []
        if not creating and (
            "interviewer_ids" not in data.model_fields_set or wanted == record.interviewer_ids
        ):
            return []
        if creating:  # a new row has no panel yet: say so, rather than let SQLAlchemy load it
            set_committed_value(record, "panel", [])
        record.panel = [
            InterviewInterviewer(
                agency_id=principal.agency_id, contact_id=contact_id, position=position
            )
            for position, contact_id in enumerate(wanted)
        ]
        await session.flush()
        return ["interviewer_ids"]

    async def search(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        params: PageParams,
        *,
        status: StatusFilter | None,
        starts_after: datetime | None,
        starts_before: datetime | None,
        updated_after: datetime | None,
        **equals: Any,
    ) -> tuple[list[Interview], str | None]:
        where: list[ColumnExpressionArgument[bool]] = []
        if status == "cancelled":
            where.append(Interview.status == InterviewStatus.cancelled)
        elif status == "completed":
            where.append(Interview.has_ended(clock.now()))
        elif status == "scheduled":  # still to come, or under way
            where.append(Interview.status == InterviewStatus.scheduled)
            where.append(~Interview.has_ended(clock.now()))
        if starts_after is not None:
            where.append(Interview.starts_at >= starts_after)
        if starts_before is not None:
            where.append(Interview.starts_at < starts_before)
        return await self.listing(
            session, principal, params, updated_after=updated_after, where=where, **equals
        )

    async def cancel(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        interview_id: UUID,
        if_match: str | None,
    ) -> None:
        """Cancel an interview that has not started; cancelling twice is harmless."""
        interview = await self.get(session, principal, interview_id)
        ensure_match(if_match, interview.version, required=False)
        if interview.status == InterviewStatus.cancelled:
            return
        now = clock.now()
        if interview.starts_at <= now:
            raise InterviewAlreadyHeld("An interview that has started cannot be cancelled.")
        interview.status, interview.cancelled_at = InterviewStatus.cancelled, now
        touch(interview, now)
        await session.flush()
        self.event(session, principal, clock, "cancelled", interview)

    async def delete(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        record_id: UUID,
        if_match: str | None,
    ) -> None:
        await self.cancel(session, principal, clock, record_id, if_match)


interviews = InterviewService()


async def finished_interview(
    session: AsyncSession, principal: Principal, clock: Clock, interview_id: UUID
) -> tuple[Interview, Application]:
    """An interview that has ended, of an application still open: where every post-interview
    step starts. No step (and no reminder) exists for an interview that has not ended."""
    interview = await interviews.get(session, principal, interview_id)
    if interview.status == InterviewStatus.cancelled:
        raise InterviewCancelled("The interview was cancelled.")
    if not interview.has_ended(clock.now()):
        raise InterviewNotFinished(
            f"It ends at {interview.ends_at.isoformat()}.", ends_at=interview.ends_at.isoformat()
        )
    application = await owned(session, Application, principal, interview.application_id)
    assert application is not None  # the composite foreign key guarantees it
    await hold_open(session, principal, application)
    return interview, application


async def recorded_step(
    session: AsyncSession,
    principal: Principal,
    model: type[StepT],
    interview_id: UUID,
    missing: str,
) -> StepT:
    """An interview's record of one step: 404 when the interview is not the caller's, or when
    the step is not recorded yet (the detail `missing`)."""
    await interviews.get(session, principal, interview_id)
    found = await step_of(session, principal, model, interview_id)
    if found is None:
        raise NotFound(missing)
    return found
