"""Steps 1 and 2 of the post-interview workflow: next steps and the debrief.

Neither exists for an interview that has not ended, was cancelled, or whose application is
closed; the debrief's deadline follows the agency's `debrief_due_hours`. Time moves with the
injected clock, and writes after the interview use an API key (a person's token would expire).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from app.core.clock import FixedClock
from app.core.db import set_tenant
from app.core.ids import AgencyId
from app.models import Event
from tests.support.problems import assert_problem, error_fields
from tests.support.records import make_application, make_interview, read, set_application_status
from tests.support.tenants import Tenant

Json = dict[str, Any]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass
class Held:
    """An application with an interview an hour from the clock's now, and an API-key client."""

    application: Json
    interview: Json
    ends_at: datetime
    key: Json
    api: AsyncClient

    @property
    def next_steps(self) -> str:
        return f"/v1/interviews/{self.interview['id']}/next-steps"

    @property
    def debrief(self) -> str:
        return f"/v1/interviews/{self.interview['id']}/debrief"


async def schedule(tenant: Tenant, clock: FixedClock, application: Json | None = None) -> Json:
    if application is None:
        application = await make_application(tenant)
    return await make_interview(
        tenant, application["id"], starts_at=clock.now() + timedelta(hours=1)
    )


async def held(tenant: Tenant, clock: FixedClock) -> Held:
    application = await make_application(tenant)
    interview = await schedule(tenant, clock, application)
    key = await tenant.api_key()
    api = tenant.client_with_key(key["key"])
    return Held(application, interview, at(interview["ends_at"]), key, api)


async def step_events(tenant: Tenant, prefix: str) -> list[Json]:
    """The agency's events whose type starts with `prefix`, oldest first, with the application
    they belong to."""
    async with tenant.app.state.sessions() as session, session.begin():
        await set_tenant(session, AgencyId(tenant.agency_id))
        rows = (
            await session.scalars(
                select(Event)
                .where(Event.agency_id == tenant.agency_id, Event.type.startswith(prefix))
                .order_by(Event.txid, Event.id)
            )
        ).all()
    return [
        {
            "type": e.type,
            "object_id": str(e.object_id),
            "application_id": str(e.application_id) if e.application_id else None,
            "data": e.data,
        }
        for e in rows
    ]


def steps_body(ends_at: datetime, **overrides: Any) -> Json:
    return {
        "kind": "another_round",
        "details": "Second round with the CFO next week; a 45-minute case study.",
        "decision_expected_by": (ends_at + timedelta(days=3)).isoformat(),
        **overrides,
    }


def debrief_body(**overrides: Any) -> Json:
    return {
        "questions": [
            {
                "text": "Tell us about a time you cut costs without hurting service.",
                "topic": "cost control",
                "answer_quality": "adequate",
                "half_answered": True,
            },
            {"text": "Why this role?", "answer_quality": "strong", "half_answered": False},
        ],
        "went_well": "Clear on the WMS migration.",
        "could_improve": "Numbers on the cost-saving example were vague.",
        "links": ["https://portfolio.example.com/amara/wms-case-study"],
        **overrides,
    }


# --- Step 1: next steps -------------------------------------------------------------------------


