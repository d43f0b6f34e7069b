"""asyncpg or psycopg 3 under SQLAlchemy's async engine, for the API's request pattern:
begin; set the tenant; read one row by primary key; commit.

    python -m bench.drivers [--requests 3000] [--concurrency 1 10]
"""

import argparse
import asyncio
import time
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from app.agency.service import create_agency
from app.core.clock import SystemClock
from app.core.db import create_engine, session_factory, set_tenant, to_sqlalchemy_url
from app.core.ids import AgencyId
from app.models import User
from bench.common import bench_database, summarize


async def measure(url: str, driver: str, agency: AgencyId, user: UUID, n: int, conc: int) -> str:
    engine = create_async_engine(to_sqlalchemy_url(url, driver), pool_size=conc, max_overflow=0)
    sessions = session_factory(engine)
    latencies: list[float] = []

    async def one() -> None:
        started = time.perf_counter()
        async with sessions() as session, session.begin():
            await set_tenant(session, agency)
            found = await session.scalar(
                select(User).where(User.agency_id == agency, User.id == user)
            )
            assert found is not None
        latencies.append(time.perf_counter() - started)

    async def worker(count: int) -> None:
        for _ in range(count):
            await one()

    await worker(50)  # warm the pool and statement caches
    latencies.clear()
    wall = time.perf_counter()
    await asyncio.gather(*(worker(n // conc) for _ in range(conc)))
    wall = time.perf_counter() - wall
    await engine.dispose()
    return summarize(f"{driver} concurrency={conc}", latencies, wall)


async def main(requests: int, concurrencies: list[int]) -> None:
    with bench_database() as urls:
        setup = create_engine(urls.runtime, pool_size=1, max_overflow=0)
        made = await create_agency(
            session_factory(setup), SystemClock(), "Bench", "b@bench.example.com", "x" * 16
        )
        await setup.dispose()
        for conc in concurrencies:
            for driver in ("asyncpg", "psycopg", "asyncpg", "psycopg"):
                line = await measure(
                    urls.runtime, driver, made.agency_id, made.admin_id, requests, conc
                )
                print(line, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency))
