"""The post-interview workflow end to end, over HTTP only (and the chase worker function).

Two stories — a candidate who is placed and one who is unsuccessful — each walking the six
steps in order, checking the timeline, the outbox, the worklist and the report along the way,
and checking that another agency sees none of it (404 everywhere, nothing recorded).

The clock moves by hours and days, so the work is done with an API key naming the consultant
(`On-Behalf-Of`); the one step that needs a person (approving a direct note) logs in afresh.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from httpx import AsyncClient, Response

from app.core.auth import Scope, worker_principal
from app.core.clock import FixedClock
from app.core.db import tenant_transaction
from app.core.ids import AgencyId
from app.feedback.links import FeedbackLinks
from app.feedback.service import run_chases
from tests.support.problems import assert_problem
from tests.support.records import (
    Json,
    list_items,
    make_candidate,
    make_client,
    make_contact,
    make_interview,
    make_referee,
    make_vacancy,
    read,
)
from tests.support.tenants import Tenant, login, new_client

ALL_SCOPES = [scope.value for scope in Scope]
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
HALF_ANSWERED = "How would you cut picking errors in a cross-dock warehouse?"
FEEDBACK: Json = {
    "strengths": "Clear, structured answers on warehouse systems.",
    "gaps": "Less depth on budgeting than the role needs.",
    "advice": "Bring numbers to the cost-saving examples.",
}


def at(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value)


@dataclass
class Story:
    """One agency's application: a client with a hiring contact and a second interviewer, a
    vacancy, a consenting candidate with a consenting referee, the admin as consultant, and one
    one-hour interview starting an hour after the clock's now."""

    tenant: Tenant
    clock: FixedClock
    api: AsyncClient
    settings: Json
    client: Json
    hiring: Json
    second: Json
    vacancy: Json
    candidate: Json
    referee: Json
    application: Json
    interview: Json

    @property
    def app_id(self) -> str:
        return str(self.application["id"])

    @property
    def iv_id(self) -> str:
        return str(self.interview["id"])

    @property
    def ends_at(self) -> datetime:
        return at(self.interview["ends_at"])

    @property
    def consultant_id(self) -> str:
        return str(self.tenant.admin_id)

    async def ok(self, method: str, path: str, body: Json | None = None, status: int = 200) -> Json:
        response = await self.api.request(method, path, json=body)
        assert response.status_code == status, response.text
        result: Json = response.json()
        return result

    async def worklist(self) -> list[Json]:
        response = await self.api.get(
            "/v1/worklist", params={"assignee": self.consultant_id, "limit": 100}
        )
        assert response.status_code == 200, response.text
        assert response.json()["next"] is None
        items: list[Json] = response.json()["items"]
        return items

    async def timeline(self) -> list[Json]:
        return await list_items(self.api, f"/v1/applications/{self.app_id}/timeline", limit=100)

    async def messages(self, kind: str) -> list[Json]:
        return await list_items(
            self.api, "/v1/messages", application_id=self.app_id, kind=kind, limit=100
        )

    async def report(self) -> Json:
        window = {
            "from": (self.ends_at - 2 * DAY).isoformat(),
            "to": (self.clock.now() + DAY).isoformat(),
        }
        response = await self.api.get("/v1/reports/post-interview", params=window)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body


async def key_client(tenant: Tenant) -> AsyncClient:
    """An API-key client with every scope, naming the tenant's admin on every request."""
    key = await tenant.api_key(ALL_SCOPES)
    client = tenant.client_with_key(key["key"])
    client.headers["On-Behalf-Of"] = str(tenant.admin_id)
    return client


async def set_up(tenant: Tenant, clock: FixedClock, **agency_changes: Any) -> Story:
    if agency_changes:
        current = await tenant.admin.get("/v1/agency")
        assert current.status_code == 200, current.text
        changed = await tenant.admin.patch(
            "/v1/agency", json=agency_changes, headers={"If-Match": current.headers["etag"]}
        )
        assert changed.status_code == 200, changed.text
    api = await key_client(tenant)
    settings, _ = await read(api, "/v1/agency")
    for name, value in agency_changes.items():
        assert settings[name] == value, name
    client = await make_client(api)
    hiring = await make_contact(api, client["id"], name="Sofia Marin", job_title="Head of Ops")
    second = await make_contact(api, client["id"], name="Tomasz Nowak", job_title="Ops Lead")
    vacancy = await make_vacancy(api, client["id"], hiring_contact_id=hiring["id"])
    candidate = await make_candidate(api, first_name="Amara", contact_consent=True)
    referee = await make_referee(api, candidate["id"], consent_to_contact=True)
    application = await make_application_for(api, candidate, vacancy, tenant)
    interview = await make_interview(
        api, application["id"], [hiring["id"], second["id"]], starts_at=clock.now() + HOUR
    )
    return Story(
        tenant,
        clock,
        api,
        settings,
        client,
        hiring,
        second,
        vacancy,
        candidate,
        referee,
        application,
        interview,
    )


