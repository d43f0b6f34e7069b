"""Applications: references within the agency, one per candidate and vacancy (also under a race),
no deletion, If-Match updates, a read-only status, upsert by external id, and list filters."""

import asyncio
import uuid
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from tests.support import records
from tests.support.problems import assert_problem
from tests.support.records import (
    created,
    list_items,
    make_candidate,
    make_vacancy,
    read,
    set_application_status,
)
from tests.support.tenants import Tenant


async def list_applications(client: AsyncClient, **params: Any) -> list[dict[str, Any]]:
    return await list_items(client, "/v1/applications", limit=200, **params)


async def list_ids(client: AsyncClient, **params: Any) -> set[str]:
    return await records.list_ids(client, "/v1/applications", limit=200, **params)


async def pair(client: AsyncClient) -> tuple[str, str]:
    """A fresh candidate id and vacancy id of the client's agency."""
    candidate = await make_candidate(client)
    vacancy = await make_vacancy(client)
    return candidate["id"], vacancy["id"]


# --- Creating -----------------------------------------------------------------------------------


async def test_create_starts_active_with_unknown_offer_likelihood(agency_a: Tenant) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)

    response = await agency_a.admin.post(
        "/v1/applications", json={"candidate_id": candidate_id, "vacancy_id": vacancy_id}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "active"
    assert body["offer_likelihood"] == "unknown"
    assert body["consultant_id"] is None
    assert (body["candidate_id"], body["vacancy_id"]) == (candidate_id, vacancy_id)
    assert response.headers["location"] == f"/v1/applications/{body['id']}"
    assert (await read(agency_a.admin, f"/v1/applications/{body['id']}"))[0] == body


async def test_create_with_consultant_and_likelihood(agency_a: Tenant) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)
    consultant = await agency_a.add_user("consultant")

    body = await created(
        agency_a.admin,
        "/v1/applications",
        {
            "candidate_id": candidate_id,
            "vacancy_id": vacancy_id,
            "consultant_id": consultant["id"],
            "offer_likelihood": "medium",
        },
    )

    assert body["consultant_id"] == consultant["id"]
    assert body["offer_likelihood"] == "medium"


async def test_references_of_another_agency_or_unknown_are_refused(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)
    foreign_candidate_id, foreign_vacancy_id = await pair(agency_b.admin)
    foreign_consultant = await agency_b.add_user("consultant")
    valid = {"candidate_id": candidate_id, "vacancy_id": vacancy_id}
    bad_bodies = [
        ("candidate_id", {**valid, "candidate_id": foreign_candidate_id}),
        ("candidate_id", {**valid, "candidate_id": str(uuid.uuid4())}),
        ("vacancy_id", {**valid, "vacancy_id": foreign_vacancy_id}),
        ("vacancy_id", {**valid, "vacancy_id": str(uuid.uuid4())}),
        ("consultant_id", {**valid, "consultant_id": foreign_consultant["id"]}),
        ("consultant_id", {**valid, "consultant_id": str(uuid.uuid4())}),
    ]

    for field, body in bad_bodies:
        response = await agency_a.admin.post("/v1/applications", json=body)

        problem = assert_problem(response, 422, "reference-not-found")
        assert [e["field"] for e in problem["errors"]] == [field], problem

    assert await list_applications(agency_a.admin) == []
    assert await list_applications(agency_b.admin) == []


async def test_second_application_for_the_same_pair_is_refused(agency_a: Tenant) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)
    first = await created(
        agency_a.admin,
        "/v1/applications",
        {"candidate_id": candidate_id, "vacancy_id": vacancy_id},
    )

    response = await agency_a.admin.post(
        "/v1/applications",
        json={"candidate_id": candidate_id, "vacancy_id": vacancy_id, "offer_likelihood": "high"},
    )

    assert_problem(response, 409, "application-exists")
    assert [a["id"] for a in await list_applications(agency_a.admin)] == [first["id"]]
    assert (await read(agency_a.admin, f"/v1/applications/{first['id']}"))[0] == first


