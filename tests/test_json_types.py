"""Request bodies take JSON's own types, as the OpenAPI document says: an integer is a JSON
integer (`8.0` counts, as JSON Schema counts it; `"8"` does not), a boolean is `true`/`false`
(not `0`), an instant is RFC 3339 text (not a Unix number); passwords keep their spaces."""

from datetime import UTC, datetime
from typing import Any

from app.core.clock import FixedClock
from tests.support.interviews import interview_body, list_interviews, make_scene
from tests.support.problems import assert_problem
from tests.support.records import make_candidate, read
from tests.support.tenants import Tenant, log_in, login, new_client


async def test_an_integer_is_a_json_integer(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await make_scene(agency_a.admin)
    for wrong in ("2", True, 2.5):
        refused = await agency_a.admin.post(
            "/v1/interviews", json=interview_body(scene, clock, round=wrong)
        )
        problem = assert_problem(refused, 422, "validation-error")
        assert [e["field"] for e in problem["errors"]] == ["round"], (wrong, problem)
    assert await list_interviews(agency_a.admin) == []

    accepted = await agency_a.admin.post(
        "/v1/interviews", json=interview_body(scene, clock, round=2.0)
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["round"] == 2


async def test_a_boolean_is_a_json_boolean(agency_a: Tenant) -> None:
    candidate = await make_candidate(agency_a)
    path = f"/v1/candidates/{candidate['id']}"
    before, etag = await read(agency_a.admin, path)
    for wrong in (0, "false", "no"):
        refused = await agency_a.admin.patch(
            path, json={"contact_consent": wrong}, headers={"If-Match": etag}
        )
        assert_problem(refused, 422, "validation-error")
    assert await read(agency_a.admin, path) == (before, etag)

    changed = await agency_a.admin.patch(
        path, json={"contact_consent": False}, headers={"If-Match": etag}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["contact_consent"] is False


async def test_an_instant_is_rfc_3339_text(agency_a: Tenant) -> None:
    for wrong in ("0.5", "1700000000", "1899-12-31T23:00:00+00:00", "2200-01-01T00:00:00Z"):
        refused = await agency_a.admin.get("/v1/candidates", params={"updated_after": wrong})
        assert_problem(refused, 422, "validation-error")
    edge = datetime(1900, 1, 1, tzinfo=UTC).isoformat()
    accepted = await agency_a.admin.get("/v1/candidates", params={"updated_after": edge})
    assert accepted.status_code == 200, accepted.text


async def test_a_password_keeps_its_spaces(agency_a: Tenant) -> None:
    password = "  spaced out password  "
    user: dict[str, Any] = await agency_a.add_user("consultant", password=password)
    assert await login(agency_a.app, user["email"], password)
    async with new_client(agency_a.app) as anon:
        trimmed = await log_in(anon, user["email"], password.strip())
    assert_problem(trimmed, 401, "invalid-credentials")
