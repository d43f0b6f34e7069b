"""Shared set-up for benchmarks: a PostgreSQL to measure against, migrated, with runtime URLs."""

import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from app.agency.service import NewAgency, create_agency
from app.core.clock import SystemClock
from app.core.db import create_engine, session_factory, to_libpq_url
from app.core.provision import (
    DatabaseUrls,
    EmbeddedPostgres,
    ensure_roles_and_database,
    migrate,
    random_password,
)


@contextmanager
def bench_database() -> Iterator[DatabaseUrls]:
    with bench_server() as (urls, _superuser):
        yield urls


@contextmanager
def bench_server(drop: bool = False) -> Iterator[tuple[DatabaseUrls, str]]:
    """A fresh migrated database on BENCH_DATABASE_URL (a superuser URL) or an embedded server;
    with `drop`, the database is dropped at the end (its connections closed first)."""
    url = os.environ.get("BENCH_DATABASE_URL")
    server = None
    if not url:
        server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="afterview-bench-"))).start()
        url = server.superuser_url()
    name = f"afterview_bench_{secrets.token_hex(3)}"
    urls = ensure_roles_and_database(
        url, name, "afterview_bench_owner", "afterview_bench_app", password=random_password()
    )
    migrate(urls.owner, "afterview_bench_app")
    try:
        yield urls, url
    finally:
        if drop:
            with psycopg.connect(to_libpq_url(url), autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        if server is not None:
            server.stop()


def summarize(label: str, seconds: Sequence[float], wall: float) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (
        f"{label:<44} n={len(ms):>6}  median={statistics.median(ms):7.3f} ms  "
        f"p99={p99:7.3f} ms  rps={len(ms) / wall:9.1f}"
    )


@contextmanager
def worker_processes(count: int, env: dict[str, str], logs: Path, label: str) -> Iterator[None]:
    """`count` `afterview worker` processes, started and listening before the measurement,
    stopped after; each one's output in `logs/<label>-<count>-<n>.log`."""
    with ExitStack() as stack:
        procs, paths = [], [logs / f"{label}-{count}-{n}.log" for n in range(count)]
        for path in paths:
            out = stack.enter_context(path.open("wb"))
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "app.cli", "worker"],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        try:
            deadline = time.monotonic() + 60
            for proc, path in zip(procs, paths, strict=True):
                while "Afterview worker:" not in path.read_text(errors="replace"):
                    assert proc.poll() is None, path.read_text(errors="replace")
                    assert time.monotonic() < deadline, "a worker did not start"
                    time.sleep(0.05)
            time.sleep(2)  # each past its first (empty) pass, listening
            yield
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=60)


async def measured_agency(runtime_url: str, admin_email: str, password: str) -> NewAgency:
    """The agency a benchmark measures, made by the service (so its admin can log in)."""
    engine = create_engine(runtime_url, pool_size=1, max_overflow=0)
    try:
        return await create_agency(
            session_factory(engine), SystemClock(), "Measured", admin_email, password
        )
    finally:
        await engine.dispose()


def superuser_target(superuser_url: str, runtime_url: str) -> str:
    """The superuser's URL pointed at the benchmark's database (seeding skips RLS)."""
    return to_libpq_url(make_url(superuser_url).set(database=make_url(runtime_url).database))
