"""`GET /metrics`: Prometheus text, read back with prometheus_client's own parser. Request latency
by route template, the pool, the outbox's depth, the optional token; and `serve --workers 2`,
whose processes count into one directory so that any of them answers the whole count."""

import re
import secrets
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FixedClock
from app.core.provision import DatabaseUrls
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET
from tests.support.delivery import outbox_rows
from tests.support.metrics import LATENCY, Samples, parse, request_count, scrape, value
from tests.support.problems import assert_problem
from tests.support.processes import Server, cli_env
from tests.support.records import make_application, make_candidate, make_referee
from tests.support.tenants import Tenant, new_client

CANDIDATE_ROUTE = "/v1/candidates/{record_id}"
METRICS_TOKEN = "scrape-" + secrets.token_urlsafe(24)


async def test_latency_is_counted_by_route_template_and_status(
    agency_a: Tenant, anon: httpx.AsyncClient
) -> None:
    candidate = await make_candidate(agency_a)
    missing = str(uuid.uuid4())
    before = await scrape(anon)

    assert (await agency_a.admin.get(f"/v1/candidates/{candidate['id']}")).status_code == 200
    assert_problem(await agency_a.admin.get(f"/v1/candidates/{missing}"), 404, "not-found")
    assert (await anon.get(f"/no/such/{missing}")).status_code == 404

    after = await scrape(anon)
    assert (
        request_count(after, CANDIDATE_ROUTE, "200")
        == request_count(before, CANDIDATE_ROUTE, "200") + 1
    )
    assert (
        request_count(after, CANDIDATE_ROUTE, "404")
        == request_count(before, CANDIDATE_ROUTE, "404") + 1
    )
    assert request_count(after, "unmatched", "404") == request_count(before, "unmatched", "404") + 1
    routes = {s.labels["route"] for s in after[LATENCY]}
    assert not any(candidate["id"] in r or missing in r for r in routes), routes
    buckets = [s for s in after[LATENCY] if s.name == f"{LATENCY}_bucket"]
    assert {"method", "route", "status", "le"} <= set(buckets[0].labels)


