"""Who is calling: a person with a JWT, or an integration with an API key.

The agency id in `Principal` comes only from a verified credential; services take it from
here, never from a body or a path.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import rate_limits
from app.core.clock import Clock
from app.core.db import connection_to_discard, driver_connection, set_tenant
from app.core.deps import ClockDep, SessionDep
from app.core.errors import (
    AuthenticationRequired,
    Forbidden,
    InsufficientScope,
    InvalidOnBehalfOf,
    InvalidToken,
    TokenExpired,
)
from app.core.ids import AgencyId, UserId
from app.core.logging import bind_principal
from app.core.rate_limits import credential_key
from app.core.security import (
    AccessTokenExpired,
    TokenClaims,
    api_key_agency,
    api_key_digest,
    looks_like_api_key,
    read_access_token,
)
from app.core.state import state_of
from app.models import ApiKey, Role

KEY_TOUCH_INTERVAL = timedelta(minutes=1)


class Scope(StrEnum):
    """What an API key may do. People are governed by their role instead."""

    records_read = "records:read"
    records_write = "records:write"
    workflow_read = "workflow:read"
    workflow_write = "workflow:write"
    events_read = "events:read"
    webhooks_manage = "webhooks:manage"
    users_read = "users:read"
    users_write = "users:write"
    agency_read = "agency:read"


LinkVia = Literal["candidate", "client"]
"""Whose signed link: the candidate's (`/candidate/{token}`) or a client contact's
(`/feedback/{token}`)."""


DEFAULT_SCOPES = frozenset(Scope) - {Scope.users_write}
"""A key made without `scopes` gets these; provisioning users must be asked for explicitly."""


@dataclass(frozen=True)
class Principal:
    agency_id: AgencyId
    user_id: UserId | None
    """The person acting: the logged-in user, or the user an API key names in On-Behalf-Of."""
    role: Role | None
    """The logged-in user's role; None for API keys, which never hold a role."""
    api_key_id: UUID | None
    scopes: frozenset[str]
    via: LinkVia | None = None
    """Who holds the signed link acting (`candidate`, `client`); None for everyone else."""

    @classmethod
    def person(cls, agency_id: AgencyId, user_id: UserId, role: Role | None) -> "Principal":
        """A logged-in person (`role` None only while logging in, before the role is read)."""
        return cls(agency_id, user_id, role, None, frozenset())

    @classmethod
    def api_key(
        cls, agency_id: AgencyId, key_id: UUID, scopes: frozenset[str], acting: UserId | None
    ) -> "Principal":
        """An integration's API key, acting for the user in On-Behalf-Of when it names one."""
        return cls(agency_id, acting, None, key_id, scopes)

    @classmethod
    def link_holder(cls, agency_id: AgencyId, via: LinkVia) -> "Principal":
        """Whoever holds a genuine signed link, acting for its agency on what the link names
        only (no person, no key, no scopes); `via` says whose link it is."""
        return cls(agency_id, None, None, None, frozenset(), via)

    @classmethod
    def system(cls, agency_id: AgencyId) -> "Principal":
        """The worker acting for an agency (events and the timeline show the system)."""
        return cls(agency_id, None, None, None, frozenset())

    @property
    def is_person(self) -> bool:
        """Not an integration's key, nor a link's holder."""
        return self.api_key_id is None and self.via is None

    @property
    def is_admin(self) -> bool:
        return self.is_person and self.role is Role.admin


def worker_principal(agency_id: UUID) -> Principal:
    """The worker acting for an agency, on rows one of the narrow SECURITY DEFINER functions
    returned (no person, no key: events and the timeline show it as the system)."""
    return Principal.system(AgencyId(agency_id))


_oauth2 = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token",
    auto_error=False,
    description="Consultants and admins: log in with email and password.",
)
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="Integrations: `Authorization: Bearer afv_…` with an API key.",
)


def _unauthenticated(problem: AuthenticationRequired | InvalidToken) -> Exception:
    problem.headers["WWW-Authenticate"] = "Bearer"
    return problem


def _expired() -> TokenExpired:
    """RFC 6750's `invalid_token`, said so that a person (or the docs' Authorize dialog) knows
    what to do."""
    problem = TokenExpired(
        "Access tokens last a short while and this one has run out. Log in again: POST "
        "/v1/auth/token (in /docs: Authorize → Logout, then log in)."
    )
    problem.headers["WWW-Authenticate"] = (
        'Bearer error="invalid_token", error_description="The access token expired"'
    )
    return problem


