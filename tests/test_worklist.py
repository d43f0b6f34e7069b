"""The worklist (GET /v1/worklist): a consultant's open work, computed from the records for any
`now`, ordered by due time, walked with a cursor.

Nothing appears for an interview that has not ended. Time moves with the injected clock, so the
reads and writes after an interview use an API key naming the consultant (`assignee`): a login
token would expire after 900 s of app-clock time. Due times are computed from what the API
returned (the interview's `ends_at`, the agency's settings), never hard-coded.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from httpx import AsyncClient

from app.core.clock import FixedClock
from app.core.pagination import encode_cursor
from app.worklist.schemas import WorkKind
from tests.support.candidate_page import post_form
from tests.support.problems import assert_problem
from tests.support.records import (
    at,
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
SECOND = timedelta(seconds=1)
REASON = "Accepted another offer closer to home."
FEEDBACK: Json = {
    "strengths": "Clear, structured answers on warehouse systems.",
    "gaps": "Less depth on budgeting than the role needs.",
    "advice": "Bring numbers to the cost-saving examples.",
}
DEBRIEF: Json = {
    "questions": [],
    "went_well": "Good rapport with the operations lead.",
    "could_improve": "Numbers on the cost-saving example were vague.",
}


@dataclass
class Desk:
    """A consultant of an agency, and an API-key client that reads their worklist."""

    tenant: Tenant
    consultant: Json
    api: AsyncClient
    settings: Json

    @property
    def consultant_id(self) -> str:
        return str(self.consultant["id"])

    async def page(self, **params: Any) -> Json:
        query = {"assignee": self.consultant_id, **params}
        response = await self.api.get("/v1/worklist", params=query)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    async def items(self) -> list[Json]:
        body = await self.page(limit=100)
        assert body["next"] is None
        items: list[Json] = body["items"]
        return items

    async def kinds(self) -> list[tuple[str, str]]:
        """(kind, what it concerns) of every item."""
        return [(i["kind"], concerns(i)) for i in await self.items()]

    async def application(self, **overrides: Any) -> Json:
        return await make_application(self.tenant, consultant_id=self.consultant_id, **overrides)

    async def interview(self, application: Json, starts_at: datetime) -> Json:
        return await make_interview(self.tenant, application["id"], starts_at=starts_at)

    async def put(self, path: str, body: Json, status: int = 200) -> Json:
        response = await self.api.put(path, json=body)
        assert response.status_code == status, response.text
        result: Json = response.json()
        return result

    async def post(self, path: str, body: Json | None = None, status: int = 200) -> Json:
        response = await self.api.post(path, json=body)
        assert response.status_code == status, response.text
        result: Json = response.json()
        return result


async def desk(tenant: Tenant) -> Desk:
    consultant = await tenant.add_user("consultant")
    api = await tenant.integration()
    settings, _ = await read(tenant.admin, "/v1/agency")
    return Desk(tenant, consultant, api, settings)


def concerns(item: Json) -> str:
    found = item["interview_id"] or item["referee_id"] or item["feedback_request_id"]
    return str(found or item["application_id"])


def only(items: list[Json], kind: str) -> Json:
    matching = [i for i in items if i["kind"] == kind]
    assert len(matching) == 1, items
    return matching[0]


def next_steps_body(decision_expected_by: datetime) -> Json:
    return {
        "kind": "decision",
        "details": "The client will decide after the last candidate.",
        "decision_expected_by": decision_expected_by.isoformat(),
    }


async def fresh_admin(tenant: Tenant) -> AsyncClient:
    """The admin logged in at the clock's current now (an earlier token may have expired)."""
    return await tenant.client_as({"email": tenant.admin_email, "password": tenant.admin_password})


# --- Steps after an interview ------------------------------------------------------------------


