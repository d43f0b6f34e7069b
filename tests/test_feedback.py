"""Step 6: the feedback request — created for an unsuccessful outcome, chased on the agency's
schedule by a worker function, answered through a signed expiring link (no login) or entered by a
consultant, and released to the candidate after review."""

import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import jwt
from httpx import AsyncClient

from app.core.clock import FixedClock, add_local_days
from app.feedback.links import AUDIENCE, FeedbackLinks
from tests.support.delivery import outbox_row
from tests.support.feedback import (
    DAY,
    FEEDBACK,
    at,
    chase,
    forged_signature,
    links_of,
    public_path,
    scene,
    set_schedule,
    with_token,
)
from tests.support.problems import assert_problem, error_fields
from tests.support.records import (
    events_of,
    list_items,
    make_client,
    make_contact,
    make_interview,
)
from tests.support.tenants import Tenant

# --- Creating the request ----------------------------------------------------------------------


def hidden(link: str) -> str:
    """The link as the API shows it in a message's body: its token replaced."""
    return link.rsplit("/", 1)[0] + "/[redacted]"


async def test_a_request_needs_an_unsuccessful_outcome(agency_a: Tenant) -> None:
    s = await scene(agency_a)
    assert_problem(await s.api.post(s.path, json={}), 409, "outcome-not-unsuccessful")
    named = {"contact_id": s.contact["id"]}
    assert_problem(await s.api.post(s.path, json=named), 409, "outcome-not-unsuccessful")

    offer = await s.api.put(f"/v1/applications/{s.id}/outcome", json={"outcome": "offer"})
    assert offer.status_code == 200, offer.text
    assert offer.json()["application"]["status"] == "offer"
    assert_problem(await s.api.post(s.path, json={}), 409, "outcome-not-unsuccessful")

    # Nothing changed: no request, no message, no event.
    assert_problem(await s.api.get(s.path), 404, "not-found")
    assert await s.messages() == []
    assert await events_of(agency_a, "feedback.requested") == []


async def test_an_unsuccessful_outcome_asks_the_hiring_contact(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a)
    agency = (await s.api.get("/v1/agency")).json()
    every = timedelta(days=agency["feedback_chase_after_days"])
    limit = agency["feedback_max_chases"]
    now = clock.now()

    await s.fail()

    request = await s.request()
    assert request["state"] == "requested"
    assert request["application_id"] == s.id
    assert request["contact_id"] == s.contact["id"]
    assert request["chases_sent"] == 0
    assert at(request["requested_at"]) == now
    assert at(request["next_chase_at"]) == now + every
    assert at(request["expires_at"]) == now + every * (limit + 1)
    for field in ("received_at", "submitted_by", "strengths", "gaps", "released_at"):
        assert request[field] is None, field
    link = request["client_link"]
    assert link.startswith(agency_a.app.state.settings.public_url.rstrip("/"))
    public_path(link)

    messages = await s.messages()
    assert [m["kind"] for m in messages] == ["feedback_request"]
    assert messages[0]["recipient_type"] == "contact"
    assert messages[0]["recipient_id"] == s.contact["id"]
    assert messages[0]["to"] == s.contact["email"]
    assert link in (await outbox_row(agency_a, messages[0]["id"])).body  # the email carries it
    assert link not in messages[0]["body"]  # what shows the message does not: a credential
    assert hidden(link) in messages[0]["body"]
    assert s.candidate["last_name"] not in messages[0]["body"]
    events = await events_of(agency_a, "feedback.requested")
    assert [e["object_id"] for e in events] == [request["id"]]

    # One per application: asking again is refused, and nothing changes.
    assert_problem(await s.api.post(s.path, json={}), 409, "feedback-request-exists")
    again = {"contact_id": s.contact["id"]}
    assert_problem(await s.api.post(s.path, json=again), 409, "feedback-request-exists")
    assert await s.request() == request
    assert len(await s.messages()) == 1
    assert len(await events_of(agency_a, "feedback.requested")) == 1


