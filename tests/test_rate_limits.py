"""Requests are limited per API key and per user (a one-minute window, counted in PostgreSQL so
every API process shares it): every response announces the policy, counted ones what is left,
and the request over the quota is 429 `rate-limited` with `Retry-After`."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FixedClock
from app.core.provision import DatabaseUrls
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET
from tests.support.problem_log import wear_problem_log
from tests.support.problems import assert_problem
from tests.support.processes import cli_env, requests_to_two_processes
from tests.support.tenants import Tenant, make_tenant, new_client

LIMIT = 5


@pytest.fixture
async def strict(
    engine: AsyncEngine, clock: FixedClock, database_urls: DatabaseUrls
) -> AsyncIterator[Tenant]:
    """An agency on an app that allows 5 requests a minute per credential."""
    settings = Settings(
        database_url=database_urls.runtime,
        public_url="http://afterview.test",
        rate_limit_per_minute=LIMIT,
    )
    app = wear_problem_log(create_app(settings, engine=engine, jwt_secret=JWT_SECRET, clock=clock))
    async with make_tenant(app, clock, "Strict Agency") as tenant:
        yield tenant


async def test_the_quota_is_announced_counted_and_enforced(
    strict: Tenant, clock: FixedClock
) -> None:
    clock.set(clock.now().replace(second=10, microsecond=0))
    key = await strict.integration()  # the admin's own count
    other = await strict.integration()
    for left in range(LIMIT - 1, -1, -1):
        response = await key.get("/v1/candidates")
        assert response.status_code == 200, response.text
        assert response.headers["ratelimit-policy"] == f'"default";q={LIMIT};w=60'
        assert response.headers["ratelimit"] == f'"default";r={left};t=50'
    refused = await key.get("/v1/candidates")
    assert_problem(refused, 429, "rate-limited")
    assert refused.headers["retry-after"] == "50"
    assert refused.headers["ratelimit"] == '"default";r=0;t=50'
    assert (await other.get("/v1/candidates")).status_code == 200  # each key its own quota
    clock.set(clock.now() + timedelta(seconds=50))  # the next minute
    assert (await key.get("/v1/candidates")).status_code == 200


async def test_every_response_names_the_policy(strict: Tenant) -> None:
    async with new_client(strict.app) as anonymous:
        for path in ("/healthz", "/v1/candidates", "/v1/nowhere"):
            response = await anonymous.get(path)
            assert response.headers["ratelimit-policy"] == f'"default";q={LIMIT};w=60'
            assert "ratelimit" not in response.headers  # nothing was counted


async def test_the_quota_holds_across_two_api_processes(
    agency_a: Tenant, database_urls: DatabaseUrls, tmp_path: Path
) -> None:
    key = (await agency_a.api_key())["key"]
    env = cli_env(
        DATABASE_URL=database_urls.runtime,
        AFTERVIEW_JWT_SECRET=JWT_SECRET,
        AFTERVIEW_RATE_LIMIT_PER_MINUTE="20",
    )
    codes = await asyncio.to_thread(requests_to_two_processes, env, tmp_path, key)
    assert codes.count(200) == 20 and codes.count(429) == 5, codes
    assert codes[:20] == [200] * 20
