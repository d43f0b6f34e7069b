from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from app.audit import service
from app.audit.schemas import AuditEntryRead
from app.core.auth import Admin
from app.core.deps import SessionDep
from app.core.pagination import Page, PageQuery

router = APIRouter(prefix="/v1/audit-entries", tags=["Audit"])


@router.get("", response_model=Page[AuditEntryRead], summary="List audit entries, newest first")
async def list_audit_entries(
    principal: Admin,
    session: SessionDep,
    page: PageQuery,
    object_id: Annotated[UUID | None, Query(description="Only entries about this object.")] = None,
) -> Page[AuditEntryRead]:
    items, next_cursor = await service.list_entries(session, principal, page, object_id)
    return Page(items=[AuditEntryRead.model_validate(i) for i in items], next=next_cursor)
