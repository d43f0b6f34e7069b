"""The `afterview` command: the embedded lifecycle, the start-up refusals, deployment-mode
migrations and reversible migrations. Everything runs in real child processes against a real
PostgreSQL; every child (and any embedded postgres it started) is stopped even when a test fails."""

import json
import re
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import psycopg
import pytest
from alembic import command
from psycopg import sql
from sqlalchemy.engine import make_url

from app.core.provision import (
    DatabaseUrls,
    alembic_config,
    check_schema_current,
    connect,
    with_credentials,
)
from tests.conftest import TEST_OWNER, TEST_RUNTIME, TestDatabase
from tests.support.processes import (
    Server,
    cli_env,
    free_port,
    postgres_processes,
    run_cli,
    served_me,
    served_token,
    wait_for_no_postgres,
)

DEFAULT_DEMO_EMAIL = "admin@demo-agency.example.com"
DEMO_ANNOUNCEMENT = "Demo agency created"
APPLICATION_TABLES = {"agency", "app_user", "api_key", "audit_entry"}


def agency_of(base_url: str, token: str) -> dict[str, str]:
    agency = served_me(base_url, token)["agency"]
    assert isinstance(agency, dict)
    return agency


def create_agency_with_cli(env: dict[str, str], name: str, email: str, password: str) -> UUID:
    result = run_cli(
        "agency", "create", name, "--admin-email", email, "--password-stdin",
        env=env, input=password + "\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)  # stdout is exactly one JSON document
    UUID(created["admin_id"])
    return UUID(created["agency_id"])


def message_lines(stderr: str) -> list[str]:
    """What the command said on stderr, less blank lines and the closing "Afterview stopped."."""
    return [line for line in stderr.splitlines() if line.strip() and line != "Afterview stopped."]


def assert_clean_exit(code: int, signum: signal.Signals, workers: int = 1) -> None:
    """Stopped by its own handler, not killed by the signal (a negative code). One server
    process re-raises the signal once it has stopped, which `Signals` turns into 128 + n;
    uvicorn's supervisor of several workers handles it and returns: 0."""
    expected = 0 if workers > 1 else 128 + signum
    assert code == expected, f"exit code {code} after {signum.name}"


# --- 1. The embedded lifecycle ---------------------------------------------------------------


def ask_for_feedback(base_url: str, token: str) -> str:
    """An unsuccessful application whose vacancy has a hiring contact: the outcome queues a
    feedback request to that contact. Returns the contact's address."""
    with httpx.Client(
        base_url=base_url, timeout=10, headers={"Authorization": f"Bearer {token}"}
    ) as client:

        def post(path: str, body: dict[str, object]) -> dict[str, object]:
            response = client.post(path, json=body)
            assert response.status_code == 201, response.text
            created: dict[str, object] = response.json()
            return created

        company = post("/v1/clients", {"name": "Harbour Logistics"})
        contact = post(
            f"/v1/clients/{company['id']}/contacts",
            {"name": "Sofia Marin", "email": "sofia.marin@harbour.example.com"},
        )
        vacancy = post(
            "/v1/vacancies",
            {"client_id": company["id"], "title": "Analyst", "hiring_contact_id": contact["id"]},
        )
        candidate = post(
            "/v1/candidates",
            {
                "first_name": "Amara",
                "last_name": "Okafor",
                "email": "amara@example.com",
                "contact_consent": True,
            },
        )
        application = post(
            "/v1/applications", {"candidate_id": candidate["id"], "vacancy_id": vacancy["id"]}
        )
        outcome = client.put(
            f"/v1/applications/{application['id']}/outcome", json={"outcome": "unsuccessful"}
        )
        assert outcome.status_code == 200, outcome.text
    return str(contact["email"])


def wait_for_mail(mailbox: Path, to: str, timeout: float = 15) -> str:
    """The text of the first `.eml` in `mailbox` addressed to `to`, once it is written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in mailbox.glob("*.eml") if mailbox.exists() else ():
            text = path.read_text()
            if f"To: {to}" in text or f"<{to}>" in text:
                return text
        time.sleep(0.1)
    raise AssertionError(f"no mail to {to} in {mailbox} within {timeout}s")


def test_embedded_serve_lifecycle(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    demo_email, demo_password = "boss@demo-agency.example.com", secrets.token_urlsafe(16)
    env = cli_env(
        AFTERVIEW_DATA_DIR=str(data_dir),
        AFTERVIEW_DEMO_EMAIL=demo_email,
        AFTERVIEW_DEMO_PASSWORD=demo_password,
    )
    second_email, second_password = "head@second-agency.example.com", secrets.token_urlsafe(16)

    # First start: initdb, migrate, seed the demo agency from the settings.
    with Server(env, tmp_path / "logs", data_dir) as server:
        server.wait_ready()
        assert postgres_processes(data_dir), "no embedded postgres runs on the data dir"
        demo_token = served_token(server.base_url, demo_email, demo_password)
        assert agency_of(server.base_url, demo_token)["name"] == "Demo Agency"
        output = server.output()
        assert DEMO_ANNOUNCEMENT in output
        assert demo_password not in output, "a password the operator chose was echoed"

        # The embedded server also delivers mail: a feedback request lands in the mailbox,
        # its link pointing at the address serve listens on.
        assert f"Mail: writing .eml files to {(data_dir / 'mailbox').resolve()}" in output
        eml = wait_for_mail(data_dir / "mailbox", ask_for_feedback(server.base_url, demo_token))
        assert f"{server.base_url}/feedback/" in eml

        # The CLI joins the running embedded server and lets go of it without stopping it.
        second_id = create_agency_with_cli(env, "Second Agency", second_email, second_password)
        assert postgres_processes(data_dir), "agency create stopped the server's database"
        second_token = served_token(server.base_url, second_email, second_password)
        second = agency_of(server.base_url, second_token)
        assert (second["id"], second["name"]) == (str(second_id), "Second Agency")

        assert_clean_exit(server.stop(signal.SIGTERM), signal.SIGTERM)
        assert wait_for_no_postgres(data_dir) == []

    # Second start on the same data dir: the data (and the signing secret) are reused.
    with Server(env, tmp_path / "logs", data_dir) as server:
        server.wait_ready()
        assert agency_of(server.base_url, demo_token)["name"] == "Demo Agency"
        fresh_token = served_token(server.base_url, demo_email, demo_password)
        assert agency_of(server.base_url, fresh_token)["name"] == "Demo Agency"
        second_token = served_token(server.base_url, second_email, second_password)
        assert agency_of(server.base_url, second_token)["id"] == str(second_id)
        assert DEMO_ANNOUNCEMENT not in server.output()

        assert_clean_exit(server.stop(signal.SIGINT), signal.SIGINT)
        assert wait_for_no_postgres(data_dir) == []


def test_embedded_first_start_generates_and_shows_demo_password(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = cli_env(AFTERVIEW_DATA_DIR=str(data_dir))
    with Server(env, tmp_path / "logs", data_dir) as server:
        server.wait_ready()
        output = server.output()
        assert output.count(DEMO_ANNOUNCEMENT) == 1
        emails = re.findall(r"email:\s+(\S+)", output)
        passwords = re.findall(r"password:\s+([A-Za-z0-9_-]{12,})", output)
        assert emails == [DEFAULT_DEMO_EMAIL]
        assert len(passwords) == 1, output
        token = served_token(server.base_url, DEFAULT_DEMO_EMAIL, passwords[0])
        assert agency_of(server.base_url, token)["name"] == "Demo Agency"
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            wrong = client.post(
                "/v1/auth/token",
                data={"username": DEFAULT_DEMO_EMAIL, "password": passwords[0] + "x"},
            )
        assert wrong.status_code == 401

        assert_clean_exit(server.stop(signal.SIGTERM), signal.SIGTERM)
        assert wait_for_no_postgres(data_dir) == []


# --- 2. Refusing to start with an unsafe role or an old schema -------------------------------


@pytest.fixture
def bypassrls_url(test_database: TestDatabase, database_urls: DatabaseUrls) -> Iterator[str]:
    """A login role with BYPASSRLS (no superuser, owns nothing) on the migrated test database."""
    role, password = f"afterview_test_bypass_{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    database = make_url(database_urls.runtime).database
    assert database
    with connect(test_database.superuser_url) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER BYPASSRLS PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(database), sql.Identifier(role)
            )
        )
    try:
        yield with_credentials(test_database.superuser_url, role, password, database)
    finally:
        with connect(test_database.superuser_url) as conn:
            conn.execute(
                sql.SQL("REVOKE CONNECT ON DATABASE {} FROM {}").format(
                    sql.Identifier(database), sql.Identifier(role)
                )
            )
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("owner", "owns"),
        ("superuser", "superuser"),
        ("bypassrls", "BYPASSRLS"),
        ("unmigrated", "run `afterview migrate`"),
    ],
)
def test_serve_refuses_an_unsafe_role_or_unmigrated_database(
    case: str, reason: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    test_database: TestDatabase = request.getfixturevalue("test_database")
    if case == "owner":
        url = request.getfixturevalue("database_urls").owner
    elif case == "superuser":
        url = test_database.superuser_url
    elif case == "bypassrls":
        url = request.getfixturevalue("bypassrls_url")
    else:
        url = test_database.create().runtime
    env = cli_env(
        DATABASE_URL=url,
        AFTERVIEW_JWT_SECRET=secrets.token_urlsafe(32),
        AFTERVIEW_DATA_DIR=str(tmp_path / "unused"),
    )

    result = run_cli(
        "serve", "--host", "127.0.0.1", "--port", str(free_port()), env=env, timeout=30
    )

    assert result.returncode != 0
    lines = message_lines(result.stderr)
    assert len(lines) == 1, result.stderr  # one line, no traceback, not wrapped
    assert "refusing to start" in lines[0]
    assert reason in lines[0]
    assert not (tmp_path / "unused").exists(), "serve with DATABASE_URL touched the data dir"


def test_cli_errors_are_one_plain_line(tmp_path: Path) -> None:
    """A message quoting user input neither wraps nor is read as console markup."""
    email = "[/b]" + "x" * 80 + "@agency.example.com"
    env = cli_env(AFTERVIEW_DATA_DIR=str(tmp_path / "unused"))

    result = run_cli(
        "agency", "create", "Agency", "--admin-email", email, "--password-stdin",
        env=env, input="p" * 16 + "\n",
    )  # fmt: skip

    assert result.returncode == 1
    assert message_lines(result.stderr) == [f"afterview: not a valid email address: {email}"]
    assert not (tmp_path / "unused").exists()


# --- 3. Deployment mode: migrate as the owner, run as the runtime role -----------------------


def relation_exists(url: str, name: str) -> bool:
    with connect(url) as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    assert row is not None
    return bool(row[0])


def test_migrate_in_deployment_mode(test_database: TestDatabase, tmp_path: Path) -> None:
    urls = test_database.create()
    unused_dir = tmp_path / "unused"
    base = {"AFTERVIEW_DATA_DIR": str(unused_dir)}

    # The same role for both URLs is refused, and nothing is migrated.
    same = run_cli(
        "migrate", env=cli_env(DATABASE_URL=urls.owner, DATABASE_OWNER_URL=urls.owner, **base)
    )
    assert same.returncode != 0
    assert "different roles" in same.stderr, same.stderr
    assert not relation_exists(urls.owner, "alembic_version")

    deploy_env = cli_env(DATABASE_URL=urls.runtime, DATABASE_OWNER_URL=urls.owner, **base)
    migrated = run_cli("migrate", env=deploy_env)
    assert migrated.returncode == 0, migrated.stderr
    assert TEST_RUNTIME in migrated.stderr
    check_schema_current(urls.runtime)
    again = run_cli("migrate", env=deploy_env)  # idempotent: safe to run on every deploy
    assert again.returncode == 0, again.stderr

    # The service needs only DATABASE_URL to create an agency and to serve it.
    runtime_env = cli_env(
        DATABASE_URL=urls.runtime, AFTERVIEW_JWT_SECRET=secrets.token_urlsafe(32), **base
    )
    email, password = "admin@deployed-agency.example.com", secrets.token_urlsafe(16)
    agency_id = create_agency_with_cli(runtime_env, "Deployed Agency", email, password)
    with Server(runtime_env, tmp_path / "logs") as server:
        server.wait_ready()
        token = served_token(server.base_url, email, password)
        agency = agency_of(server.base_url, token)
        assert (agency["id"], agency["name"]) == (str(agency_id), "Deployed Agency")
        assert DEMO_ANNOUNCEMENT not in server.output()
        assert_clean_exit(server.stop(signal.SIGTERM), signal.SIGTERM)
    assert not unused_dir.exists(), "deployment mode touched the embedded data dir"

    # What the runtime role may do: read only its agency's rows, never rewrite history.
    with connect(urls.runtime) as conn:
        assert conn.execute("SELECT count(*) FROM app_user").fetchone() == (0,)
        with conn.transaction():
            conn.execute("SELECT set_config('app.agency_id', %s, true)", (str(agency_id),))
            assert conn.execute("SELECT count(*) FROM app_user").fetchone() == (1,)
            audit = conn.execute("SELECT count(*) FROM audit_entry").fetchone()
            assert audit is not None
            assert audit[0] >= 1
        for statement in (
            "UPDATE audit_entry SET occurred_at = occurred_at",
            "DELETE FROM audit_entry",
            "DELETE FROM agency",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


# --- 4. Migrations are reversible ------------------------------------------------------------


def application_objects(owner_url: str) -> dict[str, set[str]]:
    """Relations, functions and types the migrations may have left in the current schema."""
    queries = {
        "relations": """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              AND c.relname <> 'alembic_version'
        """,
        "functions": """
            SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = current_schema()
        """,
        "types": """
            SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd')
        """,
    }
    with connect(owner_url) as conn:
        return {kind: {row[0] for row in conn.execute(query)} for kind, query in queries.items()}


def test_serve_with_several_workers(database_urls: DatabaseUrls, tmp_path: Path) -> None:
    env = cli_env(
        DATABASE_URL=database_urls.runtime, AFTERVIEW_JWT_SECRET=secrets.token_urlsafe(32)
    )
    email, password = "admin@workers-agency.example.com", secrets.token_urlsafe(16)
    create_agency_with_cli(env, "Workers Agency", email, password)
    with Server(env, tmp_path / "logs", extra_args=("--workers", "2")) as server:
        server.wait_ready()
        token = served_token(server.base_url, email, password)
        for _ in range(4):  # several connections, so both workers answer some
            assert agency_of(server.base_url, token)["name"] == "Workers Agency"
        assert_clean_exit(server.stop(signal.SIGTERM), signal.SIGTERM, workers=2)


def test_migrations_are_reversible(test_database: TestDatabase) -> None:
    urls = test_database.create()
    assert make_url(urls.owner).username == TEST_OWNER
    config = alembic_config(urls.owner)

    command.upgrade(config, "head")
    upgraded = application_objects(urls.owner)
    assert upgraded["relations"] >= APPLICATION_TABLES

    command.downgrade(config, "base")
    assert application_objects(urls.owner) == {
        "relations": set(),
        "functions": set(),
        "types": set(),
    }

    command.upgrade(config, "head")
    assert application_objects(urls.owner) == upgraded
    check_schema_current(urls.owner)


def test_a_short_token_secret_is_refused_in_one_line(database_urls: DatabaseUrls) -> None:
    env = cli_env(DATABASE_URL=database_urls.runtime, AFTERVIEW_JWT_SECRET="too-short")
    result = run_cli("serve", env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "AFTERVIEW_JWT_SECRET" in lines[0]
    assert "32" in lines[0]