async def make_application_for(
    api: AsyncClient, candidate: Json, vacancy: Json, tenant: Tenant
) -> Json:
    body = {
        "candidate_id": candidate["id"],
        "vacancy_id": vacancy["id"],
        "consultant_id": str(tenant.admin_id),
    }
    response = await api.post("/v1/applications", json=body)
    assert response.status_code == 201, response.text
    created: Json = response.json()
    assert created["consultant_id"] == str(tenant.admin_id)
    assert created["status"] == "active"
    return created


async def nothing_before_the_end(s: Story) -> None:
    """Before the interview ends: no work for it, and its steps are refused."""
    assert s.clock.now() < s.ends_at
    assert await s.worklist() == []
    body = {
        "kind": "decision",
        "details": "The client decides this week.",
        "decision_expected_by": (s.ends_at + 3 * DAY).isoformat(),
    }
    early = await s.api.put(f"/v1/interviews/{s.iv_id}/next-steps", json=body)
    assert_problem(early, 409, "interview-not-finished")
    assert_problem(await s.api.get(f"/v1/interviews/{s.iv_id}/next-steps"), 404, "not-found")


def debrief_body() -> Json:
    return {
        "questions": [
            {
                "text": HALF_ANSWERED,
                "topic": "quality",
                "answer_quality": "adequate",
                "half_answered": True,
            },
            {
                "text": "Walk us through your WMS migration.",
                "answer_quality": "strong",
                "half_answered": False,
            },
        ],
        "went_well": "Clear on the WMS migration; good rapport with the operations lead.",
        "could_improve": "The picking-errors answer stopped short of numbers.",
        "links": ["https://portfolio.example.com/amara/wms-case-study"],
    }


def kinds_and_targets(items: list[Json]) -> list[tuple[str, str | None]]:
    return [
        (i["kind"], i["interview_id"] or i["referee_id"] or i["feedback_request_id"]) for i in items
    ]


def foreign_attempts(s: Story) -> list[tuple[str, str, Json | None]]:
    """Every workflow route on `s`'s objects, with a body that would be valid."""
    iv, app = f"/v1/interviews/{s.iv_id}", f"/v1/applications/{s.app_id}"
    follow = f"{iv}/follow-up"
    steps = {
        "kind": "decision",
        "details": "The client decides this week.",
        "decision_expected_by": (s.clock.now() + 3 * DAY).isoformat(),
    }
    note = {"route": "via_agency", "subject": "Thanks", "body": "Thank you for today."}
    heads_up = {"referee_id": s.referee["id"], "why_want_job": "Growth.", "key_points": "WMS."}
    return [
        ("GET", f"{iv}/next-steps", None),
        ("PUT", f"{iv}/next-steps", steps),
        ("GET", f"{iv}/debrief", None),
        ("PUT", f"{iv}/debrief", debrief_body()),
        ("GET", f"{app}/decision", None),
        ("PUT", f"{app}/decision", {"decision": "want"}),
        ("PUT", f"{app}/outcome", {"outcome": "offer"}),
        ("GET", follow, None),
        ("POST", f"{follow}/agency-thanks", {"note": "Thanks"}),
        ("POST", f"{follow}/direct-contact-request", {"reason": "Asked for it"}),
        ("POST", f"{follow}/direct-contact-request/approve", None),
        ("POST", f"{follow}/direct-contact-request/decline", {"reason": "No"}),
        ("POST", f"{follow}/send", note),
        ("GET", f"{app}/referee-heads-ups", None),
        ("POST", f"{app}/referee-heads-ups", heads_up),
        ("GET", f"{app}/feedback-request", None),
        ("POST", f"{app}/feedback-request", {"contact_id": s.hiring["id"]}),
        ("POST", f"{app}/feedback-request/feedback", FEEDBACK),
        ("POST", f"{app}/feedback-request/release", {"debrief_call": True}),
        ("GET", f"{app}/timeline", None),
    ]


