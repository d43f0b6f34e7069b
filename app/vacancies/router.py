from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from app.core.auth import RecordsReader
from app.core.deps import SessionDep
from app.core.pagination import Page, PageQuery
from app.core.record_routes import add_record_routes
from app.core.records import contains
from app.core.routing import ExternalIdQuery, UpdatedAfter
from app.models import Vacancy
from app.vacancies.schemas import VacancyCreate, VacancyRead, VacancyReplace, VacancyUpdate
from app.vacancies.service import vacancies

router = APIRouter(tags=["Pipeline"])


@router.get("/v1/vacancies", summary="List vacancies (sync order: updated_at, then id)")
async def list_vacancies(
    principal: RecordsReader,
    session: SessionDep,
    page: PageQuery,
    client_id: Annotated[UUID | None, Query(description="Only this client's vacancies.")] = None,
    title: Annotated[str | None, Query(max_length=200, description="Part of the title.")] = None,
    external_id: ExternalIdQuery = None,
    updated_after: UpdatedAfter = None,
) -> Page[VacancyRead]:
    items, next_cursor = await vacancies.listing(
        session,
        principal,
        page,
        updated_after=updated_after,
        where=contains(Vacancy.title, title),
        client_id=client_id,
        external_id=external_id,
    )
    return Page(items=[VacancyRead.model_validate(v) for v in items], next=next_cursor)


add_record_routes(
    router,
    service=vacancies,
    path="/v1/vacancies",
    plain_list=True,
    create=VacancyCreate,
    read=VacancyRead,
    update=VacancyUpdate,
    replace=VacancyReplace,
    delete_summary="Delete a vacancy with no applications",
)
