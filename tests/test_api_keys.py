"""API keys: the secret is shown once and stored only hashed; scopes; revocation; On-Behalf-Of."""

import hashlib
import re
import secrets
import uuid
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text

from app.core.db import set_tenant
from app.core.ids import AgencyId
from tests.support.problems import assert_problem
from tests.support.tenants import Tenant, new_client, unique_email

USER_SCOPES = ["users:read", "users:write"]


async def api_key_row(app: FastAPI, agency_id: UUID, key_id: str) -> dict[str, Any]:
    async with app.state.sessions() as session, session.begin():
        await set_tenant(session, AgencyId(agency_id))
        result = await session.execute(
            text("SELECT * FROM api_key WHERE agency_id = :agency AND id = :id"),
            {"agency": agency_id, "id": UUID(key_id)},
        )
        return dict(result.mappings().one())


async def users_with_email(tenant: Tenant, email: str) -> list[dict[str, Any]]:
    response = await tenant.admin.get("/v1/users", params={"email": email})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def consultant_body(**overrides: Any) -> dict[str, Any]:
    return {
        "email": unique_email("provisioned"),
        "name": "Provisioned Consultant",
        "password": secrets.token_urlsafe(16),
        "role": "consultant",
        **overrides,
    }


# --- Creating, reading and storing keys ---------------------------------------------------------


async def test_create_returns_the_secret_once_with_at_least_128_random_bits(
    agency_a: Tenant,
) -> None:
    response = await agency_a.admin.post("/v1/api-keys", json={"name": "ATS sync"})

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    key = body["key"]
    prefix, agency_part, secret = key.split("_", 2)
    assert prefix == "afv"
    assert len(agency_part) == 26
    assert len(secret) >= 43  # token_urlsafe(32): 256 bits, comfortably over 128
    assert re.fullmatch(r"[A-Za-z0-9_-]+", secret)
    assert key.startswith(body["prefix"])
    assert len(body["prefix"]) < len(key)
    assert body["name"] == "ATS sync"


async def test_two_keys_have_different_secrets(agency_a: Tenant) -> None:
    first, second = await agency_a.api_key(), await agency_a.api_key()

    assert first["id"] != second["id"]
    assert first["key"].split("_", 2)[2] != second["key"].split("_", 2)[2]


async def test_database_keeps_only_the_sha256_of_the_key(app: FastAPI, agency_a: Tenant) -> None:
    created = await agency_a.api_key()
    key: str = created["key"]
    secret = key.split("_", 2)[2]

    row = await api_key_row(app, agency_a.agency_id, created["id"])

    assert bytes(row["key_hash"]) == hashlib.sha256(key.encode()).digest()
    for column, value in row.items():
        as_text = str(value)
        assert key not in as_text, column
        assert secret not in as_text, column
        if isinstance(value, bytes | memoryview):
            assert key.encode() not in bytes(value), column
            assert secret.encode() not in bytes(value), column


async def test_list_and_read_never_show_the_secret(agency_a: Tenant) -> None:
    created = await agency_a.api_key()
    secret = created["key"].split("_", 2)[2]

    listed = await agency_a.admin.get("/v1/api-keys")
    read = await agency_a.admin.get(f"/v1/api-keys/{created['id']}")

    assert listed.status_code == 200, listed.text
    assert read.status_code == 200, read.text
    items = listed.json()["items"]
    assert created["id"] in [item["id"] for item in items]
    for item in items:
        assert "key" not in item
        assert "key_hash" not in item
    assert read.json()["id"] == created["id"]
    assert "key" not in read.json()
    assert "key_hash" not in read.json()
    assert secret not in listed.text
    assert secret not in read.text


async def test_default_scopes_exclude_users_write(agency_a: Tenant) -> None:
    created = await agency_a.api_key()

    assert "users:write" not in created["scopes"]
    assert "users:read" in created["scopes"]
    read = await agency_a.admin.get(f"/v1/api-keys/{created['id']}")
    assert "users:write" not in read.json()["scopes"]

    body = consultant_body()
    response = await agency_a.client_with_key(created["key"]).post("/v1/users", json=body)
    assert_problem(response, 403, "insufficient-scope")
    assert await users_with_email(agency_a, body["email"]) == []


