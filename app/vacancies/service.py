"""Vacancies: a client's roles."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import InUse, ReferenceNotFound
from app.core.records import RecordService, any_exists, reference_error, referenced
from app.models import Application, Client, ClientContact, Vacancy
from app.vacancies.schemas import VacancyRead


class VacancyService(RecordService[Vacancy]):
    model = Vacancy
    label = "vacancy"
    read = VacancyRead
    write_problems = (ReferenceNotFound,)
    delete_problems = (InUse,)

    async def check(
        self,
        session: AsyncSession,
        principal: Principal,
        values: dict[str, Any],
        current: Vacancy | None,
    ) -> None:
        client_id = values.get("client_id") or (current.client_id if current else None)
        if "client_id" in values:
            await referenced(session, Client, principal, values["client_id"], "client_id")
        if values.get("hiring_contact_id") is not None:
            contact = await referenced(
                session,
                ClientContact,
                principal,
                values["hiring_contact_id"],
                "hiring_contact_id",
            )
            if contact.client_id != client_id:
                raise reference_error(
                    "hiring_contact_id", "the hiring contact must work for the vacancy's client"
                )

    async def check_delete(
        self, session: AsyncSession, principal: Principal, clock: Clock, record: Vacancy
    ) -> None:
        has_applications = await any_exists(
            session,
            Application.agency_id == principal.agency_id,
            Application.vacancy_id == record.id,
        )
        if has_applications:
            raise InUse("The vacancy has applications; it cannot be deleted.")


vacancies = VacancyService()
