"""The list queries the API really sends use an index that leads with `agency_id`, as the
runtime role, on a table holding many agencies' rows."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.provision import DatabaseUrls, connect
from tests.support.tenants import Tenant

AGENCIES = 40
CANDIDATES_EACH = 500


@pytest.fixture(scope="module")
def crowded(database_urls: DatabaseUrls) -> None:
    """Other agencies' candidates around the one under test, and fresh planner statistics."""
    with connect(database_urls.owner) as owner:
        for n in range(AGENCIES):
            owner.execute("BEGIN")
            agency = owner.execute("SELECT gen_random_uuid()").fetchone()
            assert agency is not None
            owner.execute("SELECT set_config('app.agency_id', %s, true)", (str(agency[0]),))
            owner.execute("INSERT INTO agency (id, name) VALUES (%s, %s)", (agency[0], f"C{n}"))
            owner.execute(
                "INSERT INTO candidate (agency_id, id, first_name, last_name, email) "
                "SELECT %s, gen_random_uuid(), 'F' || i, 'L' || i, 'c' || i || '@example.com' "
                "FROM generate_series(1, %s) AS i",
                (agency[0], CANDIDATES_EACH),
            )
            owner.execute("COMMIT")
        owner.execute("ANALYZE candidate")


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


async def test_candidate_list_uses_an_agency_leading_index(
    crowded: None, engine: AsyncEngine, agency_a: Tenant
) -> None:
    for n in range(3):
        await agency_a.admin.post(
            "/v1/candidates",
            json={"first_name": f"A{n}", "last_name": "Own", "email": f"a{n}@example.com"},
        )
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Connection, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "FROM candidate" in statement and "ORDER BY" in statement:
            sent.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        response = await agency_a.admin.get("/v1/candidates", params={"limit": 50})
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    assert response.status_code == 200
    assert len(response.json()["items"]) == 3
    assert len(sent) == 1
    statement, params = sent[0]

    async with engine.connect() as conn:
        await conn.execute(
            text("SELECT set_config('app.agency_id', :a, true)"), {"a": str(agency_a.agency_id)}
        )
        role = await conn.scalar(text("SELECT current_user"))
        raw = await conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params)
        value = raw.scalar_one()
        plan = json.loads(value) if isinstance(value, str) else value
    assert role == "afterview_test_app"
    nodes = list(plan_nodes(plan[0]["Plan"]))
    index_scans = [n for n in nodes if n.get("Index Name")]
    assert index_scans, [n["Node Type"] for n in nodes]
    assert all(n["Node Type"] != "Seq Scan" for n in nodes)
    index = index_scans[0]["Index Name"]
    async with engine.connect() as conn:
        definition = await conn.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = :i"), {"i": index}
        )
    assert "(agency_id," in definition, definition
    print(f"list plan uses {index}: {definition}")
