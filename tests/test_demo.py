"""The demo agency: what the seed makes, the documentation's examples run against it in
workflow order, and `afterview demo reset`."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.agency.service import create_agency
from app.core.clock import SystemClock
from app.core.db import session_factory
from app.core.provision import DatabaseUrls
from app.demo import ids
from app.demo.data import CANDIDATES, DEMO_ADMIN_EMAIL
from app.demo.examples import EXAMPLES, UNSEEDED
from app.main import create_app
from app.worklist.schemas import WorkKind
from tests.conftest import JWT_SECRET, TEST_RUNTIME, TestDatabase
from tests.support.demo import DEMO_PASSWORD, DEMO_SETTINGS, seeded_demo
from tests.support.processes import cli_env, run_cli
from tests.support.records import list_items
from tests.support.tenants import login, new_client

WRITES = {"post", "put", "patch", "delete"}
PASSWORD = DEMO_PASSWORD


@dataclass
class Demo:
    urls: DatabaseUrls
    engine: AsyncEngine
    app: FastAPI


@pytest.fixture
async def demo(test_database: TestDatabase) -> AsyncIterator[Demo]:
    """A database of its own with a freshly seeded demo agency, and the app on it."""
    async with seeded_demo(test_database, TEST_RUNTIME, JWT_SECRET) as (urls, engine):
        app = create_app(DEMO_SETTINGS, engine=engine, jwt_secret=JWT_SECRET, clock=SystemClock())
        yield Demo(urls, engine, app)


async def admin_of(demo: Demo) -> AsyncClient:
    return new_client(demo.app, await login(demo.app, DEMO_ADMIN_EMAIL, PASSWORD))


async def test_the_seed_fills_every_list_the_worklist_and_the_report(demo: Demo) -> None:
    async with await admin_of(demo) as admin:
        candidates = await list_items(admin, "/v1/candidates", limit=100)
        applications = await list_items(admin, "/v1/applications", limit=100)
        work = await list_items(admin, "/v1/worklist", limit=100)
        report = await admin.get("/v1/reports/post-interview")
        consultants = await list_items(admin, "/v1/users", limit=100)

    assert len(candidates) == len(CANDIDATES) == 21
    statuses = Counter(a["status"] for a in applications)
    assert set(statuses) == {"active", "offer", "placed", "unsuccessful", "withdrawn"}
    assert {item["kind"] for item in work} == set(WorkKind)
    assert all(item["candidate_name"] and item["client_name"] for item in work)
    assert report.status_code == 200, report.text
    figures = report.json()["agency"]
    assert all(value for value in figures.values()), figures  # each figure shows something
    assert len(report.json()["consultants"]) >= 2 and len(report.json()["clients"]) >= 3
    assert {u["name"] for u in consultants} >= {"Alex Morgan", "Sam Okafor", "Lena Fischer"}


def document_operations(app: FastAPI) -> dict[str, tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    return {
        operation["operationId"]: (method, path, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    }


def as_shown(path: str, operation: dict[str, Any]) -> tuple[str, dict[str, str], Any]:
    """The request the document's examples make: path ids, If-Match and the demo body."""
    headers: dict[str, str] = {}
    for parameter in operation.get("parameters", []):
        if "example" not in parameter:
            continue
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", str(parameter["example"]))
        elif parameter["in"] == "header":
            headers[parameter["name"]] = parameter["example"]
    assert "{" not in path, f"a path id has no example: {path}"
    body = None
    content = operation.get("requestBody", {}).get("content", {})
    for media in content.values():
        body = media["examples"]["demo"]["value"]
    return path, headers, body


def success_status(op_id: str, operation: dict[str, Any]) -> int:
    """The status the operation answers when it works, as its document declares it. Of 200
    (replaced) and 201 (created), the story's examples create: a new external id, a first
    debrief."""
    documented = sorted(int(code) for code in operation["responses"] if code.startswith("2"))
    if documented == [200, 201]:
        return 201
    assert len(documented) == 1, f"{op_id} declares {documented}"
    return documented[0]


async def test_each_write_example_succeeds_as_shown_in_workflow_order(demo: Demo) -> None:
    operations = document_operations(demo.app)
    writes = {op_id for op_id, (method, _, _) in operations.items() if method in WRITES}
    in_story = [example.operation for example in EXAMPLES]
    assert sorted(in_story) == sorted(writes - set(UNSEEDED)), "every write route has an example"
    assert len(in_story) == len(set(in_story))

    method, path, operation = operations["log_in"]
    form = as_shown(path, operation)[2]
    assert form["username"] == DEMO_ADMIN_EMAIL  # only the password is the installation's own
    token = await login(demo.app, form["username"], PASSWORD)
    failures = []
    async with new_client(demo.app, token) as admin:
        for op_id in in_story[1:]:
            method, template, operation = operations[op_id]
            path, headers, body = as_shown(template, operation)
            response = await admin.request(method.upper(), path, json=body, headers=headers)
            if response.status_code != success_status(op_id, operation):
                failures.append(f"{op_id}: {response.status_code} {response.text[:300]}")
    assert failures == []


async def test_read_examples_name_the_demo_story(demo: Demo) -> None:
    """Every GET with a path id shows one that exists in the demo (Try it out finds it)."""
    operations = document_operations(demo.app)
    failures = []
    async with await admin_of(demo) as admin:
        for op_id, (method, template, operation) in operations.items():
            if method != "get" or "{" not in template or template.startswith("/v1/public/"):
                continue
            path = as_shown(template, operation)[0]
            response = await admin.get(path)
            if response.status_code != success_status(op_id, operation):
                failures.append(f"{op_id}: {response.status_code} {response.text[:200]}")
    assert failures == []


async def test_demo_reset_rebuilds_the_demo_and_leaves_other_agencies_alone(demo: Demo) -> None:
    other = await create_agency(
        session_factory(demo.engine),
        SystemClock(),
        "Another Agency",
        "admin@another.example.com",
        "another-password-1",
    )
    async with await admin_of(demo) as admin:
        changed = await admin.delete(
            f"/v1/candidates/{ids.candidate('paula')}", headers={"If-Match": '"1"'}
        )
        assert changed.status_code == 204, changed.text

    env = cli_env(
        DATABASE_URL=demo.urls.runtime,
        DATABASE_OWNER_URL=demo.urls.owner,
        AFTERVIEW_JWT_SECRET=JWT_SECRET,
        AFTERVIEW_DEMO_PASSWORD=PASSWORD,
    )
    result = await asyncio.to_thread(run_cli, "demo", "reset", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Demo agency rebuilt" in result.stderr
    assert '"event": "request"' not in result.stderr  # the seed's own requests stay quiet

    async with await admin_of(demo) as admin:
        paula = await admin.get(f"/v1/candidates/{ids.candidate('paula')}")
        assert paula.status_code == 200  # back, as seeded
        assert paula.headers["ETag"] == '"1"'
    token = await login(demo.app, "admin@another.example.com", "another-password-1")
    async with new_client(demo.app, token) as another:
        me = await another.get("/v1/me")
        assert me.status_code == 200
        assert me.json()["user"]["id"] == str(other.admin_id)
