from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from app.agency.schemas import AgencyRead
from app.api_keys.schemas import ApiKeyRead
from app.auth import service
from app.auth.schemas import MeRead, TokenResponse
from app.core.auth import CurrentPrincipal
from app.core.deps import ClockDep, SessionDep
from app.core.errors import AmbiguousLogin, InvalidCredentials, TooManyAttempts
from app.core.etag import IfMatch, set_etag
from app.core.openapi_headers import SETS_ETAG
from app.core.problem_docs import raises
from app.core.state import StateDep
from app.users import service as users
from app.users.schemas import MeUpdate, UserRead

router = APIRouter(prefix="/v1", tags=["Auth"])


async def login_form(
    grant_type: Annotated[Literal["password"], Form()] = "password",
    *,
    username: Annotated[str, Form(min_length=1, max_length=320)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    scope: Annotated[str, Form(max_length=1000)] = "",
    client_id: Annotated[str | None, Form(max_length=100)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
) -> OAuth2PasswordRequestForm:
    """The OAuth2 password form, with limits: an absurd login is a 422, not work. (A coroutine,
    so FastAPI does not hop to a thread to build it.)"""
    return OAuth2PasswordRequestForm(
        grant_type=grant_type,
        username=username,
        password=password,
        scope=scope,
        client_id=client_id,
        client_secret=client_secret,
    )


LoginForm = Annotated[OAuth2PasswordRequestForm, Depends(login_form)]


@router.post(
    "/auth/token",
    summary="Log in (OAuth2 password flow): email and password to an access token",
    description="`username` is your email. If one email has accounts in several agencies, "
    "send the agency id as `client_id`. The token is short-lived; log in again when it expires.",
    openapi_extra=raises(InvalidCredentials, AmbiguousLogin, TooManyAttempts),
)
async def log_in(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    state: StateDep,
    form: LoginForm,
    response: Response,
) -> TokenResponse:
    settings = state.settings
    issued = await service.login(
        session,
        clock,
        email=form.username,
        password=form.password,
        agency_hint=form.client_id,
        jwt_secret=state.jwt_secret,
        ttl_seconds=settings.token_ttl_seconds,
        limits=state.limits,
        client_address=request.client.host if request.client else None,
    )
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)


@router.get(
    "/me",
    summary="Who you are, your agency, and the credential you used",
    description="Logged in as a person, the answer's `ETag` is your user's (for `PATCH /v1/me`).",
    openapi_extra=SETS_ETAG,
)
async def read_me(principal: CurrentPrincipal, session: SessionDep, response: Response) -> MeRead:
    me = await service.whoami(session, principal)
    if me.user is not None and principal.is_person:
        set_etag(response, me.user.version)
    return MeRead(
        agency=AgencyRead.model_validate(me.agency),
        user=UserRead.model_validate(me.user) if me.user else None,
        api_key=ApiKeyRead.model_validate(me.api_key) if me.api_key else None,
        acting_user_id=me.acting_user_id,
    )


@router.patch(
    "/me",
    summary="Change your own preferences (people only), e.g. opt out of the daily digest",
    openapi_extra=SETS_ETAG,
)
async def update_me(
    principal: CurrentPrincipal,
    session: SessionDep,
    clock: ClockDep,
    changes: MeUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> UserRead:
    user = await users.update_me(session, principal, clock, changes, if_match)
    set_etag(response, user.version)
    return UserRead.model_validate(user)
