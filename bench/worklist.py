"""The worklist at volume: one consultant with 2,000 open applications whose interviews have
ended (next steps, debriefs, decisions, follow-ups, referees and feedback in a mix that makes
every kind of item), among other agencies holding the same, through the real HTTP server.

    python -m bench.worklist [--agencies 21] [--per 2000] [--requests 300] [--concurrency 4]
                             [--rounds 1] [--baseline DIR] [--tree DIR] [--explain]

Prints median and p99 latency of GET /v1/worklist?limit=50: the first page, and a later page
(the 20th) by cursor. With `--baseline DIR` (another source tree of Afterview, e.g. from
`git archive`), that tree's server runs against the same database and the two are measured in
turns, round after round, so the machine's noise falls on both alike. `--explain` prints
EXPLAIN ANALYZE of the statement this checkout sends for the first page. The database is
migrated by this checkout, vacuumed and analysed after seeding (autovacuum's steady state).
"""

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
from sqlalchemy import event, select
from sqlalchemy.engine import Connection

from app.core.auth import Principal
from app.core.clock import SystemClock
from app.core.db import create_engine, session_factory, tenant_transaction
from app.core.ids import AgencyId, UserId
from app.core.pagination import PageParams
from app.core.security import hash_password
from app.models import Role, User
from app.worklist.service import worklist
from bench.common import bench_server, measured_agency, superuser_target
from bench.records import free_port, timed, wait_ready

PASSWORD = "bench-password-123"  # noqa: S105 - a throwaway database
JWT_SECRET = "bench-" + "x" * 40
CONSULTANT = "consultant@bench.example.com"
LATER_PAGE = 20

