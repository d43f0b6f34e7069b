"""An application's timeline: its events newest first, paginated, each naming who acted (a person,
an API key, or a key on behalf of a person); another agency's application is not found."""

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from httpx import AsyncClient

from app.core.clock import FixedClock
from tests.support.problems import assert_problem, error_fields
from tests.support.records import at, make_application, make_interview
from tests.support.tenants import Tenant

Json = dict[str, Any]


@dataclass
class History:
    """What happened to one application, oldest first: (type, object id, when)."""

    application_id: str
    key_id: str
    api: AsyncClient
    happened: list[tuple[str, str, datetime]]

    @property
    def path(self) -> str:
        return f"/v1/applications/{self.application_id}/timeline"


async def make_history(tenant: Tenant, clock: FixedClock) -> History:
    """The admin (a person) creates the application and schedules its interview; once it has
    ended an API key records the next steps, then submits the debrief on behalf of the admin.
    Another application's events happen in between."""
    base = clock.now()
    application = await make_application(tenant)
    other = await make_application(tenant)
    key = await tenant.api_key()
    api = tenant.client_with_key(key["key"])

    clock.set(base + timedelta(minutes=1))
    interview = await make_interview(
        tenant, application["id"], starts_at=base + timedelta(minutes=2)
    )
    clock.set(base + timedelta(minutes=2))
    await make_interview(api, other["id"], starts_at=base + timedelta(minutes=3))

    ends = at(interview["ends_at"])
    clock.set(ends + timedelta(minutes=1))
    steps = await api.put(
        f"/v1/interviews/{interview['id']}/next-steps",
        json={
            "kind": "decision",
            "details": "The client decides by Friday.",
            "decision_expected_by": (ends + timedelta(days=3)).isoformat(),
        },
    )
    assert steps.status_code == 201, steps.text

    clock.set(ends + timedelta(minutes=2))
    debrief = await api.put(
        f"/v1/interviews/{interview['id']}/debrief",
        json={
            "questions": [{"text": "Why this role?", "answer_quality": "strong"}],
            "went_well": "Rapport with the panel.",
            "could_improve": "Sharper numbers.",
        },
        headers={"On-Behalf-Of": str(tenant.admin_id)},
    )
    assert debrief.status_code == 201, debrief.text

    return History(
        application["id"],
        key["id"],
        api,
        [
            ("application.created", application["id"], base),
            ("interview.created", interview["id"], base + timedelta(minutes=1)),
            ("next_steps.recorded", steps.json()["id"], ends + timedelta(minutes=1)),
            ("debrief.submitted", debrief.json()["id"], ends + timedelta(minutes=2)),
        ],
    )


async def test_events_newest_first_with_who_acted(agency_a: Tenant, clock: FixedClock) -> None:
    history = await make_history(agency_a, clock)

    response = await history.api.get(history.path)

    assert response.status_code == 200, response.text
    assert response.json()["next"] is None
    entries = response.json()["items"]
    assert [(e["type"], e["object_id"], at(e["occurred_at"])) for e in entries] == list(
        reversed(history.happened)
    )
    assert [e["object_type"] for e in entries] == [
        "debrief",
        "next_steps",
        "interview",
        "application",
    ]
    assert len({e["id"] for e in entries}) == 4

    no_link = {"via_link": None}
    person = {"user_id": str(agency_a.admin_id), "api_key_id": None, "on_behalf_of": False}
    person |= no_link
    key = {"user_id": None, "api_key_id": history.key_id, "on_behalf_of": False} | no_link
    for_person = {"user_id": str(agency_a.admin_id), "api_key_id": history.key_id} | no_link
    assert [e["actor"] for e in entries] == [
        {**for_person, "on_behalf_of": True},
        key,
        person,
        person,
    ]
    assert entries[0]["data"]["on_time"] is True
    assert entries[0]["data"]["questions"] == 1


async def test_pages_walk_the_timeline_once_newest_first(
    agency_a: Tenant, clock: FixedClock
) -> None:
    history = await make_history(agency_a, clock)
    expected = [object_id for _, object_id, _ in reversed(history.happened)]

    for limit in (1, 3):
        seen: list[str] = []
        pages = 0
        params: dict[str, Any] = {"limit": limit}
        while True:
            response = await history.api.get(history.path, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert 0 < len(page["items"]) <= limit
            seen += [e["object_id"] for e in page["items"]]
            pages += 1
            if page["next"] is None:
                break
            params = {"limit": limit, "cursor": page["next"]}
            assert pages < 10, "the cursor never ends"
        assert seen == expected
        assert pages == -(-len(expected) // limit)

    bad = base64.urlsafe_b64encode(json.dumps([1, "why"]).encode()).decode()
    for cursor in ("not a cursor!", bad):
        response = await history.api.get(history.path, params={"cursor": cursor})
        assert_problem(response, 422, "cursor-invalid")
        assert "cursor" in error_fields(response)


async def test_another_agencys_timeline_is_not_found(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    intruder = await agency_b.integration()
    own = await make_application(agency_b)
    history = await make_history(agency_a, clock)

    assert_problem(await intruder.get(history.path), 404, "not-found")
    unknown = "/v1/applications/0196f0c9-9999-7c0e-9a3b-1f2e3d4c5b6a/timeline"
    assert_problem(await history.api.get(unknown), 404, "not-found")

    response = await intruder.get(f"/v1/applications/{own['id']}/timeline")
    assert response.status_code == 200, response.text
    assert [(e["type"], e["object_id"]) for e in response.json()["items"]] == [
        ("application.created", own["id"])
    ]
    response = await history.api.get(history.path)
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 4
