"""Users of an agency: who may manage them, If-Match, the last admin, filters and pagination."""

import secrets
from typing import Any

import pytest
from httpx import AsyncClient

from tests.support import records
from tests.support.problems import assert_problem
from tests.support.records import read
from tests.support.tenants import Tenant, log_in, unique_email


async def deactivate(tenant: Tenant, user_id: str) -> None:
    """Suspend: reversible, and the user stays listed (`active: false`)."""
    _, etag = await read(tenant.admin, f"/v1/users/{user_id}")
    response = await tenant.admin.patch(
        f"/v1/users/{user_id}", json={"active": False}, headers={"If-Match": etag}
    )
    assert response.status_code == 200, response.text


async def remove(tenant: Tenant, user_id: str) -> None:
    _, etag = await read(tenant.admin, f"/v1/users/{user_id}")
    response = await tenant.admin.delete(f"/v1/users/{user_id}", headers={"If-Match": etag})
    assert response.status_code == 204, response.text


async def list_ids(client: AsyncClient, **params: Any) -> set[str]:
    return await records.list_ids(client, "/v1/users", **params)


# --- Consultants may read people but not manage them --------------------------------------------


async def test_consultant_can_list_users(agency_a: Tenant) -> None:
    me = await agency_a.add_user("consultant")
    client = await agency_a.client_as(me)

    ids = await list_ids(client)

    assert {me["id"], str(agency_a.admin_id)} <= ids


async def test_consultant_cannot_add_a_user(agency_a: Tenant) -> None:
    client = await agency_a.consultant()
    email = unique_email("sneaky")
    body = {"email": email, "name": "Sneaky", "password": secrets.token_urlsafe(16)}

    response = await client.post("/v1/users", json={**body, "role": "admin"})

    assert_problem(response, 403, "forbidden")
    assert await list_ids(agency_a.admin, email=email) == set()


async def test_consultant_cannot_change_or_deactivate_a_user(agency_a: Tenant) -> None:
    client = await agency_a.consultant()
    target = await agency_a.add_user("consultant")
    path = f"/v1/users/{target['id']}"
    before, etag = await read(agency_a.admin, path)

    patched = await client.patch(path, json={"name": "Renamed"}, headers={"If-Match": etag})
    deleted = await client.delete(path, headers={"If-Match": etag})

    assert_problem(patched, 403, "forbidden")
    assert_problem(deleted, 403, "forbidden")
    assert await read(agency_a.admin, path) == (before, etag)


async def test_consultant_cannot_promote_themselves(agency_a: Tenant) -> None:
    me = await agency_a.add_user("consultant")
    client = await agency_a.client_as(me)
    path = f"/v1/users/{me['id']}"
    before, etag = await read(client, path)

    response = await client.patch(path, json={"role": "admin"}, headers={"If-Match": etag})

    assert_problem(response, 403, "forbidden")
    assert await read(agency_a.admin, path) == (before, etag)


async def test_consultant_cannot_manage_api_keys(agency_a: Tenant) -> None:
    client = await agency_a.consultant()
    existing = await agency_a.api_key()

    listed = await client.get("/v1/api-keys")
    created = await client.post("/v1/api-keys", json={"name": "Mine"})
    revoked = await client.delete(f"/v1/api-keys/{existing['id']}")

    assert_problem(listed, 403, "forbidden")
    assert_problem(created, 403, "forbidden")
    assert_problem(revoked, 403, "forbidden")
    keys = (await agency_a.admin.get("/v1/api-keys")).json()["items"]
    assert [k["id"] for k in keys] == [existing["id"]]
    assert keys[0]["revoked_at"] is None
    assert (await agency_a.client_with_key(existing["key"]).get("/v1/me")).status_code == 200