async def test_racing_duplicates_create_exactly_one_application(agency_a: Tenant) -> None:
    for _ in range(3):
        candidate_id, vacancy_id = await pair(agency_a.admin)
        body = {"candidate_id": candidate_id, "vacancy_id": vacancy_id}

        responses = await asyncio.gather(
            agency_a.admin.post("/v1/applications", json=body),
            agency_a.admin.post("/v1/applications", json=body),
        )

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201, 409], [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 201).json()
        loser = next(r for r in responses if r.status_code == 409)
        assert_problem(loser, 409, "application-exists")
        found = await list_applications(
            agency_a.admin, candidate_id=candidate_id, vacancy_id=vacancy_id
        )
        assert [a["id"] for a in found] == [winner["id"]]


async def test_an_application_cannot_be_deleted(agency_a: Tenant) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)
    application = await created(
        agency_a.admin,
        "/v1/applications",
        {"candidate_id": candidate_id, "vacancy_id": vacancy_id},
    )
    path = f"/v1/applications/{application['id']}"
    before = await read(agency_a.admin, path)

    response = await agency_a.admin.delete(path, headers={"If-Match": before[1]})

    assert_problem(response, 405, "method-not-allowed")
    assert await read(agency_a.admin, path) == before


async def test_another_agency_cannot_read_or_change_an_application(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)
    application = await created(
        agency_a.admin,
        "/v1/applications",
        {"candidate_id": candidate_id, "vacancy_id": vacancy_id},
    )
    path = f"/v1/applications/{application['id']}"
    before = await read(agency_a.admin, path)

    read_b = await agency_b.admin.get(path)
    patched_b = await agency_b.admin.patch(
        path, json={"offer_likelihood": "high"}, headers={"If-Match": before[1]}
    )

    assert_problem(read_b, 404, "not-found")
    assert_problem(patched_b, 404, "not-found")
    assert await read(agency_a.admin, path) == before


# --- Changing -----------------------------------------------------------------------------------


async def test_patch_offer_likelihood_and_consultant_with_if_match(agency_a: Tenant) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)
    consultant = await agency_a.add_user("consultant")
    application = await created(
        agency_a.admin,
        "/v1/applications",
        {"candidate_id": candidate_id, "vacancy_id": vacancy_id},
    )
    path = f"/v1/applications/{application['id']}"
    _, etag = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(
        path,
        json={"offer_likelihood": "high", "consultant_id": consultant["id"]},
        headers={"If-Match": etag},
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] != etag
    after, _ = await read(agency_a.admin, path)
    assert after["offer_likelihood"] == "high"
    assert after["consultant_id"] == consultant["id"]
    assert after["status"] == "active"
    assert after == response.json()


async def test_patch_without_or_with_a_stale_if_match_is_refused(agency_a: Tenant) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)
    application = await created(
        agency_a.admin,
        "/v1/applications",
        {"candidate_id": candidate_id, "vacancy_id": vacancy_id},
    )
    path = f"/v1/applications/{application['id']}"
    before = await read(agency_a.admin, path)

    missing = await agency_a.admin.patch(path, json={"offer_likelihood": "high"})
    stale = await agency_a.admin.patch(
        path, json={"offer_likelihood": "high"}, headers={"If-Match": '"999"'}
    )

    assert_problem(missing, 428, "precondition-required")
    assert_problem(stale, 412, "stale-etag")
    assert await read(agency_a.admin, path) == before


async def test_patch_consultant_of_another_agency_is_refused(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)
    foreign = await agency_b.add_user("consultant")
    application = await created(
        agency_a.admin,
        "/v1/applications",
        {"candidate_id": candidate_id, "vacancy_id": vacancy_id},
    )
    path = f"/v1/applications/{application['id']}"
    before = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(
        path, json={"consultant_id": foreign["id"]}, headers={"If-Match": before[1]}
    )

    problem = assert_problem(response, 422, "reference-not-found")
    assert [e["field"] for e in problem["errors"]] == ["consultant_id"]
    assert await read(agency_a.admin, path) == before


async def test_status_is_read_only(agency_a: Tenant) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)
    application = await created(
        agency_a.admin,
        "/v1/applications",
        {"candidate_id": candidate_id, "vacancy_id": vacancy_id},
    )
    path = f"/v1/applications/{application['id']}"
    before = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(
        path, json={"status": "placed"}, headers={"If-Match": before[1]}
    )

    problem = assert_problem(response, 422, "validation-error")
    assert "status" in [e["field"] for e in problem["errors"]], problem
    assert await read(agency_a.admin, path) == before


# --- Upsert by external id ----------------------------------------------------------------------


