"""Two writes in one clock tick: the second is still seen.

An integrator resumes with `updated_after=<the last updated_at it saw>`, so every write must
leave `updated_at` strictly later than before, even when the clock has not moved since the
previous write. The clock stands still here (`FixedClock`), so every write of a test happens in
one tick: for each kind of write, do one write, note `updated_at`, do a second, and check the
synced list returns the record after the first. The workflow's own records have no synced list;
their `updated_at` (read back through the API where it shows, else from the row) must move on
all the same, cancellations included.
"""

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient
from sqlalchemy import ColumnElement, select

from app.core.clock import FixedClock
from app.core.db import set_tenant
from app.core.ids import AgencyId
from app.models import Decision, FeedbackRequest, FollowUp
from tests.support.records import (
    make_application,
    make_candidate,
    make_client,
    make_contact,
    make_interview,
    make_referee,
    make_vacancy,
    read,
)
from tests.support.tenants import Tenant

Json = dict[str, Any]


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def listed_after(client: AsyncClient, path: str, before: Json) -> Json:
    """The record `before` was a state of, as the synced list at `path` shows it to an
    integrator resuming after `before`'s `updated_at`; it must be there, and later."""
    response = await client.get(path, params={"updated_after": before["updated_at"]})
    assert response.status_code == 200, response.text
    assert response.json()["next"] is None
    found = {item["id"]: item for item in response.json()["items"]}
    assert before["id"] in found, f"{path}: the second write of the tick is not listed"
    after: Json = found[before["id"]]
    assert instant(after["updated_at"]) > instant(before["updated_at"])
    return after


async def patched(client: AsyncClient, path: str, changes: Json) -> Json:
    _, etag = await read(client, path)
    response = await client.patch(path, json=changes, headers={"If-Match": etag})
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def ok(response: Awaitable[Any], status: int = 200) -> Json:
    answered = await response
    assert answered.status_code == status, answered.text
    body: Json = answered.json() if answered.content else {}
    return body


async def stored_at(tenant: Tenant, model: Any, *where: ColumnElement[bool]) -> datetime:
    """A workflow row's `updated_at` where its read shows none (follow-ups, decisions,
    feedback requests), read as the tenant."""
    async with tenant.app.state.sessions() as session, session.begin():
        await set_tenant(session, AgencyId(tenant.agency_id))
        found = await session.scalar(
            select(model.updated_at).where(model.agency_id == tenant.agency_id, *where)
        )
    assert found is not None
    stamp: datetime = found
    return stamp


# --- Records: create, PATCH and PUT by external id, three writes in one tick ---------------------

Body = Callable[[Tenant], Awaitable[Json]]


async def _candidate(tenant: Tenant) -> Json:
    tag = secrets.token_hex(4)
    return {"first_name": "Ife", "last_name": f"Adeyemi{tag}", "email": f"ife.{tag}@example.com"}


async def _client(tenant: Tenant) -> Json:
    return {"name": f"Northwind {secrets.token_hex(4)}"}


async def _vacancy(tenant: Tenant) -> Json:
    return {"client_id": (await make_client(tenant))["id"], "title": "Planner"}


async def _application(tenant: Tenant) -> Json:
    candidate, vacancy = await make_candidate(tenant), await make_vacancy(tenant)
    return {"candidate_id": candidate["id"], "vacancy_id": vacancy["id"]}


async def _interview(tenant: Tenant) -> Json:
    start = datetime.fromisoformat("2031-03-04T10:00:00+00:00")
    return {
        "application_id": (await make_application(tenant))["id"],
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "format": "video",
    }


@dataclass(frozen=True)
class Kind:
    path: str
    body: Body
    patch: Json
    replace: Json


KINDS = {
    "candidate": Kind("/v1/candidates", _candidate, {"phone": "+44 20 7946 0001"}, {"phone": None}),
    "client": Kind("/v1/clients", _client, {"name": "Northwind Ltd"}, {"name": "Northwind plc"}),
    "vacancy": Kind("/v1/vacancies", _vacancy, {"title": "Senior Planner"}, {"title": "Lead"}),
    "application": Kind(
        "/v1/applications",
        _application,
        {"offer_likelihood": "medium"},
        {"offer_likelihood": "low"},
    ),
    "interview": Kind("/v1/interviews", _interview, {"round": 2}, {"round": 3}),
}


@pytest.mark.parametrize("name", sorted(KINDS))
async def test_a_record_written_three_times_in_one_tick_is_listed_after_each(
    agency_a: Tenant, name: str
) -> None:
    kind, api = KINDS[name], agency_a.admin
    external_id = f"ats-{secrets.token_hex(4)}"
    body = await kind.body(agency_a)
    created = await ok(api.post(kind.path, json={**body, "external_id": external_id}), 201)

    changed = await patched(api, f"{kind.path}/{created['id']}", kind.patch)
    seen = await listed_after(api, kind.path, created)
    assert seen == changed

    replaced = await ok(
        api.put(f"{kind.path}/by-external-id/{external_id}", json={**body, **kind.replace})
    )
    assert replaced["id"] == created["id"]
    assert await listed_after(api, kind.path, changed) == replaced


