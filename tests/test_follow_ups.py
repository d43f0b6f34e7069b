"""Step 4: the thank-you follow-up, agency first.

Only after the interview has ended and only when the candidate's decision is `want`; the
candidate thanks the agency first; a direct note to the interviewers needs a request and a
consultant's approval (otherwise the note goes via the agency); exactly one follow-up per
interview, even when sends race; a word limit and a window from the agency's settings; optional
links and an answer to a question this interview's debrief marked half-answered.

Login tokens expire after 900 s of app-clock time, so interviews here end a few minutes after the
clock's now and the clock moves just past their end; the tests that move it by hours act with an
API key (which may not approve or decline: that is a person's call).
"""

import asyncio
import secrets
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from app.core.clock import FixedClock
from tests.support.follow_ups import (
    BODY,
    FIRST_NAME,
    LAST_NAME,
    LINKS,
    SUBJECT,
    Scene,
    decide,
    finish,
    note,
    ready,
    schedule,
    set_agency,
    thanked,
)
from tests.support.problems import assert_problem, error_fields
from tests.support.records import (
    at,
)
from tests.support.tenants import Tenant

Json = dict[str, Any]

# --- Reading it, and nothing before the interview ends -----------------------------------------


async def test_before_anything_it_is_not_started_and_due_at_the_end_plus_the_window(
    agency_a: Tenant, clock: FixedClock
) -> None:
    settings = await set_agency(agency_a, follow_up_window_hours=6)
    assert settings["follow_up_window_hours"] == 6
    scene = await schedule(agency_a, clock)
    api = await agency_a.integration()

    state = await scene.state()

    assert state["interview_id"] == scene.interview["id"]
    assert state["state"] == "not_started"
    assert at(state["due_at"]) == scene.ends_at + timedelta(hours=6)
    assert state["overdue"] is False
    assert state["word_limit"] == settings["follow_up_max_words"] == 150
    for empty in ("agency_thanked_at", "sent_at", "route", "body", "on_time", "word_count"):
        assert state[empty] is None, empty
    assert state["links"] == []

    clock.set(scene.ends_at + timedelta(hours=6))
    assert (await scene.state(api))["overdue"] is False
    clock.set(scene.ends_at + timedelta(hours=6, seconds=1))
    late = await scene.state(api)
    assert late["overdue"] is True
    assert late["state"] == "not_started"
    assert await scene.events() == []


