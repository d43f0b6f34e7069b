"""Nothing heavy runs on the event loop: password hashing (argon2id at its production cost) and
template rendering run in threads, so while logins are being checked or a costly template is
being rendered, the loop keeps answering `/healthz` and other requests at once."""

import asyncio
import gc
import time
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from app.core import security
from app.models import MessageKind
from tests.support.messages import store_template_directly
from tests.support.problems import assert_problem
from tests.support.tenants import Tenant, client_from, new_client

T = TypeVar("T")

TICK = 0.005
"""The watcher sleeps this long, again and again; any overshoot is time the loop was busy."""
LAG_BOUND = 0.1
"""Half a render's budget (0.2 s): a render on the loop would stall it twice as long. For
hashing the bound is half of one production hash, measured first (0.12 to 0.4 s here)."""


@dataclass(frozen=True)
class Watch:
    loop_lag: float
    """The longest the loop was late for the watcher's wake-up."""
    slowest_health: float
    """The slowest `/healthz` answer meanwhile."""


async def _watch_loop(stop: asyncio.Event) -> float:
    worst = 0.0
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(TICK)
        worst = max(worst, time.perf_counter() - started - TICK)
    return worst


async def _poll_health(client: AsyncClient, stop: asyncio.Event) -> float:
    worst = 0.0
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get("/healthz")
        worst = max(worst, time.perf_counter() - started)
        assert response.status_code == 200
        await asyncio.sleep(TICK)
    return worst


async def watching(app: FastAPI, work: Awaitable[T]) -> tuple[T, Watch]:
    """Run `work` while one task measures the loop's lag and another calls `/healthz`. Warm the
    path first: a route's first answer builds its schemas on the loop (a second, at times).

    The test process's own garbage collector is held off meanwhile: a full collection of the
    whole suite's heap (half a second at times) would be charged to the app. A served app
    freezes its start-up heap instead (`freeze_what_start_up_made`)."""
    stop = asyncio.Event()
    gc.collect()
    gc.disable()
    try:
        async with new_client(app) as probe:
            lag = asyncio.create_task(_watch_loop(stop))
            health = asyncio.create_task(_poll_health(probe, stop))
            await asyncio.sleep(0.05)
            try:
                result = await work
            finally:
                stop.set()
            return result, Watch(await lag, await health)
    finally:
        gc.enable()


@pytest.fixture
def half_a_production_hash() -> Iterator[float]:
    """The production argon2id profile instead of the suite's cheap one; yields half of how
    long one verify takes here (the loop would stall twice that per login if hashing ran on
    it): the bound for the loop's lag, as slow or as fast as the machine is right now."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", security.PRODUCTION_HASHER)
        started = time.perf_counter()
        assert security.verify_password(None, "a wrong password") is False
        yield (time.perf_counter() - started) / 2


@pytest.fixture
async def guessed_account(agency_a: Tenant, half_a_production_hash: float) -> str:
    """A consultant whose password was hashed with the production profile."""
    consultant = await agency_a.add_user()
    email: str = consultant["email"]
    return email


async def wrong_passwords(app: FastAPI, address: str, email: str, attempts: int) -> list[int]:
    """One loop of a login storm; below the throttle (10 failures per account or address)."""
    async with client_from(app, address) as client:
        return [
            (
                await client.post("/v1/auth/token", data={"username": email, "password": "not it"})
            ).status_code
            for _ in range(attempts)
        ]


async def test_a_login_storm_leaves_the_loop_free(
    app: FastAPI, guessed_account: str, half_a_production_hash: float
) -> None:
    """Four parallel loops of wrong passwords, for an account (its real hash is verified) and
    for unknown emails (the dummy hash is): 12 production hashes, none on the loop."""
    emails = [guessed_account, guessed_account, "nobody@example.com", "no-one@example.com"]
    assert await wrong_passwords(app, "198.51.100.9", "warm@example.com", 1) == [401]
    storm = asyncio.gather(
        *(wrong_passwords(app, f"198.51.100.{n}", email, 3) for n, email in enumerate(emails))
    )
    statuses, watch = await watching(app, storm)
    assert statuses == [[401] * 3] * 4
    assert watch.loop_lag < half_a_production_hash, watch
    assert watch.slowest_health < half_a_production_hash, watch


async def test_setting_a_password_leaves_the_loop_free(
    app: FastAPI, agency_a: Tenant, half_a_production_hash: float
) -> None:
    """Creating users hashes their passwords (the same path changes one) in a thread."""
    await agency_a.add_user()  # warm, unwatched
    created, watch = await watching(app, asyncio.gather(*(agency_a.add_user() for _ in range(3))))
    assert len({user["id"] for user in created}) == 3
    assert watch.loop_lag < half_a_production_hash, watch
    assert watch.slowest_health < half_a_production_hash, watch


async def test_a_costly_template_is_rendered_off_the_loop_and_stopped_at_its_budget(
    app: FastAPI, agency_a: Tenant
) -> None:
    """Previewing a template that would run for hours: its render spends its 0.2 s budget in
    a thread and is refused; meanwhile the loop answers at once."""
    kind = MessageKind.withdrawal_note
    await store_template_directly(app, agency_a, kind)
    path = f"/v1/message-templates/{kind}"
    assert_problem(await agency_a.admin.get(path), 422, "template-invalid")  # warm, unwatched
    started = time.perf_counter()
    response, watch = await watching(app, agency_a.admin.get(path))
    assert time.perf_counter() - started < 2
    problem = assert_problem(response, 422, "template-invalid")
    assert "takes too long" in problem["detail"]
    assert watch.loop_lag < LAG_BOUND, watch
    assert watch.slowest_health < LAG_BOUND, watch
