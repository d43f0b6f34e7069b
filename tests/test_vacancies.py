"""Vacancies: references to the agency's own client and contacts, filters, If-Match, upsert by
external id, and deletion only while no application depends on them."""

import uuid

from tests.support.problems import assert_problem, error_fields
from tests.support.records import (
    events_of,
    list_ids,
    make_application,
    make_client,
    make_contact,
    make_vacancy,
    read,
)
from tests.support.tenants import Tenant

VACANCIES = "/v1/vacancies"


async def test_create_vacancy_with_a_hiring_contact_at_its_client(agency_a: Tenant) -> None:
    client = await make_client(agency_a)
    contact = await make_contact(agency_a, client["id"])
    body = {"client_id": client["id"], "title": "Analyst", "hiring_contact_id": contact["id"]}

    response = await agency_a.admin.post(VACANCIES, json=body)

    assert response.status_code == 201, response.text
    vacancy = response.json()
    assert response.headers["location"] == f"{VACANCIES}/{vacancy['id']}"
    assert {k: vacancy[k] for k in body} == body
    assert vacancy["external_id"] is None
    assert await read(agency_a.admin, response.headers["location"]) == (
        vacancy,
        response.headers["etag"],
    )


async def test_client_of_another_agency_or_nowhere_is_refused(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    theirs = await make_client(agency_b)

    for client_id in (theirs["id"], str(uuid.uuid4())):
        response = await agency_a.admin.post(
            VACANCIES, json={"client_id": client_id, "title": "Analyst"}
        )

        assert_problem(response, 422, "reference-not-found")
        assert error_fields(response) == {"client_id"}
    assert await list_ids(agency_a.admin, VACANCIES) == set()
    assert await list_ids(agency_b.admin, VACANCIES) == set()
    assert await events_of(agency_a, "vacancy.created") == []


async def test_missing_or_unknown_fields_are_422(agency_a: Tenant) -> None:
    client = await make_client(agency_a)

    no_title = await agency_a.admin.post(VACANCIES, json={"client_id": client["id"]})
    unknown = await agency_a.admin.post(
        VACANCIES, json={"client_id": client["id"], "title": "A", "salary": 1}
    )

    assert_problem(no_title, 422, "validation-error")
    assert error_fields(no_title) == {"title"}
    assert_problem(unknown, 422, "validation-error")
    assert error_fields(unknown) == {"salary"}
    assert await list_ids(agency_a.admin, VACANCIES) == set()


async def test_hiring_contact_at_a_different_client_is_refused(agency_a: Tenant) -> None:
    client = await make_client(agency_a)
    elsewhere = await make_contact(agency_a, (await make_client(agency_a))["id"])

    created = await agency_a.admin.post(
        VACANCIES,
        json={"client_id": client["id"], "title": "Analyst", "hiring_contact_id": elsewhere["id"]},
    )

    assert_problem(created, 422, "reference-not-found")
    assert error_fields(created) == {"hiring_contact_id"}
    assert await list_ids(agency_a.admin, VACANCIES) == set()

    vacancy = await make_vacancy(agency_a, client["id"])
    path = f"{VACANCIES}/{vacancy['id']}"
    before = await read(agency_a.admin, path)

    patched = await agency_a.admin.patch(
        path, json={"hiring_contact_id": elsewhere["id"]}, headers={"If-Match": before[1]}
    )

    assert_problem(patched, 422, "reference-not-found")
    assert error_fields(patched) == {"hiring_contact_id"}
    assert await read(agency_a.admin, path) == before


async def test_hiring_contact_of_another_agency_is_refused(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    client = await make_client(agency_a)
    theirs = await make_contact(agency_b, (await make_client(agency_b))["id"])

    response = await agency_a.admin.post(
        VACANCIES,
        json={"client_id": client["id"], "title": "Analyst", "hiring_contact_id": theirs["id"]},
    )

    assert_problem(response, 422, "reference-not-found")
    assert error_fields(response) == {"hiring_contact_id"}
    assert await list_ids(agency_a.admin, VACANCIES) == set()


async def test_patch_sets_and_clears_the_hiring_contact(agency_a: Tenant) -> None:
    client = await make_client(agency_a)
    contact = await make_contact(agency_a, client["id"])
    path = f"{VACANCIES}/{(await make_vacancy(agency_a, client['id']))['id']}"
    _, etag = await read(agency_a.admin, path)

    missing = await agency_a.admin.patch(path, json={"hiring_contact_id": contact["id"]})
    assert_problem(missing, 428, "precondition-required")
    assert (await read(agency_a.admin, path))[1] == etag

    set_ = await agency_a.admin.patch(
        path, json={"hiring_contact_id": contact["id"]}, headers={"If-Match": etag}
    )
    assert set_.status_code == 200, set_.text
    assert (await read(agency_a.admin, path))[0]["hiring_contact_id"] == contact["id"]

    cleared = await agency_a.admin.patch(
        path, json={"hiring_contact_id": None}, headers={"If-Match": set_.headers["etag"]}
    )
    assert cleared.status_code == 200, cleared.text
    assert (await read(agency_a.admin, path))[0]["hiring_contact_id"] is None

    stale = await agency_a.admin.patch(path, json={"title": "Old"}, headers={"If-Match": etag})
    assert_problem(stale, 412, "stale-etag")


async def test_filter_vacancies_by_client_title_and_external_id(agency_a: Tenant) -> None:
    acme = await make_client(agency_a)
    globex = await make_client(agency_a)
    analyst = await make_vacancy(agency_a, acme["id"], title="Data Analyst", external_id="job-1")
    engineer = await make_vacancy(agency_a, acme["id"], title="Data_Engineer")
    other = await make_vacancy(agency_a, globex["id"], title="Senior ANALYST")

    assert await list_ids(agency_a.admin, VACANCIES, client_id=acme["id"]) == {
        analyst["id"],
        engineer["id"],
    }
    assert await list_ids(agency_a.admin, VACANCIES, title="analyst") == {
        analyst["id"],
        other["id"],
    }
    assert await list_ids(agency_a.admin, VACANCIES, title="a_E") == {engineer["id"]}
    assert await list_ids(agency_a.admin, VACANCIES, external_id="job-1") == {analyst["id"]}
    assert await list_ids(agency_a.admin, VACANCIES, client_id=globex["id"], title="data") == set()


async def test_vacancy_upsert_by_external_id(agency_a: Tenant, agency_b: Tenant) -> None:
    client = await make_client(agency_a)
    contact = await make_contact(agency_a, client["id"])
    path = f"{VACANCIES}/by-external-id/job-7"
    body = {"client_id": client["id"], "title": "Analyst", "hiring_contact_id": contact["id"]}

    first = await agency_a.admin.put(path, json=body)
    repeat = await agency_a.admin.put(path, json=body)
    replaced = await agency_a.admin.put(path, json={"client_id": client["id"], "title": "Lead"})
    foreign = await agency_b.admin.put(path, json=body)

    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"{VACANCIES}/{first.json()['id']}"
    assert repeat.status_code == 200, repeat.text
    assert repeat.json() == first.json()
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["id"] == first.json()["id"]
    assert replaced.json()["title"] == "Lead"
    assert replaced.json()["hiring_contact_id"] is None
    assert_problem(foreign, 422, "reference-not-found")
    assert await list_ids(agency_a.admin, VACANCIES, external_id="job-7") == {first.json()["id"]}
    assert await list_ids(agency_b.admin, VACANCIES) == set()


async def test_delete_vacancy_without_applications(agency_a: Tenant) -> None:
    vacancy = await make_vacancy(agency_a)
    path = f"{VACANCIES}/{vacancy['id']}"

    response = await agency_a.admin.delete(path)

    assert response.status_code == 204, response.text
    assert_problem(await agency_a.admin.get(path), 404, "not-found")
    assert [e["object_id"] for e in await events_of(agency_a, "vacancy.deleted")] == [vacancy["id"]]


async def test_delete_vacancy_with_an_application_is_409(agency_a: Tenant) -> None:
    vacancy = await make_vacancy(agency_a)
    application = await make_application(agency_a, vacancy_id=vacancy["id"])
    path = f"{VACANCIES}/{vacancy['id']}"
    before = await read(agency_a.admin, path)

    response = await agency_a.admin.delete(path)

    assert_problem(response, 409, "in-use")
    assert await read(agency_a.admin, path) == before
    assert (await agency_a.admin.get(f"/v1/applications/{application['id']}")).status_code == 200
    assert await events_of(agency_a, "vacancy.deleted") == []
