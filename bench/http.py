"""The API next to a bare endpoint doing the same work, both driven by wrk (issue 11).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        python -m bench.http [--rows 10000|1000000] [--workers 1|2] [--duration 10]
                             [--connections 32] [--rounds 2] [--pool N] [--worklist-connections 1]

Needs wrk (Debian: `apt-get install wrk`). Without BENCH_DATABASE_URL (a superuser URL) it
starts an embedded PostgreSQL. One database is seeded: a measured agency (made by
`create_agency`, so its admin can log in) with 3,000 candidates, 2,000 of them in open
applications whose interviews have ended, consultant: that admin (the worklist); and 1,000 other
agencies holding `--rows` candidates between them. Then `afterview serve --no-worker` and
`bench/bare.py` (Starlette + asyncpg, same uvicorn settings, same worker count, same pool size)
run side by side on that database, and wrk drives them in turn: API, bare, API, bare, … for
each target, `--rounds` times, after a short unreported warm-up of each. Before each quiet run
the server is left to finish what the previous run left in flight (until a trivial request is
answered in under 20 ms, at most 10 s).

Each figure:
- req/s: wrk's "Requests/sec" (completed requests over the run).
- p50 / p99: wrk's latency distribution (`--latency`); max: its slowest request. wrk measures
  each request from its send, so a queue inside the server shows up in these.
- ratio: API req/s ÷ bare req/s of the same round, the median over rounds, with the issue's
  target next to it. spread: (highest - lowest) ÷ median of req/s across rounds.
- worklist: `GET /v1/worklist` for the consultant with 2,000 open applications, API only, at
  `--worklist-connections` (1: the latency one person sees).
- login storm: 4 connections posting wrong passwords (a new email and client address each, so
  the throttle never stands in for the hash), while `/healthz` (at 32 connections, then as one
  prober: a load balancer's health check) and `GET /v1/candidates/{id}` are measured; each next
  to its quiet value measured just before.
Any non-2xx answer or socket error in a measured run, or a run that completed no request, is a
failure: listed at the end, exit 1.
"""

import argparse
import asyncio
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from types import FrameType
from uuid import UUID

import httpx
import psycopg

import app
from app.core.db import to_libpq_url
from bench.common import bench_server, measured_agency, superuser_target

PASSWORD = "bench-password-123"  # noqa: S105 - a throwaway database
ADMIN_EMAIL = "admin@bench.example.com"
JWT_SECRET = "bench-" + secrets.token_hex(24)
MEASURED_CANDIDATES = 3000
WORKLIST_APPLICATIONS = 2000
OTHER_AGENCIES = 1000
STORM_CONNECTIONS = 4
SETTLE_LIMIT_SECONDS = 10
SCRIPTS = Path(__file__).parent / "wrk"

SEED_SQL = [
    "INSERT INTO agency (id, name) SELECT gen_random_uuid(), 'Other ' || i "
    "FROM generate_series(1, %(agencies)s) AS i",
    # Candidates: `per` in each other agency, MEASURED_CANDIDATES in the measured one.
    "INSERT INTO candidate (agency_id, id, first_name, last_name, email, contact_consent, "
    "created_at, updated_at) "
    "SELECT a.id, gen_random_uuid(), 'First' || i, 'Last' || i, 'c' || i || '@example.com', "
    "i %% 3 = 0, now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval "
    "FROM agency a CROSS JOIN LATERAL generate_series(1, "
    "  CASE WHEN a.id = %(measured)s THEN %(measured_candidates)s ELSE %(per)s END) AS i",
    "INSERT INTO client (agency_id, id, name) "
    "SELECT %(measured)s, gen_random_uuid(), 'Client ' || i FROM generate_series(1, 10) AS i",
    "INSERT INTO vacancy (agency_id, id, client_id, title) "
    "SELECT c.agency_id, gen_random_uuid(), c.id, 'Role ' || i "
    "FROM client c CROSS JOIN generate_series(1, 2) AS i",
    # The admin's open applications, one per candidate, spread over the 20 vacancies.
    "INSERT INTO application (agency_id, id, candidate_id, vacancy_id, consultant_id, status) "
    "SELECT c.agency_id, gen_random_uuid(), c.id, v.id, %(admin)s, 'active' FROM ("
    "  SELECT agency_id, id, row_number() OVER (ORDER BY id) AS n FROM candidate "
    "  WHERE agency_id = %(measured)s) c "
    "JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM vacancy "
    "  WHERE agency_id = %(measured)s) v ON v.k = c.n %% 20 "
    "WHERE c.n <= %(applications)s",
    # One interview each, ended a day or more ago: every one wants next steps and a debrief.
    "INSERT INTO interview (agency_id, id, application_id, starts_at, ends_at, round, format) "
    "SELECT agency_id, gen_random_uuid(), id, start, start + interval '1 hour', 1, 'video' "
    "FROM (SELECT agency_id, id, now() - interval '2 days' "
    "  - (row_number() OVER (ORDER BY id) || ' minutes')::interval AS start "
    "  FROM application WHERE agency_id = %(measured)s) a",
    "ANALYZE",
]


