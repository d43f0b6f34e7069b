"""Audit entries: who did what, with which credential. Written in the same transaction as the
change they describe; never updated."""

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.clock import Clock
from app.core.events import stamped_by
from app.core.pagination import PageParams, paginate
from app.models import AuditEntry


def record(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    action: str,
    obj: tuple[str, UUID | None],
    **details: Any,
) -> AuditEntry:
    object_type, object_id = obj
    entry = AuditEntry(
        **stamped_by(principal, clock),
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details,
    )
    session.add(entry)
    return entry


async def list_entries(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    object_id: UUID | None = None,
) -> tuple[list[AuditEntry], str | None]:
    stmt = select(AuditEntry).where(AuditEntry.agency_id == principal.agency_id)
    if object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    return await paginate(
        session, stmt, [AuditEntry.occurred_at, AuditEntry.id], params, descending=True
    )
