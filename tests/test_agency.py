"""The agency's workflow settings: defaults, changing them with If-Match, validation, tenancy."""

from typing import Any

import pytest
from httpx import AsyncClient

from tests.support.problems import assert_problem
from tests.support.tenants import Tenant

DEFAULTS = {
    "debrief_due_hours": 24,
    "follow_up_window_hours": 24,
    "follow_up_max_words": 150,
    "feedback_chase_after_days": 5,
    "feedback_max_chases": 3,
    "timezone": "UTC",
}


async def read_agency(client: AsyncClient) -> tuple[dict[str, Any], str]:
    response = await client.get("/v1/agency")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body, response.headers["etag"]


async def test_new_agency_has_the_default_settings_and_an_etag(agency_a: Tenant) -> None:
    response = await agency_a.admin.get("/v1/agency")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == str(agency_a.agency_id)
    assert body["name"] == "Agency A"
    assert {name: body[name] for name in DEFAULTS} == DEFAULTS
    assert response.headers["etag"].startswith('"')


async def test_consultant_can_read_the_settings(agency_a: Tenant) -> None:
    client = await agency_a.consultant()

    body, _ = await read_agency(client)

    assert body["id"] == str(agency_a.agency_id)


async def test_admin_changes_settings_with_if_match(agency_a: Tenant) -> None:
    _, etag = await read_agency(agency_a.admin)
    changes = {
        "debrief_due_hours": 12,
        "follow_up_max_words": 120,
        "feedback_max_chases": 0,
        "timezone": "Europe/London",
    }

    response = await agency_a.admin.patch("/v1/agency", json=changes, headers={"If-Match": etag})

    assert response.status_code == 200, response.text
    assert {name: response.json()[name] for name in changes} == changes
    assert response.headers["etag"] != etag
    after, after_etag = await read_agency(agency_a.admin)
    assert {name: after[name] for name in changes} == changes
    assert after["follow_up_window_hours"] == DEFAULTS["follow_up_window_hours"]
    assert after_etag == response.headers["etag"]


async def test_a_change_is_audited(agency_a: Tenant) -> None:
    _, etag = await read_agency(agency_a.admin)

    response = await agency_a.admin.patch(
        "/v1/agency",
        json={"timezone": "America/New_York", "debrief_due_hours": 48},
        headers={"If-Match": etag},
    )

    assert response.status_code == 200, response.text
    audit = await agency_a.admin.get(
        "/v1/audit-entries", params={"object_id": str(agency_a.agency_id)}
    )
    assert audit.status_code == 200, audit.text
    [entry] = [e for e in audit.json()["items"] if e["action"] == "agency.updated"]
    assert entry["object_type"] == "agency"
    assert entry["user_id"] == str(agency_a.admin_id)
    assert entry["api_key_id"] is None
    assert entry["details"]["fields"] == ["debrief_due_hours", "timezone"]


async def test_patch_without_if_match_is_precondition_required(agency_a: Tenant) -> None:
    before, etag = await read_agency(agency_a.admin)

    response = await agency_a.admin.patch("/v1/agency", json={"follow_up_max_words": 99})

    assert_problem(response, 428, "precondition-required")
    assert await read_agency(agency_a.admin) == (before, etag)


async def test_patch_with_a_stale_etag_is_refused(agency_a: Tenant) -> None:
    _, old_etag = await read_agency(agency_a.admin)
    first = await agency_a.admin.patch(
        "/v1/agency", json={"follow_up_max_words": 99}, headers={"If-Match": old_etag}
    )
    assert first.status_code == 200, first.text

    response = await agency_a.admin.patch(
        "/v1/agency", json={"follow_up_max_words": 300}, headers={"If-Match": old_etag}
    )

    assert_problem(response, 412, "stale-etag")
    after, etag = await read_agency(agency_a.admin)
    assert after["follow_up_max_words"] == 99
    assert etag == first.headers["etag"]


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus",
        "Europe",  # a folder of the time zone database: opening it is an OSError
        pytest.param("\U0001f600" * 64, id="a-file-name-too-long"),  # 256 bytes
        "../../../../etc/passwd",
    ],
)
async def test_unknown_timezone_is_refused(agency_a: Tenant, zone: str) -> None:
    before, etag = await read_agency(agency_a.admin)

    response = await agency_a.admin.patch(
        "/v1/agency", json={"timezone": zone}, headers={"If-Match": etag}
    )

    body = assert_problem(response, 422, "validation-error")
    assert "timezone" in [error["field"] for error in body["errors"]]
    assert await read_agency(agency_a.admin) == (before, etag)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("debrief_due_hours", 0),
        ("debrief_due_hours", 721),
        ("follow_up_window_hours", 0),
        ("follow_up_window_hours", 721),
        ("follow_up_max_words", 9),
        ("follow_up_max_words", 2001),
        ("feedback_chase_after_days", 0),
        ("feedback_chase_after_days", 91),
        ("feedback_max_chases", -1),
        ("feedback_max_chases", 21),
        ("timezone", None),
    ],
)
async def test_out_of_range_settings_change_nothing(
    agency_a: Tenant, field: str, value: int | None
) -> None:
    before, etag = await read_agency(agency_a.admin)

    response = await agency_a.admin.patch(
        "/v1/agency",
        json={"follow_up_max_words": 100, field: value},
        headers={"If-Match": etag},
    )

    assert_problem(response, 422, "validation-error")
    assert await read_agency(agency_a.admin) == (before, etag)


async def test_unknown_fields_are_refused(agency_a: Tenant) -> None:
    before, etag = await read_agency(agency_a.admin)

    response = await agency_a.admin.patch(
        "/v1/agency", json={"id": "someone-else", "plan": "free"}, headers={"If-Match": etag}
    )

    assert_problem(response, 422, "validation-error")
    assert await read_agency(agency_a.admin) == (before, etag)


async def test_one_agencys_change_never_touches_another(agency_a: Tenant, agency_b: Tenant) -> None:
    b_before, b_etag = await read_agency(agency_b.admin)
    _, a_etag = await read_agency(agency_a.admin)

    response = await agency_a.admin.patch(
        "/v1/agency",
        json={"name": "Renamed A", "follow_up_max_words": 60, "timezone": "Asia/Tokyo"},
        headers={"If-Match": a_etag},
    )

    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(agency_a.agency_id)
    assert await read_agency(agency_b.admin) == (b_before, b_etag)
    assert b_before["name"] == "Agency B"