async def another_agency_sees_nothing(s: Story, other: Tenant, api: AsyncClient) -> None:
    """Agency B, with its API key (all scopes) and a freshly logged-in admin, gets 404 on
    every workflow route for `s`'s objects; nothing is recorded in A's timeline or outbox."""
    before = await s.timeline()
    outbox_before = await list_items(s.api, "/v1/messages", application_id=s.app_id, limit=100)
    token = await login(other.app, other.admin_email, other.admin_password)
    async with new_client(other.app, token) as person:
        for client in (api, person):
            for method, path, body in foreign_attempts(s):
                response: Response = await client.request(method, path, json=body)
                assert response.status_code == 404, (method, path, response.text)
                assert_problem(response, 404, "not-found")
    assert await s.timeline() == before
    after = await list_items(s.api, "/v1/messages", application_id=s.app_id, limit=100)
    assert after == outbox_before


async def test_a_candidate_is_placed_after_every_step_is_done_on_time(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    s = await set_up(agency_a, clock)
    stranger = await key_client(agency_b)  # made now: B's admin login expires as time moves
    await nothing_before_the_end(s)

    # The interview has ended: next steps, debrief, decision, agency thanks.
    clock.set(s.ends_at + timedelta(minutes=10))
    steps = {
        "kind": "decision",
        "details": "The client decides after the last candidate, on Friday.",
        "decision_expected_by": (s.ends_at + 5 * DAY).isoformat(),
    }
    recorded = await s.ok("PUT", f"/v1/interviews/{s.iv_id}/next-steps", steps, status=201)
    assert recorded["kind"] == "decision"
    assert at(recorded["decision_expected_by"]) == s.ends_at + 5 * DAY

    debrief = await s.ok("PUT", f"/v1/interviews/{s.iv_id}/debrief", debrief_body(), status=201)
    assert debrief["on_time"] is True
    half = [q for q in debrief["questions"] if q["half_answered"]]
    assert [q["text"] for q in half] == [HALF_ANSWERED]

    decision = await s.ok("PUT", f"/v1/applications/{s.app_id}/decision", {"decision": "want"})
    assert decision["decision"] == "want"
    assert decision["application_status"] == "active"
    assert kinds_and_targets(await s.worklist()) == [("follow_up_due", s.iv_id)]

    follow = f"/v1/interviews/{s.iv_id}/follow-up"
    thanked = await s.ok("POST", f"{follow}/agency-thanks", {"note": "Thank you for this."})
    assert thanked["state"] == "agency_thanked"
    requested = await s.ok(
        "POST", f"{follow}/direct-contact-request", {"reason": "Sofia asked for my portfolio."}
    )
    assert requested["state"] == "direct_requested"
    assert ("approve_direct_contact", s.iv_id) in kinds_and_targets(await s.worklist())

    # An integration may not approve; a person (logged in now, at the app clock) does.
    refused = await s.api.post(f"{follow}/direct-contact-request/approve")
    assert refused.status_code == 403, refused.text
    token = await login(agency_a.app, agency_a.admin_email, agency_a.admin_password)
    async with new_client(agency_a.app, token) as person:
        approved = await person.post(f"{follow}/direct-contact-request/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "direct_approved"
    assert at(approved.json()["direct_decided_at"]) == clock.now()

    clock.set(s.ends_at + 3 * HOUR)
    note = {
        "route": "direct",
        "subject": "Thank you for today",
        "body": "Thank you both for your time. On picking errors: I would start with slotting.",
        "links": ["https://portfolio.example.com/amara/slotting"],
        "answers_question_id": half[0]["id"],
    }
    sent = await s.ok("POST", f"{follow}/send", note)
    assert sent["state"] == "sent"
    assert sent["route"] == "direct"
    assert sent["on_time"] is True
    assert sent["answers_question_id"] == half[0]["id"]
    assert at(sent["sent_at"]) == clock.now()
    direct = await s.messages("follow_up_direct")
    assert sorted(m["to"] for m in direct) == sorted([s.hiring["email"], s.second["email"]])
    assert {m["recipient_id"] for m in direct} == {s.hiring["id"], s.second["id"]}
    assert await s.worklist() == []

    # An offer looks likely: the referee gets a heads-up.
    clock.set(s.ends_at + 2 * DAY)
    current, etag = await read(s.api, f"/v1/applications/{s.app_id}")
    assert current["offer_likelihood"] == "unknown"
    patched = await s.api.patch(
        f"/v1/applications/{s.app_id}",
        json={"offer_likelihood": "high"},
        headers={"If-Match": etag},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["offer_likelihood"] == "high"
    assert kinds_and_targets(await s.worklist()) == [("heads_up_suggested", s.referee["id"])]
    heads_up = {
        "referee_id": s.referee["id"],
        "why_want_job": "It is the network redesign she has been preparing for.",
        "key_points": "Led the WMS migration; cut picking errors by a third.",
    }
    sent_heads_up = await s.ok(
        "POST", f"/v1/applications/{s.app_id}/referee-heads-ups", heads_up, status=201
    )
    assert sent_heads_up["referee_id"] == s.referee["id"]
    told = await s.messages("referee_heads_up")
    assert [(m["to"], m["recipient_id"]) for m in told] == [(s.referee["email"], s.referee["id"])]
    assert await s.worklist() == []

    # The outcome: an offer, then placed.
    clock.set(s.ends_at + 4 * DAY)
    offer = await s.ok("PUT", f"/v1/applications/{s.app_id}/outcome", {"outcome": "offer"})
    assert offer["application"]["status"] == "offer"
    clock.set(s.ends_at + 6 * DAY)
    placed = await s.ok("PUT", f"/v1/applications/{s.app_id}/outcome", {"outcome": "placed"})
    assert placed["application"]["status"] == "placed"
    assert await s.worklist() == []

    timeline = await s.timeline()
    assert [e["type"] for e in timeline] == PLACED_TIMELINE
    assert [e["data"]["outcome"] for e in timeline[:2]] == ["placed", "offer"]
    assert [at(e["occurred_at"]) for e in timeline] == sorted(
        (at(e["occurred_at"]) for e in timeline), reverse=True
    )
    approved_entry = next(e for e in timeline if e["type"] == "follow_up.direct_contact_approved")
    assert approved_entry["actor"] == {
        "user_id": s.consultant_id,
        "api_key_id": None,
        "on_behalf_of": False,
        "via_link": None,
    }
    sent_entry = next(e for e in timeline if e["type"] == "follow_up.sent")
    assert sent_entry["actor"]["user_id"] == s.consultant_id
    assert sent_entry["actor"]["on_behalf_of"] is True

    report = await s.report()
    expected = {
        "interviews": 1,
        "follow_ups_sent": 1,
        "follow_up_rate": 1.0,
        "follow_up_on_time_rate": 1.0,
        "debriefs": 1,
        "debrief_on_time_rate": 1.0,
        "feedback_requests": 0,
        "feedback_obtained": 0,
        "feedback_obtained_rate": None,
        "median_days_to_feedback": None,
    }
    assert report["agency"] == expected
    assert report["consultants"] == [{"consultant_id": s.consultant_id, **expected}]
    assert report["clients"] == [{"client_id": s.client["id"], **expected}]

    await another_agency_sees_nothing(s, agency_b, stranger)


PLACED_TIMELINE = [  # newest first
    "application.outcome_recorded",
    "application.outcome_recorded",
    "heads_up.sent",
    "application.updated",
    "follow_up.sent",
    "follow_up.direct_contact_approved",
    "follow_up.direct_contact_requested",
    "follow_up.agency_thanked",
    "decision.recorded",
    "debrief.submitted",
    "next_steps.recorded",
    "interview.created",
    "application.created",
]


async def test_an_unsuccessful_candidate_gets_the_clients_feedback(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    s = await set_up(agency_a, clock, feedback_chase_after_days=2, feedback_max_chases=2)
    stranger = await key_client(agency_b)  # made now: B's admin login expires as time moves
    await nothing_before_the_end(s)
    late_by = max(s.settings["debrief_due_hours"], s.settings["follow_up_window_hours"])

    # Everything after the interview comes late.
    clock.set(s.ends_at + timedelta(hours=late_by) + HOUR)
    debrief = await s.ok("PUT", f"/v1/interviews/{s.iv_id}/debrief", debrief_body(), status=201)
    assert debrief["on_time"] is False
    assert at(debrief["due_at"]) == s.ends_at + timedelta(hours=s.settings["debrief_due_hours"])
    decision = await s.ok("PUT", f"/v1/applications/{s.app_id}/decision", {"decision": "want"})
    assert decision["decision"] == "want"
    follow = f"/v1/interviews/{s.iv_id}/follow-up"
    thanked = await s.ok("POST", f"{follow}/agency-thanks", {"note": "Thank you."})
    assert thanked["state"] == "agency_thanked"
    assert thanked["overdue"] is True
    note = {"route": "via_agency", "subject": "Thank you", "body": "Thank you for today."}
    sent = await s.ok("POST", f"{follow}/send", note)
    assert sent["state"] == "sent"
    assert sent["route"] == "via_agency"
    assert sent["on_time"] is False
    assert len(await s.messages("follow_up_via_agency")) == 1

    # Unsuccessful: the hiring contact is asked for feedback straight away.
    clock.set(s.ends_at + 2 * DAY)
    requested_at = clock.now()
    failed = await s.ok("PUT", f"/v1/applications/{s.app_id}/outcome", {"outcome": "unsuccessful"})
    assert failed["application"]["status"] == "unsuccessful"
    request, _ = await read(s.api, f"/v1/applications/{s.app_id}/feedback-request")
    assert request["state"] == "requested"
    assert request["contact_id"] == s.hiring["id"]
    assert at(request["requested_at"]) == requested_at
    first_chase = requested_at + 2 * DAY
    assert at(request["next_chase_at"]) == first_chase
    asked = await s.messages("feedback_request")
    assert [(m["to"], m["recipient_id"]) for m in asked] == [(s.hiring["email"], s.hiring["id"])]
    items = await s.worklist()
    assert kinds_and_targets(items) == [("feedback_chase_due", request["id"])]
    assert at(items[0]["due_at"]) == first_chase
    assert items[0]["overdue"] is False

    # Past the first chase date the worker chases, once.
    clock.set(first_chase + HOUR)
    assert await chase(s) == 1
    assert await chase(s) == 0
    chased = await s.messages("feedback_chase")
    assert [m["to"] for m in chased] == [s.hiring["email"]]
    request, _ = await read(s.api, f"/v1/applications/{s.app_id}/feedback-request")
    assert request["state"] == "chased"
    assert request["chases_sent"] == 1
    assert at(request["next_chase_at"]) == first_chase + 2 * DAY
    items = await s.worklist()
    assert kinds_and_targets(items) == [("feedback_chase_due", request["id"])]
    assert at(items[0]["due_at"]) == first_chase + 2 * DAY

    # The client answers through the link in the email: no login, no surname.
    answered_at = requested_at + timedelta(days=3, hours=12)
    clock.set(answered_at)
    page = urlsplit(request["client_link"]).path
    assert page.startswith("/feedback/")
    link = "/v1/public" + page  # the HTML form's JSON twin
    async with new_client(agency_a.app) as anonymous:
        form = await anonymous.get(link)
        assert form.status_code == 200, form.text
        assert form.json()["candidate_first_name"] == s.candidate["first_name"]
        assert form.json()["role_title"] == s.vacancy["title"]
        assert form.json()["answered"] is False
        assert s.candidate["last_name"] not in form.text
        assert s.candidate["email"] not in form.text
        submitted = await anonymous.post(link, json=FEEDBACK)
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["answered"] is True
    request, _ = await read(s.api, f"/v1/applications/{s.app_id}/feedback-request")
    assert request["state"] == "received"
    assert at(request["received_at"]) == answered_at
    assert request["strengths"] == FEEDBACK["strengths"]
    items = await s.worklist()
    assert kinds_and_targets(items) == [("release_feedback", request["id"])]
    assert at(items[0]["due_at"]) == answered_at

    # The consultant reviews it and releases it, offering a debrief call.
    clock.set(answered_at + 5 * HOUR)
    released = await s.ok(
        "POST", f"/v1/applications/{s.app_id}/feedback-request/release", {"debrief_call": True}
    )
    assert released["state"] == "released"
    assert released["debrief_call"] is True
    told = await s.messages("feedback_release")
    assert [(m["to"], m["recipient_id"]) for m in told] == [
        (s.candidate["email"], s.candidate["id"])
    ]
    assert await s.worklist() == []

    types = [e["type"] for e in await s.timeline()]
    assert types[:6] == [
        "feedback.released",
        "feedback.received",
        "feedback.chased",
        "feedback.requested",
        "application.outcome_recorded",
        "follow_up.sent",
    ], types

    report = await s.report()
    expected = {
        "interviews": 1,
        "follow_ups_sent": 1,
        "follow_up_rate": 1.0,
        "follow_up_on_time_rate": 0.0,
        "debriefs": 1,
        "debrief_on_time_rate": 0.0,
        "feedback_requests": 1,
        "feedback_obtained": 1,
        "feedback_obtained_rate": 1.0,
        "median_days_to_feedback": (answered_at - requested_at) / DAY,
    }
    assert expected["median_days_to_feedback"] == 3.5
    assert report["agency"] == expected
    assert report["consultants"] == [{"consultant_id": s.consultant_id, **expected}]
    assert report["clients"] == [{"client_id": s.client["id"], **expected}]

    await another_agency_sees_nothing(s, agency_b, stranger)


async def chase(s: Story) -> int:
    """What the worker does: run the agency's chases at the clock's now."""
    app = s.tenant.app
    agency_id = AgencyId(s.tenant.agency_id)
    principal = worker_principal(agency_id)
    links = FeedbackLinks(app.state.jwt_secret, app.state.settings.public_url)
    async with tenant_transaction(app.state.sessions, agency_id) as session:
        return await run_chases(session, principal, s.clock, links)
