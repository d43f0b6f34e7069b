from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from app.core.auth import WorkflowReader
from app.core.deps import ClockDep, SessionDep
from app.core.pagination import Page, PageQuery
from app.worklist import service
from app.worklist.schemas import WorkItem

router = APIRouter(tags=["Work"])


@router.get(
    "/v1/worklist",
    summary="What needs you now: your open work, ordered by due time",
    description="Items appear only after the interview they concern has ended. `overdue` "
    "compares `due_at` with now. Admins (and API keys) may pass `assignee`.",
)
async def read_worklist(
    principal: WorkflowReader,
    session: SessionDep,
    clock: ClockDep,
    page: PageQuery,
    assignee: Annotated[UUID | None, Query(description="A consultant's user id.")] = None,
) -> Page[WorkItem]:
    whose = service.assignee_of(principal, assignee)
    items, next_cursor = await service.worklist(session, principal, clock, whose, page)
    return Page(items=items, next=next_cursor)