async def test_without_a_hiring_contact_the_latest_held_interviews_first_interviewer_is_asked(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, hiring_contact=False)
    first, second, third, later = [await make_contact(s.api, s.client["id"]) for _ in range(4)]
    now = clock.now()
    await make_interview(s.api, s.id, [first["id"]], starts_at=now - 5 * DAY)
    await make_interview(s.api, s.id, [second["id"], third["id"]], starts_at=now - 2 * DAY)
    cancelled = await make_interview(s.api, s.id, [later["id"]], starts_at=now + 3 * DAY)
    gone = await s.api.delete(f"/v1/interviews/{cancelled['id']}")
    assert gone.status_code == 204, gone.text

    await s.fail()

    request = await s.request()
    assert request["state"] == "requested"
    assert request["contact_id"] == second["id"]
    messages = await s.messages("feedback_request")
    assert [m["recipient_id"] for m in messages] == [second["id"]]


async def test_without_any_contact_none_is_created_until_a_consultant_names_one(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    s = await scene(agency_a, hiring_contact=False)
    await s.fail()
    assert_problem(await s.api.get(s.path), 404, "not-found")
    assert await s.messages() == []

    other_client = await make_client(s.api)
    stranger = await make_contact(s.api, other_client["id"])
    foreign = await make_contact(agency_b, (await make_client(agency_b))["id"])
    refused = [
        await s.api.post(s.path, json={}),
        await s.api.post(s.path, json={"contact_id": stranger["id"]}),
        await s.api.post(s.path, json={"contact_id": foreign["id"]}),
        await s.api.post(s.path, json={"contact_id": str(uuid4())}),
    ]
    for response in refused:
        assert_problem(response, 422, "reference-not-found")
        assert error_fields(response) == {"contact_id"}
    assert_problem(await s.api.get(s.path), 404, "not-found")
    assert await s.messages() == []
    assert await events_of(agency_a, "feedback.requested") == []

    created = await s.api.post(s.path, json={"contact_id": s.contact["id"]})
    assert created.status_code == 201, created.text
    assert created.headers["location"] == s.path
    assert created.json()["state"] == "requested"
    assert created.json()["contact_id"] == s.contact["id"]
    assert await s.request() == created.json()
    messages = await s.messages()
    assert [(m["kind"], m["recipient_id"]) for m in messages] == [
        ("feedback_request", s.contact["id"])
    ]
    assert created.json()["client_link"] in (await outbox_row(agency_a, messages[0]["id"])).body


# --- Chasing -----------------------------------------------------------------------------------


async def test_chases_follow_the_agency_schedule_then_the_request_expires(
    agency_a: Tenant, anon: AsyncClient, clock: FixedClock
) -> None:
    await set_schedule(agency_a, every_days=3, max_chases=2)
    s = await scene(agency_a)
    start = clock.now()
    await s.fail()
    request = await s.request()
    assert at(request["next_chase_at"]) == start + 3 * DAY
    assert at(request["expires_at"]) == start + 9 * DAY
    link = public_path(request["client_link"])

    clock.set(start + 2 * DAY)
    assert await chase(agency_a, clock) == 0
    assert (await s.request())["state"] == "requested"
    assert await s.messages("feedback_chase") == []

    clock.set(start + 3 * DAY)
    assert await chase(agency_a, clock) == 1
    chased = await s.request()
    assert chased["state"] == "chased"
    assert chased["chases_sent"] == 1
    assert at(chased["next_chase_at"]) == start + 6 * DAY
    assert at(chased["expires_at"]) == start + 9 * DAY
    reminders = await s.messages("feedback_chase")
    assert len(reminders) == 1
    assert reminders[0]["recipient_id"] == s.contact["id"]
    assert reminders[0]["to"] == s.contact["email"]
    assert chased["client_link"] in (await outbox_row(agency_a, reminders[0]["id"])).body
    assert hidden(chased["client_link"]) in reminders[0]["body"]

    # The worker may run again at the same moment: nothing more is sent.
    assert await chase(agency_a, clock) == 0
    assert await s.request() == chased
    assert len(await s.messages("feedback_chase")) == 1

    clock.set(start + 6 * DAY)
    assert await chase(agency_a, clock) == 1
    second = await s.request()
    assert second["state"] == "chased"
    assert second["chases_sent"] == 2
    assert second["next_chase_at"] is None
    assert len(await s.messages("feedback_chase")) == 2

    clock.set(start + 8 * DAY)
    assert await chase(agency_a, clock) == 0
    assert await s.request() == second
    assert len(await s.messages("feedback_chase")) == 2
    still_open = await anon.get(link)
    assert still_open.status_code == 200, still_open.text
    assert still_open.json()["answered"] is False

    clock.set(start + 9 * DAY)
    assert await chase(agency_a, clock) == 0
    expired = await s.request()
    assert expired["state"] == "expired"
    assert expired["chases_sent"] == 2
    assert expired["next_chase_at"] is None
    assert len(await s.messages("feedback_chase")) == 2
    assert [e["object_id"] for e in await events_of(agency_a, "feedback.expired")] == [
        expired["id"]
    ]
    assert [e["data"].get("chase") for e in await events_of(agency_a, "feedback.chased")] == [1, 2]

    # The link has expired with the request: 410, and nothing is recorded through it.
    assert_problem(await anon.get(link), 410, "link-expired")
    assert_problem(await anon.post(link, json=FEEDBACK), 410, "link-expired")
    assert_problem(await s.api.post(s.path + "/release", json={}), 409, "feedback-not-received")
    assert await s.request() == expired
    assert await s.messages("feedback_release") == []

    clock.set(start + 30 * DAY)
    assert await chase(agency_a, clock) == 0
    assert await s.request() == expired


async def test_no_chase_once_the_feedback_is_in(agency_a: Tenant, clock: FixedClock) -> None:
    await set_schedule(agency_a, every_days=3, max_chases=2)
    s = await scene(agency_a)
    start = clock.now()
    await s.fail()
    entered = await s.api.post(s.path + "/feedback", json=FEEDBACK)
    assert entered.status_code == 200, entered.text

    for days in (3, 6, 9, 12):
        clock.set(start + days * DAY)
        assert await chase(agency_a, clock) == 0
    request = await s.request()
    assert request["state"] == "received"
    assert request["chases_sent"] == 0
    assert await s.messages("feedback_chase") == []


# --- The public link ---------------------------------------------------------------------------


async def test_the_public_form_shows_first_name_and_role_only(
    agency_a: Tenant, anon: AsyncClient
) -> None:
    s = await scene(agency_a, phone="+44 7700 900123")
    await s.fail()
    request = await s.request()
    agency = (await s.api.get("/v1/agency")).json()

    response = await anon.get(public_path(request["client_link"]))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "agency_name": agency["sender_name"] or agency["name"],
        "client_name": s.client["name"],
        "role_title": s.vacancy["title"],
        "candidate_first_name": s.candidate["first_name"],
        "answered": False,
        "questions": ["strengths", "gaps", "advice"],
    }
    text = response.text
    for private in (
        s.candidate["last_name"],
        s.candidate["email"],
        s.candidate["email"].split("@")[0],
        "7700 900123",
        s.candidate["id"],
        s.contact["email"],
    ):
        assert private not in text, private
    # Opening the form changes nothing.
    assert await s.request() == request