# --- Writes that change a synced record as a side effect --------------------------------------


async def test_an_interview_cancelled_in_the_tick_it_changed_is_listed_cancelled(
    agency_a: Tenant, clock: FixedClock
) -> None:
    api = agency_a.admin
    application = await make_application(api)
    interview = await make_interview(api, application["id"], starts_at=clock.now() + timedelta(1))
    moved = await patched(api, f"/v1/interviews/{interview['id']}", {"round": 1})
    assert instant(moved["updated_at"]) > instant(interview["updated_at"])

    cancelled = await api.delete(f"/v1/interviews/{interview['id']}")

    assert cancelled.status_code == 204, cancelled.text
    seen = await listed_after(api, "/v1/interviews", moved)
    assert seen["status"] == "cancelled"


async def test_a_vacancy_whose_hiring_contact_is_deleted_in_the_same_tick_is_listed(
    agency_a: Tenant,
) -> None:
    api = agency_a.admin
    client = await make_client(api)
    contact = await make_contact(api, client["id"])
    vacancy = await make_vacancy(api, client["id"], hiring_contact_id=contact["id"])
    _, etag = await read(api, f"/v1/contacts/{contact['id']}")

    deleted = await api.delete(f"/v1/contacts/{contact['id']}", headers={"If-Match": etag})

    assert deleted.status_code == 204, deleted.text
    seen = await listed_after(api, "/v1/vacancies", vacancy)
    assert seen["hiring_contact_id"] is None


async def test_an_erasure_in_the_tick_of_the_last_change_is_listed(agency_a: Tenant) -> None:
    api = agency_a.admin
    candidate = await make_candidate(api)
    application = await make_application(api, candidate["id"])
    await ok(
        api.put(
            f"/v1/applications/{application['id']}/outcome",
            json={"outcome": "unsuccessful", "note": "Chose an internal candidate."},
        )
    )
    after_outcome, _ = await read(api, f"/v1/applications/{application['id']}")

    await ok(
        api.post(f"/v1/candidates/{candidate['id']}/erasure", json={"reason": "Asked by email"})
    )

    erased = await listed_after(api, "/v1/candidates", candidate)
    assert erased["first_name"] == "Erased"
    await listed_after(api, "/v1/applications", after_outcome)  # its outcome note is gone


# --- The workflow after an interview, all in one tick ---------------------------------------------


@dataclass
class Scene:
    tenant: Tenant
    api: AsyncClient
    application: Json
    interview: Json
    referee: Json

    @property
    def app_path(self) -> str:
        return f"/v1/applications/{self.application['id']}"

    @property
    def interview_path(self) -> str:
        return f"/v1/interviews/{self.interview['id']}"

    async def current(self) -> Json:
        body, _ = await read(self.api, self.app_path)
        return body

    async def follow_up_at(self) -> datetime:
        return await stored_at(
            self.tenant, FollowUp, FollowUp.interview_id == UUID(self.interview["id"])
        )

    async def decision_at(self) -> datetime:
        where = Decision.application_id == UUID(self.application["id"])
        return await stored_at(self.tenant, Decision, where)

    async def feedback_at(self) -> datetime:
        where = FeedbackRequest.application_id == UUID(self.application["id"])
        return await stored_at(self.tenant, FeedbackRequest, where)


WITHDRAW = {"decision": "withdraw", "reason": "Took another offer."}
REOPEN = {"reason": "The offer fell through."}


async def ended_scene(tenant: Tenant, clock: FixedClock) -> Scene:
    """An application (hiring contact, consenting referee) whose interview has just ended; the
    clock then stands still. An API key: a person's token would not outlive the clock's move."""
    client = await make_client(tenant)
    contact = await make_contact(tenant, client["id"])
    vacancy = await make_vacancy(tenant, client["id"], hiring_contact_id=contact["id"])
    candidate = await make_candidate(tenant, contact_consent=True)
    referee = await make_referee(tenant, candidate["id"])
    application = await make_application(tenant, candidate["id"], vacancy["id"])
    interview = await make_interview(
        tenant, application["id"], [contact["id"]], starts_at=clock.now() + timedelta(hours=1)
    )
    api = tenant.client_with_key((await tenant.api_key())["key"])
    clock.set(instant(interview["ends_at"]) + timedelta(minutes=5))
    return Scene(tenant, api, application, interview, referee)


