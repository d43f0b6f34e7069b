"""Integrations: webhook deliveries per second from `afterview worker` processes to a local
receiver (1 and 4 workers), and the event feed's page time with 1,000,000 events in other
agencies.

    python -m bench.integrations [--deliveries 2000] [--events 1000000] [--requests 500]

Deliveries: workers start idle; the clock starts at the commit that appends the events (the
trigger fans them out to the endpoints) and stops when the receiver has answered them all.
Feed: a real `afterview serve`; pages of 100 read by following `next` from the start, and the
empty read at the head that a caught-up integration makes.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from app.agency.service import create_agency
from app.core.clock import SystemClock
from app.core.db import create_engine, session_factory, to_libpq_url
from app.core.provision import DatabaseUrls
from bench.common import bench_server, worker_processes
from bench.records import free_port, wait_ready
from tests.support.receiver import webhook_receiver

JWT_SECRET = "bench-" + "x" * 40
PASSWORD = "bench-password-123"  # noqa: S105 - a throwaway database
ENDPOINT_AGENCIES = 100

SEED_AGENCIES = (
    "INSERT INTO agency (id, name) SELECT gen_random_uuid(), 'Agency ' || i "
    "FROM generate_series(1, %(count)s) AS i"
)
SEED_ENDPOINTS = """
INSERT INTO webhook_endpoint (agency_id, id, url, secret_salt, created_at, updated_at)
SELECT id, gen_random_uuid(), %(url)s,
       decode(md5(random()::text) || md5(random()::text), 'hex'), now(), now()
FROM agency WHERE name LIKE 'Agency %%' ORDER BY id LIMIT %(count)s
"""
# Events as the services append them; the trigger fans out one delivery per endpoint.
APPEND_EVENTS = """
INSERT INTO event (agency_id, id, occurred_at, type, object_type, object_id, data, snapshot)
SELECT ids.a[1 + n %% array_length(ids.a, 1)], gen_random_uuid(), now(), 'candidate.updated',
       'candidate', gen_random_uuid(), '{"fields": ["phone"]}',
       jsonb_build_object('first_name', 'Amara', 'last_name', 'Okafor', 'n', n)
FROM generate_series(1, %(count)s) AS n,
     (SELECT array_agg(id ORDER BY id) AS a FROM agency WHERE id = ANY(%(agencies)s)) ids