async def test_the_client_answers_through_the_link_once(
    agency_a: Tenant, anon: AsyncClient, clock: FixedClock
) -> None:
    s = await scene(agency_a)
    await s.fail()
    request = await s.request()
    link = public_path(request["client_link"])

    for bad in ({}, {"strengths": "Good."}, {**FEEDBACK, "gaps": ""}, {**FEEDBACK, "extra": 1}):
        assert (await anon.post(link, json=bad)).status_code == 422
    assert await s.request() == request

    clock.set(clock.now() + DAY)
    answered = await anon.post(link, json=FEEDBACK)
    assert answered.status_code == 200, answered.text
    assert answered.json()["answered"] is True
    assert answered.json()["candidate_first_name"] == s.candidate["first_name"]
    assert s.candidate["last_name"] not in answered.text

    received = await s.request()
    assert received["state"] == "received"
    assert received["submitted_by"] == "client"
    assert at(received["received_at"]) == clock.now()
    assert received["next_chase_at"] is None
    for field in ("strengths", "gaps", "advice"):
        assert received[field] == FEEDBACK[field], field
    events = await events_of(agency_a, "feedback.received")
    assert [(e["object_id"], e["data"]["submitted_by"]) for e in events] == [
        (received["id"], "client")
    ]
    assert (await anon.get(link)).json()["answered"] is True

    # Once only: the link is closed now (410), a consultant is refused (409); the first answer
    # stands.
    other = {"strengths": "Changed my mind.", "gaps": "Everything."}
    assert_problem(await anon.post(link, json=other), 410, "link-closed")
    assert_problem(
        await s.api.post(s.path + "/feedback", json=other), 409, "feedback-already-received"
    )
    assert await s.request() == received
    assert len(await events_of(agency_a, "feedback.received")) == 1


