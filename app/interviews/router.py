from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from app.core.auth import RecordsReader
from app.core.deps import ClockDep, SessionDep
from app.core.pagination import Page, PageQuery
from app.core.record_routes import add_record_routes
from app.core.routing import ExternalIdQuery, UpdatedAfter
from app.core.schemas import Instant
from app.interviews.schemas import InterviewCreate, InterviewRead, InterviewReplace, InterviewUpdate
from app.interviews.service import StatusFilter, interviews

router = APIRouter(tags=["Pipeline"])


@router.get("/v1/interviews", summary="List interviews (sync order: updated_at, then id)")
async def list_interviews(
    principal: RecordsReader,
    session: SessionDep,
    clock: ClockDep,
    page: PageQuery,
    application_id: Annotated[
        UUID | None, Query(description="Only this application's interviews.")
    ] = None,
    status: Annotated[
        StatusFilter | None,
        Query(description="`scheduled` (not yet ended), `completed` (ended) or `cancelled`."),
    ] = None,
    starts_after: Annotated[Instant | None, Query(description="Starts at or after.")] = None,
    starts_before: Annotated[Instant | None, Query(description="Starts before.")] = None,
    external_id: ExternalIdQuery = None,
    updated_after: UpdatedAfter = None,
) -> Page[InterviewRead]:
    items, next_cursor = await interviews.search(
        session,
        principal,
        clock,
        page,
        status=status,
        starts_after=starts_after,
        starts_before=starts_before,
        updated_after=updated_after,
        application_id=application_id,
        external_id=external_id,
    )
    return Page(items=[InterviewRead.model_validate(i) for i in items], next=next_cursor)


add_record_routes(
    router,
    service=interviews,
    path="/v1/interviews",
    create=InterviewCreate,
    read=InterviewRead,
    update=InterviewUpdate,
    replace=InterviewReplace,
    delete_summary="Cancel an interview that has not started (it is kept, as cancelled)",
)
