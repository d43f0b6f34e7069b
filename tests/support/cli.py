"""The operator's commands run in-process (`invoke`, a fixture) on the test database, and what
their tests share: the one line a refusal writes, a new agency, rows as the runtime role sees
them."""

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from typer.testing import CliRunner, Result

from app.cli import cli
from app.core.provision import DatabaseUrls, connect
from app.core.settings import get_settings


class Invoke(Protocol):
    def __call__(self, *args: str, input: str | None = None) -> Result: ...


@pytest.fixture
def invoke(
    database_urls: DatabaseUrls, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Invoke]:
    """`afterview …` in this process, on the test database (owner URL included)."""
    monkeypatch.setenv("DATABASE_URL", database_urls.runtime)
    monkeypatch.setenv("DATABASE_OWNER_URL", database_urls.owner)
    monkeypatch.setenv("AFTERVIEW_DATA_DIR", str(tmp_path / "unused"))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        get_settings.cache_clear()
        return runner.invoke(cli, list(args), input=input)

    yield run
    get_settings.cache_clear()
    assert not (tmp_path / "unused").exists(), "a command with DATABASE_URL touched the data dir"


def one_line(result: Result) -> str:
    """The single line a refused command writes on stderr (no traceback, not wrapped)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def new_email(label: str = "admin") -> str:
    return f"{label}-{secrets.token_hex(4)}@cli-agency.example.com"


def create_agency(invoke: Invoke, name: str, email: str, password: str) -> dict[str, str]:
    result = invoke(
        "agency", "create", name, "--admin-email", email, "--password-stdin", input=password + "\n"
    )
    assert result.exit_code == 0, result.stderr
    created: dict[str, str] = json.loads(result.stdout)
    return created


def as_runtime(
    urls: DatabaseUrls, agency_id: str, query: str, *params: Any
) -> list[tuple[Any, ...]]:
    """Rows the runtime role sees for one agency (RLS in force)."""
    with connect(urls.runtime) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.agency_id', %s, true)", (agency_id,))
        return conn.execute(query, params).fetchall()


def agencies_named(urls: DatabaseUrls, *names: str) -> list[str]:
    with connect(urls.owner) as conn:
        rows = conn.execute("SELECT name FROM agency WHERE name = ANY(%s)", (list(names),))
        return [row[0] for row in rows]
