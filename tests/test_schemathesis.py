"""Schemathesis against the real service: every check, all four phases (examples, coverage,
fuzzing, stateful), against `afterview serve` on the tests' PostgreSQL. 0 failures.

The run acts as an agency admin's API key holding every scope, in an agency seeded with one
record of each kind; the generated requests draw their ids from those records (schemathesis
dictionaries), so valid requests reach the rules instead of stopping at 404.
"""

import json
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.auth import Scope
from app.core.provision import migrate
from tests.conftest import TEST_RUNTIME, TestDatabase
from tests.support.processes import PROJECT_ROOT, Server, cli_env, run_cli, served_token

MAX_EXAMPLES = 4
"""Per operation, in the fuzzing and stateful phases (the examples and coverage phases do not
depend on it); eight took about two minutes on 2 cores. The seed differs per run, so runs add
up; raise it locally to dig."""


VALID_DATA_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429", "5xx"]
"""schemathesis' defaults, plus the 412 and 422 the contract answers to well-formed requests that
what is stored refuses; `schemathesis_hooks` fails any 422 that says the shape is wrong."""


MISSING_HEADER_STATUSES = ["400", "401", "403", "406", "415", "422", "428"]
"""schemathesis' defaults, plus 428 Precondition Required: RFC 6585's answer to a write without
the `If-Match` it needs (`precondition-required`)."""


def _created(client: httpx.Client, path: str, body: dict[str, Any]) -> str:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    created: str = response.json()["id"]
    return created


def seed(base_url: str, email: str, password: str) -> tuple[str, dict[str, list[str]]]:
    """An API key with every scope, and the ids of one record of each kind (by path name)."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        client.headers["Authorization"] = f"Bearer {served_token(base_url, email, password)}"
        me = client.get("/v1/me").json()
        created = client.post("/v1/api-keys", json={"name": "schemathesis", "scopes": list(Scope)})
        assert created.status_code == 201, created.text
        client_id = _created(client, "/v1/clients", {"name": "Harbour Logistics"})
        contact_id = _created(
            client,
            f"/v1/clients/{client_id}/contacts",
            {"name": "Sofia Marin", "email": "sofia@harbour.example.com"},
        )
        vacancy_id = _created(
            client,
            "/v1/vacancies",
            {"client_id": client_id, "title": "Analyst", "hiring_contact_id": contact_id},
        )
        candidate_id = _created(
            client,
            "/v1/candidates",
            {
                "first_name": "Amara",
                "last_name": "Okafor",
                "email": "amara@example.com",
                "contact_consent": True,
            },
        )
        referee_id = _created(
            client,
            f"/v1/candidates/{candidate_id}/referees",
            {
                "name": "Daniel Reyes",
                "email": "daniel@example.org",
                "relationship": "Line manager",
                "consent_to_contact": True,
            },
        )
        application_id = _created(
            client, "/v1/applications", {"candidate_id": candidate_id, "vacancy_id": vacancy_id}
        )
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
        interview_id = _created(
            client,
            "/v1/interviews",
            {
                "application_id": application_id,
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=1)).isoformat(),
                "format": "video",
                "interviewer_ids": [contact_id],
            },
        )
    ids = {
        "user": [me["user"]["id"]],
        "client": [client_id],
        "contact": [contact_id],
        "vacancy": [vacancy_id],
        "candidate": [candidate_id],
        "referee": [referee_id],
        "application": [application_id],
        "interview": [interview_id],
        "key": [created.json()["id"]],
    }
    return created.json()["key"], ids


def config(ids: dict[str, list[str]]) -> str:
    """schemathesis.toml: generated ids come from the seeded records."""
    records = [i for kind in ids.values() for i in kind]
    bindings = {
        "path.record_id": "records",
        "path.candidate_id": "candidate",
        "path.client_id": "client",
        "path.application_id": "application",
        "path.interview_id": "interview",
        "path.user_id": "user",
        "path.key_id": "key",
        "body.candidate_id": "candidate",
        "body.client_id": "client",
        "body.vacancy_id": "vacancy",
        "body.application_id": "application",
        "body.consultant_id": "user",
        "body.hiring_contact_id": "contact",
        "body.referee_id": "referee",
    }
    lines = [
        'hooks = "tests.support.schemathesis_hooks"',
        f"generation.max-examples = {MAX_EXAMPLES}",
        "",
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {json.dumps(VALID_DATA_STATUSES)}",
        "",
        "[checks.missing_required_header]",
        f"expected-statuses = {json.dumps(MISSING_HEADER_STATUSES)}",
        "",
        "[parameters]",
    ]
    lines += [f'"{key}" = {{ dictionary = "{name}" }}' for key, name in bindings.items()]
    lines.append(f'"header.On-Behalf-Of" = "{ids["user"][0]}"')
    for name, values in {**ids, "records": records}.items():
        lines += ["", f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def served(test_database: TestDatabase, tmp_path: Path) -> Any:
    urls = test_database.create("afterview_schemathesis")
    migrate(urls.owner, TEST_RUNTIME)
    env = cli_env(
        DATABASE_URL=urls.runtime,
        AFTERVIEW_JWT_SECRET=secrets.token_urlsafe(32),
        AFTERVIEW_PUBLIC_URL="http://afterview.test",
        AFTERVIEW_RATE_LIMIT_PER_MINUTE="1000000",
    )
    email, password = "admin@schemathesis.example.com", secrets.token_urlsafe(16)
    made = run_cli(
        "agency", "create", "Fuzzed Agency", "--admin-email", email, "--password-stdin",
        env=env, input=password + "\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    with Server(env, tmp_path / "logs", extra_args=("--no-worker",)) as server:
        server.wait_ready()
        yield server, email, password


def test_schemathesis_finds_nothing(served: Any, tmp_path: Path) -> None:
    server, email, password = served
    key, ids = seed(server.base_url, email, password)
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(config(ids))
    st = Path(sys.executable).parent / "st"
    result = subprocess.run(  # noqa: S603 - a fixed executable and arguments
        [
            str(st), "--config-file", str(config_file), "run", f"{server.base_url}/openapi.json",
            "--checks", "all",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--header", f"Authorization: Bearer {key}",
            "--workers", "1",  # its threads race in CPython 3.11's ast module (hypothesis)
            "--seed", str(secrets.randbelow(2**32)),
            "--no-color",
        ],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    (tmp_path / "schemathesis.out").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-3000:]}"
