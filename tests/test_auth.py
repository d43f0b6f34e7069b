"""Logging in, reading access tokens and API keys, and `GET /v1/me`."""

import base64
import json
from datetime import timedelta
from typing import Any
from uuid import UUID

import jwt
from argon2 import PasswordHasher
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import text

from app.core.clock import FixedClock
from app.core.db import set_tenant
from app.core.ids import AgencyId
from app.core.security import issue_access_token
from tests.support.problems import assert_problem
from tests.support.records import read
from tests.support.tenants import Tenant, log_in, new_client, unique_email

TOKEN_TTL_SECONDS = 900


def assert_invalid_token(response: Response) -> None:
    assert_problem(response, 401, "invalid-token")
    assert response.headers["www-authenticate"] == "Bearer"


async def get_me(app: FastAPI, credential: str) -> Response:
    async with new_client(app, credential) as client:
        return await client.get("/v1/me")


def b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bearer_of(client: AsyncClient) -> str:
    return str(client.headers["authorization"]).removeprefix("Bearer ")


def unverified_claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# --- POST /v1/auth/token ------------------------------------------------------------------------


async def test_login_issues_a_bearer_token_that_identifies_the_user(
    app: FastAPI, anon: AsyncClient, agency_a: Tenant
) -> None:
    user = await agency_a.add_user("consultant")

    response = await log_in(anon, user["email"], user["password"])

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == TOKEN_TTL_SECONDS
    assert response.headers["cache-control"] == "no-store"
    me = await get_me(app, body["access_token"])
    assert me.status_code == 200, me.text
    assert me.json()["user"]["id"] == user["id"]


async def test_login_email_is_case_insensitive(anon: AsyncClient, agency_a: Tenant) -> None:
    user = await agency_a.add_user("consultant")

    response = await log_in(anon, user["email"].upper(), user["password"])

    assert response.status_code == 200, response.text
    assert response.json()["access_token"]


async def test_wrong_password_is_refused(anon: AsyncClient, agency_a: Tenant) -> None:
    response = await log_in(anon, agency_a.admin_email, agency_a.admin_password + "x")

    body = assert_problem(response, 401, "invalid-credentials")
    assert "access_token" not in body


async def test_unknown_email_is_refused_like_a_wrong_password(
    anon: AsyncClient, agency_a: Tenant
) -> None:
    response = await log_in(anon, unique_email("nobody"), agency_a.admin_password)

    body = assert_problem(response, 401, "invalid-credentials")
    assert "access_token" not in body
    wrong = await log_in(anon, agency_a.admin_email, agency_a.admin_password + "x")
    assert body["detail"] == wrong.json()["detail"]  # the text says nothing of the account


async def test_another_agency_cannot_crowd_a_person_out_of_logging_in(
    anon: AsyncClient, agency_a: Tenant, agency_b: Tenant
) -> None:
    """An admin elsewhere makes and removes users with the person's email, ten times and
    more: the person's own account still logs in (the lookup keeps ten accounts per email, in
    agency order, and removed users no longer count among them)."""
    squatter, home = sorted((agency_a, agency_b), key=lambda t: str(t.agency_id))
    person = await home.add_user("consultant")
    for _ in range(11):
        made = await squatter.add_user("consultant", email=person["email"])
        _, etag = await read(squatter.admin, f"/v1/users/{made['id']}")
        removed = await squatter.admin.delete(f"/v1/users/{made['id']}", headers={"If-Match": etag})
        assert removed.status_code == 204, removed.text
    response = await log_in(anon, person["email"], person["password"])
    assert response.status_code == 200, response.text


async def test_password_is_stored_as_argon2id(app: FastAPI, agency_a: Tenant) -> None:
    user = await agency_a.add_user("consultant")

    async with app.state.sessions() as session, session.begin():
        await set_tenant(session, AgencyId(agency_a.agency_id))
        stored = await session.scalar(
            text("SELECT password_hash FROM app_user WHERE agency_id = :agency AND id = :id"),
            {"agency": agency_a.agency_id, "id": UUID(user["id"])},
        )

    assert isinstance(stored, str)
    assert stored.startswith("$argon2id$")
    assert user["password"] not in stored
    assert PasswordHasher().verify(stored, user["password"])


