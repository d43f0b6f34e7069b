"""Users of an agency. Admins manage them; a user is deactivated, never deleted."""

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.db import violated_constraint
from app.core.errors import EmailTaken, Forbidden, LastAdmin
from app.core.etag import ensure_match
from app.core.pagination import PageParams, paginate
from app.core.records import get_owned
from app.core.security import hash_password_in_thread
from app.core.timestamps import touch
from app.models import Role, User
from app.users.schemas import MeUpdate, UserCreate, UserUpdate


async def list_users(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    role: Role | None = None,
    active: bool | None = None,
    email: str | None = None,
) -> tuple[list[User], str | None]:
    stmt = select(User).where(User.agency_id == principal.agency_id, User.removed_at.is_(None))
    if role is not None:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active == active)
    if email is not None:
        stmt = stmt.where(User.email == email.lower())
    return await paginate(session, stmt, [User.created_at, User.id], params)


async def get_user(session: AsyncSession, principal: Principal, user_id: UUID) -> User:
    missing = "No user with that id."
    return await get_owned(
        session, User, principal, user_id, missing, where=[User.removed_at.is_(None)]
    )


async def _ensure_email_free(
    session: AsyncSession, principal: Principal, email: str, exclude: UUID | None = None
) -> None:
    stmt = select(User.id).where(
        User.agency_id == principal.agency_id, User.email == email, User.removed_at.is_(None)
    )
    if exclude is not None:
        stmt = stmt.where(User.id != exclude)
    if await session.scalar(stmt) is not None:
        raise _taken(email)


def _taken(email: str) -> EmailTaken:
    return EmailTaken(f"{email} is already a user of your agency.")


EMAIL_INDEX = "uq_app_user_agency_id_email"


async def _flush_with_email(session: AsyncSession, email: str) -> None:
    """Flush a user's row; a request that took the same email meanwhile (after
    `_ensure_email_free` looked) makes it the same 409."""
    try:
        await session.flush()
    except IntegrityError as exc:
        if violated_constraint(exc) == EMAIL_INDEX:
            raise _taken(email) from None
        raise


def _ensure_may_manage(principal: Principal, *roles: Role | None) -> None:
    """API keys may provision consultants, never admins (no key can mint an admin)."""
    if not principal.is_person and Role.admin in roles:
        raise Forbidden("API keys may manage consultants only; ask an admin.")


async def create_user(
    session: AsyncSession, principal: Principal, clock: Clock, data: UserCreate
) -> User:
    _ensure_may_manage(principal, data.role)
    await _ensure_email_free(session, principal, data.email)
    now = clock.now()
    user = User(
        agency_id=principal.agency_id,
        email=data.email,
        name=data.name,
        role=data.role,
        password_hash=await hash_password_in_thread(data.password),
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    await _flush_with_email(session, data.email)
    audit.record(session, principal, clock, "user.created", ("user", user.id), role=data.role)
    return user


async def _ensure_another_admin(session: AsyncSession, principal: Principal, user: User) -> None:
    # Lock every active admin row (the target's too): two admins demoting each other at once
    # then queue on the same locks, and the second sees the first's change.
    admins = await session.scalars(
        select(User.id)
        .where(
            User.agency_id == principal.agency_id,
            User.role == Role.admin,
            User.active,
        )
        .with_for_update()
    )
    if not any(admin_id != user.id for admin_id in admins):
        raise LastAdmin("Make another user an admin first.")


async def update_user(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    user_id: UUID,
    changes: UserUpdate,
    if_match: str | None,
) -> User:
    user = await get_user(session, principal, user_id)
    ensure_match(if_match, user.version)
    fields = changes.model_dump(exclude_unset=True)
    _ensure_may_manage(principal, user.role, fields.get("role"))
    if "email" in fields and fields["email"] != user.email:
        await _ensure_email_free(session, principal, fields["email"], exclude=user.id)
    loses_admin = (
        user.role == Role.admin
        and user.active
        and (fields.get("role", Role.admin) != Role.admin or fields.get("active") is False)
    )
    if loses_admin:
        await _ensure_another_admin(session, principal, user)
    changed = sorted(fields)
    if (password := fields.pop("password", None)) is not None:
        user.password_hash = await hash_password_in_thread(password)
        # Tokens carry whole seconds: those issued before this second stop counting.
        user.tokens_valid_after = clock.now().replace(microsecond=0)
    for name, value in fields.items():
        setattr(user, name, value)
    if changed:
        touch(user, clock.now())
        audit.record(session, principal, clock, "user.updated", ("user", user.id), fields=changed)
        await _flush_with_email(session, user.email)
    return user


async def update_me(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    changes: MeUpdate,
    if_match: str | None,
) -> User:
    """A person changes their own preferences (API keys have none)."""
    if principal.user_id is None or not principal.is_person:
        raise Forbidden("Only a person logged in has preferences to change.")
    user = await get_user(session, principal, principal.user_id)
    ensure_match(if_match, user.version, required=False)
    fields = changes.model_dump(exclude_unset=True)
    for name, value in fields.items():
        setattr(user, name, value)
    if fields:
        touch(user, clock.now())
        audit.record(
            session, principal, clock, "user.updated", ("user", user.id), fields=sorted(fields)
        )
        await session.flush()
    return user


async def remove_user(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    user_id: UUID,
    if_match: str | None,
) -> None:
    user = await get_user(session, principal, user_id)
    ensure_match(if_match, user.version, required=False)
    _ensure_may_manage(principal, user.role)
    if user.role == Role.admin and user.active:
        await _ensure_another_admin(session, principal, user)
    user.active = False
    user.removed_at = clock.now()
    touch(user, user.removed_at)
    audit.record(session, principal, clock, "user.removed", ("user", user.id))
    await session.flush()
