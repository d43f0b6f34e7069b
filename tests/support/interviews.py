"""An application whose client has two contacts (and a contact of another client), and the
bodies and lists the interview tests share."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from httpx import AsyncClient

from app.core.clock import FixedClock
from tests.support import records
from tests.support.records import (
    created,
    list_items,
    make_application,
    make_client,
    make_contact,
    make_vacancy,
)


async def list_interviews(client: AsyncClient, **params: Any) -> list[dict[str, Any]]:
    return await list_items(client, "/v1/interviews", limit=200, **params)


async def list_ids(client: AsyncClient, **params: Any) -> set[str]:
    return await records.list_ids(client, "/v1/interviews", limit=200, **params)


@dataclass
class Scene:
    """An application for a vacancy at a client with two contacts, and a contact of another
    client of the same agency."""

    application_id: str
    contact_ids: list[str]
    stranger_id: str


async def make_scene(client: AsyncClient) -> Scene:
    company = await make_client(client)
    other = await make_client(client)
    contacts = [await make_contact(client, company["id"]) for _ in range(2)]
    stranger = await make_contact(client, other["id"])
    application = await make_application(
        client, vacancy_id=(await make_vacancy(client, company["id"]))["id"]
    )
    return Scene(application["id"], [c["id"] for c in contacts], stranger["id"])


def slot(clock: FixedClock, start_in: timedelta, hours: int = 1) -> dict[str, str]:
    starts = clock.now() + start_in
    return {
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=hours)).isoformat(),
    }


def interview_body(scene: Scene, clock: FixedClock, **overrides: Any) -> dict[str, Any]:
    return {
        "application_id": scene.application_id,
        **slot(clock, timedelta(days=1)),
        "format": "video",
        "round": 1,
        **overrides,
    }


async def schedule(
    client: AsyncClient, scene: Scene, clock: FixedClock, **overrides: Any
) -> dict[str, Any]:
    return await created(client, "/v1/interviews", interview_body(scene, clock, **overrides))