async def test_consultant_cannot_change_agency_settings(agency_a: Tenant) -> None:
    client = await agency_a.consultant()
    before, etag = await read(agency_a.admin, "/v1/agency")

    response = await client.patch(
        "/v1/agency", json={"follow_up_max_words": 50}, headers={"If-Match": etag}
    )

    assert_problem(response, 403, "forbidden")
    assert await read(agency_a.admin, "/v1/agency") == (before, etag)


# --- Creating users -----------------------------------------------------------------------------


async def test_admin_adds_a_user_who_can_log_in(agency_a: Tenant) -> None:
    body = {
        "email": unique_email("new"),
        "name": "New Consultant",
        "password": secrets.token_urlsafe(16),
    }

    response = await agency_a.admin.post("/v1/users", json=body)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["role"] == "consultant"
    assert created["active"] is True
    assert "password" not in created
    assert "password_hash" not in created
    assert response.headers["location"] == f"/v1/users/{created['id']}"
    assert (await log_in(agency_a.admin, body["email"], body["password"])).status_code == 200


async def test_duplicate_email_is_refused_whatever_its_case(agency_a: Tenant) -> None:
    existing = await agency_a.add_user("consultant")

    response = await agency_a.admin.post(
        "/v1/users",
        json={
            "email": existing["email"].upper(),
            "name": "Twin",
            "password": secrets.token_urlsafe(16),
        },
    )

    assert_problem(response, 409, "email-taken")
    listed = (await agency_a.admin.get("/v1/users", params={"email": existing["email"]})).json()
    assert [(u["id"], u["name"]) for u in listed["items"]] == [(existing["id"], existing["name"])]


async def test_changing_email_to_a_taken_one_is_refused(agency_a: Tenant) -> None:
    existing = await agency_a.add_user("consultant")
    other = await agency_a.add_user("consultant")
    path = f"/v1/users/{other['id']}"
    before, etag = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(
        path, json={"email": existing["email"].upper()}, headers={"If-Match": etag}
    )

    assert_problem(response, 409, "email-taken")
    assert await read(agency_a.admin, path) == (before, etag)


