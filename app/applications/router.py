from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from app.applications.schemas import (
    ApplicationCreate,
    ApplicationRead,
    ApplicationReplace,
    ApplicationUpdate,
)
from app.applications.service import applications
from app.core.auth import RecordsReader
from app.core.deps import SessionDep
from app.core.pagination import Page, PageQuery
from app.core.record_routes import add_record_routes
from app.core.routing import ExternalIdQuery, UpdatedAfter
from app.models import ApplicationStatus

router = APIRouter(tags=["Pipeline"])


@router.get("/v1/applications", summary="List applications (sync order: updated_at, then id)")
async def list_applications(
    principal: RecordsReader,
    session: SessionDep,
    page: PageQuery,
    candidate_id: Annotated[UUID | None, Query(description="Only this candidate's.")] = None,
    vacancy_id: Annotated[UUID | None, Query(description="Only for this vacancy.")] = None,
    consultant_id: Annotated[
        UUID | None, Query(description="Only those this consultant (a user id) handles.")
    ] = None,
    status: Annotated[ApplicationStatus | None, Query(description="Only in this status.")] = None,
    external_id: ExternalIdQuery = None,
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


add_record_routes(
    router,
    service=applications,
    path="/v1/applications",
    plain_list=True,
    create=ApplicationCreate,
    read=ApplicationRead,
    update=ApplicationUpdate,
    replace=ApplicationReplace,
)
