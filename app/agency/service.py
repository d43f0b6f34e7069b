"""The caller's agency and its settings; creating agencies (CLI only, never over HTTP)."""

from dataclasses import dataclass

from sqlalchemy import exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.agency.schemas import AgencyUpdate
from app.audit import service as audit
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.db import tenant_transaction
from app.core.errors import NotFound, ValidationFailed
from app.core.etag import ensure_match
from app.core.ids import AgencyId, UserId, new_row_id
from app.core.security import hash_password_in_thread
from app.core.timestamps import touch
from app.models import Agency, Role, User


async def get_agency(session: AsyncSession, principal: Principal) -> Agency:
    """The caller's agency; from the session's identity map when this transaction has it
    already (several steps of one request ask for it)."""
    agency = await session.get(Agency, principal.agency_id)
    if agency is None:  # the principal was verified in this transaction, so this is a bug
        raise NotFound("Your agency no longer exists.")
    return agency


async def update_agency(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    changes: AgencyUpdate,
    if_match: str | None,
) -> Agency:
    agency = await get_agency(session, principal)
    ensure_match(if_match, agency.version)
    fields = changes.model_dump(exclude_unset=True)
    if "timezone" in fields:
        await _ensure_database_knows(session, fields["timezone"])
    for name, value in fields.items():
        setattr(agency, name, value)
    if fields:
        touch(agency, clock.now())
        audit.record(
            session,
            principal,
            clock,
            "agency.updated",
            ("agency", agency.id),
            fields=sorted(fields),
        )
        await session.flush()
    return agency


async def _ensure_database_knows(session: AsyncSession, zone: str) -> None:
    """The worker computes 08:00 local in SQL, so PostgreSQL must know the zone too."""
    known = await session.scalar(
        select(exists().where(text("name = :zone")).select_from(text("pg_timezone_names"))),
        {"zone": zone},
    )
    if not known:
        raise ValidationFailed.at_field("timezone", "not a time zone the database knows")


@dataclass(frozen=True)
class NewAgency:
    agency_id: AgencyId
    admin_id: UserId


async def create_agency(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    name: str,
    admin_email: str,
    admin_password: str,
    admin_name: str = "Admin",
) -> NewAgency:
    """Create an agency with its first admin, in one transaction scoped to the new agency."""
    agency_id = AgencyId(new_row_id("agency"))
    admin_id = UserId(new_row_id("app_user"))
    now = clock.now()
    async with tenant_transaction(sessions, agency_id) as session:
        session.add(Agency(id=agency_id, name=name, created_at=now, updated_at=now))
        await session.flush()
        session.add(
            User(
                agency_id=agency_id,
                id=admin_id,
                email=admin_email.lower(),
                name=admin_name,
                role=Role.admin,
                password_hash=await hash_password_in_thread(admin_password),
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
        founder = Principal.person(agency_id, admin_id, Role.admin)
        audit.record(session, founder, clock, "agency.created", ("agency", agency_id), via="cli")
    return NewAgency(agency_id, admin_id)


async def agency_count(session: AsyncSession) -> int:
    """How many agencies exist, through a narrow SECURITY DEFINER function (RLS hides them)."""
    return int(await session.scalar(select(func.agency_count())) or 0)
