"""Clients and their contacts: CRUD, filters, upsert by external id, and what deleting them
does to the vacancies and interviews that depend on them."""

from datetime import timedelta

from app.core.clock import FixedClock
from tests.support.problems import assert_problem, error_fields
from tests.support.records import (
    events_of,
    list_ids,
    make_application,
    make_client,
    make_contact,
    make_interview,
    make_vacancy,
    read,
)
from tests.support.tenants import Tenant

CLIENTS = "/v1/clients"
CONTACTS = "/v1/contacts"


# --- Clients ------------------------------------------------------------------------------------


async def test_client_create_read_change_delete(agency_a: Tenant) -> None:
    response = await agency_a.admin.post(
        CLIENTS, json={"name": "Harbour Logistics", "external_id": "crm-1"}
    )

    assert response.status_code == 201, response.text
    client = response.json()
    path = f"{CLIENTS}/{client['id']}"
    assert response.headers["location"] == path
    assert client["name"] == "Harbour Logistics"
    assert client["external_id"] == "crm-1"
    assert await read(agency_a.admin, path) == (client, response.headers["etag"])

    renamed = await agency_a.admin.patch(
        path, json={"name": "Harbour Group"}, headers={"If-Match": response.headers["etag"]}
    )
    assert renamed.status_code == 200, renamed.text
    assert (await read(agency_a.admin, path))[0]["name"] == "Harbour Group"

    deleted = await agency_a.admin.delete(path)
    assert deleted.status_code == 204, deleted.text
    assert_problem(await agency_a.admin.get(path), 404, "not-found")
    assert await list_ids(agency_a.admin, CLIENTS) == set()


async def test_invalid_client_bodies_are_422_and_create_nothing(agency_a: Tenant) -> None:
    empty = await agency_a.admin.post(CLIENTS, json={"name": ""})
    unknown = await agency_a.admin.post(CLIENTS, json={"name": "Acme", "sector": "Retail"})

    assert_problem(empty, 422, "validation-error")
    assert error_fields(empty) == {"name"}
    assert_problem(unknown, 422, "validation-error")
    assert error_fields(unknown) == {"sector"}
    assert await list_ids(agency_a.admin, CLIENTS) == set()


async def test_client_patch_needs_a_current_etag(agency_a: Tenant) -> None:
    path = f"{CLIENTS}/{(await make_client(agency_a))['id']}"
    before = await read(agency_a.admin, path)

    missing = await agency_a.admin.patch(path, json={"name": "New"})
    stale = await agency_a.admin.patch(path, json={"name": "New"}, headers={"If-Match": '"99"'})
    null = await agency_a.admin.patch(path, json={"name": None}, headers={"If-Match": before[1]})

    assert_problem(missing, 428, "precondition-required")
    assert_problem(stale, 412, "stale-etag")
    assert_problem(null, 422, "validation-error")
    assert await read(agency_a.admin, path) == before


async def test_filter_clients_by_name_and_external_id(agency_a: Tenant) -> None:
    harbour = await make_client(agency_a, name="Harbour Logistics", external_id="crm-h")
    harbor = await make_client(agency_a, name="Northern HARBOUR Ltd")
    percent = await make_client(agency_a, name="100% Foods")
    await make_client(agency_a, name="1000 Foods")

    assert await list_ids(agency_a.admin, CLIENTS, name="harbour") == {harbour["id"], harbor["id"]}
    assert await list_ids(agency_a.admin, CLIENTS, name="0%") == {percent["id"]}
    assert await list_ids(agency_a.admin, CLIENTS, external_id="crm-h") == {harbour["id"]}
    assert await list_ids(agency_a.admin, CLIENTS, name="nowhere") == set()


async def test_client_upsert_by_external_id(agency_a: Tenant, agency_b: Tenant) -> None:
    path = f"{CLIENTS}/by-external-id/crm-9"

    first = await agency_a.admin.put(path, json={"name": "Acme"})
    repeat = await agency_a.admin.put(path, json={"name": "Acme"})
    renamed = await agency_a.admin.put(path, json={"name": "Acme Group"})
    theirs = await agency_b.admin.put(path, json={"name": "Other Acme"})

    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"{CLIENTS}/{first.json()['id']}"
    assert repeat.status_code == 200, repeat.text
    assert repeat.json() == first.json()
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["id"] == first.json()["id"]
    assert renamed.json()["name"] == "Acme Group"
    assert theirs.status_code == 201, theirs.text
    assert await list_ids(agency_a.admin, CLIENTS) == {first.json()["id"]}
    assert (await read(agency_a.admin, f"{CLIENTS}/{first.json()['id']}"))[0]["name"] == (
        "Acme Group"
    )