# --- Using keys ---------------------------------------------------------------------------------


async def test_key_authenticates_as_a_bearer_credential(agency_a: Tenant) -> None:
    created = await agency_a.api_key()

    response = await agency_a.client_with_key(created["key"]).get("/v1/me")

    assert response.status_code == 200, response.text
    assert response.json()["api_key"]["id"] == created["id"]
    assert response.json()["agency"]["id"] == str(agency_a.agency_id)


async def test_revoked_key_fails_on_the_very_next_call(agency_a: Tenant) -> None:
    created = await agency_a.api_key()
    client = agency_a.client_with_key(created["key"])
    assert (await client.get("/v1/me")).status_code == 200

    revoked = await agency_a.admin.delete(f"/v1/api-keys/{created['id']}")
    assert revoked.status_code == 204, revoked.text

    response = await client.get("/v1/me")
    assert_problem(response, 401, "invalid-token")
    assert response.headers["www-authenticate"] == "Bearer"
    read = await agency_a.admin.get(f"/v1/api-keys/{created['id']}")
    assert read.json()["revoked_at"] is not None


@pytest.mark.parametrize("garbage", ["afv_xxx", "afv_" + "a" * 26 + "_" + "b" * 43])
async def test_garbage_key_is_refused(app: FastAPI, garbage: str) -> None:
    async with new_client(app, garbage) as client:
        response = await client.get("/v1/me")

    assert_problem(response, 401, "invalid-token")


async def test_key_of_one_agency_rewritten_to_claim_another_is_refused(
    app: FastAPI, agency_a: Tenant, agency_b: Tenant
) -> None:
    key_a = (await agency_a.api_key())["key"]
    key_b = (await agency_b.api_key())["key"]
    # agency B's agency part with agency A's secret: the digest lookup must not match
    forged = "_".join([*key_b.split("_", 2)[:2], key_a.split("_", 2)[2]])

    async with new_client(app, forged) as client:
        response = await client.get("/v1/me")

    assert_problem(response, 401, "invalid-token")


async def test_key_without_the_scope_is_refused(agency_a: Tenant) -> None:
    created = await agency_a.api_key(["agency:read"])
    client = agency_a.client_with_key(created["key"])

    assert (await client.get("/v1/agency")).status_code == 200
    assert_problem(await client.get("/v1/users"), 403, "insufficient-scope")


# --- On-Behalf-Of -------------------------------------------------------------------------------


async def test_write_on_behalf_of_a_user_is_audited_with_key_and_user(agency_a: Tenant) -> None:
    created = await agency_a.api_key(USER_SCOPES)
    client = agency_a.client_with_key(created["key"])

    response = await client.post(
        "/v1/users",
        json=consultant_body(),
        headers={"On-Behalf-Of": str(agency_a.admin_id)},
    )

    assert response.status_code == 201, response.text
    new_user_id = response.json()["id"]
    audit = await agency_a.admin.get("/v1/audit-entries", params={"object_id": new_user_id})
    assert audit.status_code == 200, audit.text
    entries = [e for e in audit.json()["items"] if e["action"] == "user.created"]
    assert len(entries) == 1
    assert entries[0]["api_key_id"] == created["id"]
    assert entries[0]["user_id"] == str(agency_a.admin_id)
    assert entries[0]["object_id"] == new_user_id


async def test_write_by_a_key_without_on_behalf_of_records_no_user(agency_a: Tenant) -> None:
    created = await agency_a.api_key(USER_SCOPES)

    response = await agency_a.client_with_key(created["key"]).post(
        "/v1/users", json=consultant_body()
    )

    assert response.status_code == 201, response.text
    audit = await agency_a.admin.get(
        "/v1/audit-entries", params={"object_id": response.json()["id"]}
    )
    [entry] = [e for e in audit.json()["items"] if e["action"] == "user.created"]
    assert entry["api_key_id"] == created["id"]
    assert entry["user_id"] is None