async def test_a_forged_link_finds_nothing(
    agency_a: Tenant, anon: AsyncClient, clock: FixedClock
) -> None:
    s = await scene(agency_a)
    await s.fail()
    request = await s.request()
    link = public_path(request["client_link"])
    token = link.rsplit("/", 1)[1]
    expires = at(request["expires_at"])
    assert expires is not None
    genuine = links_of(agency_a)
    request_id, agency_id = UUID(request["id"]), agency_a.agency_id
    claims = {
        "aud": AUDIENCE,
        "agency": str(agency_id),
        "req": str(request_id),
        "exp": int(expires.timestamp()),
    }

    forgeries = [
        forged_signature(token),
        FeedbackLinks("another-" + secrets.token_urlsafe(32), genuine.base_url).token(
            agency_id, request_id, expires
        ),
        # Signed with the server secret itself rather than the derived link key.
        jwt.encode(claims, agency_a.app.state.jwt_secret, algorithm="HS256"),
        jwt.encode(claims, "", algorithm="none"),
        "not-a-token",
        token[: len(token) // 2],
        # Genuinely signed, but naming no request.
        genuine.token(agency_id, uuid4(), expires),
    ]
    for forged in forgeries:
        path = with_token(link, forged)
        assert_problem(await anon.get(path), 404, "not-found")
        assert_problem(await anon.post(path, json=FEEDBACK), 404, "not-found")
    assert await s.request() == request
    assert await events_of(agency_a, "feedback.received") == []

    # The genuine link still works.
    assert (await anon.get(link)).status_code == 200


async def test_a_genuine_but_expired_link_is_gone(
    agency_a: Tenant, anon: AsyncClient, clock: FixedClock
) -> None:
    s = await scene(agency_a)
    await s.fail()
    request = await s.request()
    link = public_path(request["client_link"])
    stale = links_of(agency_a).token(agency_a.agency_id, UUID(request["id"]), clock.now())
    path = with_token(link, stale)
    assert_problem(await anon.get(path), 410, "link-expired")
    assert_problem(await anon.post(path, json=FEEDBACK), 410, "link-expired")
    assert await s.request() == request


async def test_a_link_only_reaches_its_own_agencys_request(
    agency_a: Tenant, agency_b: Tenant, anon: AsyncClient
) -> None:
    a = await scene(agency_a)
    b = await scene(agency_b)
    await a.fail()
    await b.fail()
    a_request, b_request = await a.request(), await b.request()
    b_link = public_path(b_request["client_link"])

    form = await anon.get(b_link)
    assert form.status_code == 200, form.text
    assert form.json()["client_name"] == b.client["name"]
    assert form.json()["role_title"] == b.vacancy["title"]
    assert a.client["name"] not in form.text
    assert a.vacancy["title"] not in form.text

    # A link naming one agency with the other's request reaches neither.
    links = links_of(agency_a)
    expires = at(a_request["expires_at"])
    assert expires is not None
    crossed = [
        links.token(agency_b.agency_id, UUID(a_request["id"]), expires),
        links.token(agency_a.agency_id, UUID(b_request["id"]), expires),
    ]
    for token in crossed:
        path = with_token(b_link, token)
        assert_problem(await anon.get(path), 404, "not-found")
        assert_problem(await anon.post(path, json=FEEDBACK), 404, "not-found")
    assert await a.request() == a_request
    assert await b.request() == b_request

    # B's own link records B's feedback and leaves A's request alone.
    assert (await anon.post(b_link, json=FEEDBACK)).status_code == 200
    assert (await b.request())["state"] == "received"
    assert await a.request() == a_request
    assert await events_of(agency_a, "feedback.received") == []


# --- Consultant entry and release ---------------------------------------------------------------


async def test_a_consultant_enters_the_feedback_and_releases_it(
    agency_a: Tenant, anon: AsyncClient, clock: FixedClock
) -> None:
    s = await scene(agency_a)
    await s.fail()
    request = await s.request()
    link = public_path(request["client_link"])

    assert_problem(await s.api.post(s.path + "/release", json={}), 409, "feedback-not-received")
    assert await s.request() == request
    assert await s.messages("feedback_release") == []
    assert await events_of(agency_a, "feedback.released") == []

    clock.set(clock.now() + 2 * DAY)
    entered = await s.api.post(s.path + "/feedback", json=FEEDBACK)
    assert entered.status_code == 200, entered.text
    assert entered.json()["state"] == "received"
    assert entered.json()["submitted_by"] == "consultant"
    assert entered.json()["strengths"] == FEEDBACK["strengths"]
    assert at(entered.json()["received_at"]) == clock.now()
    assert await s.request() == entered.json()
    assert (await anon.get(link)).json()["answered"] is True
    assert_problem(await anon.post(link, json=FEEDBACK), 410, "link-closed")
    assert await s.messages("feedback_release") == []  # nothing goes out before review

    clock.set(clock.now() + DAY)
    released = await s.api.post(s.path + "/release", json={"debrief_call": True})
    assert released.status_code == 200, released.text
    body = released.json()
    assert body["state"] == "released"
    assert body["debrief_call"] is True
    assert at(body["released_at"]) == clock.now()
    assert body["strengths"] == FEEDBACK["strengths"]
    assert await s.request() == body

    messages = await s.messages("feedback_release")
    assert len(messages) == 1
    message = messages[0]
    assert message["recipient_type"] == "candidate"
    assert message["recipient_id"] == s.candidate["id"]
    assert message["to"] == s.candidate["email"]
    assert FEEDBACK["strengths"] in message["body"]
    assert FEEDBACK["gaps"] in message["body"]
    assert [e["data"]["debrief_call"] for e in await events_of(agency_a, "feedback.released")] == [
        True
    ]

    # Released once.
    assert_problem(await s.api.post(s.path + "/release", json={}), 409, "feedback-not-received")
    assert await s.request() == body
    assert len(await s.messages("feedback_release")) == 1


async def test_release_without_contact_consent_sends_nothing(agency_a: Tenant) -> None:
    s = await scene(agency_a, consent=False)
    await s.fail()
    entered = await s.api.post(s.path + "/feedback", json=FEEDBACK)
    assert entered.status_code == 200, entered.text

    released = await s.api.post(s.path + "/release", json={})
    assert released.status_code == 200, released.text
    assert released.json()["state"] == "released"
    assert released.json()["debrief_call"] is False
    assert (await s.request())["state"] == "released"
    assert await s.messages("feedback_release") == []
    assert [m["kind"] for m in await s.messages()] == ["feedback_request"]
    assert len(await events_of(agency_a, "feedback.released")) == 1


# --- Tenancy -----------------------------------------------------------------------------------


async def test_another_agency_finds_none_of_it(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a)
    outsider = await agency_b.integration()
    await s.fail()
    request = await s.request()

    assert_problem(await outsider.get(s.path), 404, "not-found")
    assert_problem(await outsider.post(s.path, json={}), 404, "not-found")
    assert_problem(await outsider.post(s.path + "/feedback", json=FEEDBACK), 404, "not-found")
    assert_problem(await outsider.post(s.path + "/release", json={}), 404, "not-found")

    # The other agency's worker does not touch it either.
    clock.set(clock.now() + 400 * DAY)
    assert await chase(agency_b, clock) == 0
    assert await s.request() == request
    assert [m["kind"] for m in await s.messages()] == ["feedback_request"]
    assert await list_items(outsider, "/v1/messages") == []
    for kind in ("feedback.requested", "feedback.received", "feedback.released"):
        assert await events_of(agency_b, kind) == []


async def test_an_interviewer_of_a_future_interview_is_not_asked(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """Feedback is asked of someone who met the candidate: a scheduled, not yet held interview
    does not count."""
    s = await scene(agency_a, hiring_contact=False)
    met, not_yet = [await make_contact(s.api, s.client["id"]) for _ in range(2)]
    now = clock.now()
    await make_interview(s.api, s.id, [met["id"]], starts_at=now - 2 * DAY)
    await make_interview(s.api, s.id, [not_yet["id"]], starts_at=now + 2 * DAY)
    await s.fail()
    assert (await s.request())["contact_id"] == met["id"]


async def test_a_consultant_may_enter_a_late_reply_after_the_request_expired(
    agency_a: Tenant, clock: FixedClock
) -> None:
    await set_schedule(agency_a, every_days=1, max_chases=0)
    s = await scene(agency_a)
    await s.fail()
    clock.set(clock.now() + 2 * DAY)
    await chase(agency_a, clock)
    assert (await s.request())["state"] == "expired"
    entered = await s.api.post(
        s.path + "/feedback", json={"strengths": "Calm.", "gaps": "Budgeting."}
    )
    assert entered.status_code == 200, entered.text
    assert entered.json()["state"] == "received"
    assert entered.json()["submitted_by"] == "consultant"


def test_days_are_counted_on_the_agency_wall_clock() -> None:
    """Three days after 10:00 London time on the Friday before the clocks go forward is 10:00
    London time on Monday: 09:00 UTC, not 10:00."""
    friday = datetime(2027, 3, 26, 10, 0, tzinfo=UTC)
    assert add_local_days(friday, 3, "Europe/London") == datetime(2027, 3, 29, 9, 0, tzinfo=UTC)
    assert add_local_days(friday, 3, "UTC") == datetime(2027, 3, 29, 10, 0, tzinfo=UTC)


async def test_chases_are_scheduled_in_the_agency_time_zone(
    agency_a: Tenant, clock: FixedClock
) -> None:
    current = await agency_a.admin.get("/v1/agency")
    changed = await agency_a.admin.patch(
        "/v1/agency",
        json={"timezone": "Europe/London", "feedback_chase_after_days": 3},
        headers={"If-Match": current.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    s = await scene(agency_a)
    clock.set(datetime(2027, 3, 26, 10, 0, tzinfo=UTC))
    await s.fail()
    request = await s.request()
    assert at(request["next_chase_at"]) == datetime(2027, 3, 29, 9, 0, tzinfo=UTC)