async def test_delete_client_with_an_application_is_409(agency_a: Tenant) -> None:
    client = await make_client(agency_a)
    contact = await make_contact(agency_a, client["id"])
    vacancy = await make_vacancy(agency_a, client["id"], hiring_contact_id=contact["id"])
    await make_application(agency_a, vacancy_id=vacancy["id"])
    paths = [
        f"{CLIENTS}/{client['id']}",
        f"/v1/vacancies/{vacancy['id']}",
        f"{CONTACTS}/{contact['id']}",
    ]
    before = [await read(agency_a.admin, path) for path in paths]

    response = await agency_a.admin.delete(paths[0])

    assert_problem(response, 409, "in-use")
    assert [await read(agency_a.admin, path) for path in paths] == before
    assert await events_of(agency_a, "client.deleted") == []


async def test_delete_client_without_applications_takes_vacancies_and_contacts(
    agency_a: Tenant,
) -> None:
    client = await make_client(agency_a)
    contact = await make_contact(agency_a, client["id"])
    hired_by = await make_vacancy(agency_a, client["id"], hiring_contact_id=contact["id"])
    plain = await make_vacancy(agency_a, client["id"])
    other_client = await make_client(agency_a)
    untouched = await make_vacancy(agency_a, other_client["id"])

    response = await agency_a.admin.delete(f"{CLIENTS}/{client['id']}")

    assert response.status_code == 204, response.text
    for path in (
        f"{CLIENTS}/{client['id']}",
        f"{CONTACTS}/{contact['id']}",
        f"/v1/vacancies/{hired_by['id']}",
        f"/v1/vacancies/{plain['id']}",
    ):
        assert_problem(await agency_a.admin.get(path), 404, "not-found")
    assert await list_ids(agency_a.admin, "/v1/vacancies") == {untouched["id"]}
    assert [e["object_id"] for e in await events_of(agency_a, "client.deleted")] == [client["id"]]


# --- Contacts -----------------------------------------------------------------------------------


