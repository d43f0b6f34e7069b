"""Guessing is throttled: 10 failed logins in 15 minutes for an account, or from a client
address, and the next attempts are 429 `too-many-attempts` with `Retry-After`, without the
password being checked. A password change ends the tokens issued before it."""

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from app.core.clock import FixedClock
from tests.support.problems import assert_problem
from tests.support.tenants import Tenant, client_from, log_in


async def attempt(client: AsyncClient, email: str, password: str) -> int:
    return (await log_in(client, email, password)).status_code


async def test_ten_failures_lock_the_account_for_fifteen_minutes(
    agency_a: Tenant, clock: FixedClock, app: FastAPI
) -> None:
    email, password = agency_a.admin_email, agency_a.admin_password
    async with (
        client_from(app, "198.51.100.1") as first,
        client_from(app, "198.51.100.2") as other,
    ):
        for _ in range(10):
            assert await attempt(first, email, "wrong password!") == 401
        locked = await log_in(other, email, password)
        problem = assert_problem(locked, 429, "too-many-attempts")
        assert int(locked.headers["retry-after"]) == 15 * 60
        assert "account" in problem["detail"]
        clock.set(clock.now() + timedelta(minutes=14, seconds=59))
        assert await attempt(other, email, password) == 429
        clock.set(clock.now() + timedelta(seconds=2))
        assert await attempt(other, email, password) == 200
        # A success clears the account's count: one more failure does not lock it again.
        assert await attempt(other, email, "wrong password!") == 401
        assert await attempt(other, email, password) == 200


async def test_ten_failures_from_one_address_lock_that_address(
    agency_a: Tenant, agency_b: Tenant, app: FastAPI
) -> None:
    async with (
        client_from(app, "203.0.113.9") as guesser,
        client_from(app, "203.0.113.10") as elsewhere,
    ):
        for n in range(10):
            assert await attempt(guesser, f"nobody{n}@example.com", "guess") == 401
        assert_problem(
            await guesser.post(
                "/v1/auth/token",
                data={"username": agency_b.admin_email, "password": agency_b.admin_password},
            ),
            429,
            "too-many-attempts",
        )
        assert await attempt(elsewhere, agency_b.admin_email, agency_b.admin_password) == 200


async def test_a_password_change_ends_the_tokens_issued_before_it(
    agency_a: Tenant, clock: FixedClock
) -> None:
    user = await agency_a.add_user("consultant")
    old = await agency_a.client_as(user)
    assert (await old.get("/v1/me")).status_code == 200
    clock.set(clock.now() + timedelta(seconds=5))
    current = await agency_a.admin.get(f"/v1/users/{user['id']}")
    changed = await agency_a.admin.patch(
        f"/v1/users/{user['id']}",
        json={"password": "a brand new passphrase"},
        headers={"If-Match": current.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert_problem(await old.get("/v1/me"), 401, "invalid-token")
    again = await agency_a.client_as({**user, "password": "a brand new passphrase"})
    assert (await again.get("/v1/me")).status_code == 200
