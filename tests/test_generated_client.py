"""A typed client generated from the served OpenAPI document with `openapi-python-client`, with
no warning, works against `afterview serve`: it logs in, adds a candidate, walks a list by
cursor and records step 1 of the workflow, reading ETags and Locations as documented."""

import importlib
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from app.core.provision import DatabaseUrls
from tests.support.processes import Server, cli_env
from tests.support.tenants import Tenant

PACKAGE = "afterview_client"
CONFIG = "post_hooks: []\n"  # the generated code is imported, not formatted
PAGE_SIZE = 2


@pytest.fixture
def server(database_urls: DatabaseUrls, tmp_path: Path) -> Iterator[Server]:
    env = cli_env(
        DATABASE_URL=database_urls.runtime,
        AFTERVIEW_JWT_SECRET=secrets.token_urlsafe(32),
    )
    with Server(env, tmp_path / "logs", extra_args=("--no-worker",)) as running:
        running.wait_ready()
        yield running


def generate(url: str, into: Path) -> subprocess.CompletedProcess[str]:
    config = into / "config.yaml"
    config.write_text(CONFIG)
    tool = Path(sys.executable).parent / "openapi-python-client"
    return subprocess.run(  # noqa: S603 - a fixed executable and arguments
        [
            str(tool), "generate", "--url", url, "--meta", "none",
            "--output-path", str(into / PACKAGE), "--config", str(config), "--fail-on-warning",
        ],
        cwd=into, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def client_package(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    generated = generate(f"{server.base_url}/openapi.json", tmp_path)
    output = generated.stdout + generated.stderr
    assert generated.returncode == 0, output
    assert "Warning" not in output, output
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(name: str) -> Any:
    """A module of the generated package: `models`, or one operation (`api.<tag>.<id>`)."""
    return importlib.import_module(f"{PACKAGE}.{name}")


async def _log_in(base_url: str, tenant: Tenant) -> Any:
    """Log in with the OAuth2 password form, as /docs' Authorize sends it."""
    client, models = importlib.import_module(PACKAGE), _module("models")
    form = models.BodyLogIn(username=tenant.admin_email, password=tenant.admin_password)
    token = await _module("api.auth.log_in").asyncio(
        client=client.Client(base_url=base_url), body=form
    )
    assert isinstance(token, models.TokenResponse), token
    return client.AuthenticatedClient(base_url=base_url, token=token.access_token)


async def _add_candidates(api: Any, tag: str, count: int) -> set[Any]:
    """`count` candidates whose name holds `tag`: each a 201 with its Location and ETag."""
    models, create_candidate = _module("models"), _module("api.candidates.create_candidate")
    ids = set()
    for n in range(count):
        body = models.CandidateCreate(
            first_name="Amara", last_name=f"Okafor{tag}x{n}", email=f"amara.{tag}.{n}@example.com"
        )
        created = await create_candidate.asyncio_detailed(client=api, body=body)
        assert created.status_code == 201, created.content
        assert isinstance(created.parsed, models.CandidateRead)
        assert created.headers["Location"] == f"/v1/candidates/{created.parsed.id}"
        assert created.headers["ETag"] == '"1"'
        assert created.headers["RateLimit"] and created.headers["X-Request-ID"]
        ids.add(created.parsed.id)
    return ids


async def _walk_candidates(api: Any, name: str) -> tuple[list[Any], int]:
    """The ids of every candidate whose name holds `name`, page by page; and the page count."""
    models, list_candidates = _module("models"), _module("api.candidates.list_candidates")
    seen: list[Any] = []
    cursor: Any = _module("types").UNSET
    pages = 0
    while cursor is not None:
        page = await list_candidates.asyncio_detailed(
            client=api, name=name, limit=PAGE_SIZE, cursor=cursor
        )
        assert page.status_code == 200, page.content
        assert isinstance(page.parsed, models.PageCandidateRead)
        pages += 1
        seen += [item.id for item in page.parsed.items]
        cursor = page.parsed.next_
    return seen, pages


async def _ended_interview(api: Any, candidate_id: Any, tag: str) -> Any:
    """A client, a vacancy, an application and an interview that ended two hours ago."""
    models = _module("models")
    client = await _module("api.clients.create_client").asyncio(
        client=api, body=models.ClientCreate(name=f"Harbour Logistics {tag}")
    )
    vacancy = await _module("api.pipeline.create_vacancy").asyncio(
        client=api, body=models.VacancyCreate(client_id=client.id, title="Supply Chain Analyst")
    )
    application = await _module("api.pipeline.create_application").asyncio(
        client=api, body=models.ApplicationCreate(candidate_id=candidate_id, vacancy_id=vacancy.id)
    )
    starts_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    interview = await _module("api.pipeline.create_interview").asyncio(
        client=api,
        body=models.InterviewCreate(
            application_id=application.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            format_=models.InterviewFormat.VIDEO,
        ),
    )
    assert isinstance(interview, models.InterviewRead), interview
    assert interview.ends_at == starts_at + timedelta(hours=1)  # read back as a datetime
    return interview


async def test_a_generated_client_logs_in_creates_pages_and_runs_a_step(
    server: Server, client_package: ModuleType, agency_a: Tenant
) -> None:
    api = await _log_in(server.base_url, agency_a)
    tag = secrets.token_hex(4)
    created = await _add_candidates(api, tag, 2 * PAGE_SIZE + 1)

    seen, pages = await _walk_candidates(api, tag)
    assert pages == 3
    assert sorted(seen) == sorted(created)  # each exactly once

    # Step 1: record the next steps, then correct them with the ETag as If-Match.
    models = _module("models")
    record_next_steps = _module("api.step_1_next_steps.record_next_steps")
    interview = await _ended_interview(api, min(created), tag)
    plan = models.NextStepsWrite(
        kind=models.NextStepKind.ANOTHER_ROUND,
        details="A second round with the CFO next week.",
        decision_expected_by=interview.ends_at + timedelta(days=3),
    )
    recorded = await record_next_steps.asyncio_detailed(interview.id, client=api, body=plan)
    assert recorded.status_code == 201, recorded.content
    assert isinstance(recorded.parsed, models.NextStepsRead)
    assert recorded.parsed.interview_id == interview.id
    assert recorded.headers["Location"] == f"/v1/interviews/{interview.id}/next-steps"

    plan.details = "A second round with the CFO on Tuesday."
    etag = recorded.headers["ETag"]
    corrected = await record_next_steps.asyncio_detailed(
        interview.id, client=api, body=plan, if_match=etag
    )
    assert corrected.status_code == 200, corrected.content
    assert corrected.parsed.details == plan.details
    assert corrected.headers["ETag"] != etag
    stale = await record_next_steps.asyncio_detailed(
        interview.id, client=api, body=plan, if_match=etag
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.ProblemDocument)
    assert stale.parsed.type_.endswith("/stale-etag")
