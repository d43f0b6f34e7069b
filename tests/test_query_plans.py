"""The list queries the API really sends use an index that leads with `agency_id`, as the
runtime role, on a table holding many agencies' rows."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.candidates.schemas import CandidateRead
from app.core.clock import FixedClock
from app.core.provision import DatabaseUrls, connect
from app.core.records import _page_sql
from app.models import Candidate
from tests.support.records import make_application, make_interview
from tests.support.tenants import Tenant

AGENCIES = 40
CANDIDATES_EACH = 500


def crowd_agency(owner: psycopg.Connection[Any], name: str) -> UUID:
    """Another agency with `CANDIDATES_EACH` candidates, inside the owner's open transaction
    (scoped to it, so row-level security lets the rows in)."""
    found = owner.execute("SELECT gen_random_uuid()").fetchone()
    assert found is not None
    agency: UUID = found[0]
    owner.execute("SELECT set_config('app.agency_id', %s, true)", (str(agency),))
    owner.execute("INSERT INTO agency (id, name) VALUES (%s, %s)", (agency, name))
    owner.execute(
        "INSERT INTO candidate (agency_id, id, first_name, last_name, email) "
        "SELECT %s, gen_random_uuid(), 'F' || i, 'L' || i, 'c' || i || '@example.com' "
        "FROM generate_series(1, %s) AS i",
        (agency, CANDIDATES_EACH),
    )
    return agency


@pytest.fixture(scope="module")
def crowded(database_urls: DatabaseUrls) -> None:
    """Other agencies' candidates around the one under test, and fresh planner statistics."""
    with connect(database_urls.owner) as owner:
        for n in range(AGENCIES):
            owner.execute("BEGIN")
            crowd_agency(owner, f"C{n}")
            owner.execute("COMMIT")
        owner.execute("ANALYZE candidate")


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def assert_agency_leading_index(
    engine: AsyncEngine, agency_id: UUID, statement: str, params: Any
) -> None:
    """EXPLAIN `statement` as the runtime role, scoped to the agency: index scans only, the
    first on an index that leads with `agency_id`."""
    async with engine.connect() as conn:
        await conn.execute(
            text("SELECT set_config('app.agency_id', :a, true)"), {"a": str(agency_id)}
        )
        role = await conn.scalar(text("SELECT current_user"))
        raw = await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params)
        value = raw.scalar_one()
        plan = json.loads(value) if isinstance(value, str) else value
        nodes = list(plan_nodes(plan[0]["Plan"]))
        index_scans = [n for n in nodes if n.get("Index Name")]
        assert index_scans, [n["Node Type"] for n in nodes]
        assert all(n["Node Type"] != "Seq Scan" for n in nodes)
        index = index_scans[0]["Index Name"]
        definition = await conn.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = :i"), {"i": index}
        )
    assert role == "afterview_test_app"
    assert "(agency_id," in definition, definition
    print(f"list plan uses {index}: {definition}")


async def own_candidates(agency: Tenant) -> None:
    for n in range(3):
        await agency.admin.post(
            "/v1/candidates",
            json={"first_name": f"A{n}", "last_name": "Own", "email": f"a{n}@example.com"},
        )


async def test_the_routes_candidate_list_uses_an_agency_leading_index(
    crowded: None, engine: AsyncEngine, agency_a: Tenant
) -> None:
    """A filtered list: the route's own statement (SQLAlchemy)."""
    await own_candidates(agency_a)
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Connection, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM candidate" in statement and "ORDER BY" in statement:
            sent.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        response = await agency_a.admin.get(
            "/v1/candidates", params={"limit": 50, "updated_after": "2020-01-01T00:00:00Z"}
        )
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    assert response.status_code == 200
    assert len(response.json()["items"]) == 3
    assert len(sent) == 1
    await assert_agency_leading_index(engine, agency_a.agency_id, *sent[0])


@pytest.mark.parametrize("after", [False, True], ids=["first page", "later page"])
async def test_the_fast_lanes_candidate_pages_use_an_agency_leading_index(
    crowded: None, engine: AsyncEngine, agency_a: Tenant, after: bool
) -> None:
    """A plain list (`app/core/fast_reads.py`): the statement `read_page` sends."""
    await own_candidates(agency_a)
    statement = _page_sql(Candidate.__table__, CandidateRead, after)
    params: tuple[Any, ...] = (agency_a.agency_id, 51)  # $1, $2 (and $3, $4) in order
    if after:
        params = (*params, datetime(2020, 1, 1, tzinfo=UTC), UUID(int=0))
    await assert_agency_leading_index(engine, agency_a.agency_id, statement, params)