async def test_nothing_before_the_interview_ends_then_next_steps_and_debrief(
    agency_a: Tenant, clock: FixedClock
) -> None:
    d = await desk(agency_a)
    application = await d.application()
    interview = await d.interview(application, clock.now() + timedelta(hours=1))
    ends_at = at(interview["ends_at"])
    debrief_due = ends_at + timedelta(hours=d.settings["debrief_due_hours"])

    assert await d.items() == []
    clock.set(ends_at - SECOND)
    assert await d.items() == []

    clock.set(ends_at)
    items = await d.items()
    assert [i["kind"] for i in items] == ["capture_next_steps", "write_debrief"]
    capture, debrief = items
    for item in items:
        assert item["application_id"] == application["id"]
        assert item["candidate_id"] == application["candidate_id"]
        assert item["interview_id"] == interview["id"]
        assert item["referee_id"] is None
        assert item["feedback_request_id"] is None
        assert item["overdue"] is False
    assert at(capture["due_at"]) == ends_at
    assert at(debrief["due_at"]) == debrief_due

    clock.set(ends_at + SECOND)
    items = await d.items()
    assert only(items, "capture_next_steps")["overdue"] is True
    assert only(items, "write_debrief")["overdue"] is False

    clock.set(debrief_due)
    assert only(await d.items(), "write_debrief")["overdue"] is False
    clock.set(debrief_due + SECOND)
    assert only(await d.items(), "write_debrief")["overdue"] is True

    await d.put(
        f"/v1/interviews/{interview['id']}/next-steps",
        next_steps_body(debrief_due + timedelta(days=30)),
        status=201,
    )
    assert [i["kind"] for i in await d.items()] == ["write_debrief"]
    await d.put(f"/v1/interviews/{interview['id']}/debrief", DEBRIEF, status=201)
    assert await d.items() == []


async def test_a_follow_up_is_due_once_the_candidate_wants_the_job_until_it_is_sent(
    agency_a: Tenant, clock: FixedClock
) -> None:
    d = await desk(agency_a)
    application = await d.application()
    interview = await d.interview(application, clock.now() + timedelta(minutes=1))
    ends_at = at(interview["ends_at"])
    follow_up_due = ends_at + timedelta(hours=d.settings["follow_up_window_hours"])
    base = f"/v1/interviews/{interview['id']}/follow-up"

    clock.set(ends_at + timedelta(minutes=5))
    assert "follow_up_due" not in [i["kind"] for i in await d.items()]
    await d.put(
        f"/v1/applications/{application['id']}/decision",
        {"decision": "unsure", "open_questions": ["Hybrid?"]},
    )
    assert "follow_up_due" not in [i["kind"] for i in await d.items()]

    await d.put(f"/v1/applications/{application['id']}/decision", {"decision": "want"})
    item = only(await d.items(), "follow_up_due")
    assert at(item["due_at"]) == follow_up_due
    assert item["overdue"] is False
    assert item["interview_id"] == interview["id"]
    assert item["application_id"] == application["id"]

    # A direct-contact request waits for a consultant's approval, due from when it was made.
    await d.post(base + "/agency-thanks", {"note": "Thanks for setting it up."})
    assert "approve_direct_contact" not in [i["kind"] for i in await d.items()]
    clock.set(ends_at + timedelta(hours=1))
    requested_at = clock.now()
    await d.post(base + "/direct-contact-request", {"reason": "The manager asked for it."})
    clock.set(requested_at + timedelta(minutes=10))
    items = await d.items()
    approve = only(items, "approve_direct_contact")
    assert at(approve["due_at"]) == requested_at
    assert approve["overdue"] is True
    assert approve["interview_id"] == interview["id"]
    assert approve["application_id"] == application["id"]
    assert "follow_up_due" in [i["kind"] for i in items]

    admin = await fresh_admin(agency_a)
    approved = await admin.post(base + "/direct-contact-request/approve")
    assert approved.status_code == 200, approved.text
    items = await d.items()
    assert "approve_direct_contact" not in [i["kind"] for i in items]
    assert only(items, "follow_up_due")["due_at"] == item["due_at"]

    clock.set(follow_up_due + SECOND)
    assert only(await d.items(), "follow_up_due")["overdue"] is True
    note = {"route": "direct", "subject": "Thank you", "body": "Thank you for your time today."}
    await d.post(base + "/send", note)
    assert "follow_up_due" not in [i["kind"] for i in await d.items()]