# Every request runs one of these (after `set_tenant`), so they go straight to the driver.
# Each filters by agency itself: the app's own wall, with row-level security behind it.
_KEY_SQL = (
    "SELECT id, scopes, last_used_at FROM api_key "
    "WHERE agency_id = $1 AND key_hash = $2 AND revoked_at IS NULL"
)
_USER_SQL = (
    "SELECT role, tokens_valid_after FROM app_user WHERE agency_id = $1 AND id = $2 AND active"
)


@dataclass(frozen=True)
class _Key:
    id: UUID
    scopes: list[str]
    last_used_at: datetime | None


async def _principal_from_api_key(
    session: AsyncSession, key: str, clock: Clock
) -> tuple[AgencyId, _Key]:
    agency_id = api_key_agency(key)
    if agency_id is None:
        raise _unauthenticated(InvalidToken())
    await set_tenant(session, agency_id)
    driver = await driver_connection(session)
    row = await driver.fetchrow(_KEY_SQL, agency_id, api_key_digest(key))
    if row is None:
        raise _unauthenticated(InvalidToken())
    api_key = _Key(row["id"], row["scopes"], row["last_used_at"])
    now = clock.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > KEY_TOUCH_INTERVAL:
        await session.execute(
            update(ApiKey)
            .where(ApiKey.agency_id == agency_id, ApiKey.id == api_key.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    return agency_id, api_key


async def _is_active_user(session: AsyncSession, agency_id: AgencyId, user_id: UUID) -> bool:
    """Whether the user is active (in the transaction `set_tenant` scoped to `agency_id`)."""
    driver = await driver_connection(session)
    return await driver.fetchrow(_USER_SQL, agency_id, user_id) is not None


async def authenticate(
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    _token: Annotated[str | None, Depends(_oauth2)],
    _key: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    on_behalf_of: Annotated[
        str | None,
        Header(
            alias="On-Behalf-Of",
            description="API keys only: the id of an active user of your agency, who is then "
            "the person acting (recorded on every write, the timeline and events).",
            json_schema_extra={"format": "uuid"},
        ),
    ] = None,
) -> Principal:
    credential = _token or (_key.credentials if _key else None)
    if not credential:
        raise _unauthenticated(AuthenticationRequired())
    if looks_like_api_key(credential):
        await _count_request(
            request, clock, credential_key("key", credential), await before_begin(session)
        )
        agency_id, api_key = await _principal_from_api_key(session, credential, clock)
        acting = await _on_behalf_of(session, agency_id, on_behalf_of)
        bind_principal(request, agency_id, acting, api_key.id)
        return Principal.api_key(agency_id, api_key.id, frozenset(api_key.scopes), acting)
    try:
        claims = read_access_token(state_of(request.app).jwt_secret, credential, clock.now())
    except AccessTokenExpired:
        raise _expired() from None
    if claims is None:
        raise _unauthenticated(InvalidToken())
    await count_request(request, clock, claims, await before_begin(session))
    principal = await enter_as_person(session, request, claims)
    if on_behalf_of is not None:
        raise InvalidOnBehalfOf("Only API keys may act on behalf of a user.")
    return principal


_ENTER_AS_PERSON = text(
    "SELECT role, tokens_valid_after FROM app_enter_as_person(:agency_id, :user_id)"
)
ENTER_AS_PERSON_SQL = "SELECT role, tokens_valid_after FROM app_enter_as_person($1, $2)"
"""`app_enter_as_person` (migration 0019): `set_config('app.agency_id', $1, true)`, then the
person's row under the row-level security that just scoped, in one round trip."""


async def enter_as_person(
    session: AsyncSession, request: Request, claims: TokenClaims
) -> Principal:
    """Scope the session's transaction to the agency of a verified access token (begun by this
    statement) and check the person it names, in one statement: see `person_from`."""
    result = await session.execute(
        _ENTER_AS_PERSON, {"agency_id": claims.agency_id, "user_id": claims.user_id}
    )
    return person_from(result.mappings().first(), request, claims)


async def enter_as_person_on(driver: Any, request: Request, claims: TokenClaims) -> Principal:
    """`enter_as_person` on an asyncpg connection already in a transaction."""
    row = await driver.fetchrow(ENTER_AS_PERSON_SQL, claims.agency_id, claims.user_id)
    return person_from(row, request, claims)


@asynccontextmanager
async def as_person_on_driver(
    request: Request, claims: TokenClaims
) -> AsyncIterator[tuple[Any, Principal]]:
    """A pooled asyncpg connection in a transaction scoped to the agency of a verified access
    token, and the person it names (checked in it): the fast lanes' request, without the
    session. The quota is counted first in a statement of its own, as the route counts it (a
    refusal still counts); a connection that broke never goes back to the pool."""
    state = state_of(request.app)
    async with state.engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection
        try:
            await count_request(request, state.clock, claims, driver)
            async with driver.transaction():
                yield driver, await enter_as_person_on(driver, request, claims)
        except BaseException as exc:
            if connection_to_discard(exc):
                await connection.invalidate()
            raise


def person_from(row: Mapping[Any, Any] | None, request: Request, claims: TokenClaims) -> Principal:
    """The person a verified access token names, if they are still active and their password
    has not changed since it was issued (`row`: their role and `tokens_valid_after`, read on
    every request in the transaction scoped to their agency, so a change holds at the next
    request)."""
    if row is None:
        raise _unauthenticated(InvalidToken("The user is unknown or deactivated."))
    valid_after = row["tokens_valid_after"]
    if valid_after is not None and claims.issued_at < valid_after:
        raise _unauthenticated(InvalidToken("The password changed since this token was issued."))
    bind_principal(request, claims.agency_id, claims.user_id, None)
    return Principal.person(claims.agency_id, claims.user_id, Role(row["role"]))


async def before_begin(session: AsyncSession) -> Any:
    """The session's asyncpg connection while nothing has begun a transaction on it (SQLAlchemy's
    asyncpg adapter sends BEGIN with the first statement), so the quota's upsert commits on its
    own there, saving a second connection; else None (the quota takes a connection of its own)."""
    driver = await driver_connection(session)
    return None if driver.is_in_transaction() else driver


async def count_request(
    request: Request, clock: Clock, claims: TokenClaims, driver: Any = None
) -> None:
    """Count a person's request against their quota (see `_count_request`)."""
    await _count_request(request, clock, credential_key("user", str(claims.user_id)), driver)


async def _count_request(request: Request, clock: Clock, key: bytes, driver: Any = None) -> None:
    """Count the request against its credential's quota (before any lookup: a flood of them
    costs one small write each); the response announces what is left. With `driver`, an
    asyncpg connection outside any transaction, the count is written on it."""
    state = state_of(request.app)
    limit = state.settings.rate_limit_per_minute
    request.state.rate_limit = await rate_limits.hit(state.limits, key, limit, clock.now(), driver)


async def _on_behalf_of(
    session: AsyncSession, agency_id: AgencyId, raw: str | None
) -> UserId | None:
    if raw is None:
        return None
    try:
        user_id = UUID(raw)
    except ValueError:
        raise InvalidOnBehalfOf("On-Behalf-Of must be a user id (UUID).") from None
    if not await _is_active_user(session, agency_id, user_id):
        raise InvalidOnBehalfOf("On-Behalf-Of names no active user of this agency.")
    return UserId(user_id)


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


async def require_admin(principal: CurrentPrincipal) -> Principal:
    if not principal.is_admin:
        raise Forbidden("Only an agency admin (logged in as a person) may do this.")
    return principal


def admin_or(scope: Scope, what: str) -> object:
    """Admins (people), or API keys holding `scope`."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if principal.is_admin or scope.value in principal.scopes:
            return principal
        if principal.is_person:
            raise Forbidden(f"Only an agency admin may manage {what}.")
        raise InsufficientScope(f"This API key lacks: {scope.value}.")

    return Depends(dependency)


def allow(*scopes: Scope) -> object:
    """People of any role, or API keys holding every one of `scopes`."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        missing = [s.value for s in scopes if s.value not in principal.scopes]
        if not principal.is_person and missing:
            raise InsufficientScope(f"This API key lacks: {', '.join(missing)}.")
        return principal

    return Depends(dependency)


Admin = Annotated[Principal, Depends(require_admin)]
# Admins; or API keys with `users:write` (provisioning consultants from an HR system or ATS;
# the service keeps keys away from admin accounts).
UserManager = Annotated[Principal, admin_or(Scope.users_write, "users")]
WebhookManager = Annotated[Principal, admin_or(Scope.webhooks_manage, "webhooks")]
UsersReader = Annotated[Principal, allow(Scope.users_read)]
RecordsReader = Annotated[Principal, allow(Scope.records_read)]
RecordsWriter = Annotated[Principal, allow(Scope.records_write)]
WorkflowReader = Annotated[Principal, allow(Scope.workflow_read)]
EventsReader = Annotated[Principal, allow(Scope.events_read)]
WorkflowWriter = Annotated[Principal, allow(Scope.workflow_write)]
AgencyReader = Annotated[Principal, allow(Scope.agency_read)]