async def test_the_same_email_may_exist_in_another_agency(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    in_a = await agency_a.add_user("consultant")

    in_b = await agency_b.add_user("consultant", email=in_a["email"])

    assert in_b["email"] == in_a["email"]
    assert in_b["id"] != in_a["id"]


# --- PATCH and If-Match -------------------------------------------------------------------------


async def test_patch_without_if_match_is_precondition_required(agency_a: Tenant) -> None:
    target = await agency_a.add_user("consultant")
    path = f"/v1/users/{target['id']}"
    before, etag = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(path, json={"name": "Renamed"})

    assert_problem(response, 428, "precondition-required")
    assert await read(agency_a.admin, path) == (before, etag)


async def test_patch_with_the_current_etag_changes_the_user(agency_a: Tenant) -> None:
    target = await agency_a.add_user("consultant")
    path = f"/v1/users/{target['id']}"
    _, etag = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(
        path, json={"name": "Renamed"}, headers={"If-Match": etag}
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Renamed"
    new_etag = response.headers["etag"]
    assert new_etag != etag
    after, after_etag = await read(agency_a.admin, path)
    assert after["name"] == "Renamed"
    assert after_etag == new_etag


async def test_patch_with_a_stale_etag_is_refused(agency_a: Tenant) -> None:
    target = await agency_a.add_user("consultant")
    path = f"/v1/users/{target['id']}"
    _, old_etag = await read(agency_a.admin, path)
    first = await agency_a.admin.patch(path, json={"name": "First"}, headers={"If-Match": old_etag})
    assert first.status_code == 200, first.text

    response = await agency_a.admin.patch(
        path, json={"name": "Second"}, headers={"If-Match": old_etag}
    )

    assert_problem(response, 412, "stale-etag")
    after, etag = await read(agency_a.admin, path)
    assert after["name"] == "First"
    assert etag == first.headers["etag"]


@pytest.mark.parametrize(
    "body",
    [{"nickname": "Pip"}, {"name": "Ok", "password_hash": "x"}, {"name": None}, {"active": None}],
    ids=["unknown-field", "unknown-field-beside-known", "null-name", "null-active"],
)
async def test_patch_with_an_invalid_body_changes_nothing(
    agency_a: Tenant, body: dict[str, Any]
) -> None:
    target = await agency_a.add_user("consultant")
    path = f"/v1/users/{target['id']}"
    before, etag = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(path, json=body, headers={"If-Match": etag})

    assert_problem(response, 422, "validation-error")
    assert await read(agency_a.admin, path) == (before, etag)


async def test_removal_needs_no_if_match_and_leaves_no_user_route(agency_a: Tenant) -> None:
    target = await agency_a.add_user("consultant")
    path = f"/v1/users/{target['id']}"

    response = await agency_a.admin.delete(path)

    assert response.status_code == 204, response.text
    assert_problem(await agency_a.admin.get(path), 404, "not-found")
    assert_problem(await agency_a.admin.delete(path), 404, "not-found")
    patched = await agency_a.admin.patch(path, json={"active": True}, headers={"If-Match": "*"})
    assert_problem(patched, 404, "not-found")
    assert target["id"] not in await list_ids(agency_a.admin)
    assert target["id"] not in await list_ids(agency_a.admin, active="false")


async def test_a_removed_users_email_can_be_given_to_a_new_user(
    anon: AsyncClient, agency_a: Tenant
) -> None:
    leaver = await agency_a.add_user("consultant")
    await remove(agency_a, leaver["id"])

    successor = await agency_a.add_user("consultant", email=leaver["email"])

    assert successor["id"] != leaver["id"]
    assert (await log_in(anon, leaver["email"], successor["password"])).status_code == 200
    assert_problem(
        await log_in(anon, leaver["email"], leaver["password"]), 401, "invalid-credentials"
    )


async def test_deactivation_with_a_stale_etag_is_refused(agency_a: Tenant) -> None:
    target = await agency_a.add_user("consultant")
    path = f"/v1/users/{target['id']}"
    _, old_etag = await read(agency_a.admin, path)
    renamed = await agency_a.admin.patch(path, json={"name": "New"}, headers={"If-Match": old_etag})
    assert renamed.status_code == 200, renamed.text

    response = await agency_a.admin.delete(path, headers={"If-Match": old_etag})

    assert_problem(response, 412, "stale-etag")
    after, _ = await read(agency_a.admin, path)
    assert after["active"] is True


# --- The last admin -----------------------------------------------------------------------------


@pytest.mark.parametrize("change", [{"role": "consultant"}, {"active": False}])
async def test_last_admin_cannot_demote_themselves(
    agency_a: Tenant, change: dict[str, Any]
) -> None:
    path = f"/v1/users/{agency_a.admin_id}"
    before, etag = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(path, json=change, headers={"If-Match": etag})

    assert_problem(response, 409, "last-admin")
    assert await read(agency_a.admin, path) == (before, etag)


async def test_last_admin_cannot_deactivate_themselves(agency_a: Tenant) -> None:
    path = f"/v1/users/{agency_a.admin_id}"
    before, etag = await read(agency_a.admin, path)

    response = await agency_a.admin.delete(path, headers={"If-Match": etag})

    assert_problem(response, 409, "last-admin")
    assert await read(agency_a.admin, path) == (before, etag)
    assert before["active"] is True
    assert before["role"] == "admin"


async def test_an_admin_may_step_down_when_another_admin_remains(agency_a: Tenant) -> None:
    await agency_a.add_user("admin")
    path = f"/v1/users/{agency_a.admin_id}"
    _, etag = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(
        path, json={"role": "consultant"}, headers={"If-Match": etag}
    )

    assert response.status_code == 200, response.text
    assert response.json()["role"] == "consultant"


# --- Deactivation -------------------------------------------------------------------------------


async def test_deactivated_user_cannot_log_in(anon: AsyncClient, agency_a: Tenant) -> None:
    user = await agency_a.add_user("consultant")
    assert (await log_in(anon, user["email"], user["password"])).status_code == 200

    await deactivate(agency_a, user["id"])

    assert_problem(await log_in(anon, user["email"], user["password"]), 401, "invalid-credentials")
    after, _ = await read(agency_a.admin, f"/v1/users/{user['id']}")
    assert after["active"] is False


async def test_removed_user_cannot_log_in(anon: AsyncClient, agency_a: Tenant) -> None:
    user = await agency_a.add_user("consultant")
    await remove(agency_a, user["id"])

    assert_problem(await log_in(anon, user["email"], user["password"]), 401, "invalid-credentials")


# --- Another agency's users ---------------------------------------------------------------------


async def test_another_agencys_user_is_not_found(agency_a: Tenant, agency_b: Tenant) -> None:
    theirs = await agency_b.add_user("consultant")
    path = f"/v1/users/{theirs['id']}"
    before, etag = await read(agency_b.admin, path)

    got = await agency_a.admin.get(path)
    patched = await agency_a.admin.patch(
        path, json={"name": "Hijacked", "role": "admin"}, headers={"If-Match": "*"}
    )
    deleted = await agency_a.admin.delete(path, headers={"If-Match": "*"})

    assert_problem(got, 404, "not-found")
    assert_problem(patched, 404, "not-found")
    assert_problem(deleted, 404, "not-found")
    assert await read(agency_b.admin, path) == (before, etag)
    assert theirs["id"] not in await list_ids(agency_a.admin)


# --- Filters and pagination ---------------------------------------------------------------------


async def test_filters_by_role_active_and_email(agency_a: Tenant) -> None:
    founder = str(agency_a.admin_id)
    consultant = (await agency_a.add_user("consultant"))["id"]
    leaver = await agency_a.add_user("consultant")
    admin = (await agency_a.add_user("admin"))["id"]
    await deactivate(agency_a, leaver["id"])

    assert await list_ids(agency_a.admin, role="admin") == {founder, admin}
    assert await list_ids(agency_a.admin, role="consultant") == {consultant, leaver["id"]}
    assert await list_ids(agency_a.admin, active="false") == {leaver["id"]}
    assert await list_ids(agency_a.admin, active="true") == {founder, consultant, admin}
    assert await list_ids(agency_a.admin, role="consultant", active="true") == {consultant}
    assert await list_ids(agency_a.admin, email=leaver["email"].upper()) == {leaver["id"]}
    assert await list_ids(agency_a.admin, email=unique_email("nobody")) == set()


async def test_pagination_returns_every_user_exactly_once(agency_a: Tenant) -> None:
    added = [(await agency_a.add_user("consultant"))["id"] for _ in range(4)]
    everyone = {str(agency_a.admin_id), *added}

    seen: list[str] = []
    page_sizes: list[int] = []
    cursor: str | None = None
    for _ in range(10):  # bounded: a cursor that never ends must fail, not hang
        params: dict[str, Any] = {"limit": 2}
        if cursor is not None:
            params["cursor"] = cursor
        response = await agency_a.admin.get("/v1/users", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [item["id"] for item in page["items"]]
        page_sizes.append(len(page["items"]))
        cursor = page["next"]
        if cursor is None:
            break

    assert cursor is None
    assert page_sizes == [2, 2, 1]
    assert len(seen) == len(set(seen))
    assert set(seen) == everyone


@pytest.mark.parametrize(
    ("params", "field", "slug"),
    [
        ({"limit": 201}, "limit", "validation-error"),
        ({"limit": 0}, "limit", "validation-error"),
        ({"cursor": "garbage"}, "cursor", "cursor-invalid"),
    ],
)
async def test_bad_page_parameters_are_refused(
    agency_a: Tenant, params: dict[str, Any], field: str, slug: str
) -> None:
    response = await agency_a.admin.get("/v1/users", params=params)

    body = assert_problem(response, 422, slug)
    assert field in [error["field"] for error in body["errors"]]