# --- Access tokens that must not be accepted ----------------------------------------------------


async def test_token_signed_with_another_secret_is_refused(app: FastAPI, agency_a: Tenant) -> None:
    genuine = bearer_of(agency_a.admin)
    assert (await get_me(app, genuine)).status_code == 200
    forged = jwt.encode(unverified_claims(genuine), "not-the-secret-" + "x" * 32, "HS256")

    assert_invalid_token(await get_me(app, forged))


async def test_token_with_tampered_claims_is_refused(app: FastAPI, agency_a: Tenant) -> None:
    consultant = await agency_a.add_user("consultant")
    client = await agency_a.client_as(consultant)
    assert (await client.get("/v1/me")).status_code == 200
    header, _, signature = bearer_of(client).split(".")
    claims = unverified_claims(bearer_of(client))
    claims["sub"] = str(agency_a.admin_id)  # claim to be the admin, keep the old signature
    tampered = f"{header}.{b64url(claims)}.{signature}"

    assert_invalid_token(await get_me(app, tampered))


async def test_hand_built_alg_none_token_is_refused(app: FastAPI, agency_a: Tenant) -> None:
    genuine = bearer_of(agency_a.admin)
    claims = unverified_claims(genuine)
    unsigned = f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims)}."

    assert_invalid_token(await get_me(app, unsigned))


async def test_pyjwt_alg_none_token_is_refused(app: FastAPI, agency_a: Tenant) -> None:
    genuine = bearer_of(agency_a.admin)
    unsigned = jwt.encode(unverified_claims(genuine), None, algorithm="none")
    assert jwt.get_unverified_header(unsigned)["alg"] == "none"

    assert_invalid_token(await get_me(app, unsigned))


async def test_token_expires_after_its_ttl(
    app: FastAPI, anon: AsyncClient, clock: FixedClock, agency_a: Tenant
) -> None:
    issued_at = clock.now()
    response = await log_in(anon, agency_a.admin_email, agency_a.admin_password)
    token = response.json()["access_token"]

    clock.set(issued_at + timedelta(seconds=TOKEN_TTL_SECONDS - 1))
    assert (await get_me(app, token)).status_code == 200

    clock.set(issued_at + timedelta(seconds=TOKEN_TTL_SECONDS + 1))
    expired = await get_me(app, token)
    body = assert_problem(expired, 401, "token-expired")
    assert "Log in again" in body["detail"]
    assert expired.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="The access token expired"'
    )


async def test_an_expired_token_with_a_forged_signature_is_invalid_not_expired(
    app: FastAPI, clock: FixedClock, agency_a: Tenant
) -> None:
    """Only a genuine token is told it expired: a forged one learns nothing more."""
    now = clock.now()
    forged = issue_access_token(
        "another-secret-" + "x" * 32, agency_a.admin_id, agency_a.agency_id, now, 60
    )
    clock.set(now + timedelta(hours=1))
    assert_invalid_token(await get_me(app, forged))


async def test_token_of_a_deactivated_user_stops_working(agency_a: Tenant) -> None:
    user = await agency_a.add_user("consultant")
    client = await agency_a.client_as(user)
    assert (await client.get("/v1/me")).status_code == 200

    etag = (await agency_a.admin.get(f"/v1/users/{user['id']}")).headers["etag"]
    deleted = await agency_a.admin.delete(f"/v1/users/{user['id']}", headers={"If-Match": etag})
    assert deleted.status_code == 204, deleted.text

    assert_invalid_token(await client.get("/v1/me"))


async def test_garbage_bearer_token_is_refused(app: FastAPI) -> None:
    assert_invalid_token(await get_me(app, "not.a.jwt"))


async def test_no_credential_means_authentication_required(anon: AsyncClient) -> None:
    response = await anon.get("/v1/me")

    assert_problem(response, 401, "authentication-required")
    assert response.headers["www-authenticate"] == "Bearer"


