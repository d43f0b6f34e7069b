"""The operator's commands, run in-process against the test database: `--version`, `agency
create|list`, `user reset-password`. Passwords come from standard input, never from argv."""

import json
import os
import pty
import secrets
import select
import time
from importlib.metadata import version
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from app.core.provision import DatabaseUrls, connect
from app.core.security import verify_password
from tests.support.cli import (
    Invoke,
    agencies_named,
    as_runtime,
    create_agency,
    new_email,
    one_line,
)
from tests.support.processes import Server, afterview_executable, cli_env, served_me, served_token


def test_version_prints_the_installed_version(invoke: Invoke) -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"afterview {version('afterview')}\n"


# --- agency create ---------------------------------------------------------------------------


def test_agency_create_reads_the_password_from_stdin(
    invoke: Invoke, database_urls: DatabaseUrls
) -> None:
    email, password = new_email(), "  correct horse battery staple "  # kept as typed
    created = create_agency(invoke, "Stdin Agency", email.upper(), password)

    rows = as_runtime(
        database_urls,
        created["agency_id"],
        "SELECT id, email, password_hash, role FROM app_user",
    )
    assert len(rows) == 1
    user_id, stored_email, password_hash, role = rows[0]
    assert (str(user_id), stored_email, role) == (created["admin_id"], email, "admin")
    assert verify_password(password_hash, password)
    assert not verify_password(password_hash, password.strip())


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("", "the password is empty"),
        ("\n", "the password is empty"),
        ("eleven-char\n", "the password must have 12 to 256 characters (it has 11)"),
        ("x" * 257 + "\n", "the password must have 12 to 256 characters (it has 257)"),
    ],
)
def test_agency_create_refuses_a_bad_password(
    invoke: Invoke, database_urls: DatabaseUrls, stdin: str, message: str
) -> None:
    name = f"Refused Agency {secrets.token_hex(4)}"
    result = invoke(
        "agency", "create", name, "--admin-email", new_email(), "--password-stdin", input=stdin
    )
    assert result.exit_code == 1
    assert one_line(result) == f"afterview: {message}"
    assert agencies_named(database_urls, name) == []


def test_agency_create_without_a_terminal_needs_password_stdin(
    invoke: Invoke, database_urls: DatabaseUrls
) -> None:
    name = f"No Terminal Agency {secrets.token_hex(4)}"
    result = invoke("agency", "create", name, "--admin-email", new_email(), input="p" * 16 + "\n")
    assert result.exit_code == 1
    assert "pass --password-stdin" in one_line(result)
    assert agencies_named(database_urls, name) == []


def test_a_password_on_argv_is_not_an_option(invoke: Invoke) -> None:
    result = invoke(
        "agency",
        "create",
        "Argv Agency",
        "--admin-email",
        new_email(),
        "--admin-password",
        "p" * 16,
    )
    assert result.exit_code == 2  # a usage error: the option does not exist
    assert "No such option: --admin-password" in result.stderr


def test_agency_create_refuses_an_email_another_agency_uses(
    invoke: Invoke, database_urls: DatabaseUrls
) -> None:
    email, password = new_email(), secrets.token_urlsafe(16)
    first_name, second_name = f"First {secrets.token_hex(4)}", f"Second {secrets.token_hex(4)}"
    first = create_agency(invoke, first_name, email, password)

    for spelling in (email, email.upper()):  # emails compare in lower case, as login does
        again = invoke(
            "agency",
            "create",
            second_name,
            "--admin-email",
            spelling,
            "--password-stdin",
            input=password + "\n",
        )
        assert again.exit_code == 1
        assert one_line(again) == (
            f"afterview: {email} already logs in to agency {first['agency_id']}; the first "
            "admin needs an email no agency uses, so that logging in by email stays unambiguous"
        )
        assert again.stdout == ""
    assert agencies_named(database_urls, first_name, second_name) == [first_name]


# --- agency list -----------------------------------------------------------------------------


def test_agency_list(
    invoke: Invoke, database_urls: DatabaseUrls, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"Listed {secrets.token_hex(4)}" for _ in range(2)]
    made = [create_agency(invoke, name, new_email(), secrets.token_urlsafe(16)) for name in names]
    # The second agency's admin is suspended: it has no active user.
    with connect(database_urls.runtime) as conn, conn.transaction():
        conn.execute("SELECT set_config('app.agency_id', %s, true)", (made[1]["agency_id"],))
        conn.execute("UPDATE app_user SET active = false")

    as_json = invoke("agency", "list", "--json")
    assert as_json.exit_code == 0, as_json.stderr
    listed = {agency["id"]: agency for agency in json.loads(as_json.stdout)}
    for name, agency, active in zip(names, made, (1, 0), strict=True):
        entry = listed[agency["agency_id"]]
        assert (entry["name"], entry["active_users"]) == (name, active)
        assert entry["created_at"].endswith("+00:00")
    ordered = [entry["id"] for entry in listed.values()]
    assert ordered.index(made[0]["agency_id"]) < ordered.index(made[1]["agency_id"])

    monkeypatch.setenv("COLUMNS", "160")  # the table fits a terminal's width, wrapping names
    table = invoke("agency", "list")
    assert table.exit_code == 0, table.stderr
    for name, agency in zip(names, made, strict=True):
        line = next(line for line in table.stdout.splitlines() if agency["agency_id"] in line)
        assert name in line