async def test_steps_recorded_twice_in_one_tick_move_updated_at_on(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await ended_scene(agency_a, clock)
    api, interview = s.api, s.interview_path
    by = (instant(s.interview["ends_at"]) + timedelta(days=2)).isoformat()

    steps = {"kind": "decision", "details": "They decide on Friday.", "decision_expected_by": by}
    first = await ok(api.put(interview + "/next-steps", json=steps), 201)
    again = await ok(api.put(interview + "/next-steps", json={**steps, "details": "Monday."}))
    assert instant(again["updated_at"]) > instant(first["updated_at"])

    notes = {"questions": [], "went_well": "Clear answers.", "could_improve": "Pace."}
    first = await ok(api.put(interview + "/debrief", json=notes), 201)
    again = await ok(api.put(interview + "/debrief", json={**notes, "could_improve": "Less."}))
    assert instant(again["updated_at"]) > instant(first["updated_at"])

    await ok(api.put(s.app_path + "/decision", json={"decision": "want"}))
    decided = await s.decision_at()
    await ok(api.put(s.app_path + "/decision", json={"decision": "want", "reason": "Sure."}))
    assert await s.decision_at() > decided


async def test_a_withdrawal_in_the_tick_of_the_last_changes_is_seen_everywhere(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """The application, its follow-up (cancelled) and its queued heads-up (cancelled) each
    changed earlier in the tick; each moves on again."""
    s = await ended_scene(agency_a, clock)
    api, interview = s.api, s.interview_path
    await ok(api.put(s.app_path + "/decision", json={"decision": "want"}))
    await ok(api.post(interview + "/follow-up/agency-thanks", json={}))
    thanked = await s.follow_up_at()
    await ok(api.post(interview + "/follow-up/direct-contact-request", json={}))
    requested = await s.follow_up_at()
    assert requested > thanked
    likely = await patched(api, s.app_path, {"offer_likelihood": "high"})
    heads_up = {"referee_id": s.referee["id"], "why_want_job": "Growth.", "key_points": "Ops."}
    await ok(api.post(s.app_path + "/referee-heads-ups", json=heads_up), 201)
    params = {"application_id": s.application["id"], "kind": "referee_heads_up"}
    (queued,) = (await ok(api.get("/v1/messages", params=params)))["items"]
    assert queued["status"] == "queued"

    await ok(api.put(s.app_path + "/decision", json=WITHDRAW))

    withdrawn = await listed_after(api, "/v1/applications", likely)
    assert withdrawn["status"] == "withdrawn"
    assert await s.follow_up_at() > requested
    message = await ok(api.get(f"/v1/messages/{queued['id']}"))
    assert message["status"] == "cancelled"
    assert instant(message["updated_at"]) > instant(queued["updated_at"])


async def test_reopening_closing_and_withdrawing_again_in_one_tick_is_seen(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """Reopen, an unsuccessful outcome (feedback is asked for), reopen, withdraw (the request
    expires): each write is listed after the one before it."""
    s = await ended_scene(agency_a, clock)
    api = s.api
    await ok(api.put(s.app_path + "/decision", json=WITHDRAW))
    withdrawn = await s.current()

    await ok(api.post(s.app_path + "/reopen", json=REOPEN))
    reopened = await listed_after(api, "/v1/applications", withdrawn)
    assert reopened["status"] == "active"
    await ok(api.put(s.app_path + "/outcome", json={"outcome": "unsuccessful"}))
    unsuccessful = await listed_after(api, "/v1/applications", reopened)
    assert unsuccessful["status"] == "unsuccessful"
    asked = await s.feedback_at()
    await ok(api.post(s.app_path + "/reopen", json=REOPEN))
    again = await listed_after(api, "/v1/applications", unsuccessful)

    await ok(api.put(s.app_path + "/decision", json=WITHDRAW))

    assert (await listed_after(api, "/v1/applications", again))["status"] == "withdrawn"
    request = await ok(api.get(s.app_path + "/feedback-request"))
    assert request["state"] == "expired"
    assert await s.feedback_at() > asked


async def test_feedback_entered_and_released_in_one_tick_moves_updated_at_on(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await ended_scene(agency_a, clock)
    api = s.api
    await ok(api.put(s.app_path + "/outcome", json={"outcome": "unsuccessful"}))
    asked = await s.feedback_at()

    feedback = {"strengths": "Clear on numbers.", "gaps": "Stakeholders.", "advice": None}
    entered = await ok(api.post(s.app_path + "/feedback-request/feedback", json=feedback))
    assert entered["state"] == "received"
    received = await s.feedback_at()
    assert received > asked

    released = await ok(
        api.post(s.app_path + "/feedback-request/release", json={"debrief_call": False})
    )
    assert released["state"] == "released"
    assert await s.feedback_at() > received
