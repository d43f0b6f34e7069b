"""API keys for integrations: created and revoked by admins; the secret is shown once."""

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.api_keys.schemas import ApiKeyCreate
from app.audit import service as audit
from app.core.auth import DEFAULT_SCOPES, Principal
from app.core.clock import Clock
from app.core.pagination import PageParams, paginate
from app.core.records import get_owned
from app.core.security import new_api_key
from app.core.timestamps import touch
from app.models import ApiKey


async def list_api_keys(
    session: AsyncSession, principal: Principal, params: PageParams, *, include_revoked: bool
) -> tuple[list[ApiKey], str | None]:
    stmt = select(ApiKey).where(ApiKey.agency_id == principal.agency_id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return await paginate(session, stmt, [ApiKey.created_at, ApiKey.id], params)


async def get_api_key(session: AsyncSession, principal: Principal, key_id: UUID) -> ApiKey:
    return await get_owned(session, ApiKey, principal, key_id, "No API key with that id.")


async def create_api_key(
    session: AsyncSession, principal: Principal, clock: Clock, data: ApiKeyCreate
) -> tuple[ApiKey, str]:
    secret = new_api_key(principal.agency_id)
    scopes = sorted({s.value for s in (data.scopes or DEFAULT_SCOPES)})
    now = clock.now()
    api_key = ApiKey(
        agency_id=principal.agency_id,
        name=data.name,
        prefix=secret.display_prefix,
        key_hash=secret.digest,
        scopes=scopes,
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(api_key)
    await session.flush()
    audit.record(
        session, principal, clock, "api_key.created", ("api_key", api_key.id), scopes=scopes
    )
    return api_key, secret.key


async def revoke_api_key(
    session: AsyncSession, principal: Principal, clock: Clock, key_id: UUID
) -> None:
    api_key = await get_api_key(session, principal, key_id)
    if api_key.revoked_at is not None:
        return
    api_key.revoked_at = clock.now()
    touch(api_key, api_key.revoked_at)
    audit.record(session, principal, clock, "api_key.revoked", ("api_key", api_key.id))
    await session.flush()
