from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status

from app.api_keys import service
from app.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from app.core.auth import Admin
from app.core.deps import ClockDep, SessionDep
from app.core.idempotency import IdempotencyDep
from app.core.pagination import Page, PageQuery

router = APIRouter(prefix="/v1/api-keys", tags=["API keys"])
KeyIdPath = Annotated[UUID, Path(description="The API key's id (not its secret).")]


@router.get("", summary="List API keys (admins; secrets are never listed)")
async def list_api_keys(
    principal: Admin,
    session: SessionDep,
    page: PageQuery,
    include_revoked: Annotated[
        bool, Query(description="Also list revoked keys (they are kept for the record).")
    ] = False,
) -> Page[ApiKeyRead]:
    keys, next_cursor = await service.list_api_keys(
        session, principal, page, include_revoked=include_revoked
    )
    return Page(items=[ApiKeyRead.model_validate(k) for k in keys], next=next_cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key (admins; the secret is shown only in this response)",
)
async def create_api_key(
    principal: Admin,
    session: SessionDep,
    clock: ClockDep,
    data: ApiKeyCreate,
    idem: IdempotencyDep,
    response: Response,
) -> ApiKeyCreated:
    api_key, secret = await service.create_api_key(session, principal, clock, data)
    response.headers["Cache-Control"] = "no-store"
    body = ApiKeyCreated.model_validate(
        {**ApiKeyRead.model_validate(api_key).model_dump(), "key": secret}
    )
    # A replay answers without the secret: it is shown once and stored nowhere.
    return await idem.respond(
        response,
        body,
        status_code=201,
        location=f"/v1/api-keys/{api_key.id}",
        redact=frozenset({"key"}),
    )


@router.get("/{key_id}", summary="Read an API key (admins)")
async def read_api_key(principal: Admin, session: SessionDep, key_id: KeyIdPath) -> ApiKeyRead:
    return ApiKeyRead.model_validate(await service.get_api_key(session, principal, key_id))


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key (admins); it stops working on the very next call",
)
async def revoke_api_key(
    principal: Admin, session: SessionDep, clock: ClockDep, key_id: KeyIdPath
) -> None:
    await service.revoke_api_key(session, principal, clock, key_id)