async def test_next_steps_wait_for_the_interview_to_end(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await held(agency_a, clock)

    for now in (
        clock.now(),
        scene.ends_at - timedelta(minutes=30),
        scene.ends_at - timedelta(seconds=1),
    ):
        clock.set(now)
        response = await scene.api.put(scene.next_steps, json=steps_body(scene.ends_at))
        body = assert_problem(response, 409, "interview-not-finished")
        assert at(body["ends_at"]) == scene.ends_at
    assert_problem(await scene.api.get(scene.next_steps), 404, "not-found")
    assert await step_events(agency_a, "next_steps.") == []

    clock.set(scene.ends_at)  # the interview has ended at its end, not a second later
    response = await scene.api.put(scene.next_steps, json=steps_body(scene.ends_at))

    assert response.status_code == 201, response.text
    recorded = response.json()
    assert recorded["interview_id"] == scene.interview["id"]
    assert recorded["application_id"] == scene.application["id"]
    assert recorded["kind"] == "another_round"
    assert at(recorded["decision_expected_by"]) == scene.ends_at + timedelta(days=3)
    assert at(recorded["created_at"]) == scene.ends_at
    assert response.headers["location"] == scene.next_steps
    assert response.headers["etag"]
    assert await read(scene.api, scene.next_steps) == (recorded, response.headers["etag"])


async def test_next_steps_are_corrected_by_a_second_put_with_if_match(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await held(agency_a, clock)
    clock.set(scene.ends_at + timedelta(minutes=5))
    first = await scene.api.put(scene.next_steps, json=steps_body(scene.ends_at))
    assert first.status_code == 201, first.text

    clock.set(scene.ends_at + timedelta(hours=2))
    correction = steps_body(
        scene.ends_at,
        kind="decision",
        details="The client decides on Friday.",
        decision_expected_by=(scene.ends_at + timedelta(days=5)).isoformat(),
    )
    second = await scene.api.put(
        scene.next_steps, json=correction, headers={"If-Match": first.headers["etag"]}
    )

    assert second.status_code == 200, second.text
    assert "location" not in second.headers
    corrected = second.json()
    assert corrected["id"] == first.json()["id"]
    assert corrected["kind"] == "decision"
    assert corrected["details"] == "The client decides on Friday."
    assert at(corrected["decision_expected_by"]) == scene.ends_at + timedelta(days=5)
    assert at(corrected["created_at"]) == scene.ends_at + timedelta(minutes=5)
    assert at(corrected["updated_at"]) == scene.ends_at + timedelta(hours=2)
    assert second.headers["etag"] != first.headers["etag"]

    stale = await scene.api.put(
        scene.next_steps,
        json=steps_body(scene.ends_at, kind="unknown"),
        headers={"If-Match": first.headers["etag"]},
    )
    assert_problem(stale, 412, "stale-etag")
    assert await read(scene.api, scene.next_steps) == (corrected, second.headers["etag"])

    events = await step_events(agency_a, "next_steps.")
    assert [e["type"] for e in events] == ["next_steps.recorded", "next_steps.updated"]
    assert {e["object_id"] for e in events} == {corrected["id"]}
    assert {e["application_id"] for e in events} == {scene.application["id"]}
    assert {e["data"]["interview_id"] for e in events} == {scene.interview["id"]}


async def test_next_steps_refuse_a_bad_body(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await held(agency_a, clock)
    clock.set(scene.ends_at + timedelta(minutes=10))

    for decided in (scene.ends_at, scene.ends_at - timedelta(days=1)):
        body = steps_body(scene.ends_at, decision_expected_by=decided.isoformat())
        response = await scene.api.put(scene.next_steps, json=body)
        assert_problem(response, 422, "validation-error")
        assert "decision_expected_by" in error_fields(response)

    response = await scene.api.put(scene.next_steps, json=steps_body(scene.ends_at, kind="lunch"))
    assert_problem(response, 422, "validation-error")
    assert "kind" in error_fields(response)

    assert_problem(await scene.api.get(scene.next_steps), 404, "not-found")
    assert await step_events(agency_a, "next_steps.") == []


async def test_no_step_for_a_cancelled_interview(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await held(agency_a, clock)
    cancelled = await agency_a.admin.delete(f"/v1/interviews/{scene.interview['id']}")
    assert cancelled.status_code == 204, cancelled.text
    clock.set(scene.ends_at + timedelta(hours=1))

    response = await scene.api.put(scene.next_steps, json=steps_body(scene.ends_at))
    assert_problem(response, 409, "interview-cancelled")
    response = await scene.api.put(scene.debrief, json=debrief_body())
    assert_problem(response, 409, "interview-cancelled")

    assert_problem(await scene.api.get(scene.next_steps), 404, "not-found")
    assert_problem(await scene.api.get(scene.debrief), 404, "not-found")
    assert await step_events(agency_a, "next_steps.") == []
    assert await step_events(agency_a, "debrief.") == []


async def test_no_step_once_the_application_is_closed(
    app: FastAPI, agency_a: Tenant, clock: FixedClock
) -> None:
    closed = {status: await schedule(agency_a, clock) for status in ("withdrawn", "unsuccessful")}
    scene = await held(agency_a, clock)
    closed["placed"] = scene.interview
    for status, interview in closed.items():
        await set_application_status(agency_a, interview["application_id"], status)
    clock.set(scene.ends_at + timedelta(hours=1))

    for interview in closed.values():
        path = f"/v1/interviews/{interview['id']}"
        ends_at = at(interview["ends_at"])
        response = await scene.api.put(f"{path}/next-steps", json=steps_body(ends_at))
        assert_problem(response, 409, "application-closed")
        response = await scene.api.put(f"{path}/debrief", json=debrief_body())
        assert_problem(response, 409, "application-closed")
        assert_problem(await scene.api.get(f"{path}/next-steps"), 404, "not-found")
        assert_problem(await scene.api.get(f"{path}/debrief"), 404, "not-found")

    assert await step_events(agency_a, "next_steps.") == []
    assert await step_events(agency_a, "debrief.") == []


async def test_another_agencys_interview_is_not_found(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    scene = await held(agency_a, clock)
    intruder = await agency_b.integration()
    clock.set(scene.ends_at + timedelta(minutes=1))
    first = await scene.api.put(scene.next_steps, json=steps_body(scene.ends_at))
    assert first.status_code == 201, first.text

    response = await intruder.put(scene.next_steps, json=steps_body(scene.ends_at, kind="unknown"))
    assert_problem(response, 404, "not-found")
    assert_problem(await intruder.get(scene.next_steps), 404, "not-found")
    response = await intruder.put(scene.debrief, json=debrief_body())
    assert_problem(response, 404, "not-found")

    assert await read(scene.api, scene.next_steps) == (first.json(), first.headers["etag"])
    assert_problem(await scene.api.get(scene.debrief), 404, "not-found")
    assert await step_events(agency_b, "next_steps.") == []
    assert await step_events(agency_b, "debrief.") == []


# --- Step 2: debrief ----------------------------------------------------------------------------


async def test_debrief_waits_for_the_interview_to_end(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await held(agency_a, clock)
    clock.set(scene.ends_at - timedelta(seconds=1))

    response = await scene.api.put(scene.debrief, json=debrief_body())

    assert_problem(response, 409, "interview-not-finished")
    assert_problem(await scene.api.get(scene.debrief), 404, "not-found")
    assert await step_events(agency_a, "debrief.") == []


async def test_debrief_is_due_within_the_agencys_debrief_due_hours(
    agency_a: Tenant, clock: FixedClock
) -> None:
    agency, etag = await read(agency_a.admin, "/v1/agency")
    assert agency["debrief_due_hours"] != 6
    changed = await agency_a.admin.patch(
        "/v1/agency", json={"debrief_due_hours": 6}, headers={"If-Match": etag}
    )
    assert changed.status_code == 200, changed.text
    scene = await held(agency_a, clock)
    application = scene.application
    interviews = [
        scene.interview,
        *[await schedule(agency_a, clock, application) for _ in range(2)],
    ]
    ends = [at(i["ends_at"]) for i in interviews]
    submitted_after = [timedelta(hours=5), timedelta(hours=7), timedelta(hours=6)]

    results = []
    for interview, end, after in zip(interviews, ends, submitted_after, strict=True):
        clock.set(end + after)
        response = await scene.api.put(
            f"/v1/interviews/{interview['id']}/debrief", json=debrief_body()
        )
        assert response.status_code == 201, response.text
        assert response.headers["location"] == f"/v1/interviews/{interview['id']}/debrief"
        results.append(response.json())

    for result, end, after in zip(results, ends, submitted_after, strict=True):
        assert at(result["due_at"]) == end + timedelta(hours=6)
        assert at(result["submitted_at"]) == end + after
    assert [r["on_time"] for r in results] == [True, False, True]  # the last one, at due_at

    events = await step_events(agency_a, "debrief.")
    assert [e["type"] for e in events] == ["debrief.submitted"] * 3
    assert [e["data"]["on_time"] for e in events] == [True, False, True]
    assert {e["application_id"] for e in events} == {application["id"]}


async def test_resubmitting_a_debrief_replaces_it_but_keeps_the_first_submission(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await held(agency_a, clock)
    clock.set(scene.ends_at + timedelta(hours=1))
    first = await scene.api.put(scene.debrief, json=debrief_body())
    assert first.status_code == 201, first.text
    original = first.json()
    assert original["on_time"] is True
    assert [q["text"] for q in original["questions"]] == [
        "Tell us about a time you cut costs without hurting service.",
        "Why this role?",
    ]
    assert original["questions"][0]["half_answered"] is True
    assert original["links"] == ["https://portfolio.example.com/amara/wms-case-study"]

    clock.set(scene.ends_at + timedelta(hours=30))  # past the default 24-hour deadline
    revision = debrief_body(
        questions=[{"text": "What is your notice period?", "answer_quality": "weak"}],
        went_well="Warm with the panel.",
        links=[],
    )
    second = await scene.api.put(
        scene.debrief, json=revision, headers={"If-Match": first.headers["etag"]}
    )

    assert second.status_code == 200, second.text
    revised = second.json()
    assert revised["id"] == original["id"]
    assert revised["submitted_at"] == original["submitted_at"]
    assert revised["due_at"] == original["due_at"]
    assert revised["on_time"] is True
    assert at(revised["updated_at"]) == scene.ends_at + timedelta(hours=30)
    assert revised["went_well"] == "Warm with the panel."
    assert revised["links"] == []
    assert [(q["text"], q["answer_quality"], q["half_answered"]) for q in revised["questions"]] == [
        ("What is your notice period?", "weak", False)
    ]

    stale = await scene.api.put(
        scene.debrief, json=debrief_body(), headers={"If-Match": first.headers["etag"]}
    )
    assert_problem(stale, 412, "stale-etag")
    assert await read(scene.api, scene.debrief) == (revised, second.headers["etag"])

    vacancy, _ = await read(scene.api, f"/v1/vacancies/{scene.application['vacancy_id']}")
    bank = await scene.api.get(f"/v1/clients/{vacancy['client_id']}/question-bank")
    assert bank.status_code == 200, bank.text
    assert [e["normalized_text"] for e in bank.json()["items"]] == ["what is your notice period"]

    events = await step_events(agency_a, "debrief.")
    assert [e["type"] for e in events] == ["debrief.submitted", "debrief.updated"]
    assert {e["object_id"] for e in events} == {original["id"]}


async def test_a_question_of_the_longest_kind_is_kept_and_banked(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """1,000 characters of CJK is 3,000 bytes: more than a btree entry holds (it was a 500)."""
    scene = await held(agency_a, clock)
    clock.set(scene.ends_at + timedelta(hours=1))
    longest = "".join(chr(0x4E00 + i % 0x5000) for i in range(1000))
    question = {"text": longest, "answer_quality": "adequate"}
    response = await scene.api.put(scene.debrief, json=debrief_body(questions=[question]))
    assert response.status_code == 201, response.text
    assert [q["text"] for q in response.json()["questions"]] == [longest]

    vacancy, _ = await read(scene.api, f"/v1/vacancies/{scene.application['vacancy_id']}")
    bank = await scene.api.get(f"/v1/clients/{vacancy['client_id']}/question-bank")
    assert [e["text"] for e in bank.json()["items"]] == [longest]


async def test_debrief_refuses_a_bad_body(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await held(agency_a, clock)
    clock.set(scene.ends_at + timedelta(hours=1))
    question = {"text": "Why this role?", "answer_quality": "strong"}

    for link in ("ftp://files.example.com/cv.pdf", "javascript:alert(1)", "portfolio"):
        response = await scene.api.put(scene.debrief, json=debrief_body(links=[link]))
        assert_problem(response, 422, "validation-error")
        assert any(f.startswith("links") for f in error_fields(response)), response.text

    response = await scene.api.put(scene.debrief, json=debrief_body(questions=[question] * 101))
    assert_problem(response, 422, "validation-error")
    assert "questions" in error_fields(response)

    bad_quality = {**question, "answer_quality": "excellent"}
    response = await scene.api.put(scene.debrief, json=debrief_body(questions=[bad_quality]))
    assert_problem(response, 422, "validation-error")
    assert any(f.startswith("questions.0") for f in error_fields(response)), response.text

    assert_problem(await scene.api.get(scene.debrief), 404, "not-found")
    assert await step_events(agency_a, "debrief.") == []

    response = await scene.api.put(scene.debrief, json=debrief_body(questions=[question] * 100))
    assert response.status_code == 201, response.text
    assert len(response.json()["questions"]) == 100