PIPELINE_SQL = [
    "INSERT INTO app_user (agency_id, id, email, name, role, password_hash) "
    "VALUES (%(a)s, gen_random_uuid(), %(email)s, 'Crowd', 'consultant', 'not-a-hash')",
    "INSERT INTO client (agency_id, id, name) VALUES (%(a)s, gen_random_uuid(), 'Crowd client')",
    "INSERT INTO vacancy (agency_id, id, client_id, title) "
    "SELECT agency_id, gen_random_uuid(), id, 'Crowd role' FROM client WHERE agency_id = %(a)s",
    "INSERT INTO application (agency_id, id, candidate_id, vacancy_id, consultant_id) "
    "SELECT c.agency_id, gen_random_uuid(), c.id, v.id, u.id FROM candidate c "
    "JOIN vacancy v ON v.agency_id = c.agency_id JOIN app_user u ON u.agency_id = c.agency_id "
    "WHERE c.agency_id = %(a)s",
    "INSERT INTO interview (agency_id, id, application_id, starts_at, ends_at, format) "
    "SELECT agency_id, gen_random_uuid(), id, %(ended)s - interval '1 hour', %(ended)s, 'video' "
    "FROM application WHERE agency_id = %(a)s",
    "INSERT INTO next_steps (agency_id, id, interview_id, application_id, kind, details, "
    "decision_expected_by) "
    "SELECT agency_id, gen_random_uuid(), id, application_id, 'decision', 'Soon.', %(ended)s "
    "FROM interview WHERE agency_id = %(a)s",
]


CROWDED = {"candidate", "application", "interview", "next_steps"}


async def test_the_worklist_is_one_statement_on_agency_leading_indexes(
    database_urls: DatabaseUrls, engine: AsyncEngine, agency_a: Tenant, clock: FixedClock
) -> None:
    """Other agencies' consultants each with an ended interview on every application: the
    worklist's one statement (every kind, ordered and limited in SQL) reads the crowded tables
    only through indexes, and every index it uses leads with `agency_id` (a few-row table such
    as `agency` may be read whole)."""
    ended = clock.now() - timedelta(minutes=5)
    with connect(database_urls.owner) as owner:
        for n in range(AGENCIES):
            owner.execute("BEGIN")
            agency = crowd_agency(owner, f"P{n}")
            values = {"a": agency, "email": f"crowd-{n}@plans.example.com", "ended": ended}
            for statement in PIPELINE_SQL:
                owner.execute(statement, values)
            owner.execute("COMMIT")
        owner.execute("ANALYZE")
    consultant = await agency_a.add_user("consultant")
    api = await agency_a.integration()
    for _ in range(3):
        application = await make_application(agency_a, consultant_id=consultant["id"])
        await make_interview(
            agency_a, application["id"], starts_at=clock.now() + timedelta(hours=1)
        )
    clock.set(clock.now() + timedelta(hours=3))

    sent: list[tuple[str, Any]] = []

    def capture(_conn: Connection, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "UNION ALL" in statement:
            sent.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        response = await api.get("/v1/worklist", params={"assignee": consultant["id"]})
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 3 * 2
    assert len(sent) == 1
    statement, params = sent[0]
    assert "LIMIT" in statement

    async with engine.connect() as conn:
        await conn.execute(
            text("SELECT set_config('app.agency_id', :a, true)"), {"a": str(agency_a.agency_id)}
        )
        raw = await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params)
        value = raw.scalar_one()
        plan = json.loads(value) if isinstance(value, str) else value
        nodes = list(plan_nodes(plan[0]["Plan"]))
        seq_scans = {n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"}
        assert not seq_scans & CROWDED, seq_scans
        used = {n["Index Name"] for n in nodes if n.get("Index Name")} - {"pk_agency"}
        definitions = await conn.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(:i)"),
            {"i": list(used)},
        )
    leading = {name: "(agency_id," in definition for name, definition in definitions.all()}
    assert leading and all(leading.values()), leading
    print(f"worklist plan uses {sorted(leading)}")
