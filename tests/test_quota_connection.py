"""The quota's count commits on its own, on the request's connection before its transaction
begins: a request that is refused and rolled back still counts (issue 11)."""

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FixedClock
from app.core.provision import DatabaseUrls
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET
from tests.support.problem_log import wear_problem_log
from tests.support.problems import assert_problem
from tests.support.records import make_candidate
from tests.support.tenants import Tenant, make_tenant

LIMIT = 40


@pytest.fixture
async def tenant(
    engine: AsyncEngine, clock: FixedClock, database_urls: DatabaseUrls
) -> AsyncIterator[Tenant]:
    clock.set(clock.now().replace(second=1, microsecond=0) + timedelta(minutes=1))
    settings = Settings(
        database_url=database_urls.runtime,
        public_url="http://afterview.test",
        rate_limit_per_minute=LIMIT,
    )
    app = wear_problem_log(create_app(settings, engine=engine, jwt_secret=JWT_SECRET, clock=clock))
    async with make_tenant(app, clock, "Quota Agency") as made:
        yield made


def remaining(response: Response) -> int:
    found = re.search(r";r=(\d+);", response.headers["ratelimit"])
    assert found is not None
    return int(found.group(1))


@pytest.mark.parametrize("credential", ["token", "key"])
async def test_a_refused_and_rolled_back_request_still_counts(
    tenant: Tenant, credential: str
) -> None:
    client = tenant.admin
    if credential == "key":
        client = tenant.client_with_key((await tenant.api_key())["key"])
    candidate = await make_candidate(client)
    before = remaining(await client.get("/v1/me"))
    refused = await client.patch(
        f"/v1/candidates/{candidate['id']}", json={"phone": "+44 20 7946 0000"}
    )
    assert_problem(refused, 428, "precondition-required")
    assert remaining(refused) == before - 1
    after = remaining(await client.get("/v1/me"))
    assert after == before - 2
