"""Small factories for the record APIs: each POSTs one record and returns its JSON.

Each takes a `Tenant` (its admin client is used) or a logged-in client, plus field overrides.
Below them, the checks record tests share: reads with ETags, lists, the event table (problems:
`tests/support/problems.py`).
"""

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from httpx import AsyncClient
from sqlalchemy import select, update

from app.core.db import set_tenant
from app.core.ids import AgencyId
from app.models import Application, Event
from tests.support.tenants import Tenant

Json = dict[str, Any]


def _client(who: Tenant | AsyncClient) -> AsyncClient:
    return who.admin if isinstance(who, Tenant) else who


def _tag() -> str:
    return secrets.token_hex(4)


async def created(who: Tenant | AsyncClient, path: str, body: Json) -> Json:
    """POST `body` to `path`: a 201, and the record made."""
    response = await _client(who).post(path, json=body)
    assert response.status_code == 201, response.text
    record: Json = response.json()
    return record


async def make_candidate(who: Tenant | AsyncClient, **overrides: Any) -> Json:
    tag = _tag()
    body: Json = {
        "first_name": "Amara",
        "last_name": f"Okafor{tag}",
        "email": f"amara.{tag}@example.com",
        "contact_consent": True,
        **overrides,
    }
    return await created(who, "/v1/candidates", body)


async def make_referee(who: Tenant | AsyncClient, candidate_id: str, **overrides: Any) -> Json:
    tag = _tag()
    body: Json = {
        "name": f"Daniel Reyes {tag}",
        "email": f"daniel.{tag}@example.org",
        "relationship": "Line manager",
        "consent_to_contact": True,
        **overrides,
    }
    return await created(who, f"/v1/candidates/{candidate_id}/referees", body)


async def make_client(who: Tenant | AsyncClient, **overrides: Any) -> Json:
    body: Json = {"name": f"Harbour Logistics {_tag()}", **overrides}
    return await created(who, "/v1/clients", body)


async def make_contact(who: Tenant | AsyncClient, client_id: str, **overrides: Any) -> Json:
    tag = _tag()
    body: Json = {
        "name": f"Sofia Marin {tag}",
        "email": f"sofia.{tag}@harbour.example.com",
        "job_title": "Head of Operations",
        **overrides,
    }
    return await created(who, f"/v1/clients/{client_id}/contacts", body)


async def make_vacancy(
    who: Tenant | AsyncClient, client_id: str | None = None, **overrides: Any
) -> Json:
    """A vacancy at `client_id`, or at a new client when none is given."""
    if client_id is None:
        client_id = (await make_client(who))["id"]
    body: Json = {"client_id": client_id, "title": f"Supply Chain Analyst {_tag()}", **overrides}
    return await created(who, "/v1/vacancies", body)


async def make_application(
    who: Tenant | AsyncClient,
    candidate_id: str | None = None,
    vacancy_id: str | None = None,
    **overrides: Any,
) -> Json:
    """An application; a new candidate and/or vacancy are made when not given."""
    if candidate_id is None:
        candidate_id = (await make_candidate(who))["id"]
    if vacancy_id is None:
        vacancy_id = (await make_vacancy(who))["id"]
    body: Json = {"candidate_id": candidate_id, "vacancy_id": vacancy_id, **overrides}
    return await created(who, "/v1/applications", body)


async def make_interview(
    who: Tenant | AsyncClient,
    application_id: str,
    interviewer_ids: list[str] | None = None,
    starts_at: datetime | None = None,
    **overrides: Any,
) -> Json:
    """A one-hour video interview, by default a day from now (real time)."""
    start = starts_at or datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    body: Json = {
        "application_id": application_id,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "format": "video",
        "interviewer_ids": interviewer_ids or [],
        **overrides,
    }
    return await created(who, "/v1/interviews", body)


async def set_application_status(tenant: Tenant, application_id: str, status: str) -> None:
    """Close an application directly in the database (without the route that would)."""
    async with tenant.app.state.sessions() as session, session.begin():
        await set_tenant(session, AgencyId(tenant.agency_id))
        await session.execute(
            update(Application)
            .where(
                Application.agency_id == tenant.agency_id,
                Application.id == UUID(application_id),
            )
            .values(status=status)
        )


def at(value: str) -> datetime:
    """A timestamp as the API wrote it."""
    return datetime.fromisoformat(value)


# --- Checks the record tests share --------------------------------------------------------------


async def read(client: AsyncClient, path: str) -> tuple[Json, str]:
    """The object at `path` and its ETag."""
    response = await client.get(path)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body, response.headers["etag"]


async def list_items(client: AsyncClient, path: str, **params: Any) -> list[Json]:
    """One page (the only one: `next` must be null) of a list endpoint."""
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.json()["next"] is None
    items: list[Json] = response.json()["items"]
    return items


async def list_ids(client: AsyncClient, path: str, **params: Any) -> set[str]:
    return {item["id"] for item in await list_items(client, path, **params)}


async def events_of(
    tenant: Tenant, event_type: str | None = None, object_id: Any = None
) -> list[Json]:
    """The agency's events (oldest first), read straight from the `event` table."""
    stmt = select(Event).where(Event.agency_id == tenant.agency_id)
    if event_type is not None:
        stmt = stmt.where(Event.type == event_type)
    if object_id is not None:
        stmt = stmt.where(Event.object_id == UUID(str(object_id)))
    async with tenant.app.state.sessions() as session, session.begin():
        await set_tenant(session, AgencyId(tenant.agency_id))
        rows = (await session.scalars(stmt.order_by(Event.txid, Event.id))).all()
    return [
        {
            "type": e.type,
            "object_id": str(e.object_id),
            "user_id": str(e.user_id) if e.user_id else None,
            "data": e.data,
        }
        for e in rows
    ]
