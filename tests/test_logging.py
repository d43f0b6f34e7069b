"""Logs: JSON lines when standard error is not a terminal (no colour codes in files), each line
of a request naming its request id, agency and user or API key; never a credential."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI

from app.core.auth import CurrentPrincipal
from app.core.provision import DatabaseUrls
from tests.conftest import JWT_SECRET
from tests.support.processes import Server, cli_env
from tests.support.tenants import Tenant, new_client

ANSI = "\x1b["


def serve(urls: DatabaseUrls, log_dir: Path, **settings: str) -> Server:
    """`afterview serve` on the test database, its standard error going to a file."""
    env = cli_env(DATABASE_URL=urls.runtime, AFTERVIEW_JWT_SECRET=JWT_SECRET, **settings)
    return Server(env, log_dir)


def json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def access_line(lines: list[dict[str, Any]], request_id: str) -> dict[str, Any]:
    found = [line for line in lines if line["event"] == "request"]
    found = [line for line in found if line.get("request_id") == request_id]
    assert len(found) == 1, lines
    return found[0]


@pytest.fixture
def server(database_urls: DatabaseUrls, tmp_path: Path) -> Iterator[Server]:
    """With no AFTERVIEW_LOG_JSON: `auto`, and standard error is a file."""
    with serve(database_urls, tmp_path) as running:
        running.wait_ready()
        yield running


async def test_a_file_gets_json_lines_naming_the_request_agency_and_caller(
    server: Server, agency_a: Tenant
) -> None:
    created = await agency_a.api_key()
    key = created["key"]
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        login = await client.post(
            "/v1/auth/token",
            data={"username": agency_a.admin_email, "password": agency_a.admin_password},
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        as_user = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert as_user.status_code == 200, as_user.text
        as_key = await client.get("/v1/candidates", headers={"Authorization": f"Bearer {key}"})
        assert as_key.status_code == 200, as_key.text
    server.stop()  # the access lines are all written by then

    output = server.output()
    assert ANSI not in output
    lines = json_lines(output)
    assert lines
    assert all({"event", "level", "timestamp"} <= set(line) for line in lines)

    user_line = access_line(lines, as_user.headers["X-Request-ID"])
    assert user_line["method"] == "GET"
    assert user_line["route"] == "/v1/me"
    assert user_line["status"] == 200
    assert isinstance(user_line["ms"], float)
    assert user_line["agency_id"] == str(agency_a.agency_id)
    assert user_line["user_id"] == str(agency_a.admin_id)
    assert "api_key_id" not in user_line

    key_line = access_line(lines, as_key.headers["X-Request-ID"])
    assert key_line["route"] == "/v1/candidates"
    assert key_line["agency_id"] == str(agency_a.agency_id)
    assert key_line["api_key_id"] == created["id"]
    assert "user_id" not in key_line

    login_line = access_line(lines, login.headers["X-Request-ID"])
    assert login_line["route"] == "/v1/auth/token"
    assert "agency_id" not in login_line  # nobody was authenticated by a credential yet
    for secret in (agency_a.admin_password, token, key):
        assert secret not in output


async def test_readable_lines_when_forced_still_carry_no_colour_codes_into_a_file(
    database_urls: DatabaseUrls, tmp_path: Path
) -> None:
    with serve(database_urls, tmp_path, AFTERVIEW_LOG_JSON="false") as server:
        server.wait_ready()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            answered = await client.get("/healthz")
        server.stop()
    output = server.output()
    assert ANSI not in output
    assert json_lines(output) == []
    assert f"request_id={answered.headers['X-Request-ID']}" in output


async def test_lines_logged_during_a_request_name_the_caller_and_stop_at_its_end(
    fresh_app: FastAPI, agency_a: Tenant
) -> None:
    async def noisy(principal: CurrentPrincipal) -> dict[str, str]:
        structlog.get_logger("test").info("inside")
        return {"agency": str(principal.agency_id)}

    fresh_app.add_api_route("/test/noisy", noisy, include_in_schema=False)
    async with new_client(fresh_app, agency_a.admin.headers["Authorization"].split()[1]) as client:
        with structlog.testing.capture_logs(
            processors=[structlog.contextvars.merge_contextvars]
        ) as entries:
            response = await client.get("/test/noisy")
            structlog.get_logger("test").info("after")
    assert response.status_code == 200, response.text
    inside = next(e for e in entries if e["event"] == "inside")
    assert inside["request_id"] == response.headers["X-Request-ID"]
    assert inside["agency_id"] == str(agency_a.agency_id)
    assert inside["user_id"] == str(agency_a.admin_id)
    after = next(e for e in entries if e["event"] == "after")
    assert not {"request_id", "agency_id", "user_id", "api_key_id"} & set(after)
