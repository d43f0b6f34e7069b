"""Candidates and referees: creation, filters, If-Match, deletion rules, upsert by external id,
and the events every change leaves behind."""

import uuid
from datetime import timedelta
from typing import Any

from app.core.clock import FixedClock
from tests.support.problems import assert_problem, error_fields
from tests.support.records import (
    events_of,
    list_ids,
    list_items,
    make_application,
    make_candidate,
    make_referee,
    read,
)
from tests.support.tenants import Tenant

CANDIDATES = "/v1/candidates"


def candidate_body(**overrides: Any) -> dict[str, Any]:
    return {
        "first_name": "Amara",
        "last_name": "Okafor",
        "email": "amara.okafor@example.com",
        "phone": "+44 7700 900123",
        "contact_consent": True,
        **overrides,
    }


# --- Creating -----------------------------------------------------------------------------------


async def test_create_candidate_answers_201_with_location_and_etag(agency_a: Tenant) -> None:
    response = await agency_a.admin.post(
        CANDIDATES, json=candidate_body(email="Amara.OKAFOR@Example.COM")
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["email"] == "amara.okafor@example.com"
    assert created["phone"] == "+44 7700 900123"
    assert created["contact_consent"] is True
    assert created["owner_id"] is None
    assert response.headers["location"] == f"{CANDIDATES}/{created['id']}"
    assert response.headers["etag"]
    assert await read(agency_a.admin, response.headers["location"]) == (
        created,
        response.headers["etag"],
    )


async def test_invalid_email_or_phone_is_422_naming_the_field(agency_a: Tenant) -> None:
    bad_email = await agency_a.admin.post(CANDIDATES, json=candidate_body(email="not-an-email"))
    bad_phone = await agency_a.admin.post(CANDIDATES, json=candidate_body(phone="call me maybe"))

    assert_problem(bad_email, 422, "validation-error")
    assert error_fields(bad_email) == {"email"}
    assert_problem(bad_phone, 422, "validation-error")
    assert error_fields(bad_phone) == {"phone"}
    assert await list_items(agency_a.admin, CANDIDATES) == []


async def test_unknown_field_is_422(agency_a: Tenant) -> None:
    response = await agency_a.admin.post(CANDIDATES, json=candidate_body(nickname="Ami"))

    assert_problem(response, 422, "validation-error")
    assert error_fields(response) == {"nickname"}
    assert await list_items(agency_a.admin, CANDIDATES) == []


async def test_owner_may_be_a_user_of_the_agency(agency_a: Tenant) -> None:
    consultant = await agency_a.add_user("consultant")

    created = await make_candidate(agency_a, owner_id=consultant["id"])

    assert created["owner_id"] == consultant["id"]


async def test_owner_from_another_agency_or_nowhere_is_refused(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    for owner_id in (str(agency_b.admin_id), str(uuid.uuid4())):
        response = await agency_a.admin.post(CANDIDATES, json=candidate_body(owner_id=owner_id))

        assert_problem(response, 422, "reference-not-found")
        assert error_fields(response) == {"owner_id"}
    assert await list_items(agency_a.admin, CANDIDATES) == []
    assert await events_of(agency_a, "candidate.created") == []


# --- Filters ------------------------------------------------------------------------------------


async def test_filter_by_email_is_exact_and_case_insensitive(agency_a: Tenant) -> None:
    wanted = await make_candidate(agency_a, email="pat.lee@example.com")
    await make_candidate(agency_a, email="pat.leeson@example.com")

    assert await list_ids(agency_a.admin, CANDIDATES, email="Pat.Lee@Example.com") == {wanted["id"]}


async def test_filter_by_name_matches_part_of_either_name(agency_a: Tenant) -> None:
    ann = await make_candidate(agency_a, first_name="Annabel", last_name="Smith")
    joe = await make_candidate(agency_a, first_name="Joe", last_name="Hannigan")
    await make_candidate(agency_a, first_name="Zoe", last_name="Brown")

    assert await list_ids(agency_a.admin, CANDIDATES, name="ANN") == {ann["id"], joe["id"]}
    assert await list_ids(agency_a.admin, CANDIDATES, name="mith") == {ann["id"]}
    assert await list_ids(agency_a.admin, CANDIDATES, name="xyz") == set()


async def test_filter_by_name_treats_percent_and_underscore_literally(agency_a: Tenant) -> None:
    underscore = await make_candidate(agency_a, first_name="Ann_a", last_name="One")
    await make_candidate(agency_a, first_name="Annxa", last_name="Two")
    percent = await make_candidate(agency_a, first_name="Sam", last_name="Top100%")
    await make_candidate(agency_a, first_name="Sam", last_name="Top1000")

    assert await list_ids(agency_a.admin, CANDIDATES, name="n_a") == {underscore["id"]}
    assert await list_ids(agency_a.admin, CANDIDATES, name="100%") == {percent["id"]}
    assert await list_ids(agency_a.admin, CANDIDATES, name="%") == {percent["id"]}


async def test_filter_by_external_id_and_owner(agency_a: Tenant) -> None:
    consultant = await agency_a.add_user("consultant")
    owned = await make_candidate(agency_a, owner_id=consultant["id"], external_id="ats-1")
    other = await make_candidate(agency_a, external_id="ats-2")

    assert await list_ids(agency_a.admin, CANDIDATES, external_id="ats-2") == {other["id"]}
    assert await list_ids(agency_a.admin, CANDIDATES, owner_id=consultant["id"]) == {owned["id"]}
    assert await list_ids(agency_a.admin, CANDIDATES, external_id="ats-3") == set()


async def test_filter_by_updated_after(agency_a: Tenant, clock: FixedClock) -> None:
    start = clock.now()
    first = await make_candidate(agency_a)
    clock.set(start + timedelta(minutes=1))
    second = await make_candidate(agency_a)
    clock.set(start + timedelta(minutes=2))
    path = f"{CANDIDATES}/{first['id']}"
    _, etag = await read(agency_a.admin, path)
    patched = await agency_a.admin.patch(
        path, json={"phone": "+1 555 0100"}, headers={"If-Match": etag}
    )
    assert patched.status_code == 200, patched.text

    after_start = await list_ids(agency_a.admin, CANDIDATES, updated_after=start.isoformat())
    after_second = await list_ids(
        agency_a.admin, CANDIDATES, updated_after=(start + timedelta(minutes=1)).isoformat()
    )

    assert after_start == {first["id"], second["id"]}
    assert after_second == {first["id"]}
    assert patched.json()["updated_at"] == (start + timedelta(minutes=2)).isoformat()


# --- Changing -----------------------------------------------------------------------------------


async def test_patch_requires_a_current_if_match(agency_a: Tenant) -> None:
    path = f"{CANDIDATES}/{(await make_candidate(agency_a))['id']}"
    before, etag = await read(agency_a.admin, path)

    missing = await agency_a.admin.patch(path, json={"first_name": "Ada"})
    stale = await agency_a.admin.patch(
        path, json={"first_name": "Ada"}, headers={"If-Match": '"999"'}
    )

    assert_problem(missing, 428, "precondition-required")
    assert_problem(stale, 412, "stale-etag")
    assert await read(agency_a.admin, path) == (before, etag)
    assert await events_of(agency_a, "candidate.updated") == []

    ok = await agency_a.admin.patch(path, json={"first_name": "Ada"}, headers={"If-Match": etag})

    assert ok.status_code == 200, ok.text
    assert ok.json()["first_name"] == "Ada"
    assert ok.headers["etag"] != etag
    assert await read(agency_a.admin, path) == (ok.json(), ok.headers["etag"])
    again = await agency_a.admin.patch(path, json={"first_name": "Bo"}, headers={"If-Match": etag})
    assert_problem(again, 412, "stale-etag")


async def test_null_for_a_required_field_is_422_but_optional_fields_clear(
    agency_a: Tenant,
) -> None:
    path = f"{CANDIDATES}/{(await make_candidate(agency_a, phone='+44 20 7946 0000'))['id']}"
    before, etag = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(
        path, json={"last_name": None}, headers={"If-Match": etag}
    )

    assert_problem(response, 422, "validation-error")
    assert await read(agency_a.admin, path) == (before, etag)

    cleared = await agency_a.admin.patch(path, json={"phone": None}, headers={"If-Match": etag})

    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["phone"] is None
    assert cleared.json()["last_name"] == before["last_name"]


async def test_contact_consent_can_be_set_and_cleared(agency_a: Tenant) -> None:
    path = f"{CANDIDATES}/{(await make_candidate(agency_a, contact_consent=False))['id']}"

    for consent in (True, False):
        _, etag = await read(agency_a.admin, path)
        response = await agency_a.admin.patch(
            path, json={"contact_consent": consent}, headers={"If-Match": etag}
        )
        assert response.status_code == 200, response.text
        assert (await read(agency_a.admin, path))[0]["contact_consent"] is consent


async def test_patch_to_another_candidates_external_id_is_409(agency_a: Tenant) -> None:
    await make_candidate(agency_a, external_id="ats-taken")
    path = f"{CANDIDATES}/{(await make_candidate(agency_a, external_id='ats-mine'))['id']}"
    before, etag = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(
        path, json={"external_id": "ats-taken"}, headers={"If-Match": etag}
    )

    assert_problem(response, 409, "external-id-taken")
    assert await read(agency_a.admin, path) == (before, etag)


# --- Deleting -----------------------------------------------------------------------------------


async def test_delete_candidate_without_applications_removes_their_referees(
    agency_a: Tenant,
) -> None:
    candidate = await make_candidate(agency_a)
    referee = await make_referee(agency_a, candidate["id"])

    response = await agency_a.admin.delete(f"{CANDIDATES}/{candidate['id']}")

    assert response.status_code == 204, response.text
    assert (await agency_a.admin.get(f"{CANDIDATES}/{candidate['id']}")).status_code == 404
    assert (await agency_a.admin.get(f"/v1/referees/{referee['id']}")).status_code == 404


async def test_delete_candidate_with_an_application_is_409(agency_a: Tenant) -> None:
    candidate = await make_candidate(agency_a)
    referee = await make_referee(agency_a, candidate["id"])
    await make_application(agency_a, candidate_id=candidate["id"])
    path = f"{CANDIDATES}/{candidate['id']}"
    before = await read(agency_a.admin, path)

    response = await agency_a.admin.delete(path)

    assert_problem(response, 409, "in-use")
    assert await read(agency_a.admin, path) == before
    assert (await agency_a.admin.get(f"/v1/referees/{referee['id']}")).status_code == 200
    assert await events_of(agency_a, "candidate.deleted") == []


# --- Referees -----------------------------------------------------------------------------------


async def test_referee_lifecycle_keeps_consent_current(agency_a: Tenant) -> None:
    candidate = await make_candidate(agency_a)
    other = await make_candidate(agency_a)
    await make_referee(agency_a, other["id"])
    body = {
        "name": "Daniel Reyes",
        "email": "Daniel.Reyes@Example.org",
        "relationship": "Line manager",
        "consent_to_contact": False,
    }

    response = await agency_a.admin.post(f"{CANDIDATES}/{candidate['id']}/referees", json=body)

    assert response.status_code == 201, response.text
    referee = response.json()
    path = f"/v1/referees/{referee['id']}"
    assert response.headers["location"] == path
    assert referee["candidate_id"] == candidate["id"]
    assert referee["email"] == "daniel.reyes@example.org"
    assert referee["consent_to_contact"] is False
    listed = await list_ids(agency_a.admin, f"{CANDIDATES}/{candidate['id']}/referees")
    assert listed == {referee["id"]}

    _, etag = await read(agency_a.admin, path)
    granted = await agency_a.admin.patch(
        path, json={"consent_to_contact": True}, headers={"If-Match": etag}
    )
    assert granted.status_code == 200, granted.text
    assert (await read(agency_a.admin, path))[0]["consent_to_contact"] is True

    withdrawn = await agency_a.admin.patch(
        path, json={"consent_to_contact": False}, headers={"If-Match": granted.headers["etag"]}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert (await read(agency_a.admin, path))[0]["consent_to_contact"] is False

    deleted = await agency_a.admin.delete(path)
    assert deleted.status_code == 204, deleted.text
    assert (await agency_a.admin.get(path)).status_code == 404
    assert await list_ids(agency_a.admin, f"{CANDIDATES}/{candidate['id']}/referees") == set()


async def test_referee_changes_are_refused_without_a_current_etag(agency_a: Tenant) -> None:
    candidate = await make_candidate(agency_a)
    path = f"/v1/referees/{(await make_referee(agency_a, candidate['id']))['id']}"
    before, etag = await read(agency_a.admin, path)

    missing = await agency_a.admin.patch(path, json={"consent_to_contact": False})
    stale = await agency_a.admin.patch(
        path, json={"consent_to_contact": False}, headers={"If-Match": '"999"'}
    )
    null = await agency_a.admin.patch(
        path, json={"consent_to_contact": None}, headers={"If-Match": etag}
    )

    assert_problem(missing, 428, "precondition-required")
    assert_problem(stale, 412, "stale-etag")
    assert_problem(null, 422, "validation-error")
    assert await read(agency_a.admin, path) == (before, etag)


async def test_referee_of_another_agencys_candidate_is_404(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    theirs = await make_candidate(agency_b)
    body = {"name": "X", "email": "x@example.org", "relationship": "Friend"}

    created = await agency_a.admin.post(f"{CANDIDATES}/{theirs['id']}/referees", json=body)
    listed = await agency_a.admin.get(f"{CANDIDATES}/{theirs['id']}/referees")

    assert_problem(created, 404, "not-found")
    assert_problem(listed, 404, "not-found")
    assert await list_ids(agency_b.admin, f"{CANDIDATES}/{theirs['id']}/referees") == set()


# --- Upsert by external id ----------------------------------------------------------------------


async def test_upsert_creates_then_repeats_idempotently(agency_a: Tenant) -> None:
    path = f"{CANDIDATES}/by-external-id/ats-77"
    body = candidate_body()

    first = await agency_a.admin.put(path, json=body)
    second = await agency_a.admin.put(path, json=body)

    assert first.status_code == 201, first.text
    created = first.json()
    assert first.headers["location"] == f"{CANDIDATES}/{created['id']}"
    assert created["external_id"] == "ats-77"
    assert second.status_code == 200, second.text
    assert "location" not in second.headers
    assert second.json() == created
    assert second.headers["etag"] == first.headers["etag"]
    assert await list_ids(agency_a.admin, CANDIDATES, external_id="ats-77") == {created["id"]}
    assert await list_ids(agency_a.admin, CANDIDATES) == {created["id"]}
    assert await events_of(agency_a, "candidate.updated") == []


async def test_upsert_replaces_the_whole_candidate(agency_a: Tenant, clock: FixedClock) -> None:
    path = f"{CANDIDATES}/by-external-id/ats-78"
    first = await agency_a.admin.put(path, json=candidate_body())
    clock.set(clock.now() + timedelta(minutes=5))

    replaced = await agency_a.admin.put(
        path,
        json={"first_name": "Amy", "last_name": "Okafor", "email": "AMY@example.com"},
    )

    assert replaced.status_code == 200, replaced.text
    after = replaced.json()
    assert after["id"] == first.json()["id"]
    assert after["first_name"] == "Amy"
    assert after["email"] == "amy@example.com"
    assert after["phone"] is None
    assert after["contact_consent"] is False
    assert after["external_id"] == "ats-78"
    assert after["updated_at"] == clock.now().isoformat()
    assert replaced.headers["etag"] != first.headers["etag"]
    assert await read(agency_a.admin, f"{CANDIDATES}/{after['id']}") == (
        after,
        replaced.headers["etag"],
    )


async def test_upsert_with_a_stale_if_match_is_412(agency_a: Tenant) -> None:
    path = f"{CANDIDATES}/by-external-id/ats-79"
    first = await agency_a.admin.put(path, json=candidate_body())
    item = f"{CANDIDATES}/{first.json()['id']}"
    before = await read(agency_a.admin, item)

    stale = await agency_a.admin.put(
        path, json=candidate_body(first_name="Changed"), headers={"If-Match": '"999"'}
    )

    assert_problem(stale, 412, "stale-etag")
    assert await read(agency_a.admin, item) == before

    current = await agency_a.admin.put(
        path, json=candidate_body(first_name="Changed"), headers={"If-Match": before[1]}
    )
    assert current.status_code == 200, current.text
    assert current.json()["first_name"] == "Changed"


async def test_same_external_id_in_another_agency_is_a_separate_candidate(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    path = f"{CANDIDATES}/by-external-id/shared-1"
    ours = await agency_a.admin.put(path, json=candidate_body(first_name="Ours"))
    before = await read(agency_a.admin, f"{CANDIDATES}/{ours.json()['id']}")

    theirs = await agency_b.admin.put(path, json=candidate_body(first_name="Theirs"))

    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["id"] != ours.json()["id"]
    assert await read(agency_a.admin, f"{CANDIDATES}/{ours.json()['id']}") == before
    assert await list_ids(agency_a.admin, CANDIDATES) == {ours.json()["id"]}
    assert await list_ids(agency_b.admin, CANDIDATES) == {theirs.json()["id"]}


async def test_post_with_a_used_external_id_is_409(agency_a: Tenant) -> None:
    existing = await make_candidate(agency_a, external_id="ats-80")

    response = await agency_a.admin.post(CANDIDATES, json=candidate_body(external_id="ats-80"))

    assert_problem(response, 409, "external-id-taken")
    assert await list_ids(agency_a.admin, CANDIDATES) == {existing["id"]}


# --- Events -------------------------------------------------------------------------------------


async def test_changes_leave_events_naming_the_user_and_no_personal_data(
    agency_a: Tenant,
) -> None:
    consultant = await agency_a.add_user("consultant")
    client = await agency_a.client_as(consultant)
    candidate = await make_candidate(
        client, first_name="Evangeline", last_name="Quist", email="evangeline.q@example.com"
    )
    path = f"{CANDIDATES}/{candidate['id']}"
    _, etag = await read(client, path)
    patched = await client.patch(
        path,
        json={"email": "eq@example.com", "phone": "+44 7700 900999"},
        headers={"If-Match": etag},
    )
    assert patched.status_code == 200, patched.text
    deleted = await agency_a.admin.delete(path)
    assert deleted.status_code == 204, deleted.text

    events = await events_of(agency_a, object_id=candidate["id"])

    assert [e["type"] for e in events] == [
        "candidate.created",
        "candidate.updated",
        "candidate.deleted",
    ]
    assert [e["user_id"] for e in events] == [
        consultant["id"],
        consultant["id"],
        str(agency_a.admin_id),
    ]
    assert events[1]["data"]["fields"] == ["email", "phone"]
    dumped = repr([e["data"] for e in events])
    for personal in ("Evangeline", "Quist", "evangeline.q@example.com", "eq@example.com", "900999"):
        assert personal not in dumped


async def test_refused_writes_leave_no_event(agency_a: Tenant) -> None:
    candidate = await make_candidate(agency_a, external_id="ats-90")
    await make_application(agency_a, candidate_id=candidate["id"])
    path = f"{CANDIDATES}/{candidate['id']}"
    before = await events_of(agency_a, object_id=candidate["id"])

    refused = [
        await agency_a.admin.patch(path, json={"first_name": "X"}, headers={"If-Match": '"9"'}),
        await agency_a.admin.patch(path, json={"first_name": "X"}),
        await agency_a.admin.delete(path),
        await agency_a.admin.post(CANDIDATES, json=candidate_body(external_id="ats-90")),
    ]

    assert [r.status_code for r in refused] == [412, 428, 409, 409]
    assert [e["type"] for e in before] == ["candidate.created"]
    assert await events_of(agency_a, object_id=candidate["id"]) == before
    assert len(await events_of(agency_a, "candidate.created")) == 1
