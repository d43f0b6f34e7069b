"""Logging in: email and password to a short-lived access token."""

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.agency.service import get_agency
from app.api_keys.service import get_api_key
from app.audit import service as audit
from app.auth import throttle
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.db import set_tenant
from app.core.errors import AmbiguousLogin, InvalidCredentials
from app.core.ids import AgencyId
from app.core.limit_store import LimitStore
from app.core.security import issue_access_token, verify_password_in_thread
from app.models import Agency, ApiKey, User

WRONG = "Wrong email or password, or the account is deactivated."
"""One answer whether or not the email has an account: no oracle in the text (nor in the time:
a missing account costs a hash too)."""
_CANDIDATES = text("SELECT agency_id, user_id, password_hash, active FROM login_candidates(:email)")


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


async def login(
    session: AsyncSession,
    clock: Clock,
    *,
    email: str,
    password: str,
    agency_hint: str | None,
    jwt_secret: str,
    ttl_seconds: int,
    limits: LimitStore,
    client_address: str | None = None,
) -> IssuedToken:
    """Check the password against every account with that email (usually one); with several in
    different agencies, `client_id` (the agency id) picks one. Throttled per account and per
    client address."""
    keys = throttle.LoginKeys.of(email, client_address)
    await throttle.ensure_allowed(limits, keys, clock.now())
    rows = (await session.execute(_CANDIDATES, {"email": email.strip()})).all()
    if agency_hint:
        rows = [r for r in rows if str(r.agency_id) == agency_hint.strip()]
    if not rows:
        # Same cost as a wrong password: no account oracle.
        await verify_password_in_thread(None, password)
        await throttle.record_failure(limits, keys, clock.now())
        raise InvalidCredentials(WRONG)
    matches = [
        r for r in rows if await verify_password_in_thread(r.password_hash, password) and r.active
    ]
    if not matches:
        await throttle.record_failure(limits, keys, clock.now())
        raise InvalidCredentials(WRONG)
    await throttle.forget_failures(limits, session, keys)
    if len(matches) > 1:
        raise AmbiguousLogin("Pass your agency id as client_id to choose.")
    match = matches[0]
    agency_id = AgencyId(match.agency_id)
    await set_tenant(session, agency_id)
    now = clock.now()
    await session.execute(
        update(User)
        .where(User.agency_id == agency_id, User.id == match.user_id)
        .values(last_login_at=now)
        .execution_options(synchronize_session=False)
    )
    principal = Principal.person(agency_id, match.user_id, None)
    audit.record(session, principal, clock, "user.logged_in", ("user", match.user_id))
    return IssuedToken(
        issue_access_token(jwt_secret, match.user_id, agency_id, now, ttl_seconds), ttl_seconds
    )


@dataclass(frozen=True)
class Me:
    agency: Agency
    user: User | None
    api_key: ApiKey | None
    acting_user_id: UUID | None


async def whoami(session: AsyncSession, principal: Principal) -> Me:
    user = None
    if principal.user_id is not None:
        user = await session.scalar(
            select(User).where(User.agency_id == principal.agency_id, User.id == principal.user_id)
        )
    api_key = None
    if principal.api_key_id is not None:
        api_key = await get_api_key(session, principal, principal.api_key_id)
    return Me(await get_agency(session, principal), user, api_key, principal.user_id)