async def test_no_step_before_the_interview_ends(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await schedule(agency_a, clock)
    before = await scene.snapshot()

    for now in (clock.now(), scene.ends_at - timedelta(seconds=1)):
        clock.set(now)
        for suffix, body in (
            ("/agency-thanks", {}),
            ("/direct-contact-request", {}),
            ("/direct-contact-request/approve", None),
            ("/direct-contact-request/decline", {}),
            ("/send", note()),
        ):
            problem = assert_problem(await scene.post(suffix, body), 409, "interview-not-finished")
            assert at(problem["ends_at"]) == scene.ends_at, suffix

    assert await scene.snapshot() == before
    assert before[0]["state"] == "not_started"

    clock.set(scene.ends_at)  # ended at its end
    await decide(scene, "want")
    response = await scene.post("/agency-thanks", {})
    assert response.status_code == 200, response.text


# --- Only when the decision is `want` ----------------------------------------------------------


async def test_the_follow_up_waits_for_a_want_decision(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await schedule(agency_a, clock)
    await finish(clock, scene, decision=None)
    before = await scene.snapshot()

    for decision in (None, "unsure"):
        if decision is not None:
            await decide(scene, decision)
        for suffix, body in (("/agency-thanks", {}), ("/send", note())):
            problem = assert_problem(await scene.post(suffix, body), 409, "decision-not-want")
            assert problem["detail"], problem
        assert await scene.snapshot() == before

    await decide(scene, "want")
    response = await scene.post("/agency-thanks", {"note": "Thank you for arranging it."})

    assert response.status_code == 200, response.text
    assert response.json()["state"] == "agency_thanked"
    assert at(response.json()["agency_thanked_at"]) == clock.now()


async def test_a_withdrawn_application_takes_no_follow_up(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await schedule(agency_a, clock)
    await finish(clock, scene, decision="withdraw")
    before = await scene.snapshot()

    for suffix, body in (("/agency-thanks", {}), ("/send", note())):
        assert_problem(await scene.post(suffix, body), 409, "application-closed")

    assert await scene.snapshot() == before
    assert before[0]["state"] == "not_started"


# --- Agency first --------------------------------------------------------------------------------


async def test_the_agency_is_thanked_first_and_once(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await ready(agency_a, clock)
    before = await scene.snapshot()

    for suffix, body in (
        ("/direct-contact-request", {"reason": "The manager asked for my portfolio."}),
        ("/direct-contact-request/approve", None),
        ("/direct-contact-request/decline", {}),
        ("/send", note()),
        ("/send", note("direct")),
    ):
        assert_problem(await scene.post(suffix, body), 409, "agency-first-required")
    assert await scene.snapshot() == before

    first = await scene.post("/agency-thanks", {"note": "Thanks for setting it up."})

    assert first.status_code == 200, first.text
    thanked_state = first.json()
    assert thanked_state["state"] == "agency_thanked"
    assert at(thanked_state["agency_thanked_at"]) == clock.now()
    assert thanked_state["sent_at"] is None
    assert await scene.state() == thanked_state
    assert [e["type"] for e in await scene.events()] == ["follow_up.agency_thanked"]

    after = await scene.snapshot()
    clock.set(clock.now() + timedelta(seconds=30))
    assert_problem(await scene.post("/agency-thanks", {}), 409, "follow-up-wrong-state")
    assert (await scene.state())["agency_thanked_at"] == thanked_state["agency_thanked_at"]
    assert (await scene.messages(), len(await scene.events())) == after[1:]


async def test_approve_or_decline_need_a_pending_request(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await thanked(agency_a, clock)
    before = await scene.snapshot()

    for suffix in ("/direct-contact-request/approve", "/direct-contact-request/decline"):
        assert_problem(await scene.post(suffix, {}), 409, "follow-up-wrong-state")

    assert await scene.snapshot() == before
    assert before[0]["state"] == "agency_thanked"


# --- Direct contact needs a request and a person's approval --------------------------------------


async def test_a_direct_note_needs_an_approved_request(agency_a: Tenant, clock: FixedClock) -> None:
    consultant = await agency_a.add_user("consultant")
    scene = await thanked(agency_a, clock, consultant=consultant)
    api = await agency_a.integration()

    before = await scene.snapshot()
    assert_problem(await scene.post("/send", note("direct")), 409, "direct-contact-not-approved")
    assert await scene.snapshot() == before

    requested = await scene.post("/direct-contact-request", {"reason": "They asked for it."})
    assert requested.status_code == 200, requested.text
    assert requested.json()["state"] == "direct_requested"
    assert at(requested.json()["direct_requested_at"]) == clock.now()
    assert requested.json()["direct_decided_at"] is None

    before = await scene.snapshot()
    assert_problem(await scene.post("/send", note("direct")), 409, "direct-contact-not-approved")
    assert_problem(await scene.post("/direct-contact-request", {}), 409, "follow-up-wrong-state")
    for suffix in ("/direct-contact-request/approve", "/direct-contact-request/decline"):
        assert_problem(await scene.post(suffix, {}, client=api), 403, "forbidden")
    assert await scene.snapshot() == before
    assert before[0]["state"] == "direct_requested"

    declined = await scene.post(
        "/direct-contact-request/decline", {"reason": "This client prefers contact through us."}
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["state"] == "direct_declined"
    assert at(declined.json()["direct_decided_at"]) == clock.now()

    before = await scene.snapshot()
    assert_problem(await scene.post("/send", note("direct")), 409, "direct-contact-not-approved")
    for suffix in ("/direct-contact-request/approve", "/direct-contact-request"):
        assert_problem(await scene.post(suffix, {}), 409, "follow-up-wrong-state")
    assert await scene.snapshot() == before

    sent = await scene.post("/send", note())

    assert sent.status_code == 200, sent.text
    assert sent.json()["state"] == "sent"
    assert sent.json()["route"] == "via_agency"
    messages = await scene.messages()
    assert [(m["kind"], m["to"]) for m in messages] == [
        ("follow_up_via_agency", consultant["email"])
    ]
    assert [e["type"] for e in await scene.events()] == [
        "follow_up.agency_thanked",
        "follow_up.direct_contact_requested",
        "follow_up.direct_contact_declined",
        "follow_up.sent",
    ]


async def test_an_approved_direct_note_is_queued_to_each_interviewer(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await thanked(agency_a, clock, interviewers=2)
    consultant = await agency_a.consultant()
    requested = await scene.post("/direct-contact-request", {"reason": "They asked for it."})
    assert requested.status_code == 200, requested.text

    approved = await scene.post("/direct-contact-request/approve", client=consultant)

    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "direct_approved"
    assert at(approved.json()["direct_decided_at"]) == clock.now()
    assert await scene.messages() == []

    clock.set(clock.now() + timedelta(seconds=20))
    sent = await scene.post("/send", note("direct", links=LINKS))

    assert sent.status_code == 200, sent.text
    follow_up = sent.json()
    assert follow_up["state"] == "sent"
    assert follow_up["route"] == "direct"
    assert at(follow_up["sent_at"]) == clock.now()
    assert (follow_up["subject"], follow_up["body"]) == (SUBJECT, BODY)
    assert follow_up["links"] == LINKS
    assert follow_up["word_count"] == len(BODY.split())
    assert follow_up["on_time"] is True
    assert follow_up["overdue"] is False
    assert await scene.state() == follow_up

    messages = await scene.messages()
    assert {m["kind"] for m in messages} == {"follow_up_direct"}
    by_recipient = {m["recipient_id"]: m for m in messages}
    assert len(messages) == len(by_recipient) == 2
    for contact in scene.interviewers:
        message = by_recipient[contact["id"]]
        assert message["to"] == contact["email"]
        assert message["status"] == "queued"
        assert message["subject"] == SUBJECT
        assert BODY in message["body"]
        for link in LINKS:
            assert link in message["body"]
        assert message["related"]["interview_id"] == scene.interview["id"]

    events = await scene.events()
    assert [e["type"] for e in events] == [
        "follow_up.agency_thanked",
        "follow_up.direct_contact_requested",
        "follow_up.direct_contact_approved",
        "follow_up.sent",
    ]
    assert events[-1]["data"]["route"] == "direct"
    assert events[-1]["data"]["on_time"] is True


async def test_a_via_agency_note_is_queued_to_the_consultant_for_forwarding(
    agency_a: Tenant, clock: FixedClock
) -> None:
    consultant = await agency_a.add_user("consultant", name="Priya Shah")
    scene = await thanked(agency_a, clock, interviewers=2, consultant=consultant)

    sent = await scene.post("/send", note(links=LINKS[:1]))

    assert sent.status_code == 200, sent.text
    assert sent.json()["route"] == "via_agency"
    assert sent.json()["links"] == LINKS[:1]
    messages = await scene.messages()
    assert len(messages) == 1
    message = messages[0]
    assert message["kind"] == "follow_up_via_agency"
    assert message["to"] == consultant["email"]
    assert message["recipient_id"] == consultant["id"]
    assert BODY in message["body"]
    assert LINKS[0] in message["body"]
    assert f"{FIRST_NAME} {LAST_NAME}" in message["body"]
    assert [e["data"]["route"] for e in await scene.events() if e["type"] == "follow_up.sent"] == [
        "via_agency"
    ]


# --- Succinct, on time, with extras -------------------------------------------------------------


async def test_the_word_limit_comes_from_the_agency(agency_a: Tenant, clock: FixedClock) -> None:
    await set_agency(agency_a, follow_up_max_words=10)
    scene = await thanked(agency_a, clock)
    before = await scene.snapshot()
    assert before[0]["word_limit"] == 10
    eleven = "one two three four five six seven eight nine ten eleven"

    problem = assert_problem(
        await scene.post("/send", note(body=eleven)), 422, "follow-up-too-long"
    )

    assert problem["word_count"] == 11
    assert problem["word_limit"] == 10
    assert "11" in problem["detail"]
    assert "10" in problem["detail"]
    assert await scene.snapshot() == before

    ten = "one  two\nthree four five six seven eight nine\tten"
    sent = await scene.post("/send", note(body=ten))

    assert sent.status_code == 200, sent.text
    assert sent.json()["word_count"] == 10
    assert sent.json()["word_limit"] == 10
    assert sent.json()["body"] == ten


async def test_on_time_is_recorded_against_the_end_plus_the_window(
    agency_a: Tenant, clock: FixedClock
) -> None:
    await set_agency(agency_a, follow_up_window_hours=2)
    consultant = await agency_a.add_user("consultant")
    early = await schedule(agency_a, clock, consultant=consultant)
    last_minute = await schedule(agency_a, clock, consultant=consultant)
    late = await schedule(agency_a, clock, consultant=consultant)
    api = await agency_a.integration()
    await finish(clock, early, last_minute, late)
    for scene in (early, last_minute, late):
        response = await scene.post("/agency-thanks", {})
        assert response.status_code == 200, response.text

    sent_early = await early.post("/send", note())
    assert sent_early.status_code == 200, sent_early.text
    assert sent_early.json()["on_time"] is True

    due = last_minute.ends_at + timedelta(hours=2)
    assert at((await last_minute.state(api))["due_at"]) == due
    clock.set(due)
    sent_at_due = await last_minute.post("/send", note(), client=api)
    assert sent_at_due.status_code == 200, sent_at_due.text
    assert sent_at_due.json()["on_time"] is True

    late_due = late.ends_at + timedelta(hours=2)
    clock.set(late_due + timedelta(seconds=1))
    assert (await late.state(api))["overdue"] is True
    sent_late = await late.post("/send", note(), client=api)

    assert sent_late.status_code == 200, sent_late.text
    assert sent_late.json()["on_time"] is False
    assert sent_late.json()["overdue"] is False  # sent: nothing is overdue any more
    assert at(sent_late.json()["sent_at"]) == late_due + timedelta(seconds=1)
    assert (await late.state(api))["on_time"] is False
    sent_events = [e for e in await late.events() if e["type"] == "follow_up.sent"]
    assert [e["data"]["on_time"] for e in sent_events] == [False]
    assert len(await late.messages(api)) == 1


async def test_an_answer_must_be_to_a_half_answered_question_of_this_debrief(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await schedule(agency_a, clock)
    other = await schedule(agency_a, clock, same_application_as=scene)
    await finish(clock, scene)

    async def debrief(target: Scene, tag: str) -> dict[str, str]:
        response = await target.client.put(
            f"/v1/interviews/{target.interview['id']}/debrief",
            json={
                "questions": [
                    {"text": f"Half {tag}", "answer_quality": "adequate", "half_answered": True},
                    {"text": f"Full {tag}", "answer_quality": "strong", "half_answered": False},
                ],
                "went_well": "Clear on the WMS migration.",
                "could_improve": "Vague on the cost numbers.",
            },
        )
        assert response.status_code == 201, response.text
        return {q["text"]: q["id"] for q in response.json()["questions"]}

    ours, theirs = await debrief(scene, "ours"), await debrief(other, "theirs")
    response = await scene.post("/agency-thanks", {})
    assert response.status_code == 200, response.text
    before = await scene.snapshot()

    for wrong in (ours["Full ours"], theirs["Half theirs"], str(uuid4())):
        response = await scene.post("/send", note(answers_question_id=wrong))
        assert_problem(response, 422, "reference-not-found")
        assert error_fields(response) == {"answers_question_id"}
    assert await scene.snapshot() == before

    sent = await scene.post("/send", note(answers_question_id=ours["Half ours"]))

    assert sent.status_code == 200, sent.text
    assert sent.json()["answers_question_id"] == ours["Half ours"]
    assert (await scene.state())["answers_question_id"] == ours["Half ours"]


# --- Exactly one per interview -------------------------------------------------------------------


async def test_a_second_follow_up_is_refused(agency_a: Tenant, clock: FixedClock) -> None:
    consultant = await agency_a.add_user("consultant")
    scene = await thanked(agency_a, clock, consultant=consultant)
    first = await scene.post("/send", note(links=LINKS))
    assert first.status_code == 200, first.text
    before = await scene.snapshot()
    assert len(before[1]) == 1

    for suffix, body in (
        ("/send", note(body="A second, different note.")),
        ("/send", note("direct")),
        ("/agency-thanks", {}),
        ("/direct-contact-request", {}),
        ("/direct-contact-request/approve", None),
    ):
        assert_problem(await scene.post(suffix, body), 409, "follow-up-already-sent")

    assert await scene.snapshot() == before
    assert before[0]["body"] == BODY


@pytest.mark.parametrize("route", ["direct", "via_agency"])
async def test_racing_sends_exactly_one_wins(
    agency_a: Tenant, clock: FixedClock, route: str
) -> None:
    consultant = await agency_a.add_user("consultant")
    scene = await thanked(agency_a, clock, interviewers=2, consultant=consultant)
    if route == "direct":
        for suffix in ("/direct-contact-request", "/direct-contact-request/approve"):
            response = await scene.post(suffix, {})
            assert response.status_code == 200, response.text
    bodies = [f"Thank you for today, from racer {n} ({secrets.token_hex(2)})." for n in range(5)]

    responses = await asyncio.gather(*(scene.post("/send", note(route, body=b)) for b in bodies))

    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1, [r.text for r in responses]
    for response in responses:
        if response is not winners[0]:
            assert_problem(response, 409, "follow-up-already-sent")
    winning_body = winners[0].json()["body"]
    assert winning_body in bodies
    state = await scene.state()
    assert state["state"] == "sent"
    assert state["body"] == winning_body

    messages = await scene.messages()
    expected = (
        {c["email"] for c in scene.interviewers} if route == "direct" else {consultant["email"]}
    )
    assert len(messages) == len(expected)
    assert {m["to"] for m in messages} == expected
    assert {m["kind"] for m in messages} == {f"follow_up_{route}"}
    for message in messages:
        assert winning_body in message["body"]
    sent_events = [e for e in await scene.events() if e["type"] == "follow_up.sent"]
    assert len(sent_events) == 1


# --- Withdrawal cancels it ----------------------------------------------------------------------


async def test_a_withdrawal_cancels_a_pending_follow_up(
    agency_a: Tenant, clock: FixedClock
) -> None:
    consultant = await agency_a.add_user("consultant")
    scene = await thanked(agency_a, clock, consultant=consultant)
    requested = await scene.post("/direct-contact-request", {})
    assert requested.status_code == 200, requested.text

    await decide(scene, "withdraw")

    state = await scene.state()
    assert state["state"] == "cancelled"
    assert state["overdue"] is False
    assert state["sent_at"] is None
    before = await scene.snapshot()
    for suffix, body in (
        ("/send", note()),
        ("/direct-contact-request/approve", None),
        ("/agency-thanks", {}),
    ):
        assert_problem(await scene.post(suffix, body), 409, "application-closed")
    assert await scene.snapshot() == before
    assert before[1] == []
    assert "follow_up.sent" not in [e["type"] for e in await scene.events()]


# --- Tenancy ------------------------------------------------------------------------------------


async def test_another_agency_gets_404_on_every_route(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    scene = await thanked(agency_a, clock)
    requested = await scene.post("/direct-contact-request", {})
    assert requested.status_code == 200, requested.text
    before = await scene.snapshot()

    for method, suffix, body in (
        ("GET", "", None),
        ("POST", "/agency-thanks", {}),
        ("POST", "/direct-contact-request", {}),
        ("POST", "/direct-contact-request/approve", None),
        ("POST", "/direct-contact-request/decline", {}),
        ("POST", "/send", note()),
    ):
        response = await agency_b.admin.request(method, scene.path + suffix, json=body)
        assert_problem(response, 404, "not-found")

    other_key = await agency_b.integration()  # 404 before the "a person decides" check: no oracle
    for suffix in ("/direct-contact-request/approve", "/direct-contact-request/decline"):
        assert_problem(await other_key.post(scene.path + suffix, json={}), 404, "not-found")

    assert await scene.snapshot() == before
    approved = await scene.post("/direct-contact-request/approve")
    assert approved.status_code == 200, approved.text


async def test_a_via_agency_note_needs_someone_to_forward_it(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """With no consultant on the application and an API key acting for nobody, nobody could
    forward the note: refused, rather than marked sent with no message."""
    scene = await thanked(agency_a, clock)
    integration = await agency_a.integration()
    before = await scene.snapshot()
    response = await scene.post("/send", note("via_agency"), client=integration)
    assert_problem(response, 409, "no-consultant")
    assert await scene.snapshot() == before
    on_behalf = await integration.post(
        scene.path + "/send",
        json=note("via_agency"),
        headers={"On-Behalf-Of": str(agency_a.admin_id)},
    )
    assert on_behalf.status_code == 200, on_behalf.text
    assert [m["kind"] for m in await scene.messages()] == ["follow_up_via_agency"]


async def test_reading_the_follow_up_gives_its_etag(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await ready(agency_a, clock)
    assert "etag" not in (await scene.client.get(scene.path)).headers  # nothing stored yet
    thanks = await scene.post("/agency-thanks", {})
    read = await scene.client.get(scene.path)
    assert read.headers["etag"] == thanks.headers["etag"]
    await scene.post("/send", note("via_agency"))
    assert (await scene.client.get(scene.path)).headers["etag"] != read.headers["etag"]
