"""Candidate reads at volume: 1,000 agencies, 1,000,000 candidates (plus clients, vacancies and
applications), through the real HTTP server, next to the same queries as bare asyncpg calls.

    python -m bench.records [--agencies 1000] [--per-agency 1000] [--requests 3000]
                            [--concurrency 10]

Prints median and p99 latency and requests per second for: GET /v1/candidates/{id}, and
GET /v1/candidates?limit=50 (one agency's first page, ordered for sync).
"""

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from uuid import UUID

import asyncpg
import httpx
import psycopg

from app.core.db import to_libpq_url
from bench.common import bench_server, measured_agency, summarize, superuser_target

PASSWORD = "bench-password-123"  # noqa: S105 - a throwaway database
JWT_SECRET = "bench-" + "x" * 40

SEED_SQL = [
    # Agencies other than the measured one (created through the service, with an admin).
    "INSERT INTO agency (id, name) SELECT gen_random_uuid(), 'Agency ' || i "
    "FROM generate_series(2, %(agencies)s) AS i",
    "INSERT INTO candidate (agency_id, id, first_name, last_name, email, contact_consent, "
    "created_at, updated_at) "
    "SELECT a.id, gen_random_uuid(), 'First' || i, 'Last' || i, 'c' || i || '@example.com', "
    "i %% 3 = 0, now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval "
    "FROM agency a CROSS JOIN generate_series(1, %(per_agency)s) AS i",
    "INSERT INTO client (agency_id, id, name) SELECT a.id, gen_random_uuid(), 'Client ' || i "
    "FROM agency a CROSS JOIN generate_series(1, 10) AS i",
    "INSERT INTO vacancy (agency_id, id, client_id, title) "
    "SELECT c.agency_id, gen_random_uuid(), c.id, 'Role ' || i "
    "FROM client c CROSS JOIN generate_series(1, 2) AS i",
    # Every fifth candidate has an application to one of their agency's vacancies.
    "INSERT INTO application (agency_id, id, candidate_id, vacancy_id) "
    "SELECT c.agency_id, gen_random_uuid(), c.id, v.id FROM ("
    "  SELECT agency_id, id, row_number() OVER (PARTITION BY agency_id ORDER BY id) AS n "
    "  FROM candidate) c "
    "JOIN LATERAL (SELECT id FROM vacancy WHERE agency_id = c.agency_id "
    "  ORDER BY id OFFSET (c.n %% 20) LIMIT 1) v ON true WHERE c.n %% 5 = 0",
    "ANALYZE",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def seed(runtime_url: str, superuser_url: str, agencies: int, per_agency: int) -> UUID:
    made = await measured_agency(runtime_url, "admin@bench.example.com", PASSWORD)
    target = superuser_target(superuser_url, runtime_url)
    started = time.perf_counter()
    with psycopg.connect(target, autocommit=True) as conn:  # a superuser: seeding skips RLS
        for statement in SEED_SQL:
            conn.execute(statement, {"agencies": agencies, "per_agency": per_agency})
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in ("agency", "candidate", "client", "vacancy", "application")
        }
    print(f"seeded in {time.perf_counter() - started:.0f} s: {counts}", flush=True)
    return made.agency_id


async def timed(
    label: str, call: Callable[[], Awaitable[None]], requests: int, concurrency: int
) -> None:
    latencies: list[float] = []

    async def worker(count: int) -> None:
        for _ in range(count):
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    await worker(30)  # warm-up
    latencies.clear()
    wall = time.perf_counter()
    await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    print(summarize(label, latencies, time.perf_counter() - wall), flush=True)


async def measure_http(base: str, ids: list[str], requests: int, concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        login = await client.post(
            "/v1/auth/token", data={"username": "admin@bench.example.com", "password": PASSWORD}
        )
        client.headers["Authorization"] = "Bearer " + login.json()["access_token"]

        async def get_one() -> None:
            response = await client.get(f"/v1/candidates/{random.choice(ids)}")
            assert response.status_code == 200, response.text

        async def get_page() -> None:
            response = await client.get("/v1/candidates", params={"limit": 50})
            assert response.status_code == 200 and len(response.json()["items"]) == 50

        await timed("HTTP GET /v1/candidates/{id}", get_one, requests, concurrency)
        await timed("HTTP GET /v1/candidates?limit=50", get_page, requests, concurrency)


async def measure_driver(
    runtime_url: str, agency: UUID, ids: list[str], requests: int, concurrency: int
) -> None:
    """The same reads as bare asyncpg calls: one transaction, the tenant setting, the query."""
    pool = await asyncpg.create_pool(
        to_libpq_url(runtime_url), min_size=concurrency, max_size=concurrency
    )
    one_sql = "SELECT * FROM candidate WHERE agency_id = $1 AND id = $2"
    page_sql = "SELECT * FROM candidate WHERE agency_id = $1 ORDER BY updated_at, id LIMIT 51"

    async def scoped(sql: str, *args: object) -> list[asyncpg.Record]:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT set_config('app.agency_id', $1, true)", str(agency))
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
            return rows

    async def get_one() -> None:
        assert len(await scoped(one_sql, agency, UUID(random.choice(ids)))) == 1

    async def get_page() -> None:
        assert len(await scoped(page_sql, agency)) == 51

    await timed("asyncpg candidate by id", get_one, requests, concurrency)
    await timed("asyncpg candidate page of 50", get_page, requests, concurrency)
    await pool.close()


async def main(
    agencies: int, per_agency: int, requests: int, concurrency: int, workers: int
) -> None:
    with bench_server() as (urls, superuser_url):
        agency = await seed(urls.runtime, superuser_url, agencies, per_agency)
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": urls.runtime,
            "AFTERVIEW_JWT_SECRET": JWT_SECRET,
            "AFTERVIEW_DB_POOL_SIZE": str(concurrency),
        }
        server = subprocess.Popen(  # noqa: S603, ASYNC220 - our own CLI, started before timing
            [
                sys.executable,
                "-m",
                "app.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_ready(base)
            conn = await asyncpg.connect(to_libpq_url(urls.runtime))
            async with conn.transaction():
                await conn.execute("SELECT set_config('app.agency_id', $1, true)", str(agency))
                ids = [
                    str(r["id"])
                    for r in await conn.fetch(
                        "SELECT id FROM candidate WHERE agency_id = $1", agency
                    )
                ]
            await conn.close()
            print(
                f"measured agency has {len(ids)} candidates; concurrency {concurrency}; "
                f"{workers} API worker(s)",
                flush=True,
            )
            await measure_http(base, ids, requests, concurrency)
            await measure_driver(urls.runtime, agency, ids, requests, concurrency)
        finally:
            server.terminate()
            server.wait(timeout=30)


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(300):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not become ready")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agencies", type=int, default=1000)
    parser.add_argument("--per-agency", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1, help="API worker processes")
    args = parser.parse_args()
    asyncio.run(main(args.agencies, args.per_agency, args.requests, args.concurrency, args.workers))