async def test_put_by_external_id_creates_then_replaces(agency_a: Tenant) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)
    consultant = await agency_a.add_user("consultant")
    path = "/v1/applications/by-external-id/ats-sub-1"

    first = await agency_a.admin.put(
        path, json={"candidate_id": candidate_id, "vacancy_id": vacancy_id}
    )
    second = await agency_a.admin.put(
        path,
        json={
            "candidate_id": candidate_id,
            "vacancy_id": vacancy_id,
            "consultant_id": consultant["id"],
            "offer_likelihood": "low",
        },
    )

    assert first.status_code == 201, first.text
    made = first.json()
    assert made["external_id"] == "ats-sub-1"
    assert made["status"] == "active"
    assert first.headers["location"] == f"/v1/applications/{made['id']}"
    assert second.status_code == 200, second.text
    replaced = second.json()
    assert replaced["id"] == made["id"]
    assert replaced["external_id"] == "ats-sub-1"
    assert (replaced["consultant_id"], replaced["offer_likelihood"]) == (consultant["id"], "low")
    listed = await list_applications(agency_a.admin, external_id="ats-sub-1")
    assert listed == [replaced]


async def test_replace_cannot_change_the_candidate(agency_a: Tenant) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)
    other_candidate = await make_candidate(agency_a.admin)
    path = "/v1/applications/by-external-id/ats-sub-2"
    made = await agency_a.admin.put(
        path, json={"candidate_id": candidate_id, "vacancy_id": vacancy_id}
    )
    assert made.status_code == 201, made.text
    record_path = f"/v1/applications/{made.json()['id']}"
    before = await read(agency_a.admin, record_path)

    response = await agency_a.admin.put(
        path,
        json={
            "candidate_id": other_candidate["id"],
            "vacancy_id": vacancy_id,
            "offer_likelihood": "high",
        },
    )

    assert_problem(response, 422, "immutable-field")
    assert await read(agency_a.admin, record_path) == before
    assert await list_ids(agency_a.admin, candidate_id=other_candidate["id"]) == set()


# --- Filters ------------------------------------------------------------------------------------


async def test_list_filters(app: FastAPI, agency_a: Tenant) -> None:
    client = agency_a.admin
    ada, bob = await make_candidate(client), await make_candidate(client)
    analyst, manager = await make_vacancy(client), await make_vacancy(client)
    consultant = await agency_a.add_user("consultant")
    ada_analyst = await created(
        client,
        "/v1/applications",
        {"candidate_id": ada["id"], "vacancy_id": analyst["id"], "consultant_id": consultant["id"]},
    )
    ada_manager = await created(
        client, "/v1/applications", {"candidate_id": ada["id"], "vacancy_id": manager["id"]}
    )
    bob_analyst = await created(
        client, "/v1/applications", {"candidate_id": bob["id"], "vacancy_id": analyst["id"]}
    )
    await set_application_status(agency_a, bob_analyst["id"], "withdrawn")

    assert await list_ids(client, candidate_id=ada["id"]) == {ada_analyst["id"], ada_manager["id"]}
    assert await list_ids(client, vacancy_id=analyst["id"]) == {
        ada_analyst["id"],
        bob_analyst["id"],
    }
    assert await list_ids(client, consultant_id=consultant["id"]) == {ada_analyst["id"]}
    assert await list_ids(client, status="active") == {ada_analyst["id"], ada_manager["id"]}
    assert await list_ids(client, status="withdrawn") == {bob_analyst["id"]}
    assert await list_ids(client, status="placed") == set()
    assert await list_ids(client, candidate_id=bob["id"], vacancy_id=manager["id"]) == set()
    assert await list_ids(client, candidate_id=str(uuid.uuid4())) == set()
    assert_problem(
        await client.get("/v1/applications", params={"status": "open"}), 422, "validation-error"
    )


async def test_list_shows_only_the_callers_agency(agency_a: Tenant, agency_b: Tenant) -> None:
    candidate_id, vacancy_id = await pair(agency_a.admin)
    mine = await created(
        agency_a.admin,
        "/v1/applications",
        {"candidate_id": candidate_id, "vacancy_id": vacancy_id},
    )

    assert await list_ids(agency_a.admin) == {mine["id"]}
    assert await list_ids(agency_b.admin) == set()
    assert await list_ids(agency_b.admin, candidate_id=candidate_id) == set()
