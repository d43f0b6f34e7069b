from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from app.core.auth import RecordsReader, RecordsWriter
from app.core.deps import ClockDep, SessionDep
from app.core.etag import etag_of
from app.core.idempotency import IdempotencyDep
from app.core.pagination import Page, PageQuery
from app.core.record_routes import add_record_routes
from app.core.records import contains
from app.core.routing import UpdatedAfter
from app.models import Vacancy
from app.vacancies.schemas import VacancyCreate, VacancyRead, VacancyReplace, VacancyUpdate
from app.vacancies.service import vacancies

router = APIRouter(tags=["Pipeline"])


@router.get("/v1/vacancies", summary="List vacancies (sync order: updated_at, then id)")
async def list_vacancies(
    principal: RecordsReader,
    session: SessionDep,
    page: PageQuery,
    client_id: Annotated[UUID | None, Query()] = None,
    title: Annotated[str | None, Query(max_length=200, description="Part of the title.")] = None,
    external_id: Annotated[str | None, Query(max_length=200)] = None,
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


@router.post("/v1/vacancies", status_code=status.HTTP_201_CREATED, summary="Add a vacancy")
async def create_vacancy(
    principal: RecordsWriter,
    session: SessionDep,
    clock: ClockDep,
    data: VacancyCreate,
    idem: IdempotencyDep,
    response: Response,
) -> VacancyRead:
    vacancy = await vacancies.create(session, principal, clock, data)
    return await idem.respond(
        response,
        VacancyRead.model_validate(vacancy),
        status_code=201,
        location=f"/v1/vacancies/{vacancy.id}",
        etag=etag_of(vacancy.version),
    )


add_record_routes(
    router,
    service=vacancies,
    path="/v1/vacancies",
    read=VacancyRead,
    update=VacancyUpdate,
    replace=VacancyReplace,
    delete_summary="Delete a vacancy with no applications",
)