async def test_contact_create_list_read_change_delete(agency_a: Tenant) -> None:
    client = await make_client(agency_a)
    other_client = await make_client(agency_a)
    await make_contact(agency_a, other_client["id"])
    body = {"name": "Sofia Marin", "email": "Sofia.Marin@Harbour.example.com", "job_title": "CTO"}

    response = await agency_a.admin.post(f"{CLIENTS}/{client['id']}/contacts", json=body)

    assert response.status_code == 201, response.text
    contact = response.json()
    path = f"{CONTACTS}/{contact['id']}"
    assert response.headers["location"] == path
    assert contact["client_id"] == client["id"]
    assert contact["email"] == "sofia.marin@harbour.example.com"
    assert await list_ids(agency_a.admin, f"{CLIENTS}/{client['id']}/contacts") == {contact["id"]}

    _, etag = await read(agency_a.admin, path)
    changed = await agency_a.admin.patch(path, json={"job_title": None}, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert (await read(agency_a.admin, path))[0]["job_title"] is None

    deleted = await agency_a.admin.delete(path)
    assert deleted.status_code == 204, deleted.text
    assert_problem(await agency_a.admin.get(path), 404, "not-found")
    assert await list_ids(agency_a.admin, f"{CLIENTS}/{client['id']}/contacts") == set()


async def test_contact_refusals_change_nothing(agency_a: Tenant, agency_b: Tenant) -> None:
    client = await make_client(agency_a)
    path = f"{CONTACTS}/{(await make_contact(agency_a, client['id']))['id']}"
    before = await read(agency_a.admin, path)
    theirs = await make_client(agency_b)

    bad_email = await agency_a.admin.patch(
        path, json={"email": "nope"}, headers={"If-Match": before[1]}
    )
    stale = await agency_a.admin.patch(path, json={"name": "X"}, headers={"If-Match": '"99"'})
    foreign = await agency_a.admin.post(
        f"{CLIENTS}/{theirs['id']}/contacts", json={"name": "X", "email": "x@example.com"}
    )

    assert_problem(bad_email, 422, "validation-error")
    assert error_fields(bad_email) == {"email"}
    assert_problem(stale, 412, "stale-etag")
    assert_problem(foreign, 404, "not-found")
    assert await read(agency_a.admin, path) == before
    assert await list_ids(agency_b.admin, f"{CLIENTS}/{theirs['id']}/contacts") == set()


async def test_contact_upsert_by_external_id_with_client_in_body(agency_a: Tenant) -> None:
    client = await make_client(agency_a)
    path = f"{CONTACTS}/by-external-id/crm-c-1"
    body = {"client_id": client["id"], "name": "Sofia", "email": "sofia@example.com"}

    first = await agency_a.admin.put(path, json={**body, "job_title": "CTO"})
    second = await agency_a.admin.put(path, json=body)

    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"{CONTACTS}/{first.json()['id']}"
    assert first.json()["client_id"] == client["id"]
    assert first.json()["external_id"] == "crm-c-1"
    assert second.status_code == 200, second.text
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["job_title"] is None
    contacts = f"{CLIENTS}/{client['id']}/contacts"
    assert await list_ids(agency_a.admin, contacts) == {first.json()["id"]}


async def test_contact_upsert_at_another_agencys_client_is_422(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    ours = await make_client(agency_a)
    theirs = await make_client(agency_b)
    path = f"{CONTACTS}/by-external-id/crm-c-2"
    body = {"name": "Sofia", "email": "sofia@example.com"}

    created = await agency_a.admin.put(path, json={**body, "client_id": theirs["id"]})

    assert_problem(created, 422, "reference-not-found")
    assert error_fields(created) == {"client_id"}
    assert await list_ids(agency_b.admin, f"{CLIENTS}/{theirs['id']}/contacts") == set()
    assert await events_of(agency_a, "contact.created") == []

    existing = await agency_a.admin.put(path, json={**body, "client_id": ours["id"]})
    assert existing.status_code == 201, existing.text
    item = f"{CONTACTS}/{existing.json()['id']}"
    before = await read(agency_a.admin, item)

    moved = await agency_a.admin.put(path, json={**body, "client_id": theirs["id"]})

    assert_problem(moved, 422, "reference-not-found")
    assert await read(agency_a.admin, item) == before


async def test_contact_on_an_interview_panel_cannot_be_deleted(agency_a: Tenant) -> None:
    client = await make_client(agency_a)
    interviewer = await make_contact(agency_a, client["id"])
    vacancy = await make_vacancy(agency_a, client["id"])
    application = await make_application(agency_a, vacancy_id=vacancy["id"])
    interview = await make_interview(agency_a, application["id"], [interviewer["id"]])
    path = f"{CONTACTS}/{interviewer['id']}"
    before = await read(agency_a.admin, path)

    response = await agency_a.admin.delete(path)

    assert_problem(response, 409, "in-use")
    assert await read(agency_a.admin, path) == before
    panel = (await read(agency_a.admin, f"/v1/interviews/{interview['id']}"))[0]
    assert panel["interviewer_ids"] == [interviewer["id"]]
    assert await events_of(agency_a, "contact.deleted") == []


async def test_deleting_a_hiring_contact_clears_it_from_the_vacancy(agency_a: Tenant) -> None:
    client = await make_client(agency_a)
    contact = await make_contact(agency_a, client["id"])
    vacancy = await make_vacancy(agency_a, client["id"], hiring_contact_id=contact["id"])
    vacancy_path = f"/v1/vacancies/{vacancy['id']}"
    _, etag = await read(agency_a.admin, vacancy_path)

    response = await agency_a.admin.delete(f"{CONTACTS}/{contact['id']}")

    assert response.status_code == 204, response.text
    after, new_etag = await read(agency_a.admin, vacancy_path)
    assert after["hiring_contact_id"] is None
    assert after["title"] == vacancy["title"]
    assert new_etag != etag


async def test_clearing_a_hiring_contact_is_seen_by_incremental_sync(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """An ATS that resumes with `updated_after` must learn the vacancy lost its hiring contact."""
    client = await make_client(agency_a)
    contact = await make_contact(agency_a, client["id"])
    vacancy = await make_vacancy(agency_a, client["id"], hiring_contact_id=contact["id"])
    synced_up_to = clock.now()
    clock.set(synced_up_to + timedelta(minutes=1))

    response = await agency_a.admin.delete(f"{CONTACTS}/{contact['id']}")

    assert response.status_code == 204, response.text
    changed = await list_ids(
        agency_a.admin, "/v1/vacancies", updated_after=synced_up_to.isoformat()
    )
    assert changed == {vacancy["id"]}


async def test_a_contact_upserted_by_external_id_must_work_for_one_of_the_agencys_clients(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    path = f"{CONTACTS}/by-external-id/crm-contact-9"
    theirs = await make_client(agency_b)
    body = {"name": "Sofia Marin", "email": "sofia@harbour.example.com"}
    refused = await agency_a.admin.put(path, json={**body, "client_id": theirs["id"]})
    assert_problem(refused, 422, "reference-not-found")
    assert error_fields(refused) == {"client_id"}

    ours = await make_client(agency_a)
    made = await agency_a.admin.put(path, json={**body, "client_id": ours["id"]})
    assert made.status_code == 201, made.text  # created now: the refusal wrote nothing
    assert made.json()["client_id"] == ours["id"]