# Every agency gets the same shape; `n` numbers a candidate, its application and interview.
# Applications 1..per are open (the consultant's 2,000), the next per/10 closed (feedback).
SEED_SQL = [
    "INSERT INTO agency (id, name) SELECT gen_random_uuid(), 'Agency ' || i "
    "FROM generate_series(2, %(agencies)s) AS i",
    "INSERT INTO app_user (agency_id, id, email, name, role, password_hash) "
    "SELECT a.id, gen_random_uuid(), 'consultant-' || a.id || '@bench.example.com', "
    "'Consultant', 'consultant', 'not-a-hash' FROM agency a WHERE NOT EXISTS ("
    "  SELECT 1 FROM app_user u WHERE u.agency_id = a.id AND u.role = 'consultant')",
    "INSERT INTO client (agency_id, id, name, external_id) "
    "SELECT a.id, gen_random_uuid(), 'Client ' || i, 'k' || i "
    "FROM agency a CROSS JOIN generate_series(0, 19) AS i",
    "INSERT INTO client_contact (agency_id, id, client_id, name, email) "
    "SELECT agency_id, gen_random_uuid(), id, 'Contact at ' || name, external_id || '@example.com' "
    "FROM client",
    "INSERT INTO vacancy (agency_id, id, client_id, title, external_id) "
    "SELECT c.agency_id, gen_random_uuid(), c.id, 'Role ' || j || ' at ' || c.name, "
    "'v' || (substr(c.external_id, 2)::int * 2 + j) "
    "FROM client c CROSS JOIN generate_series(0, 1) AS j",
    "INSERT INTO candidate (agency_id, id, first_name, last_name, email, external_id) "
    "SELECT a.id, gen_random_uuid(), 'First' || n, 'Last' || n, 'c' || n || '@example.com', "
    "'c' || n FROM agency a CROSS JOIN generate_series(1, %(per)s + %(per)s / 10) AS n",
    "INSERT INTO application (agency_id, id, candidate_id, vacancy_id, consultant_id, status, "
    "offer_likelihood, external_id, updated_at) "
    "SELECT c.agency_id, gen_random_uuid(), c.id, v.id, u.id, "
    "CASE WHEN c.n > %(per)s THEN 'unsuccessful' ELSE 'active' END, "
    "CASE WHEN c.n %% 7 = 0 THEN 'high' ELSE 'medium' END, "
    "'a' || c.n, now() - c.n * interval '3 minutes' "
    "FROM (SELECT agency_id, id, substr(external_id, 2)::int AS n FROM candidate) c "
    "JOIN vacancy v ON v.agency_id = c.agency_id AND v.external_id = 'v' || c.n %% 40 "
    "JOIN app_user u ON u.agency_id = c.agency_id AND u.role = 'consultant'",
    # Interviews ended in pairs at the same instant: due times tie across applications.
    "INSERT INTO interview (agency_id, id, application_id, starts_at, ends_at, format, "
    "external_id) "
    "SELECT agency_id, gen_random_uuid(), id, "
    "now() - (n / 2) * interval '10 minutes' - interval '2 hours', "
    "now() - (n / 2) * interval '10 minutes' - interval '1 hour', 'video', 'i' || n "
    "FROM (SELECT agency_id, id, substr(external_id, 2)::int AS n FROM application) a",
    # A third have next steps; half of those with a decision date already passed.
    "INSERT INTO next_steps (agency_id, id, interview_id, application_id, kind, details, "
    "decision_expected_by) "
    "SELECT agency_id, gen_random_uuid(), id, application_id, 'decision', 'The client decides.', "
    "CASE WHEN n %% 6 = 0 THEN ends_at + interval '30 minutes' "
    "ELSE now() + interval '7 days' END "
    "FROM (SELECT *, substr(external_id, 2)::int AS n FROM interview) i WHERE n %% 3 = 0",
    "INSERT INTO debrief (agency_id, id, interview_id, application_id, went_well, could_improve, "
    "submitted_at, due_at, on_time) "
    "SELECT agency_id, gen_random_uuid(), id, application_id, 'Rapport.', 'Numbers.', "
    "ends_at + interval '2 hours', ends_at + interval '24 hours', true "
    "FROM (SELECT *, substr(external_id, 2)::int AS n FROM interview) i WHERE n %% 4 = 0",
    "INSERT INTO decision (agency_id, id, application_id, decision, decided_at) "
    "SELECT agency_id, gen_random_uuid(), id, "
    "CASE WHEN n %% 2 = 0 THEN 'want' ELSE 'unsure' END, now() - interval '30 minutes' "
    "FROM (SELECT *, substr(external_id, 2)::int AS n FROM application) a "
    "WHERE n %% 2 = 0 OR n %% 5 = 0",
    # Of the wanted: some follow-ups sent, some asking for direct contact, some thanked.
    "INSERT INTO follow_up (agency_id, id, interview_id, application_id, state, due_at, "
    "sent_at, direct_requested_at, agency_thanked_at) "
    "SELECT agency_id, gen_random_uuid(), id, application_id, "
    "(ARRAY['sent', 'agency_thanked', 'direct_requested', 'agency_thanked'])[n %% 8 / 2 + 1], "
    "ends_at + interval '24 hours', "
    "CASE WHEN n %% 8 = 0 THEN ends_at + interval '3 hours' END, "
    "CASE WHEN n %% 8 = 4 THEN ends_at + interval '2 hours' END, ends_at + interval '1 hour' "
    "FROM (SELECT *, substr(external_id, 2)::int AS n FROM interview) i WHERE n %% 2 = 0",
    "INSERT INTO referee (agency_id, id, candidate_id, name, email, relationship, "
    "consent_to_contact) "
    "SELECT c.agency_id, gen_random_uuid(), c.id, 'Referee ' || j, "
    "'r' || j || '-' || c.external_id || '@example.com', 'Former manager', j = 1 "
    "FROM candidate c CROSS JOIN generate_series(1, 2) AS j "
    "WHERE substr(c.external_id, 2)::int %% 7 = 0",
    "INSERT INTO referee_heads_up (agency_id, id, application_id, referee_id, why_want_job, "
    "key_points) "
    "SELECT a.agency_id, gen_random_uuid(), a.id, r.id, 'Closer to home.', 'Leads teams.' "
    "FROM application a JOIN referee r ON r.agency_id = a.agency_id "
    "AND r.candidate_id = a.candidate_id AND r.consent_to_contact "
    "WHERE substr(a.external_id, 2)::int %% 14 = 0",
    # The closed applications: feedback requested (a chase due) or received (to release).
    "INSERT INTO feedback_request (agency_id, id, application_id, contact_id, state, "
    "requested_at, next_chase_at, expires_at, received_at) "
    "SELECT a.agency_id, gen_random_uuid(), a.id, k.id, "
    "CASE WHEN a.n %% 2 = 0 THEN 'received' ELSE 'requested' END, now() - interval '5 days', "
    "CASE WHEN a.n %% 2 = 1 THEN now() + (a.n %% 48 - 24) * interval '1 hour' END, "
    "now() + interval '25 days', "
    "CASE WHEN a.n %% 2 = 0 THEN now() - a.n * interval '1 minute' END "
    "FROM (SELECT *, substr(external_id, 2)::int AS n FROM application) a "
    "JOIN vacancy v ON v.agency_id = a.agency_id AND v.id = a.vacancy_id "
    "JOIN LATERAL (SELECT id FROM client_contact WHERE agency_id = a.agency_id "
    "  AND client_id = v.client_id LIMIT 1) k ON true "
    "WHERE a.status = 'unsuccessful'",
    "VACUUM ANALYZE",
]
COUNTED = ("agency", "application", "interview", "next_steps", "debrief", "follow_up")