# --- GET /v1/me ---------------------------------------------------------------------------------


async def test_me_as_a_consultant(agency_a: Tenant) -> None:
    user = await agency_a.add_user("consultant")
    client = await agency_a.client_as(user)

    response = await client.get("/v1/me")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agency"]["id"] == str(agency_a.agency_id)
    assert body["user"]["id"] == user["id"]
    assert body["user"]["email"] == user["email"]
    assert body["user"]["role"] == "consultant"
    assert "password" not in body["user"]
    assert "password_hash" not in body["user"]
    assert body["api_key"] is None
    assert body["acting_user_id"] == user["id"]


async def test_me_with_an_api_key(agency_a: Tenant) -> None:
    key = await agency_a.api_key()
    client = agency_a.client_with_key(key["key"])

    response = await client.get("/v1/me")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agency"]["id"] == str(agency_a.agency_id)
    assert body["api_key"]["id"] == key["id"]
    assert "key" not in body["api_key"]
    assert body["user"] is None
    assert body["acting_user_id"] is None


async def test_me_with_an_api_key_on_behalf_of_a_user(agency_a: Tenant) -> None:
    key = await agency_a.api_key()
    user = await agency_a.add_user("consultant")
    client = agency_a.client_with_key(key["key"])

    response = await client.get("/v1/me", headers={"On-Behalf-Of": user["id"]})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["api_key"]["id"] == key["id"]
    assert body["user"]["id"] == user["id"]
    assert body["acting_user_id"] == user["id"]


async def test_a_token_is_bound_to_its_agency(agency_a: Tenant, agency_b: Tenant) -> None:
    response = await agency_b.admin.get("/v1/me")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["agency"]["id"] == str(agency_b.agency_id)
    assert body["user"]["id"] == str(agency_b.admin_id)


async def test_token_times_follow_the_app_clock_not_the_wall_clock(
    app: FastAPI, agency_a: Tenant, clock: FixedClock
) -> None:
    """A token issued while the app's clock is ahead of the wall clock is valid at once, and a
    token claiming to be issued in the app's future is refused."""
    clock.set(clock.now() + timedelta(days=2))
    async with new_client(app) as anonymous:
        login = await anonymous.post(
            "/v1/auth/token",
            data={"username": agency_a.admin_email, "password": agency_a.admin_password},
        )
    token = login.json()["access_token"]
    async with new_client(app, token) as client:
        assert (await client.get("/v1/me")).status_code == 200
    clock.set(clock.now() - timedelta(days=1))  # the token now claims a future issue time
    async with new_client(app, token) as client:
        response = await client.get("/v1/me")
    assert response.status_code == 401
    assert response.json()["type"].endswith("/invalid-token")


def test_production_hashing_uses_argon2id_with_the_rfc_9106_low_memory_profile() -> None:
    """The suite swaps in a cheap hasher (tests/conftest.py); production's is checked here."""
    from argon2.profiles import RFC_9106_LOW_MEMORY

    from app.core.security import PRODUCTION_HASHER

    assert PRODUCTION_HASHER.time_cost == RFC_9106_LOW_MEMORY.time_cost
    assert PRODUCTION_HASHER.memory_cost == RFC_9106_LOW_MEMORY.memory_cost
    assert PRODUCTION_HASHER.parallelism == RFC_9106_LOW_MEMORY.parallelism
    assert PRODUCTION_HASHER.hash("a password").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_missing_user_is_verified_at_the_hashers_own_cost() -> None:
    """The stored dummy hash has the production parameters (a missing user costs a production
    verify, with no hash made at start-up); another hasher (the suite's) gets one of its own."""
    from argon2 import PasswordHasher, extract_parameters

    from app.core import security

    production = security._dummy_hash(security.PRODUCTION_HASHER)
    assert not security.PRODUCTION_HASHER.check_needs_rehash(production)
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    made = security._dummy_hash(cheap)
    assert extract_parameters(made) == extract_parameters(cheap.hash("x"))
    assert security._dummy_hash(cheap) == made
    assert security.verify_password(None, "anything") is False
