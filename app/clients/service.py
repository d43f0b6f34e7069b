"""Clients (companies) and their contacts (interviewers, hiring managers)."""

from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.clients.schemas import ClientRead, ContactRead
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import InUse, ReferenceNotFound
from app.core.events import record_event
from app.core.pagination import PageParams
from app.core.records import RecordService, any_exists
from app.core.timestamps import update_rows
from app.models import Application, Client, ClientContact, InterviewInterviewer, Vacancy
from app.vacancies.schemas import VacancyRead


class ClientService(RecordService[Client]):
    model = Client
    label = "client"
    read = ClientRead
    delete_problems = (InUse,)

    async def check_delete(
        self, session: AsyncSession, principal: Principal, clock: Clock, record: Client
    ) -> None:
        """Vacancies and contacts go with their client, unless a vacancy has applications."""
        has_applications = await any_exists(
            session,
            Application.agency_id == principal.agency_id,
            Vacancy.agency_id == principal.agency_id,
            Application.vacancy_id == Vacancy.id,
            Vacancy.client_id == record.id,
        )
        if has_applications:
            raise InUse("The client's vacancies have applications; it cannot be deleted.")
        going: tuple[tuple[Any, type[BaseModel], str], ...] = (
            (Vacancy, VacancyRead, "vacancy.deleted"),
            (ClientContact, ContactRead, "contact.deleted"),
        )
        for model, read, event_type in going:
            rows = await session.scalars(
                select(model).where(
                    model.agency_id == principal.agency_id, model.client_id == record.id
                )
            )
            for row in rows.all():
                record_event(
                    session,
                    principal,
                    clock,
                    event_type,
                    row.id,
                    snapshot=read.model_validate(row),
                )


class ContactService(RecordService[ClientContact]):
    model = ClientContact
    label = "contact"
    read = ContactRead
    write_problems = (ReferenceNotFound,)
    delete_problems = (InUse,)
    references = {"client_id": Client}

    async def check_delete(
        self, session: AsyncSession, principal: Principal, clock: Clock, record: ClientContact
    ) -> None:
        on_a_panel = await any_exists(
            session,
            InterviewInterviewer.agency_id == principal.agency_id,
            InterviewInterviewer.contact_id == record.id,
        )
        if on_a_panel:
            raise InUse("The contact is an interviewer on an interview.")
        cleared = await update_rows(
            session,
            Vacancy,
            principal.agency_id,
            [Vacancy.hiring_contact_id == record.id],
            {"hiring_contact_id": None},
            clock.now(),
        )
        for vacancy in cleared:
            record_event(
                session,
                principal,
                clock,
                "vacancy.updated",
                vacancy.id,
                snapshot=VacancyRead.model_validate(vacancy),
                fields=["hiring_contact_id"],
            )

    async def for_client(
        self, session: AsyncSession, principal: Principal, client_id: UUID, params: PageParams
    ) -> tuple[list[ClientContact], str | None]:
        await clients.get(session, principal, client_id)
        return await self.listing(session, principal, params, client_id=client_id)


clients = ClientService()
contacts = ContactService()
