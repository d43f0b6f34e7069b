from uuid import UUID

from fastapi import APIRouter

from app.applications.service import applications
from app.core.auth import WorkflowReader
from app.core.deps import SessionDep
from app.core.pagination import Page, PageQuery
from app.events.schemas import TimelineEntry
from app.events.service import application_timeline

router = APIRouter(tags=["Pipeline"])


@router.get(
    "/v1/applications/{application_id}/timeline",
    summary="Everything that happened to an application, newest first, and who did it",
)
async def read_timeline(
    principal: WorkflowReader, session: SessionDep, application_id: UUID, page: PageQuery
) -> Page[TimelineEntry]:
    await applications.get(session, principal, application_id)
    events, next_cursor = await application_timeline(session, principal, application_id, page)
    return Page(items=[TimelineEntry.of(e) for e in events], next=next_cursor)
