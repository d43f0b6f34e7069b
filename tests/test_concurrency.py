"""Optimistic concurrency: every read carries an `ETag`, every PATCH needs `If-Match`, a stale
tag is a 412 that changes nothing; racing writers cannot both win, and racing upserts by
external id make one record."""

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from app.core.clock import FixedClock
from tests.support.problems import assert_problem
from tests.support.records import (
    make_application,
    make_candidate,
    make_client,
    make_contact,
    make_interview,
    make_vacancy,
    read,
)
from tests.support.tenants import Tenant, unique_email


def candidate_body() -> dict[str, Any]:
    return {"first_name": "Amara", "last_name": "Okafor", "email": unique_email("candidate")}


# --- One target per resource: where it lives and two different changes to make ------------------


@dataclass(frozen=True)
class Target:
    url: str
    change: dict[str, Any]
    other_change: dict[str, Any]


async def new_user(tenant: Tenant, clock: FixedClock) -> Target:
    user = await tenant.add_user()
    return Target(f"/v1/users/{user['id']}", {"name": "Renamed Once"}, {"name": "Renamed Twice"})


async def the_agency(tenant: Tenant, clock: FixedClock) -> Target:
    return Target("/v1/agency", {"follow_up_max_words": 120}, {"follow_up_max_words": 90})


async def new_candidate(tenant: Tenant, clock: FixedClock) -> Target:
    candidate = await make_candidate(tenant)
    return Target(
        f"/v1/candidates/{candidate['id']}", {"first_name": "Ada"}, {"first_name": "Grace"}
    )


async def new_client(tenant: Tenant, clock: FixedClock) -> Target:
    client = await make_client(tenant)
    return Target(f"/v1/clients/{client['id']}", {"name": "Harbour Group"}, {"name": "Harbour"})


async def new_contact(tenant: Tenant, clock: FixedClock) -> Target:
    client = await make_client(tenant)
    contact = await make_contact(tenant, client["id"])
    return Target(
        f"/v1/contacts/{contact['id']}", {"job_title": "Head of Ops"}, {"job_title": "CTO"}
    )


async def new_vacancy(tenant: Tenant, clock: FixedClock) -> Target:
    vacancy = await make_vacancy(tenant)
    return Target(
        f"/v1/vacancies/{vacancy['id']}", {"title": "Senior Analyst"}, {"title": "Lead Analyst"}
    )


async def new_application(tenant: Tenant, clock: FixedClock) -> Target:
    application = await make_application(tenant)
    return Target(
        f"/v1/applications/{application['id']}",
        {"offer_likelihood": "high"},
        {"offer_likelihood": "low"},
    )


async def new_interview(tenant: Tenant, clock: FixedClock) -> Target:
    application = await make_application(tenant)
    interview = await make_interview(
        tenant, application["id"], starts_at=clock.now() + timedelta(days=2)
    )
    return Target(f"/v1/interviews/{interview['id']}", {"round": 2}, {"round": 3})


SETUPS: dict[str, Callable[[Tenant, FixedClock], Awaitable[Target]]] = {
    "users": new_user,
    "agency": the_agency,
    "candidates": new_candidate,
    "clients": new_client,
    "contacts": new_contact,
    "vacancies": new_vacancy,
    "applications": new_application,
    "interviews": new_interview,
}


def shows(body: dict[str, Any], change: dict[str, Any]) -> bool:
    return all(body[name] == value for name, value in change.items())


