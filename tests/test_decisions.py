"""Step 3: the candidate's decision, the client's outcome, and reopening a closed application.

A decision follows an interview that has ended. `withdraw` needs a reason, closes the application,
cancels what is queued for it and queues one courteous note to the client contact; a closed
application takes no further step (409 application-closed) until it is explicitly reopened, which
is recorded with who and why. Time moves with the injected clock, so the writes after an interview
use an API key (a person's token would expire).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from httpx import AsyncClient

from app.core.clock import FixedClock
from app.core.db import tenant_transaction
from app.messages.service import Recipient, queue_message
from app.messages.templates import DEFAULTS
from app.models import MessageKind, RecipientType
from tests.support.problems import assert_problem, error_fields
from tests.support.records import (
    events_of,
    list_items,
    make_application,
    make_candidate,
    make_client,
    make_contact,
    make_interview,
    make_vacancy,
    read,
)
from tests.support.tenants import Tenant

Json = dict[str, Any]

FIRST_NAME = "Ngozi"
REASON = "Accepted another offer closer to home."


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@dataclass
class Scene:
    """An application for a vacancy at a client, with an interview an hour from the clock's now
    (one panel contact), and an API-key client that outlives any clock move."""

    tenant: Tenant
    candidate: Json
    vacancy: Json
    application: Json
    hiring_contact: Json | None
    interviewer: Json
    interview: Json
    key_id: str
    api: AsyncClient

    @property
    def id(self) -> str:
        return str(self.application["id"])

    @property
    def path(self) -> str:
        return f"/v1/applications/{self.id}"

    @property
    def decision(self) -> str:
        return self.path + "/decision"

    @property
    def outcome(self) -> str:
        return self.path + "/outcome"

    @property
    def reopen(self) -> str:
        return self.path + "/reopen"

    @property
    def ends_at(self) -> datetime:
        return at(self.interview["ends_at"])

    async def status(self) -> str:
        body, _ = await read(self.api, self.path)
        status: str = body["status"]
        return status

    async def messages(self, kind: str | None = None) -> list[Json]:
        params: Json = {"application_id": self.id}
        if kind is not None:
            params["kind"] = kind
        return await list_items(self.api, "/v1/messages", **params)


async def make_scene(
    tenant: Tenant, clock: FixedClock, *, hiring_contact: bool = True, interview: bool = True
) -> Scene:
    client = await make_client(tenant)
    interviewer = await make_contact(tenant, client["id"])
    contact = await make_contact(tenant, client["id"]) if hiring_contact else None
    vacancy = await make_vacancy(
        tenant, client["id"], hiring_contact_id=contact["id"] if contact else None
    )
    candidate = await make_candidate(tenant, first_name=FIRST_NAME)
    application = await make_application(tenant, candidate["id"], vacancy["id"])
    held: Json = {}
    if interview:
        held = await make_interview(
            tenant,
            application["id"],
            interviewer_ids=[interviewer["id"]],
            starts_at=clock.now() + timedelta(hours=1),
        )
    key = await tenant.api_key()
    api = tenant.client_with_key(key["key"])
    return Scene(
        tenant, candidate, vacancy, application, contact, interviewer, held, key["id"], api
    )


async def ended(tenant: Tenant, clock: FixedClock, **options: bool) -> Scene:
    """A scene whose interview has ended (the clock is five minutes past its end)."""
    scene = await make_scene(tenant, clock, **options)
    clock.set(scene.ends_at + timedelta(minutes=5))
    return scene


async def withdrawn(tenant: Tenant, clock: FixedClock, **options: bool) -> Scene:
    scene = await ended(tenant, clock, **options)
    response = await scene.api.put(scene.decision, json={"decision": "withdraw", "reason": REASON})
    assert response.status_code == 200, response.text
    return scene


async def queue_for(tenant: Tenant, clock: FixedClock, application_id: str) -> str:
    """Queue a feedback request for the application straight through the outbox service."""
    principal = tenant.admin_principal()
    recipient = Recipient(RecipientType.contact, uuid4(), "hr@client.example.com", "Hiring Team")
    async with tenant_transaction(tenant.app.state.sessions, principal.agency_id) as session:
        message = await queue_message(
            session,
            principal,
            clock,
            MessageKind.feedback_request,
            recipient,
            DEFAULTS[MessageKind.feedback_request].sample,
            dedupe_key=f"test:{uuid4()}",
            application_id=UUID(application_id),
        )
        assert message is not None
        return str(message.id)


def types(events: list[Json]) -> list[str]:
    return [e["type"] for e in events]


async def app_events(tenant: Tenant, application_id: str, prefix: str) -> list[Json]:
    return [
        e
        for e in await events_of(tenant)
        if e["type"].startswith(prefix)
        and (e["object_id"] == application_id or e["data"].get("application_id") == application_id)
    ]


# --- The decision waits for an interview ----------------------------------------------------------


async def test_a_decision_waits_for_an_interview_to_end(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await make_scene(agency_a, clock)
    want = {"decision": "want"}

    for now in (clock.now(), scene.ends_at - timedelta(seconds=1)):
        clock.set(now)
        assert_problem(
            await scene.api.put(scene.decision, json=want), 409, "interview-not-finished"
        )
    assert_problem(await scene.api.get(scene.decision), 404, "not-found")
    assert await events_of(agency_a, "decision.recorded") == []

    clock.set(scene.ends_at)  # ended at its end
    response = await scene.api.put(scene.decision, json=want)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["application_id"] == scene.id
    assert body["decision"] == "want"
    assert body["open_questions"] == []
    assert body["application_status"] == "active"
    assert at(body["decided_at"]) == scene.ends_at
    assert await scene.status() == "active"


async def test_no_decision_without_any_interview(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await make_scene(agency_a, clock, interview=False)

    response = await scene.api.put(scene.decision, json={"decision": "withdraw", "reason": REASON})

    assert_problem(response, 409, "interview-not-finished")
    assert await scene.status() == "active"
    assert await scene.messages() == []
    assert_problem(await scene.api.get(scene.decision), 404, "not-found")


async def test_a_cancelled_interview_does_not_count_as_ended(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await make_scene(agency_a, clock)
    cancelled = await scene.api.delete(f"/v1/interviews/{scene.interview['id']}")
    assert cancelled.status_code == 204, cancelled.text
    clock.set(scene.ends_at + timedelta(hours=1))

    response = await scene.api.put(scene.decision, json={"decision": "withdraw", "reason": REASON})

    assert_problem(response, 409, "interview-not-finished")
    assert await scene.status() == "active"
    assert await scene.messages() == []
    assert_problem(await scene.api.get(scene.decision), 404, "not-found")


# --- want / unsure --------------------------------------------------------------------------------


async def test_want_then_unsure_keeps_the_open_questions(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await ended(agency_a, clock)
    first = await scene.api.put(scene.decision, json={"decision": "want"})
    assert first.status_code == 200, first.text
    assert first.json()["decision"] == "want"
    assert (await scene.api.get(scene.decision)).json() == first.json()

    questions = ["Is the hybrid pattern negotiable?", "When would the start date be?"]
    clock.set(clock.now() + timedelta(minutes=10))
    second = await scene.api.put(
        scene.decision, json={"decision": "unsure", "open_questions": questions}
    )

    assert second.status_code == 200, second.text
    assert second.json()["decision"] == "unsure"
    assert second.json()["open_questions"] == questions
    assert at(second.json()["decided_at"]) == clock.now()
    shown = await scene.api.get(scene.decision)
    assert shown.status_code == 200, shown.text
    assert shown.json() == second.json()
    assert shown.json()["application_status"] == "active"
    recorded = await events_of(agency_a, "decision.recorded")
    assert [e["data"]["decision"] for e in recorded] == ["want", "unsure"]
    assert await scene.messages() == []


async def test_a_withdrawal_needs_a_reason(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await ended(agency_a, clock)
    wanted = await scene.api.put(scene.decision, json={"decision": "want"})
    assert wanted.status_code == 200, wanted.text
    queued = await queue_for(agency_a, clock, scene.id)

    for body in (
        {"decision": "withdraw"},
        {"decision": "withdraw", "reason": None},
        {"decision": "withdraw", "reason": ""},
        {"decision": "withdraw", "reason": "   "},
    ):
        response = await scene.api.put(scene.decision, json=body)
        assert_problem(response, 422, "validation-error")

    assert await scene.status() == "active"
    assert (await scene.api.get(scene.decision)).json() == wanted.json()
    messages = await scene.messages()
    assert [(m["id"], m["status"]) for m in messages] == [(queued, "queued")]
    assert await events_of(agency_a, "application.withdrawn") == []


# --- Withdrawal -----------------------------------------------------------------------------------


async def test_a_withdrawal_closes_the_application_and_thanks_the_hiring_contact(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await ended(agency_a, clock)
    assert scene.hiring_contact is not None
    pending = await queue_for(agency_a, clock, scene.id)
    other = await make_application(scene.api)
    elsewhere = await queue_for(agency_a, clock, other["id"])
    clock.set(clock.now() + timedelta(minutes=1))

    response = await scene.api.put(scene.decision, json={"decision": "withdraw", "reason": REASON})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["decision"] == "withdraw"
    assert body["reason"] == REASON
    assert body["application_status"] == "withdrawn"
    assert await scene.status() == "withdrawn"
    assert (await scene.api.get(scene.decision)).json() == body

    notes = await scene.messages("withdrawal_note")
    assert len(notes) == 1, notes
    note = notes[0]
    contact = scene.hiring_contact
    assert note["status"] == "queued"
    assert note["recipient_type"] == "contact"
    assert note["recipient_id"] == contact["id"]
    assert note["to"] == contact["email"]
    assert note["to_name"] == contact["name"]
    assert note["application_id"] == scene.id
    text = note["subject"] + "\n" + note["body"]
    assert FIRST_NAME in text
    assert scene.vacancy["title"] in text
    assert scene.candidate["last_name"] not in text
    assert scene.candidate["email"] not in text
    assert "{{" not in text

    by_id = {m["id"]: m for m in await scene.messages()}
    assert by_id[pending]["status"] == "cancelled"
    assert set(by_id) == {pending, note["id"]}
    still = (await scene.api.get(f"/v1/messages/{elsewhere}")).json()
    assert still["status"] == "queued"  # another application's message is untouched
    assert types(await app_events(agency_a, scene.id, "application.withdrawn")) == [
        "application.withdrawn"
    ]


async def test_without_a_hiring_contact_the_note_goes_to_the_latest_interviews_first_interviewer(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await make_scene(agency_a, clock, hiring_contact=False)
    client_id = scene.vacancy["client_id"]
    second_seat = await make_contact(scene.api, client_id)  # made first: not ordered by id
    chair = await make_contact(scene.api, client_id)
    latest = await make_interview(
        scene.api,
        scene.id,
        interviewer_ids=[chair["id"], second_seat["id"]],
        starts_at=scene.ends_at + timedelta(hours=2),
    )
    clock.set(at(latest["ends_at"]) + timedelta(minutes=5))

    response = await scene.api.put(scene.decision, json={"decision": "withdraw", "reason": REASON})

    assert response.status_code == 200, response.text
    notes = await scene.messages("withdrawal_note")
    assert len(notes) == 1, notes
    assert notes[0]["recipient_id"] == chair["id"]
    assert notes[0]["to"] == chair["email"]
    text = notes[0]["subject"] + "\n" + notes[0]["body"]
    assert FIRST_NAME in text
    assert scene.vacancy["title"] in text
    assert scene.candidate["last_name"] not in text
    assert scene.candidate["email"] not in text


async def test_withdrawing_twice_is_refused_and_sends_one_note(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await withdrawn(agency_a, clock)
    before = (await scene.api.get(scene.decision)).json()
    clock.set(clock.now() + timedelta(minutes=1))

    again = await scene.api.put(
        scene.decision, json={"decision": "withdraw", "reason": "Changed my mind twice."}
    )

    assert_problem(again, 409, "application-closed")
    assert len(await scene.messages("withdrawal_note")) == 1
    assert (await scene.api.get(scene.decision)).json() == before
    assert len(await app_events(agency_a, scene.id, "application.withdrawn")) == 1


async def test_a_withdrawn_application_takes_no_further_step(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await withdrawn(agency_a, clock)
    decision_before = (await scene.api.get(scene.decision)).json()
    messages_before = await scene.messages()
    events_before = await events_of(agency_a)
    interview = f"/v1/interviews/{scene.interview['id']}"
    steps = {
        "kind": "another_round",
        "details": "Second round with the CFO next week.",
        "decision_expected_by": (scene.ends_at + timedelta(days=3)).isoformat(),
    }
    debrief = {
        "questions": [
            {"text": "Why this role?", "answer_quality": "strong", "half_answered": False}
        ],
        "went_well": "Clear on the WMS migration.",
        "could_improve": "Vague numbers.",
        "links": [],
    }

    refused = [
        await scene.api.put(scene.decision, json={"decision": "want"}),
        await scene.api.put(scene.decision, json={"decision": "unsure", "open_questions": ["x"]}),
        await scene.api.put(scene.outcome, json={"outcome": "offer"}),
        await scene.api.put(scene.outcome, json={"outcome": "placed"}),
        await scene.api.put(interview + "/next-steps", json=steps),
        await scene.api.put(interview + "/debrief", json=debrief),
    ]

    for response in refused:
        assert_problem(response, 409, "application-closed")
    assert await scene.status() == "withdrawn"
    assert (await scene.api.get(scene.decision)).json() == decision_before
    assert await scene.messages() == messages_before
    assert_problem(await scene.api.get(interview + "/next-steps"), 404, "not-found")
    assert_problem(await scene.api.get(interview + "/debrief"), 404, "not-found")
    assert await events_of(agency_a) == events_before


# --- Outcome --------------------------------------------------------------------------------------


async def test_an_offer_brings_back_the_open_questions_of_an_unsure_decision(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await ended(agency_a, clock)
    questions = ["Is the hybrid pattern negotiable?"]
    unsure = await scene.api.put(
        scene.decision, json={"decision": "unsure", "open_questions": questions}
    )
    assert unsure.status_code == 200, unsure.text

    response = await scene.api.put(scene.outcome, json={"outcome": "offer", "note": "£62k."})

    assert response.status_code == 200, response.text
    assert response.json()["open_questions"] == questions
    assert response.json()["application"]["id"] == scene.id
    assert response.json()["application"]["status"] == "offer"
    assert await scene.status() == "offer"
    assert response.headers["etag"] == (await read(scene.api, scene.path))[1]
    outcomes = await app_events(agency_a, scene.id, "application.outcome_recorded")
    assert [e["data"]["outcome"] for e in outcomes] == ["offer"]


async def test_an_offer_after_want_has_no_open_questions(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await ended(agency_a, clock)
    unsure = await scene.api.put(
        scene.decision, json={"decision": "unsure", "open_questions": ["Hybrid?"]}
    )
    assert unsure.status_code == 200, unsure.text
    want = await scene.api.put(scene.decision, json={"decision": "want"})
    assert want.status_code == 200, want.text
    assert want.json()["open_questions"] == []

    response = await scene.api.put(scene.outcome, json={"outcome": "offer"})

    assert response.status_code == 200, response.text
    assert response.json()["open_questions"] == []
    assert response.json()["application"]["status"] == "offer"


@pytest.mark.parametrize("outcome", ["unsuccessful", "placed"])
async def test_unsuccessful_and_placed_close_the_application(
    agency_a: Tenant, clock: FixedClock, outcome: str
) -> None:
    scene = await ended(agency_a, clock)
    unsure = await scene.api.put(
        scene.decision, json={"decision": "unsure", "open_questions": ["Hybrid?"]}
    )
    assert unsure.status_code == 200, unsure.text
    if outcome == "placed":  # an offer first, then the placement
        offer = await scene.api.put(scene.outcome, json={"outcome": "offer"})
        assert offer.status_code == 200, offer.text

    response = await scene.api.put(scene.outcome, json={"outcome": outcome})

    assert response.status_code == 200, response.text
    assert response.json()["application"]["status"] == outcome
    assert response.json()["open_questions"] == []  # only an offer brings them back
    assert await scene.status() == outcome
    events_before = await events_of(agency_a)

    for second in ("offer", "unsuccessful", "placed"):
        again = await scene.api.put(scene.outcome, json={"outcome": second})
        assert_problem(again, 409, "application-closed")
    assert_problem(
        await scene.api.put(scene.decision, json={"decision": "want"}), 409, "application-closed"
    )
    assert await scene.status() == outcome
    assert (await scene.api.get(scene.decision)).json()["decision"] == "unsure"
    assert await events_of(agency_a) == events_before


async def test_an_invalid_outcome_is_a_422(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await ended(agency_a, clock)

    for body in ({"outcome": "hired"}, {}, {"outcome": None}, {"outcome": "offer", "extra": 1}):
        response = await scene.api.put(scene.outcome, json=body)
        assert_problem(response, 422, "validation-error")
    assert "outcome" in error_fields(await scene.api.put(scene.outcome, json={"outcome": "won"}))

    assert await scene.status() == "active"
    assert await app_events(agency_a, scene.id, "application.outcome_recorded") == []


# --- Reopen ---------------------------------------------------------------------------------------


async def test_an_open_application_cannot_be_reopened(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await ended(agency_a, clock)
    body = {"reason": "Just in case."}

    assert_problem(await scene.api.post(scene.reopen, json=body), 409, "application-open")
    offer = await scene.api.put(scene.outcome, json={"outcome": "offer"})
    assert offer.status_code == 200, offer.text
    assert_problem(await scene.api.post(scene.reopen, json=body), 409, "application-open")

    assert await scene.status() == "offer"
    assert await app_events(agency_a, scene.id, "application.reopened") == []


async def test_reopening_a_withdrawn_application_is_recorded_with_who_and_why(
    agency_a: Tenant, clock: FixedClock
) -> None:
    consultant = await agency_a.add_user("consultant")
    scene = await withdrawn(agency_a, clock)
    reason = "The client came back after their first choice declined."
    clock.set(clock.now() + timedelta(minutes=3))

    response = await scene.api.post(
        scene.reopen,
        json={"reason": f"  {reason} "},
        headers={"On-Behalf-Of": consultant["id"]},
    )

    assert response.status_code == 200, response.text
    assert response.json()["id"] == scene.id
    assert response.json()["status"] == "active"
    assert await scene.status() == "active"
    timeline = await list_items(scene.api, scene.path + "/timeline")
    assert timeline[0]["type"] == "application.reopened"
    reopened = [e for e in timeline if e["type"] == "application.reopened"]
    assert len(reopened) == 1
    entry = reopened[0]
    assert entry["actor"]["user_id"] == consultant["id"]
    assert entry["actor"]["api_key_id"] == scene.key_id
    assert entry["actor"]["on_behalf_of"] is True
    assert entry["data"]["reason"] == reason
    assert entry["data"]["previous_status"] == "withdrawn"
    assert at(entry["occurred_at"]) == clock.now()

    # Open again: the workflow goes on.
    again = await scene.api.put(scene.decision, json={"decision": "want"})
    assert again.status_code == 200, again.text
    assert again.json()["application_status"] == "active"


async def test_reopening_needs_a_reason(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await withdrawn(agency_a, clock)

    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": None}):
        response = await scene.api.post(scene.reopen, json=body)
        assert_problem(response, 422, "validation-error")

    assert await scene.status() == "withdrawn"
    assert await app_events(agency_a, scene.id, "application.reopened") == []


async def test_a_reopen_retried_with_its_idempotency_key_is_replayed(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await withdrawn(agency_a, clock)
    body = {"reason": "The client came back."}
    headers = {"Idempotency-Key": str(uuid4())}

    first = await scene.api.post(scene.reopen, json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.headers.get("idempotent-replayed") is None
    replay = await scene.api.post(scene.reopen, json=body, headers=headers)

    assert replay.status_code == 200, replay.text
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["etag"] == first.headers["etag"]
    assert len(await app_events(agency_a, scene.id, "application.reopened")) == 1
    assert await scene.status() == "active"

    other = await scene.api.post(scene.reopen, json={"reason": "Another."}, headers=headers)
    assert_problem(other, 422, "idempotency-key-reused")
    # Without the key, the application is open now: a second reopen is refused.
    assert_problem(await scene.api.post(scene.reopen, json=body), 409, "application-open")


# --- Tenancy --------------------------------------------------------------------------------------


async def test_another_agency_finds_none_of_it(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    outsider = await agency_b.integration()
    scene = await ended(agency_a, clock)
    unsure = await scene.api.put(
        scene.decision, json={"decision": "unsure", "open_questions": ["Hybrid?"]}
    )
    assert unsure.status_code == 200, unsure.text
    withdraw = {"decision": "withdraw", "reason": REASON}

    assert_problem(await outsider.get(scene.decision), 404, "not-found")
    assert_problem(await outsider.put(scene.decision, json=withdraw), 404, "not-found")
    assert_problem(
        await outsider.put(scene.outcome, json={"outcome": "unsuccessful"}), 404, "not-found"
    )
    assert await scene.status() == "active"

    closed = await scene.api.put(scene.outcome, json={"outcome": "unsuccessful"})
    assert closed.status_code == 200, closed.text
    assert_problem(await outsider.post(scene.reopen, json={"reason": "Mine."}), 404, "not-found")

    assert await scene.status() == "unsuccessful"
    assert (await scene.api.get(scene.decision)).json() == {
        **unsure.json(),
        "application_status": "unsuccessful",
    }
    # The unsuccessful outcome asked the client for feedback; nothing else was sent.
    assert [m["kind"] for m in await scene.messages()] == ["feedback_request"]
    assert await list_items(outsider, "/v1/messages") == []
    assert await events_of(agency_b, "decision.recorded") == []
    assert await events_of(agency_b, "application.reopened") == []


async def test_a_withdrawal_stops_the_chases_of_an_earlier_feedback_request(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """Unsuccessful (feedback requested, chases pending), reopened, then withdrawn: the client
    is chased no more."""
    scene = await ended(agency_a, clock)
    failed = await scene.api.put(scene.outcome, json={"outcome": "unsuccessful"})
    assert failed.status_code == 200, failed.text
    request_path = scene.path + "/feedback-request"
    assert (await scene.api.get(request_path)).json()["state"] == "requested"
    reopened = await scene.api.post(scene.reopen, json={"reason": "The client came back."})
    assert reopened.status_code == 200, reopened.text
    response = await scene.api.put(scene.decision, json={"decision": "withdraw", "reason": REASON})
    assert response.status_code == 200, response.text
    request = (await scene.api.get(request_path)).json()
    assert request["state"] == "expired"
    assert request["next_chase_at"] is None