@dataclass
class Run:
    """One wrk run's figures (milliseconds)."""

    rps: float
    p50: float
    p99: float
    max: float
    requests: int
    non_2xx: int
    socket_errors: int
    statuses: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    script: str | None
    goal: str


BY_ID = Target(
    "GET /v1/candidates/{id}", "/", "by_id.lua", "≥ 0.5x (stretch 0.7x); p99 < 50 ms; max < 1 s"
)
PAGE = Target("GET /v1/candidates?limit=50", "/v1/candidates?limit=50", None, "≥ 0.5x")
CREATE = Target("POST /v1/candidates", "/", "create.lua", "≥ 0.4x (bare: insert + event)")
WORKLIST = Target("GET /v1/worklist", "/v1/worklist", None, "p50 < 50 ms")
HEALTHZ = Target("GET /healthz", "/healthz", None, "under storm: p99 < 20 ms")
COMPARED = (BY_ID, PAGE, CREATE)

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
TIME = r"([\d.]+)(us|ms|s|m|h)"


def _ms(value: str, unit: str) -> float:
    return float(value) * UNIT_MS[unit]


def parse_wrk(output: str) -> Run:
    """The figures in wrk's `--latency` report (and the login script's status lines)."""

    def time_of(pattern: str) -> float:
        found = re.search(pattern, output, re.MULTILINE)
        return _ms(found.group(1), found.group(2)) if found else float("nan")

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    requests = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if rps is None or requests is None:
        raise RuntimeError(f"unreadable wrk output:\n{output}")
    return Run(
        rps=float(rps.group(1)),
        p50=time_of(rf"^\s+50%\s+{TIME}"),
        p99=time_of(rf"^\s+99%\s+{TIME}"),
        max=time_of(rf"^\s+Latency\s+\S+\s+\S+\s+{TIME}"),
        requests=int(requests.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        statuses={
            int(code): int(n)
            for code, n in re.findall(r"^status (\d+) (\d+)$", output, re.MULTILINE)
        },
    )


@dataclass(frozen=True)
class Bench:
    """How to drive wrk for this run, and the servers' addresses."""

    api: str
    bare: str
    token: str
    ids_file: Path
    duration: float
    connections: int

    def command(
        self, base: str, target: Target, duration: float, connections: int, auth: bool = True
    ) -> list[str]:
        command = [
            shutil.which("wrk") or "wrk",
            f"-t{min(2, connections)}",
            f"-c{connections}",
            f"-d{duration:g}s",
            "--timeout",
            "30s",
            "--latency",
        ]
        if auth:
            command += ["-H", f"Authorization: Bearer {self.token}"]
        if target.script:
            command += ["-s", str(SCRIPTS / target.script)]
        return [*command, base + target.path]

    def env(self, run: int = 0) -> dict[str, str]:
        tag = f"r{run}-{secrets.token_hex(3)}"
        return {
            **os.environ,
            "BENCH_IDS": str(self.ids_file),
            "BENCH_TAG": tag,
            "BENCH_RUN": str(run),
        }

    def run(
        self,
        base: str,
        target: Target,
        *,
        duration: float | None = None,
        connections: int = 0,
        settle: bool = True,
    ) -> Run:
        if settle:
            settled(base)
        command = self.command(
            base, target, duration or self.duration, connections or self.connections
        )
        done = subprocess.run(  # noqa: S603 - wrk, with our own arguments
            command, env=self.env(), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
        return parse_wrk(done.stdout)


def settled(base: str) -> None:
    """Wait until `base` answers a trivial request fast: what a previous run left in flight
    (a worklist still being built, a queue of reads) must not land in the next run."""
    deadline = time.monotonic() + SETTLE_LIMIT_SECONDS
    time.sleep(0.5)
    while time.monotonic() < deadline:
        started = time.perf_counter()
        httpx.get(base + "/healthz", timeout=SETTLE_LIMIT_SECONDS)  # the bare one: a 404
        if time.perf_counter() - started < 0.02:
            return
        time.sleep(0.2)


# -- seeding -------------------------------------------------------------------------------------


async def seed(runtime_url: str, superuser_url: str, rows: int) -> tuple[UUID, list[str]]:
    """The measured agency (its id and candidate ids) and `rows` candidates elsewhere."""
    made = await measured_agency(runtime_url, ADMIN_EMAIL, PASSWORD)
    agencies = max(1, min(OTHER_AGENCIES, rows))
    params = {
        "agencies": agencies,
        "per": rows // agencies,
        "measured": made.agency_id,
        "measured_candidates": MEASURED_CANDIDATES,
        "admin": made.admin_id,
        "applications": WORKLIST_APPLICATIONS,
    }
    target = superuser_target(superuser_url, runtime_url)
    started = time.perf_counter()
    with psycopg.connect(target, autocommit=True) as conn:  # a superuser: seeding skips RLS
        for statement in SEED_SQL:
            conn.execute(statement, params)
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in ("agency", "candidate", "application", "interview")
        }
        ids = [
            str(r[0])
            for r in conn.execute(
                "SELECT id FROM candidate WHERE agency_id = %s", (made.agency_id,)
            ).fetchall()
        ]
    print(f"seeded in {time.perf_counter() - started:.0f} s: {counts}", flush=True)
    return made.agency_id, ids


# -- servers -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(command: list[str], env: dict[str, str], log: Path, ready: str) -> Iterator[None]:
    """A server process, answering `ready` (any HTTP answer) before the block; stopped after."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            wait_ready(proc, ready, log)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within 90 s:\n{log.read_text()[-3000:]}")


def api_command(port: int, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "app.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-worker",
    ]


def api_env(runtime_url: str, pool: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": runtime_url,
        "AFTERVIEW_JWT_SECRET": JWT_SECRET,
        "AFTERVIEW_LOG_JSON": "true",
        "AFTERVIEW_RATE_LIMIT_PER_MINUTE": "1000000",  # the setting's maximum
        "AFTERVIEW_TOKEN_TTL_SECONDS": "86400",
        "AFTERVIEW_DB_POOL_SIZE": str(pool),
        "AFTERVIEW_DB_MAX_OVERFLOW": "0",
    }


def bare_env(runtime_url: str, pool: int) -> dict[str, str]:
    return {
        **os.environ,
        "BARE_DATABASE_URL": runtime_url,
        "BARE_JWT_SECRET": JWT_SECRET,
        "BARE_POOL_SIZE": str(pool),
    }


def log_in(api: str) -> str:
    answer = httpx.post(
        api + "/v1/auth/token", data={"username": ADMIN_EMAIL, "password": PASSWORD}, timeout=30
    )
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


# -- measuring -----------------------------------------------------------------------------------

Results = dict[str, list[Run]]


def measure(bench: Bench, rounds: int, worklist_connections: int) -> Results:
    results: Results = {}

    def keep(key: str, run: Run) -> None:
        results.setdefault(key, []).append(run)
        print(f"  {key:<48} {run.rps:9.1f} req/s  p50 {run.p50:8.2f}  p99 {run.p99:8.2f} ms")

    print("warming up (unreported)", flush=True)
    for target in COMPARED:
        for base in (bench.api, bench.bare):
            bench.run(base, target, duration=min(2.0, bench.duration))
    bench.run(bench.api, WORKLIST, duration=min(2.0, bench.duration), connections=1)
    for n in range(1, rounds + 1):
        print(f"round {n}/{rounds}", flush=True)
        for target in COMPARED:
            keep(f"{target.name} API", bench.run(bench.api, target))
            keep(f"{target.name} bare", bench.run(bench.bare, target))
        keep(
            f"{WORKLIST.name} API", bench.run(bench.api, WORKLIST, connections=worklist_connections)
        )
        storm(bench, n, keep)
    return results


def storm(bench: Bench, round_no: int, keep: Callable[[str, Run], None]) -> None:
    """Quiet `/healthz` (at 32 connections, and as one prober) and by-id, then all three again
    under 4 loops of wrong-password logins."""
    keep("healthz quiet", bench.run(bench.api, HEALTHZ))
    keep("probe quiet", bench.run(bench.api, HEALTHZ, connections=1))
    keep("by-id quiet", bench.run(bench.api, BY_ID))
    command = bench.command(
        bench.api,
        Target("login", "/", "login_storm.lua", ""),
        3 * bench.duration + 4,
        STORM_CONNECTIONS,
        auth=False,
    )
    storming = subprocess.Popen(  # noqa: S603 - wrk, with our own arguments
        command, env=bench.env(round_no), stdout=subprocess.PIPE, text=True
    )
    try:
        time.sleep(1)
        keep("healthz storm", bench.run(bench.api, HEALTHZ, settle=False))
        keep("probe storm", bench.run(bench.api, HEALTHZ, connections=1, settle=False))
        keep("by-id storm", bench.run(bench.api, BY_ID, settle=False))
        output, _ = storming.communicate(timeout=bench.duration + 60)
    finally:
        if storming.poll() is None:
            storming.terminate()
            storming.wait()
    keep("login storm", parse_wrk(output))


# -- report --------------------------------------------------------------------------------------


def spread(values: list[float]) -> str:
    middle = statistics.median(values)
    width = (max(values) - min(values)) / middle * 100 if middle else 0.0
    return f"{width:.0f}% ({' / '.join(f'{v:.0f}' for v in values)})"


def row(label: str, runs: list[Run]) -> str:
    return (
        f"  {label:<6} {statistics.median(r.rps for r in runs):9.1f} req/s   "
        f"p50 {statistics.median(r.p50 for r in runs):8.2f}   "
        f"p99 {statistics.median(r.p99 for r in runs):8.2f}   "
        f"max {max(r.max for r in runs):8.2f} ms   spread {spread([r.rps for r in runs])}"
    )


def report(results: Results, worklist_connections: int) -> None:
    for target in COMPARED:
        api, bare = results[f"{target.name} API"], results[f"{target.name} bare"]
        ratios = [a.rps / b.rps if b.rps else float("nan") for a, b in zip(api, bare, strict=True)]
        print(f"\n{target.name}")
        print(row("API", api))
        print(row("bare", bare))
        rounds = " / ".join(f"{r:.2f}" for r in ratios)
        print(
            f"  ratio  {statistics.median(ratios):.2f}x (rounds: {rounds})   target {target.goal}"
        )
    print(
        f"\n{WORKLIST.name} (consultant with {WORKLIST_APPLICATIONS:,} open applications; "
        f"{worklist_connections} connection(s))"
    )
    print(row("API", results[f"{WORKLIST.name} API"]) + f"   target {WORKLIST.goal}")
    print(f"\nLogin storm ({STORM_CONNECTIONS} wrong-password loops)")
    for name, goal in (
        ("healthz", "storm p99 < 20 ms"),
        ("probe", "storm p99 < 20 ms (/healthz, one connection)"),
        ("by-id", "storm p99 ≤ 2x quiet"),
    ):
        quiet, stormy = results[f"{name} quiet"], results[f"{name} storm"]
        print(row("quiet", quiet) + f"   [{name}]")
        print(row("storm", stormy) + f"   [{name}]")
        factor = statistics.median(s.p99 / q.p99 for q, s in zip(quiet, stormy, strict=True))
        print(f"  {name}: storm p99 = {factor:.1f}x quiet p99   target {goal}")
    logins = results["login storm"]
    statuses: dict[int, int] = {}
    for run in logins:
        for code, count in run.statuses.items():
            statuses[code] = statuses.get(code, 0) + count
    print(
        f"  logins: {statistics.median(r.rps for r in logins):.1f}/s, p50 "
        f"{statistics.median(r.p50 for r in logins):.0f} ms; statuses {statuses}"
    )


def failures(results: Results) -> list[str]:
    found = []
    for key, runs in results.items():
        for n, run in enumerate(runs, 1):
            unexpected = run.non_2xx
            if key == "login storm":  # wrong passwords: 401 is the point, anything else is not
                unexpected = sum(c for s, c in run.statuses.items() if s != 401)
            if unexpected or run.socket_errors or not run.requests:
                found.append(
                    f"{key}, round {n}: {unexpected} unexpected answers, "
                    f"{run.socket_errors} socket errors, of {run.requests}"
                )
    return found


def _output(*command: str) -> str:
    """What a tool on PATH prints (both streams), run in the checkout."""
    done = subprocess.run(  # noqa: S603 - our own arguments
        [shutil.which(command[0]) or command[0], *command[1:]],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).parent.parent,
    )
    return done.stdout + done.stderr


def configuration(args: argparse.Namespace, pool: int, superuser_url: str) -> str:
    commit = _output("git", "rev-parse", "--short", "HEAD").strip()
    dirty = _output("git", "status", "--porcelain", "app").strip()
    wrk = _output("wrk", "-v").splitlines()[0]
    with psycopg.connect(to_libpq_url(superuser_url)) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    packages = ", ".join(
        f"{p} {version(p)}"
        for p in ("fastapi", "starlette", "uvicorn", "uvloop", "sqlalchemy", "asyncpg", "pyjwt")
    )
    return (
        f"commit {commit or '?'}{' (app/ has uncommitted changes)' if dirty else ''}, "
        f"app from {Path(app.__file__).parent}; "
        f"{args.rows:,} candidates in {min(OTHER_AGENCIES, args.rows)} other agencies, "
        f"{MEASURED_CANDIDATES:,} in the measured one\n"
        f"{args.workers} worker(s) each; pool {pool} connections per worker process (API: "
        f"AFTERVIEW_DB_POOL_SIZE={pool}, max overflow 0; bare: asyncpg max_size={pool})\n"
        f"wrk: {min(2, args.connections)} threads, {args.connections} connections, "
        f"{args.duration:g} s per run, {args.rounds} round(s), interleaved API/bare\n"
        f"{os.cpu_count()} cores; Python {platform.python_version()}; PostgreSQL {postgres}; "
        f"{wrk}\n{packages}; bare answers with stdlib json"
    )


def main(args: argparse.Namespace) -> int:
    if shutil.which("wrk") is None:
        print(
            "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu), or build it from "
            "https://github.com/wg/wrk and put it on PATH.",
            file=sys.stderr,
        )
        return 2
    pool = args.pool or max(1, args.connections // args.workers)
    with ExitStack() as stack:
        urls, superuser_url = stack.enter_context(bench_server(drop=True))
        _agency, ids = asyncio.run(seed(urls.runtime, superuser_url, args.rows))
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-http-")))
        ids_file = work / "ids.txt"
        ids_file.write_text("\n".join(ids) + "\n")
        api_port, bare_port = free_port(), free_port()
        api, bare = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
        stack.enter_context(
            server(
                api_command(api_port, args.workers),
                api_env(urls.runtime, pool),
                work / "api.log",
                api + "/readyz",
            )
        )
        bare_command = [
            sys.executable,
            "-m",
            "bench.bare",
            "--port",
            str(bare_port),
            "--workers",
            str(args.workers),
        ]
        stack.enter_context(
            server(bare_command, bare_env(urls.runtime, pool), work / "bare.log", bare + "/")
        )
        bench = Bench(api, bare, log_in(api), ids_file, args.duration, args.connections)
        config = configuration(args, pool, superuser_url)
        print(config, flush=True)
        results = measure(bench, args.rounds, args.worklist_connections)
    print("\n" + config)
    report(results, args.worklist_connections)
    found = failures(results)
    for line in found:
        print(f"FAILURE: {line}", file=sys.stderr)
    return 1 if found else 0


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000, help="candidates in other agencies")
    parser.add_argument("--workers", type=int, default=1, help="processes of each server")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pool", type=int, default=0, help="default: connections ÷ workers")
    parser.add_argument("--worklist-connections", type=int, default=1)
    signal.signal(signal.SIGTERM, _stop)
    sys.exit(main(parser.parse_args()))