@pytest.mark.parametrize("resource", list(SETUPS))
async def test_patch_requires_the_current_etag(
    agency_a: Tenant, clock: FixedClock, resource: str
) -> None:
    target = await SETUPS[resource](agency_a, clock)
    client = agency_a.admin
    original, etag = await read(client, target.url)
    assert not shows(original, target.change)

    missing = await client.patch(target.url, json=target.change)
    made_up = await client.patch(target.url, json=target.change, headers={"If-Match": '"999"'})

    assert_problem(missing, 428, "precondition-required")
    assert_problem(made_up, 412, "stale-etag")
    assert await read(client, target.url) == (original, etag)

    changed = await client.patch(target.url, json=target.change, headers={"If-Match": etag})

    assert changed.status_code == 200, changed.text
    new_etag = changed.headers["etag"]
    assert new_etag != etag
    assert shows(changed.json(), target.change)
    after_change = await read(client, target.url)
    assert after_change == (changed.json(), new_etag)

    stale = await client.patch(target.url, json=target.other_change, headers={"If-Match": etag})

    assert_problem(stale, 412, "stale-etag")
    assert await read(client, target.url) == after_change

    forced = await client.patch(target.url, json=target.other_change, headers={"If-Match": "*"})

    assert forced.status_code == 200, forced.text
    assert forced.headers["etag"] not in (etag, new_etag)
    assert shows((await read(client, target.url))[0], target.other_change)


# --- Races ---------------------------------------------------------------------------------------


async def test_racing_patches_with_the_same_etag_have_one_winner(agency_a: Tenant) -> None:
    candidate = await make_candidate(agency_a)
    url = f"/v1/candidates/{candidate['id']}"
    _, etag = await read(agency_a.admin, url)

    first, second = await asyncio.gather(
        agency_a.admin.patch(url, json={"first_name": "Ada"}, headers={"If-Match": etag}),
        agency_a.admin.patch(url, json={"first_name": "Grace"}, headers={"If-Match": etag}),
    )

    assert sorted([first.status_code, second.status_code]) == [200, 412], (
        first.text,
        second.text,
    )
    winner, loser = (first, second) if first.status_code == 200 else (second, first)
    assert_problem(loser, 412, "stale-etag")
    final, final_etag = await read(agency_a.admin, url)
    assert final["first_name"] == winner.json()["first_name"]
    assert final_etag == winner.headers["etag"] != etag


async def test_racing_creates_with_one_external_id_make_one_and_refuse_the_rest(
    agency_a: Tenant,
) -> None:
    """Four `POST`s carrying the same new `external_id` at once, from a person (the fast lane)
    and from an API key (the route): all pass the lookup before any commits, the unique index
    lets one through, and the others are 409 `external-id-taken`, never a 500."""
    integration = await agency_a.integration()
    for client in (agency_a.admin, integration, agency_a.admin):
        body = {**candidate_body(), "external_id": f"ats-{secrets.token_hex(6)}"}
        answers = await asyncio.gather(
            *(client.post("/v1/candidates", json=body) for _ in range(4))
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201, 409, 409, 409], [answer.text for answer in answers]
        for answer in answers:
            if answer.status_code == 409:
                assert_problem(answer, 409, "external-id-taken")
        listed = await agency_a.admin.get(
            "/v1/candidates", params={"external_id": body["external_id"]}
        )
        assert len(listed.json()["items"]) == 1


async def test_racing_upserts_by_one_new_external_id_make_one_candidate(
    agency_a: Tenant,
) -> None:
    for _ in range(3):  # a few rounds, so the requests overlap at different points
        external_id = f"ats-{secrets.token_hex(6)}"
        url = f"/v1/candidates/by-external-id/{external_id}"
        body = candidate_body()

        first, second = await asyncio.gather(
            agency_a.admin.put(url, json=body), agency_a.admin.put(url, json=body)
        )

        assert sorted([first.status_code, second.status_code]) == [200, 201], (
            first.text,
            second.text,
        )
        made = first if first.status_code == 201 else second
        listed = await agency_a.admin.get("/v1/candidates", params={"external_id": external_id})
        assert listed.status_code == 200, listed.text
        ids = [c["id"] for c in listed.json()["items"]]
        assert ids == [made.json()["id"]]
        assert first.json()["id"] == second.json()["id"] == made.json()["id"]
        assert made.headers["location"] == f"/v1/candidates/{made.json()['id']}"