async def test_the_pool_gauges_show_this_process_pool(
    anon: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    pool = engine.sync_engine.pool
    async with engine.connect(), engine.connect():
        held = await scrape(anon)
    assert value(held, "afterview_db_pool_size", "afterview_db_pool_size") == pool.size()  # type: ignore[attr-defined]
    assert value(held, "afterview_db_pool_checked_out", "afterview_db_pool_checked_out") == 2
    assert value(held, "afterview_db_pool_overflow", "afterview_db_pool_overflow") == 0
    released = await scrape(anon)
    assert value(released, "afterview_db_pool_checked_out", "afterview_db_pool_checked_out") == 0


async def heads_up(tenant: Tenant) -> None:
    """A referee heads-up: the step queues one message in the outbox."""
    candidate = await make_candidate(tenant)
    application = await make_application(
        tenant, candidate_id=candidate["id"], offer_likelihood="high"
    )
    referee = await make_referee(tenant, candidate["id"], consent_to_contact=True)
    response = await tenant.admin.post(
        f"/v1/applications/{application['id']}/referee-heads-ups",
        json={"referee_id": referee["id"], "why_want_job": "Growth.", "key_points": "Led a team."},
    )
    assert response.status_code == 201, response.text


def depth(samples: Samples, status: str) -> float:
    return value(samples, "afterview_outbox_messages", "afterview_outbox_messages", status=status)


async def test_outbox_depth_counts_the_queued_messages_of_every_agency(
    agency_a: Tenant, agency_b: Tenant, anon: httpx.AsyncClient
) -> None:
    before = await scrape(anon)
    assert value(before, "afterview_outbox_depth_up", "afterview_outbox_depth_up") == 1
    await heads_up(agency_a)
    await heads_up(agency_a)
    await heads_up(agency_b)

    after = await scrape(anon)
    queued = [*await outbox_rows(agency_a, status="queued"), *await outbox_rows(agency_b)]
    assert len(queued) == 3
    assert depth(after, "queued") == depth(before, "queued") + 3
    assert depth(after, "sending") == depth(before, "sending")
    assert depth(after, "failed") == depth(before, "failed")
    assert {s.labels["status"] for s in after["afterview_outbox_messages"]} == {
        "queued",
        "sending",
        "failed",
    }


@pytest.fixture
def guarded_app(engine: AsyncEngine, clock: FixedClock, database_urls: DatabaseUrls) -> FastAPI:
    """An app whose /metrics needs a token, and whose callers get one request a minute."""
    settings = Settings(
        database_url=database_urls.runtime,
        public_url="http://afterview.test",
        metrics_token=SecretStr(METRICS_TOKEN),
        rate_limit_per_minute=1,
    )
    return create_app(settings, engine=engine, jwt_secret=JWT_SECRET, clock=clock)


async def test_a_metrics_token_is_required_when_set(guarded_app: FastAPI, agency_a: Tenant) -> None:
    async with new_client(guarded_app) as client:
        missing = await client.get("/metrics")
        assert_problem(missing, 401, "authentication-required")
        assert missing.headers["WWW-Authenticate"] == "Bearer"
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        assert_problem(wrong, 401, "invalid-token")
        user_token = agency_a.admin.headers["Authorization"]
        assert_problem(
            await client.get("/metrics", headers={"Authorization": user_token}),
            401,
            "invalid-token",
        )
        for _ in range(3):  # a scrape is not a request against any quota
            answered = await client.get(
                "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
            )
            assert answered.status_code == 200, answered.text
            assert "RateLimit" not in answered.headers
            assert "afterview_http_request_duration_seconds" in answered.text


async def test_metrics_is_open_without_a_token_and_not_in_the_document(
    app: FastAPI, anon: httpx.AsyncClient
) -> None:
    assert (await anon.get("/metrics")).status_code == 200
    assert "/metrics" not in app.openapi()["paths"]


# --- several worker processes --------------------------------------------------------------


@pytest.fixture
def two_workers(database_urls: DatabaseUrls, tmp_path: Path) -> Iterator[Server]:
    """`afterview serve --workers 2` on the test database, with no PROMETHEUS_MULTIPROC_DIR."""
    env = cli_env(DATABASE_URL=database_urls.runtime, AFTERVIEW_JWT_SECRET=JWT_SECRET)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with Server(env, tmp_path, extra_args=("--workers", "2")) as server:
        server.wait_ready()
        yield server


def metrics_directory(server: Server) -> Path:
    found = re.search(r'"directory": "([^"]+)"', server.output())
    assert found, server.output()
    return Path(found.group(1))


def get_on_new_connections(base_url: str, paths: list[str], headers: dict[str, str]) -> list[int]:
    """Each request on its own connection (no keep-alive), eight at a time, so the kernel may
    hand each to either process; their status codes."""
    no_keep_alive = httpx.Limits(max_keepalive_connections=0)
    with (
        httpx.Client(base_url=base_url, timeout=10, limits=no_keep_alive) as client,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        return list(pool.map(lambda path: client.get(path, headers=headers).status_code, paths))


async def test_several_processes_add_up_to_one_count(two_workers: Server, agency_a: Tenant) -> None:
    server, batch, sent = two_workers, 40, 0
    headers = {"Authorization": str(agency_a.admin.headers["Authorization"])}
    directory = metrics_directory(server)
    writers: set[str] = set()
    # The kernel decides which process accepts a connection: send batches until both have
    # answered some (one batch nearly always does), then every request must be counted once.
    while len(writers) < 2 and sent < 10 * batch:
        paths = [f"/v1/candidates/{uuid.uuid4()}" for _ in range(batch)]
        statuses = get_on_new_connections(server.base_url, paths, headers)
        assert statuses == [404] * batch
        sent += batch
        writers = {
            m.group(1) for f in directory.iterdir() if (m := re.match(r"histogram_(\d+)", f.name))
        }
    assert len(writers) == 2, f"one process answered all {sent} requests: {writers}"
    requests = sent
    for _ in range(10):  # any process may answer a scrape; each answers the same count
        body = get_metrics(server.base_url)
        assert request_count(body, CANDIDATE_ROUTE, "404") == requests
        assert value(body, "afterview_db_pool_size", "afterview_db_pool_size") == 2 * 10

    assert server.stop() == 0  # uvicorn's supervisor of the two workers stopped them
    assert not directory.exists(), "serve left its metrics directory behind"


def get_metrics(base_url: str) -> Samples:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        response = client.get("/metrics")
    assert response.status_code == 200, response.text
    return parse(response.text)