"""


def superuser_on(superuser_url: str, urls: DatabaseUrls) -> str:
    return to_libpq_url(make_url(superuser_url).set(database=make_url(urls.runtime).database))


def worker_env(urls: DatabaseUrls, logs: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERVIEW_")}
    return {
        **env,
        "DATABASE_URL": urls.runtime,
        "AFTERVIEW_JWT_SECRET": JWT_SECRET,
        "AFTERVIEW_PUBLIC_URL": "http://afterview.bench",
        "AFTERVIEW_MAILBOX_DIR": str(logs / "mailbox"),
        "AFTERVIEW_WEBHOOKS_ALLOW_PRIVATE": "true",
        "AFTERVIEW_LOG_JSON": "true",
    }


def deliveries_per_second(
    urls: DatabaseUrls, superuser: str, count: int, worker_count: int, logs: Path
) -> None:
    with (
        webhook_receiver() as receiver,
        worker_processes(worker_count, worker_env(urls, logs), logs, "hooks"),
    ):
        with psycopg.connect(superuser, autocommit=True) as conn:
            conn.execute("DELETE FROM webhook_endpoint")
            conn.execute(SEED_ENDPOINTS, {"url": receiver.url, "count": ENDPOINT_AGENCIES})
            hooked = [r[0] for r in conn.execute("SELECT agency_id FROM webhook_endpoint")]
            started = time.perf_counter()
            conn.execute(APPEND_EVENTS, {"count": count, "agencies": hooked})
        deadline = time.monotonic() + 600
        while not receiver.wait_for(count, timeout=1):
            assert time.monotonic() < deadline, f"{len(receiver.snapshot())} of {count}"
        elapsed = time.perf_counter() - started
    twice = sum(1 for n in receiver.ids().values() if n > 1)
    print(
        f"{worker_count} worker(s): {count} webhook deliveries in {elapsed:6.2f} s = "
        f"{count / elapsed:7.1f} per s (delivered twice: {twice})",
        flush=True,
    )


async def feed_page_times(
    urls: DatabaseUrls, superuser: str, events: int, own: int, requests: int, logs: Path
) -> None:
    engine = create_engine(urls.runtime, pool_size=1, max_overflow=0)
    made = await create_agency(
        session_factory(engine), SystemClock(), "Measured", "admin@bench.example.com", PASSWORD
    )
    await engine.dispose()
    started = time.perf_counter()
    with psycopg.connect(superuser, autocommit=True) as conn:
        conn.execute("DELETE FROM webhook_endpoint")  # no fan-out while seeding
        others = [
            r[0] for r in conn.execute("SELECT id FROM agency WHERE id <> %s", (made.agency_id,))
        ]
        conn.execute(APPEND_EVENTS, {"count": events, "agencies": others})
        conn.execute(APPEND_EVENTS, {"count": own, "agencies": [made.agency_id]})
        conn.execute("ANALYZE event")
        total = conn.execute("SELECT count(*) FROM event").fetchone()
    print(
        f"\nseeded {total[0] if total else '?'} events in {time.perf_counter() - started:.0f} s "
        f"({own} in the measured agency)",
        flush=True,
    )
    port = free_port()
    env = {**worker_env(urls, logs), "AFTERVIEW_DB_POOL_SIZE": "4"}
    with (logs / "serve.log").open("wb") as out:
        server = subprocess.Popen(  # noqa: S603, ASYNC220 - our own CLI, started before timing
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base)
        await measure_feed(base, requests)
    finally:
        server.terminate()
        server.wait(timeout=30)


async def measure_feed(base: str, requests: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        login = await client.post(
            "/v1/auth/token", data={"username": "admin@bench.example.com", "password": PASSWORD}
        )
        client.headers["Authorization"] = "Bearer " + login.json()["access_token"]
        pages: list[float] = []
        after: str | None = None
        head = ""
        while True:  # follow `next` to the head, timing every page
            t0 = time.perf_counter()
            response = await client.get(
                "/v1/events", params={"limit": 100, **({"after": after} if after else {})}
            )
            elapsed = time.perf_counter() - t0
            assert response.status_code == 200, response.text
            body = response.json()
            if not body["items"]:
                head = body["next"]
                break
            pages.append(elapsed)
            after = body["next"]
        tails = []
        for _ in range(requests):
            t0 = time.perf_counter()
            response = await client.get("/v1/events", params={"after": head, "limit": 100})
            tails.append(time.perf_counter() - t0)
            assert response.status_code == 200 and response.json()["items"] == []
    for label, times in (("page of 100 events", pages), ("empty read at the head", tails)):
        ms = sorted(t * 1000 for t in times)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        print(
            f"GET /v1/events, {label:<24} n={len(ms):>5}  median={statistics.median(ms):6.2f} ms"
            f"  p99={p99:6.2f} ms",
            flush=True,
        )


def main(deliveries: int, events: int, requests: int) -> None:
    logs = Path("/tmp/afterview-bench-integrations")  # noqa: S108 - benchmark logs
    (logs / "mailbox").mkdir(parents=True, exist_ok=True)
    with bench_server() as (urls, superuser_url):
        superuser = superuser_on(superuser_url, urls)
        with psycopg.connect(superuser, autocommit=True) as conn:
            conn.execute(SEED_AGENCIES, {"count": 1000})
        print(f"1000 agencies, {ENDPOINT_AGENCIES} with an endpoint; logs in {logs}", flush=True)
        for worker_count in (1, 4):
            deliveries_per_second(urls, superuser, deliveries, worker_count, logs)
        asyncio.run(feed_page_times(urls, superuser, events, 10_000, requests, logs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deliveries", type=int, default=2_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    main(args.deliveries, args.events, args.requests)