async def seed(runtime_url: str, superuser_url: str, agencies: int, per: int) -> UUID:
    made = await measured_agency(runtime_url, "admin@bench.example.com", PASSWORD)
    target = superuser_target(superuser_url, runtime_url)
    started = time.perf_counter()
    with psycopg.connect(target, autocommit=True) as conn:  # a superuser: seeding skips RLS
        conn.execute(
            "INSERT INTO app_user (agency_id, id, email, name, role, password_hash) "
            "VALUES (%s, gen_random_uuid(), %s, 'Measured Consultant', 'consultant', %s)",
            (made.agency_id, CONSULTANT, hash_password(PASSWORD)),
        )
        for statement in SEED_SQL:
            conn.execute(statement, {"agencies": agencies, "per": per})
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in COUNTED
        }
    print(f"seeded in {time.perf_counter() - started:.0f} s: {counts}", flush=True)
    return made.agency_id


@contextmanager
def served(runtime_url: str, source: Path, concurrency: int) -> Iterator[str]:
    """`afterview serve` (one worker) from the source tree `source`; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": runtime_url,
        "AFTERVIEW_JWT_SECRET": JWT_SECRET,
        "AFTERVIEW_DB_POOL_SIZE": str(concurrency),
        "AFTERVIEW_RATE_LIMIT_PER_MINUTE": "1000000",  # the setting's maximum
        "PYTHONPATH": str(source),
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(  # noqa: S603 - our own CLI, started before timing
        command, env=env, cwd=source, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


async def consultant_client(base: str, concurrency: int) -> httpx.AsyncClient:
    await wait_ready(base)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client = httpx.AsyncClient(base_url=base, limits=limits, timeout=30)
    login = await client.post("/v1/auth/token", data={"username": CONSULTANT, "password": PASSWORD})
    assert login.status_code == 200, login.text
    client.headers["Authorization"] = "Bearer " + login.json()["access_token"]
    return client


async def every_item(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 200}
    while True:
        body = (await client.get("/v1/worklist", params=params)).json()
        items.extend(body["items"])
        if body["next"] is None:
            return items
        params["cursor"] = body["next"]


async def later_cursor(client: httpx.AsyncClient) -> str:
    """The cursor that asks for page LATER_PAGE of 50."""
    params: dict[str, Any] = {"limit": 50}
    for _ in range(LATER_PAGE - 1):
        params["cursor"] = (await client.get("/v1/worklist", params=params)).json()["next"]
    cursor: str = params["cursor"]
    return cursor


async def measure(
    label: str, client: httpx.AsyncClient, cursor: str, requests: int, concurrency: int
) -> None:
    async def first_page() -> None:
        response = await client.get("/v1/worklist", params={"limit": 50})
        assert response.status_code == 200 and len(response.json()["items"]) == 50, response.text

    async def later_page() -> None:
        response = await client.get("/v1/worklist", params={"limit": 50, "cursor": cursor})
        assert response.status_code == 200 and len(response.json()["items"]) == 50, response.text

    await timed(f"{label} first page", first_page, requests, concurrency)
    await timed(f"{label} page {LATER_PAGE}", later_page, requests, concurrency)


def source_trees(baseline: str | None, tree: str | None) -> dict[str, Path]:
    """The trees to serve from, by label: `tree` (this checkout by default), and the baseline
    first when given."""
    current = {"current": Path(tree or Path(__file__).parent.parent).resolve()}
    return {"baseline": Path(baseline).resolve(), **current} if baseline else current


async def explain_first_page(runtime_url: str, agency: UUID) -> None:
    """EXPLAIN ANALYZE of the statement this tree's worklist sends for the first page of 50,
    as the runtime role under RLS (captured as sent, then explained with its parameters)."""
    engine = create_engine(runtime_url, pool_size=1, max_overflow=0)
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Connection, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "UNION ALL" in statement:
            sent.append((statement, params))

    async with tenant_transaction(session_factory(engine), AgencyId(agency)) as session:
        whose = select(User.id).where(User.agency_id == agency, User.email == CONSULTANT)
        consultant = (await session.scalars(whose)).one()
        principal = Principal(
            AgencyId(agency), UserId(consultant), Role.consultant, None, frozenset()
        )
        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        page, _ = await worklist(
            session, principal, SystemClock(), consultant, PageParams(50, None)
        )
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
        assert len(page) == 50 and len(sent) == 1
        statement, params = sent[0]
        for _ in range(3):  # the last of three runs, caches warm
            plan = await session.connection()
            rows = await plan.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        print("\n".join(r[0] for r in rows), flush=True)
    await engine.dispose()


async def main(args: argparse.Namespace, sources: dict[str, Path]) -> None:
    with bench_server() as (urls, superuser_url), ExitStack() as stack:
        agency = await seed(urls.runtime, superuser_url, args.agencies, args.per)
        if args.explain:
            await explain_first_page(urls.runtime, agency)
        bases = {
            k: stack.enter_context(served(urls.runtime, s, args.concurrency))
            for k, s in sources.items()
        }
        clients = {k: await consultant_client(b, args.concurrency) for k, b in bases.items()}
        cursors = {}
        for label, client in clients.items():
            items = await every_item(client)
            kinds = Counter(i["kind"] for i in items)
            print(f"{label}: {len(items)} items {dict(sorted(kinds.items()))}", flush=True)
            cursors[label] = await later_cursor(client)
        print(f"concurrency {args.concurrency}, one API worker each", flush=True)
        for n in range(args.rounds):
            print(f"-- round {n + 1}", flush=True)
            for label, client in clients.items():
                await measure(label, client, cursors[label], args.requests, args.concurrency)
        for client in clients.values():
            await client.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agencies", type=int, default=21, help="agencies, the measured one too")
    parser.add_argument("--per", type=int, default=2000, help="open applications per consultant")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--baseline", help="another source tree to measure in turns")
    parser.add_argument("--tree", help="the source tree to measure (default: this checkout)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE this tree's first-page statement"
    )
    arguments = parser.parse_args()
    asyncio.run(main(arguments, source_trees(arguments.baseline, arguments.tree)))