def test_agency_list_needs_the_owner(invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_OWNER_URL")
    result = invoke("agency", "list")
    assert result.exit_code == 1
    assert one_line(result) == (
        "afterview: set DATABASE_OWNER_URL: only the owner role may read every agency"
    )


# --- user reset-password ---------------------------------------------------------------------


def test_reset_password_ends_old_tokens_and_is_audited(
    invoke: Invoke, database_urls: DatabaseUrls, tmp_path: Path
) -> None:
    email, old, new = new_email(), secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    agency = create_agency(invoke, "Reset Agency", email, old)
    env = cli_env(
        DATABASE_URL=database_urls.runtime, AFTERVIEW_JWT_SECRET=secrets.token_urlsafe(32)
    )
    with Server(env, tmp_path / "logs", extra_args=("--no-worker",)) as server:
        server.wait_ready()
        old_token = served_token(server.base_url, email, old)
        assert served_me(server.base_url, old_token)["user"] is not None
        # Tokens carry whole seconds, so a reset ends those issued before its second began.
        time.sleep(1.05 - time.time() % 1)

        reset = invoke(
            "user",
            "reset-password",
            email.upper(),
            "--agency",
            agency["agency_id"],
            "--password-stdin",
            input=new + "\n",
        )
        assert reset.exit_code == 0, reset.stderr
        assert one_line(reset) == (
            f"New password set for {email}; the tokens they held no longer count."
        )

        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            stale = client.get("/v1/me", headers={"Authorization": f"Bearer {old_token}"})
            assert stale.status_code == 401
            assert stale.json()["type"].endswith("/invalid-token")
            refused = client.post("/v1/auth/token", data={"username": email, "password": old})
            assert refused.status_code == 401
        assert (
            served_me(server.base_url, served_token(server.base_url, email, new))["user"]
            is not None
        )

    audit = as_runtime(
        database_urls,
        agency["agency_id"],
        "SELECT action, object_id, user_id, details FROM audit_entry WHERE action = 'user.updated'",
    )
    assert audit == [("user.updated", UUID(agency["admin_id"]), None, {"fields": ["password"]})]


@pytest.mark.parametrize("case", ["unknown email", "other agency", "malformed agency"])
def test_reset_password_refuses_an_unknown_user(
    invoke: Invoke, database_urls: DatabaseUrls, case: str
) -> None:
    email, password = new_email(), secrets.token_urlsafe(16)
    agency = create_agency(invoke, "Known Agency", email, password)
    other = create_agency(invoke, "Other Agency", new_email(), secrets.token_urlsafe(16))
    target, agency_id = {
        "unknown email": (new_email("nobody"), agency["agency_id"]),
        "other agency": (email, other["agency_id"]),
        "malformed agency": (email, "not-a-uuid"),
    }[case]

    result = invoke(
        "user",
        "reset-password",
        target,
        "--agency",
        agency_id,
        "--password-stdin",
        input=secrets.token_urlsafe(16) + "\n",
    )

    assert result.exit_code == 1
    expected = (
        "afterview: not an agency id: not-a-uuid (see `afterview agency list`)"
        if case == "malformed agency"
        else f"afterview: no user {target} in agency {agency_id}"
    )
    assert one_line(result) == expected
    rows = as_runtime(
        database_urls, agency["agency_id"], "SELECT password_hash, tokens_valid_after FROM app_user"
    )
    assert verify_password(rows[0][0], password)
    assert rows[0][1] is None


def test_agency_create_asks_on_the_terminal(database_urls: DatabaseUrls, tmp_path: Path) -> None:
    """On a terminal, the password is asked for twice, and not echoed."""
    email, password = new_email(), secrets.token_urlsafe(16)
    env = cli_env(DATABASE_URL=database_urls.runtime, AFTERVIEW_DATA_DIR=str(tmp_path / "unused"))
    args = ["agency", "create", "Terminal Agency", "--admin-email", email]
    pid, terminal = pty.fork()
    if pid == 0:  # the child: its controlling terminal is the pty
        os.execve(afterview_executable(), ["afterview", *args], env)  # noqa: S606
    screen = b""
    try:
        for prompt in (b"Password of the first admin: ", b"Repeat for confirmation: "):
            screen += read_until(terminal, prompt, screen)
            os.write(terminal, password.encode() + b"\r")
        screen += read_until(terminal, b"}", screen)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0, screen
    assert password.encode() not in screen
    created = json.loads(screen[screen.rindex(b"{") :])
    rows = as_runtime(database_urls, created["agency_id"], "SELECT email FROM app_user")
    assert rows == [(email,)]


def read_until(fd: int, wanted: bytes, before: bytes, timeout: float = 30) -> bytes:
    """What the terminal shows until `wanted` appears (after `before`)."""
    seen, deadline = b"", time.monotonic() + timeout
    while wanted not in before + seen:
        assert time.monotonic() < deadline, f"no {wanted!r} on the terminal: {before + seen!r}"
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            seen += os.read(fd, 4096)
    return seen
