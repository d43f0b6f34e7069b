"""Applications: a candidate put forward for a vacancy. Closed, never deleted."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agency.service import get_agency
from app.applications.schemas import ApplicationRead
from app.candidates.service import ensure_not_erased
from app.core.auth import Principal
from app.core.errors import (
    ApplicationClosed,
    ApplicationExists,
    CandidateErased,
    Immutable,
    NotFound,
    ReferenceNotFound,
)
from app.core.records import RecordService, hold, referenced
from app.models import (
    Application,
    Candidate,
    Client,
    ClientContact,
    Interview,
    InterviewInterviewer,
    User,
    Vacancy,
)

PAIR_INDEX = "uq_application_agency_id_candidate_id_vacancy_id"


class ApplicationService(RecordService[Application]):
    model = Application
    label = "application"
    read = ApplicationRead
    unique_problems = {PAIR_INDEX: ApplicationExists}
    write_problems = (ReferenceNotFound, ApplicationExists, Immutable, CandidateErased)

    def application_of(self, record: Application) -> UUID | None:
        return record.id

    async def check(
        self,
        session: AsyncSession,
        principal: Principal,
        values: dict[str, Any],
        current: Application | None,
    ) -> None:
        if current is not None:
            for field in ("candidate_id", "vacancy_id"):
                if field in values and values[field] != getattr(current, field):
                    raise Immutable(f"{field} cannot change; create another application.")
        else:
            candidate = await referenced(
                session, Candidate, principal, values["candidate_id"], "candidate_id"
            )
            ensure_not_erased(candidate)
            await referenced(session, Vacancy, principal, values["vacancy_id"], "vacancy_id")
            await self._ensure_first(
                session, principal, values["candidate_id"], values["vacancy_id"]
            )
        if values.get("consultant_id") is not None:
            await referenced(session, User, principal, values["consultant_id"], "consultant_id")

    async def _ensure_first(
        self, session: AsyncSession, principal: Principal, candidate_id: UUID, vacancy_id: UUID
    ) -> None:
        existing = await session.scalar(
            select(Application.id).where(
                Application.agency_id == principal.agency_id,
                Application.candidate_id == candidate_id,
                Application.vacancy_id == vacancy_id,
            )
        )
        if existing is not None:
            raise ApplicationExists(
                f"Application {existing} already puts that candidate forward for that vacancy.",
                existing_id=str(existing),
            )


applications = ApplicationService()


def ensure_open(application: Application) -> None:
    """A closed application (withdrawn, unsuccessful, placed) takes no further step."""
    if not application.is_open:
        raise ApplicationClosed(f"The application is {application.status}; reopen it first.")


async def open_application(
    session: AsyncSession, principal: Principal, application_id: UUID
) -> Application:
    """The application, when it is still open (404 when not the caller's; 409 when closed),
    held for this transaction's step (`hold_open`)."""
    application = await applications.get(session, principal, application_id)
    await hold_open(session, principal, application)
    return application


async def hold_open(session: AsyncSession, principal: Principal, application: Application) -> None:
    """Steps on one application run one after another (`hold`), each seeing what the one
    before it did (two first PUTs of a step both found none and both inserted); then 409 when
    it is closed."""
    if not await hold(session, principal, application):
        raise NotFound("No application with that id.")
    ensure_open(application)


async def message_context(
    session: AsyncSession, principal: Principal, application: Application
) -> dict[str, str]:
    """What every message about an application may say: who, which role, from whom."""
    agency = await get_agency(session, principal)
    row = (
        await session.execute(
            select(Candidate.first_name, Candidate.last_name, Vacancy.title, Client.name)
            .join(
                Vacancy,
                (Vacancy.agency_id == Candidate.agency_id) & (Vacancy.id == application.vacancy_id),
            )
            .join(
                Client, (Client.agency_id == Vacancy.agency_id) & (Client.id == Vacancy.client_id)
            )
            .where(
                Candidate.agency_id == principal.agency_id, Candidate.id == application.candidate_id
            )
        )
    ).one()
    consultant_id = application.consultant_id or principal.user_id
    consultant = await session.scalar(
        select(User.name).where(User.agency_id == principal.agency_id, User.id == consultant_id)
    )
    return {
        "agency_name": agency.sender_name or agency.name,
        "consultant_name": consultant or agency.name,
        "candidate_first_name": row[0],
        "candidate_last_name": row[1],
        "role_title": row[2],
        "client_name": row[3],
    }


async def client_contact_for(
    session: AsyncSession, principal: Principal, application: Application, now: datetime
) -> ClientContact | None:
    """The vacancy's hiring contact; else the first interviewer of the latest interview held
    by `now` (someone who met the candidate)."""
    vacancy = await session.scalar(
        select(Vacancy).where(
            Vacancy.agency_id == principal.agency_id, Vacancy.id == application.vacancy_id
        )
    )
    contact_id = vacancy.hiring_contact_id if vacancy else None
    if contact_id is None:
        contact_id = await session.scalar(
            select(InterviewInterviewer.contact_id)
            .join(
                Interview,
                (Interview.agency_id == InterviewInterviewer.agency_id)
                & (Interview.id == InterviewInterviewer.interview_id),
            )
            .where(
                Interview.agency_id == principal.agency_id,
                Interview.application_id == application.id,
                Interview.has_ended(now),
            )
            .order_by(Interview.starts_at.desc(), InterviewInterviewer.position)
            .limit(1)
        )
    if contact_id is None:
        return None
    contact: ClientContact | None = await session.scalar(
        select(ClientContact).where(
            ClientContact.agency_id == principal.agency_id, ClientContact.id == contact_id
        )
    )
    return contact