async def test_the_clients_decision_is_chased_once_its_date_passes_until_an_outcome(
    agency_a: Tenant, clock: FixedClock
) -> None:
    d = await desk(agency_a)
    application = await d.application()
    interview = await d.interview(application, clock.now() + timedelta(minutes=1))
    ends_at = at(interview["ends_at"])
    expected_by = ends_at + timedelta(days=2)

    clock.set(ends_at + timedelta(minutes=5))
    await d.put(
        f"/v1/interviews/{interview['id']}/next-steps", next_steps_body(expected_by), status=201
    )
    await d.put(f"/v1/interviews/{interview['id']}/debrief", DEBRIEF, status=201)
    assert await d.items() == []

    clock.set(expected_by - SECOND)
    assert await d.items() == []
    clock.set(expected_by)
    item = only(await d.items(), "chase_client_decision")
    assert at(item["due_at"]) == expected_by
    assert item["overdue"] is False
    assert item["interview_id"] == interview["id"]
    assert item["application_id"] == application["id"]
    assert item["candidate_id"] == application["candidate_id"]
    clock.set(expected_by + timedelta(days=1))
    assert only(await d.items(), "chase_client_decision")["overdue"] is True

    await d.put(f"/v1/applications/{application['id']}/outcome", {"outcome": "offer"})
    assert await d.items() == []