@pytest.mark.parametrize("named", ["random-uuid", "not-a-uuid", "other-agency", "deactivated"])
async def test_on_behalf_of_must_name_an_active_user_of_the_agency(
    agency_a: Tenant, agency_b: Tenant, named: str
) -> None:
    if named == "random-uuid":
        on_behalf_of = str(uuid.uuid4())
    elif named == "not-a-uuid":
        on_behalf_of = "priya.shah"
    elif named == "other-agency":
        on_behalf_of = str(agency_b.admin_id)
    else:
        gone = await agency_a.add_user("consultant")
        etag = (await agency_a.admin.get(f"/v1/users/{gone['id']}")).headers["etag"]
        deleted = await agency_a.admin.delete(f"/v1/users/{gone['id']}", headers={"If-Match": etag})
        assert deleted.status_code == 204, deleted.text
        on_behalf_of = gone["id"]
    created = await agency_a.api_key(USER_SCOPES)
    body = consultant_body()

    response = await agency_a.client_with_key(created["key"]).post(
        "/v1/users", json=body, headers={"On-Behalf-Of": on_behalf_of}
    )

    assert_problem(response, 422, "invalid-on-behalf-of")
    assert await users_with_email(agency_a, body["email"]) == []


async def test_a_person_cannot_send_on_behalf_of(agency_a: Tenant) -> None:
    consultant = await agency_a.add_user("consultant")
    body = consultant_body()

    response = await agency_a.admin.post(
        "/v1/users", json=body, headers={"On-Behalf-Of": consultant["id"]}
    )

    assert_problem(response, 422, "invalid-on-behalf-of")
    assert await users_with_email(agency_a, body["email"]) == []


# --- A key with users:write never touches admins ------------------------------------------------


async def key_client(tenant: Tenant) -> AsyncClient:
    return await tenant.integration(USER_SCOPES)


async def test_key_with_users_write_can_provision_a_consultant(agency_a: Tenant) -> None:
    client = await key_client(agency_a)
    body = consultant_body()

    response = await client.post("/v1/users", json=body)

    assert response.status_code == 201, response.text
    [listed] = await users_with_email(agency_a, body["email"])
    assert listed["role"] == "consultant"
    assert listed["id"] == response.json()["id"]


async def test_key_cannot_create_an_admin(agency_a: Tenant) -> None:
    client = await key_client(agency_a)
    body = consultant_body(role="admin")

    response = await client.post("/v1/users", json=body)

    assert_problem(response, 403, "forbidden")
    assert await users_with_email(agency_a, body["email"]) == []


async def test_key_cannot_change_an_admin(agency_a: Tenant) -> None:
    client = await key_client(agency_a)
    path = f"/v1/users/{agency_a.admin_id}"
    before = await client.get(path)
    assert before.status_code == 200, before.text

    response = await client.patch(
        path, json={"name": "Taken Over"}, headers={"If-Match": before.headers["etag"]}
    )

    assert_problem(response, 403, "forbidden")
    after = await agency_a.admin.get(path)
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]


async def test_key_cannot_promote_a_consultant_to_admin(agency_a: Tenant) -> None:
    consultant = await agency_a.add_user("consultant")
    client = await key_client(agency_a)
    path = f"/v1/users/{consultant['id']}"
    before = await client.get(path)

    response = await client.patch(
        path, json={"role": "admin"}, headers={"If-Match": before.headers["etag"]}
    )

    assert_problem(response, 403, "forbidden")
    assert (await agency_a.admin.get(path)).json()["role"] == "consultant"


async def test_key_cannot_deactivate_an_admin(agency_a: Tenant) -> None:
    second_admin = await agency_a.add_user("admin")  # so last-admin is not what refuses
    client = await key_client(agency_a)
    path = f"/v1/users/{second_admin['id']}"
    etag = (await client.get(path)).headers["etag"]

    response = await client.delete(path, headers={"If-Match": etag})

    assert_problem(response, 403, "forbidden")
    after = await agency_a.admin.get(path)
    assert after.json()["active"] is True
    assert after.headers["etag"] == etag
