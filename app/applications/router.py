from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from app.applications.schemas import (
    ApplicationCreate,
    ApplicationRead,
    ApplicationReplace,
    ApplicationUpdate,
)
from app.applications.service import applications
from app.core.auth import RecordsReader, RecordsWriter
from app.core.deps import ClockDep, SessionDep
from app.core.etag import etag_of
from app.core.idempotency import IdempotencyDep
from app.core.pagination import Page, PageQuery
from app.core.record_routes import add_record_routes
from app.core.routing import UpdatedAfter
from app.models import ApplicationStatus

router = APIRouter(tags=["Pipeline"])


@router.get("/v1/applications", summary="List applications (sync order: updated_at, then id)")
async def list_applications(
    principal: RecordsReader,
    session: SessionDep,
    page: PageQuery,
    candidate_id: Annotated[UUID | None, Query()] = None,
    vacancy_id: Annotated[UUID | None, Query()] = None,
    consultant_id: Annotated[UUID | None, Query()] = None,
    status: Annotated[ApplicationStatus | None, Query()] = None,
    external_id: Annotated[str | None, Query(max_length=200)] = None,
    updated_after: UpdatedAfter = None,
) -> Page[ApplicationRead]:
    items, next_cursor = await applications.listing(
        session,
        principal,
        page,
        updated_after=updated_after,
        candidate_id=candidate_id,
        vacancy_id=vacancy_id,
        consultant_id=consultant_id,
        status=status,
        external_id=external_id,
    )
    return Page(items=[ApplicationRead.model_validate(a) for a in items], next=next_cursor)


@router.post(
    "/v1/applications",
    status_code=status.HTTP_201_CREATED,
    summary="Put a candidate forward for a vacancy (one application per pair)",
)
async def create_application(
    principal: RecordsWriter,
    session: SessionDep,
    clock: ClockDep,
    data: ApplicationCreate,
    idem: IdempotencyDep,
    response: Response,
) -> ApplicationRead:
    application = await applications.create(session, principal, clock, data)
    return await idem.respond(
        response,
        ApplicationRead.model_validate(application),
        status_code=201,
        location=f"/v1/applications/{application.id}",
        etag=etag_of(application.version),
    )


add_record_routes(
    router,
    service=applications,
    path="/v1/applications",
    read=ApplicationRead,
    update=ApplicationUpdate,
    replace=ApplicationReplace,
)
