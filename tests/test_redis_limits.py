"""With `AFTERVIEW_REDIS_URL`, the request quota and failed logins are counted in Redis (a real
`redis-server` that this module starts on a free loopback port and stops), not in PostgreSQL."""

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FixedClock
from app.core.provision import DatabaseUrls
from app.core.settings import Settings
from app.main import create_app
from app.models import LoginFailure, RateLimitCounter
from tests.conftest import JWT_SECRET
from tests.support.problem_log import wear_problem_log
from tests.support.problems import assert_problem
from tests.support.processes import cli_env, free_port, requests_to_two_processes
from tests.support.tenants import Tenant, new_client


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed (.ci/run installs Debian's redis-server)"
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(  # noqa: S603 - a fixed executable and arguments
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                subprocess.run(["sleep", "0.05"], check=True)  # noqa: S607 - coreutils
        yield url
    finally:
        server.terminate()
        server.wait(10)


def redis_keys(url: str, fragment: str) -> list[bytes]:
    keys: list[bytes] = list(redis.Redis.from_url(url).scan_iter(f"*{fragment}*"))
    return keys


async def rows(engine: AsyncEngine, model: type) -> int:
    async with engine.connect() as connection:
        count = (await connection.execute(select(func.count()).select_from(model))).scalar_one()
        return int(count)


@pytest.fixture
def redis_app(
    engine: AsyncEngine, clock: FixedClock, database_urls: DatabaseUrls, redis_url: str
) -> FastAPI:
    redis.Redis.from_url(redis_url).flushdb()
    settings = Settings(database_url=database_urls.runtime, redis_url=redis_url)
    return wear_problem_log(create_app(settings, engine=engine, jwt_secret=JWT_SECRET, clock=clock))


async def test_the_quota_holds_across_two_api_processes_through_redis(
    agency_a: Tenant, database_urls: DatabaseUrls, engine: AsyncEngine, redis_url: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    redis.Redis.from_url(redis_url).flushdb()
    key = (await agency_a.api_key())["key"]
    counted_in_postgres = await rows(engine, RateLimitCounter)
    env = cli_env(
        DATABASE_URL=database_urls.runtime,
        AFTERVIEW_JWT_SECRET=JWT_SECRET,
        AFTERVIEW_RATE_LIMIT_PER_MINUTE="20",
        AFTERVIEW_REDIS_URL=redis_url,
    )
    codes = await asyncio.to_thread(requests_to_two_processes, env, tmp_path, key)
    assert codes == [200] * 20 + [429] * 5, codes
    assert redis_keys(redis_url, "afterview-quota"), "nothing was counted in Redis"
    assert await rows(engine, RateLimitCounter) == counted_in_postgres


async def test_failed_logins_lock_the_account_through_redis(
    redis_app: FastAPI, agency_a: Tenant, engine: AsyncEngine, redis_url: str
) -> None:
    async with new_client(redis_app) as client:
        for _ in range(10):
            wrong = await client.post(
                "/v1/auth/token", data={"username": agency_a.admin_email, "password": "wrong"}
            )
            assert_problem(wrong, 401, "invalid-credentials")
        locked = await client.post(
            "/v1/auth/token",
            data={"username": agency_a.admin_email, "password": agency_a.admin_password},
        )
    assert_problem(locked, 429, "too-many-attempts")
    assert 1 <= int(locked.headers["retry-after"]) <= 15 * 60
    assert redis_keys(redis_url, "afterview-login")
    assert await rows(engine, LoginFailure) == 0