async def test_heads_ups_are_suggested_for_consenting_referees_when_an_offer_looks_likely(
    agency_a: Tenant, clock: FixedClock
) -> None:
    d = await desk(agency_a)
    candidate = await make_candidate(agency_a)
    first = await make_referee(agency_a, candidate["id"], consent_to_contact=True)
    second = await make_referee(agency_a, candidate["id"], consent_to_contact=True)
    refuser = await make_referee(agency_a, candidate["id"], consent_to_contact=False)
    application = await d.application(candidate_id=candidate["id"], offer_likelihood="medium")
    assert await d.items() == []

    path = f"/v1/applications/{application['id']}"
    _, etag = await read(d.api, path)
    response = await d.api.patch(
        path, json={"offer_likelihood": "high"}, headers={"If-Match": etag}
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    items = await d.items()
    assert {i["kind"] for i in items} == {"heads_up_suggested"}
    assert {i["referee_id"] for i in items} == {first["id"], second["id"]}
    assert refuser["id"] not in {i["referee_id"] for i in items}
    for item in items:
        assert item["application_id"] == application["id"]
        assert item["candidate_id"] == candidate["id"]
        assert item["interview_id"] is None
        assert at(item["due_at"]) == at(updated["updated_at"])

    heads_up = {
        "referee_id": first["id"],
        "why_want_job": "The network redesign role.",
        "key_points": "Led the WMS migration.",
    }
    await d.post(path + "/referee-heads-ups", heads_up, status=201)
    assert await d.kinds() == [("heads_up_suggested", second["id"])]


async def test_feedback_chase_then_release_even_though_the_application_is_closed(
    agency_a: Tenant, clock: FixedClock
) -> None:
    d = await desk(agency_a)
    client = await make_client(agency_a)
    contact = await make_contact(agency_a, client["id"])
    vacancy = await make_vacancy(agency_a, client["id"], hiring_contact_id=contact["id"])
    application = await d.application(vacancy_id=vacancy["id"])
    interview = await d.interview(application, clock.now() + timedelta(minutes=1))
    clock.set(at(interview["ends_at"]) + timedelta(minutes=5))
    assert {i["kind"] for i in await d.items()} == {"capture_next_steps", "write_debrief"}

    await d.put(f"/v1/applications/{application['id']}/outcome", {"outcome": "unsuccessful"})
    request, _ = await read(d.api, f"/v1/applications/{application['id']}/feedback-request")
    next_chase_at = at(request["next_chase_at"])
    items = await d.items()
    assert [i["kind"] for i in items] == ["feedback_chase_due"]
    chase = items[0]
    assert at(chase["due_at"]) == next_chase_at
    assert chase["overdue"] is False
    assert chase["feedback_request_id"] == request["id"]
    assert chase["application_id"] == application["id"]
    assert chase["interview_id"] is None

    clock.set(next_chase_at + SECOND)
    assert only(await d.items(), "feedback_chase_due")["overdue"] is True

    entered = await d.post(
        f"/v1/applications/{application['id']}/feedback-request/feedback", FEEDBACK
    )
    items = await d.items()
    assert [i["kind"] for i in items] == ["release_feedback"]
    assert at(items[0]["due_at"]) == at(entered["received_at"])
    assert items[0]["feedback_request_id"] == request["id"]

    await d.post(f"/v1/applications/{application['id']}/feedback-request/release", {})
    assert await d.items() == []


async def test_a_withdrawn_application_contributes_nothing(
    agency_a: Tenant, clock: FixedClock
) -> None:
    d = await desk(agency_a)
    application = await d.application(offer_likelihood="high")
    await make_referee(agency_a, application["candidate_id"], consent_to_contact=True)
    interview = await d.interview(application, clock.now() + timedelta(minutes=1))
    ends_at = at(interview["ends_at"])
    clock.set(ends_at + timedelta(minutes=5))
    await d.put(
        f"/v1/interviews/{interview['id']}/next-steps",
        next_steps_body(ends_at + timedelta(hours=1)),
        status=201,
    )
    clock.set(ends_at + timedelta(hours=2))
    kinds = {i["kind"] for i in await d.items()}
    assert kinds == {"write_debrief", "chase_client_decision", "heads_up_suggested"}

    await d.put(
        f"/v1/applications/{application['id']}/decision", {"decision": "withdraw", "reason": REASON}
    )
    assert await d.items() == []
    clock.set(ends_at + timedelta(days=10))
    assert await d.items() == []


# --- Names beside the ids ----------------------------------------------------------------------


@dataclass
class Named:
    """An application made through the API, and the names its worklist items must carry."""

    application: Json
    names: Json


async def named_application(d: Desk, first_name: str, client_name: str, title: str) -> Named:
    """An application of a new candidate to a new vacancy (with a hiring contact) at a new
    client, each named by the test, so a name taken from the wrong row shows."""
    candidate = await make_candidate(d.tenant, first_name=first_name)
    client = await make_client(d.tenant, name=client_name)
    contact = await make_contact(d.tenant, client["id"])
    vacancy = await make_vacancy(
        d.tenant, client["id"], title=title, hiring_contact_id=contact["id"]
    )
    application = await d.application(candidate_id=candidate["id"], vacancy_id=vacancy["id"])
    names = {
        "candidate_name": f"{candidate['first_name']} {candidate['last_name']}",
        "client_name": client["name"],
        "vacancy_title": vacancy["title"],
    }
    return Named(application, names)


def assert_named(items: list[Json], named: list[Named]) -> None:
    by_application = {n.application["id"]: n for n in named}
    for item in items:
        expected = by_application[item["application_id"]]
        assert item["candidate_id"] == expected.application["candidate_id"], item
        assert {key: item[key] for key in expected.names} == expected.names, item


async def test_every_kind_of_item_names_the_candidate_the_client_and_the_role(
    agency_a: Tenant, clock: FixedClock
) -> None:
    d = await desk(agency_a)
    open_one = await named_application(d, "Amara", "Harbour Logistics", "Supply Chain Analyst")
    chased = await named_application(d, "Tomasz", "Northwind Freight", "Transport Planner")
    released = await named_application(d, "Leila", "Bluewater Ports", "Operations Lead")
    every = (open_one, chased, released)
    start = clock.now() + timedelta(minutes=1)
    interviews = {n.application["id"]: await d.interview(n.application, start) for n in every}
    ends_at = at(interviews[open_one.application["id"]]["ends_at"])
    clock.set(ends_at + timedelta(minutes=5))

    # The open application: next steps, debrief, follow-up, direct contact, chase, heads-up.
    application_path = f"/v1/applications/{open_one.application['id']}"
    interview_path = f"/v1/interviews/{interviews[open_one.application['id']]['id']}"
    await make_referee(d.api, open_one.application["candidate_id"], consent_to_contact=True)
    _, etag = await read(d.api, application_path)
    likely = await d.api.patch(
        application_path, json={"offer_likelihood": "high"}, headers={"If-Match": etag}
    )
    assert likely.status_code == 200, likely.text
    await d.put(f"{application_path}/decision", {"decision": "want"})
    await d.post(f"{interview_path}/follow-up/agency-thanks", {})
    await d.post(
        f"{interview_path}/follow-up/direct-contact-request", {"reason": "The manager asked."}
    )
    await d.put(
        f"{interview_path}/next-steps", next_steps_body(ends_at + timedelta(hours=1)), status=201
    )
    # The two closed ones: a feedback chase coming due, and feedback waiting to be released.
    for named in (chased, released):
        path = f"/v1/applications/{named.application['id']}"
        await d.put(f"{path}/outcome", {"outcome": "unsuccessful"})
    await d.post(
        f"/v1/applications/{released.application['id']}/feedback-request/feedback", FEEDBACK
    )
    # Next steps were recorded after an hour: the first item kind reappears on a new interview.
    second = await make_interview(
        d.api, open_one.application["id"], starts_at=clock.now() + timedelta(minutes=1)
    )
    clock.set(at(second["ends_at"]) + timedelta(hours=2))
    # The candidate sends their notes on the first interview through their link: to review.
    link = await d.post(f"{interview_path}/candidate-link", status=201)
    notes = {"went_well": "Rapport.", "could_improve": "Numbers.", "slots": "1"}
    sent = await post_form(d.api, agency_a.app, link["url"], "debrief", notes)
    assert sent.status_code == 303, sent.text

    items = await d.items()
    assert {i["kind"] for i in items} == set(WorkKind)
    assert {i["application_id"] for i in items} == {n.application["id"] for n in every}
    assert_named(items, list(every))
    for named, kind in ((chased, "feedback_chase_due"), (released, "release_feedback")):
        [item] = [i for i in items if i["application_id"] == named.application["id"]]
        assert item["kind"] == kind


# --- Order and pages ---------------------------------------------------------------------------


async def walk(d: Desk, limit: int, most: int) -> list[Json]:
    """Every page of the worklist, `limit` at a time, following `next` (at most `most` pages)."""
    walked: list[Json] = []
    cursor: str | None = None
    for _ in range(most):
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        page = await d.page(**params)
        assert 0 < len(page["items"]) <= limit, page
        walked.extend(page["items"])
        cursor = page["next"]
        if cursor is None:
            return walked
    raise AssertionError(f"more than {most} pages")


def identity(item: Json) -> tuple[str, str, str]:
    return item["kind"], concerns(item), item["application_id"]


async def test_items_are_ordered_by_due_time_and_pages_walk_each_once(
    agency_a: Tenant, clock: FixedClock
) -> None:
    d = await desk(agency_a)
    start = clock.now()
    interviews = []
    for minutes in (30, 10, 20):
        application = await d.application()
        interviews.append(await d.interview(application, start + timedelta(minutes=minutes)))
    referees = []
    for _ in range(2):
        candidate = await make_candidate(agency_a)
        referees.append(await make_referee(agency_a, candidate["id"], consent_to_contact=True))
        await d.application(candidate_id=candidate["id"], offer_likelihood="high")
    clock.set(start + timedelta(hours=3))

    items = await d.items()
    assert len(items) == 3 * 2 + 2
    assert len({identity(i) for i in items}) == len(items)
    dues = [at(i["due_at"]) for i in items]
    assert dues == sorted(dues)
    ends = sorted(at(i["ends_at"]) for i in interviews)
    captures = [at(i["due_at"]) for i in items if i["kind"] == "capture_next_steps"]
    assert captures == ends
    hours = timedelta(hours=d.settings["debrief_due_hours"])
    debriefs = [at(i["due_at"]) for i in items if i["kind"] == "write_debrief"]
    assert debriefs == [end + hours for end in ends]
    suggested = {i["referee_id"] for i in items if i["kind"] == "heads_up_suggested"}
    assert suggested == {r["id"] for r in referees}

    walked = await walk(d, limit=2, most=len(items))
    assert walked == items
    assert len(walked) == len({identity(i) for i in walked})


async def test_pages_keep_items_that_tie_on_due_time_kind_and_referee(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """One consenting referee, two likely offers made at the same instant: two suggestions with
    the same due time, kind and referee. A page boundary between them must not drop one."""
    d = await desk(agency_a)
    candidate = await make_candidate(agency_a)
    referee = await make_referee(agency_a, candidate["id"], consent_to_contact=True)
    applications = [
        await d.application(candidate_id=candidate["id"], offer_likelihood="high") for _ in range(2)
    ]
    items = await d.items()
    assert [(i["kind"], i["referee_id"]) for i in items] == [
        ("heads_up_suggested", referee["id"])
    ] * 2
    assert {i["application_id"] for i in items} == {a["id"] for a in applications}

    walked = await walk(d, limit=1, most=len(items) + 1)
    assert sorted(identity(i) for i in walked) == sorted(identity(i) for i in items)


def order_key(item: Json) -> tuple[datetime, str, str, str]:
    return at(item["due_at"]), item["kind"], concerns(item), item["application_id"]


async def test_pages_walk_kinds_that_fall_due_at_the_same_instant_once_each_in_order(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """The debrief and the follow-up windows set alike, three interviews ending together and
    the candidate wanting each job: every follow-up and debrief falls due at one instant (and
    every next-steps item at another). Pages of any size walk them all, once each, ordered by
    due time, then kind, then what the item concerns, then the application."""
    d = await desk(agency_a)
    _, etag = await read(agency_a.admin, "/v1/agency")
    window = {"debrief_due_hours": 30, "follow_up_window_hours": 30}
    changed = await agency_a.admin.patch("/v1/agency", json=window, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.text
    start = clock.now() + timedelta(minutes=1)
    applications = [await d.application() for _ in range(3)]
    interviews = [await d.interview(a, start) for a in applications]
    ends_at = at(interviews[0]["ends_at"])
    assert {at(i["ends_at"]) for i in interviews} == {ends_at}
    clock.set(ends_at + timedelta(minutes=5))
    for application in applications:
        await d.put(f"/v1/applications/{application['id']}/decision", {"decision": "want"})

    items = await d.items()
    due = ends_at + timedelta(hours=30)
    assert [(at(i["due_at"]), i["kind"]) for i in items] == [
        *[(ends_at, "capture_next_steps")] * 3,
        *[(due, "follow_up_due")] * 3,
        *[(due, "write_debrief")] * 3,
    ]
    assert [order_key(i) for i in items] == sorted(order_key(i) for i in items)
    for limit in (1, 2, 4):
        walked = await walk(d, limit=limit, most=len(items))
        assert walked == items, limit


async def test_a_cursor_the_worklist_did_not_give_out_is_refused(
    agency_a: Tenant, clock: FixedClock
) -> None:
    d = await desk(agency_a)
    due = clock.now().isoformat()
    application = "0199a2b4-0000-7000-8000-000000000001"
    forged = [
        [due, "write_debrief", "not-an-id", application],  # what it concerns: not an id
        [due, "write_debrief", application],  # a key short of one value
        [due.removesuffix("+00:00"), "write_debrief", application, application],  # naive
    ]
    for values in forged:
        response = await d.api.get(
            "/v1/worklist", params={"assignee": d.consultant_id, "cursor": encode_cursor(values)}
        )
        body = assert_problem(response, 422, "cursor-invalid")
        assert [e["field"] for e in body["errors"]] == ["cursor"], values
    garbage = await d.api.get("/v1/worklist", params={"assignee": d.consultant_id, "cursor": "x"})
    assert_problem(garbage, 422, "cursor-invalid")


# --- Whose worklist ----------------------------------------------------------------------------


async def test_a_consultant_sees_only_their_own_applications(
    agency_a: Tenant, clock: FixedClock
) -> None:
    mine, theirs = await desk(agency_a), await desk(agency_a)
    my_application = await mine.application()
    their_application = await theirs.application()
    unassigned = await make_application(agency_a)
    for application in (my_application, their_application, unassigned):
        interview = await mine.interview(application, clock.now() + timedelta(minutes=1))
    clock.set(at(interview["ends_at"]) + timedelta(minutes=5))

    me = await agency_a.client_as(mine.consultant)
    response = await me.get("/v1/worklist")
    assert response.status_code == 200, response.text
    own = response.json()["items"]
    assert len(own) == 2
    assert {i["application_id"] for i in own} == {my_application["id"]}
    assert own == await mine.items()
    explicit = await me.get("/v1/worklist", params={"assignee": mine.consultant_id})
    assert explicit.status_code == 200, explicit.text
    assert explicit.json()["items"] == own

    theirs_items = await theirs.items()
    assert {i["application_id"] for i in theirs_items} == {their_application["id"]}
    peek = await me.get("/v1/worklist", params={"assignee": theirs.consultant_id})
    assert_problem(peek, 403, "forbidden")

    admin = await fresh_admin(agency_a)
    as_admin = await admin.get("/v1/worklist", params={"assignee": theirs.consultant_id})
    assert as_admin.status_code == 200, as_admin.text
    assert as_admin.json()["items"] == theirs_items
    own_admin = await admin.get("/v1/worklist")
    assert own_admin.status_code == 200, own_admin.text
    assert own_admin.json()["items"] == []

    assert_problem(await mine.api.get("/v1/worklist"), 403, "forbidden")


async def test_another_agency_never_sees_agency_as_items(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    a, b = await desk(agency_a), await desk(agency_b)
    a_named = await named_application(a, "Amara", "Harbour Logistics", "Analyst")
    b_named = await named_application(b, "Bruno", "Harbour Logistics", "Analyst")
    a_application, b_application = a_named.application, b_named.application
    await a.interview(a_application, clock.now() + timedelta(minutes=1))
    interview = await b.interview(b_application, clock.now() + timedelta(minutes=1))
    clock.set(at(interview["ends_at"]) + timedelta(minutes=5))

    a_items, b_items = await a.items(), await b.items()
    assert {i["application_id"] for i in a_items} == {a_application["id"]}
    assert {i["application_id"] for i in b_items} == {b_application["id"]}
    assert len(b_items) == 2
    # Same client name and title in both agencies: each item names its own agency's records.
    assert_named(a_items, [a_named])
    assert_named(b_items, [b_named])

    # Naming the other agency's consultant shows nothing of theirs.
    response = await b.api.get("/v1/worklist", params={"assignee": a.consultant_id})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    response = await a.api.get("/v1/worklist", params={"assignee": b.consultant_id})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
