from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status

from app.core.auth import UserManager, UsersReader
from app.core.deps import ClockDep, SessionDep
from app.core.errors import EmailTaken, LastAdmin, PreconditionRequired
from app.core.etag import IfMatch, etag_of, set_etag
from app.core.idempotency import IdempotencyDep
from app.core.openapi_headers import SETS_ETAG
from app.core.pagination import Page, PageQuery
from app.core.problem_docs import raises
from app.core.schemas import Email
from app.models import Role
from app.users import service
from app.users.schemas import UserCreate, UserRead, UserUpdate

router = APIRouter(prefix="/v1/users", tags=["Users"])
UserIdPath = Annotated[UUID, Path(description="The user's id.")]


@router.get("", summary="List your agency's users")
async def list_users(
    principal: UsersReader,
    session: SessionDep,
    page: PageQuery,
    role: Annotated[Role | None, Query(description="Only users of this role.")] = None,
    active: Annotated[
        bool | None, Query(description="Only active (`true`) or deactivated (`false`) users.")
    ] = None,
    email: Annotated[Email | None, Query(description="Exact email address.")] = None,
) -> Page[UserRead]:
    users, next_cursor = await service.list_users(
        session, principal, page, role=role, active=active, email=email
    )
    return Page(items=[UserRead.model_validate(u) for u in users], next=next_cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a user (admins, or API keys with users:write for consultants)",
    openapi_extra=raises(EmailTaken) | SETS_ETAG,
)
async def create_user(
    principal: UserManager,
    session: SessionDep,
    clock: ClockDep,
    data: UserCreate,
    idem: IdempotencyDep,
    response: Response,
) -> UserRead:
    user = await service.create_user(session, principal, clock, data)
    return await idem.respond(
        response,
        UserRead.model_validate(user),
        status_code=201,
        location=f"/v1/users/{user.id}",
        etag=etag_of(user.version),
    )


@router.get("/{user_id}", summary="Read a user", openapi_extra=SETS_ETAG)
async def read_user(
    principal: UsersReader, session: SessionDep, user_id: UserIdPath, response: Response
) -> UserRead:
    user = await service.get_user(session, principal, user_id)
    set_etag(response, user.version)
    return UserRead.model_validate(user)


@router.patch(
    "/{user_id}",
    summary="Change a user (admins, or keys with users:write; requires If-Match)",
    openapi_extra=raises(EmailTaken, LastAdmin, PreconditionRequired) | SETS_ETAG,
)
async def update_user(
    principal: UserManager,
    session: SessionDep,
    clock: ClockDep,
    user_id: UserIdPath,
    changes: UserUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> UserRead:
    user = await service.update_user(session, principal, clock, user_id, changes, if_match)
    set_etag(response, user.version)
    return UserRead.model_validate(user)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a user (admins, or keys with users:write)",
    description="The user can no longer log in and is gone from the user routes (404 after; "
    "their email may be given to a new user), while their name stays on history. To suspend "
    "someone reversibly, `PATCH` `active: false` instead.",
    openapi_extra=raises(LastAdmin),
)
async def remove_user(
    principal: UserManager,
    session: SessionDep,
    clock: ClockDep,
    user_id: UserIdPath,
    if_match: IfMatch = None,
) -> None:
    await service.remove_user(session, principal, clock, user_id, if_match)
