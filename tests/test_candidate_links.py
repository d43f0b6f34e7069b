"""The candidate's signed link (issue 13), from the API's side: issuing it once the interview
has ended, of an open application (404 for another agency's, 409 otherwise), re-issuing (the
old link answers 410), revoking (410; 404 with no live link), expiry after the agency's
`candidate_link_days`, the email to a consenting candidate, the agency's settings, the actor
"candidate (link)" on the timeline and the feed, and the token kept out of the logs.

The pages the link opens are tested in tests/test_candidate_page.py; the worker that sends
links by itself in tests/delivery/test_candidate_link_worker.py."""

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import structlog
from fastapi import FastAPI
from sqlalchemy import select

from app.candidate_links.links import CandidateLinks
from app.candidate_links.service import LinkVisit, open_link
from app.core.clock import FixedClock
from app.core.db import tenant_transaction
from app.core.errors import LinkClosed, LinkExpired, NotFound, Problem
from app.core.ids import AgencyId
from app.decisions.schemas import DecisionWrite
from app.decisions.service import record_decision
from app.feedback.links import FeedbackLinks
from app.models import CandidateLink, Message, MessageKind
from tests.support.problems import assert_problem, error_fields
from tests.support.records import (
    at,
    events_of,
    make_application,
    make_candidate,
    make_client,
    make_interview,
    make_vacancy,
    read,
    set_application_status,
)
from tests.support.tenants import Tenant, new_client

Json = dict[str, Any]
PUBLIC_URL = "http://afterview.test"  # the tests' app settings (tests/conftest.py)
ROLE = "Senior Supply Chain Analyst"
CLIENT = "Harbour Logistics"


@dataclass
class Scene:
    """One interview of an application (a candidate for a role at a client)."""

    tenant: Tenant
    candidate: Json
    application: Json
    interview: Json

    @property
    def path(self) -> str:
        return f"/v1/interviews/{self.interview['id']}/candidate-link"


async def scene(
    tenant: Tenant,
    clock: FixedClock,
    *,
    consent: bool = True,
    ended: bool = True,
    starts_in: timedelta | None = None,
) -> Scene:
    """A one-hour interview that ended an hour ago (with `ended=False`, one that starts in an
    hour; or one that starts `starts_in` from now)."""
    company = await make_client(tenant, name=CLIENT)
    vacancy = await make_vacancy(tenant, company["id"], title=ROLE)
    candidate = await make_candidate(tenant, first_name="Amara", contact_consent=consent)
    application = await make_application(tenant, candidate["id"], vacancy["id"])
    if starts_in is None:
        starts_in = timedelta(hours=-2) if ended else timedelta(hours=1)
    start = clock.now() + starts_in
    interview = await make_interview(tenant, application["id"], starts_at=start)
    return Scene(tenant, candidate, application, interview)


def links_of(tenant: Tenant) -> CandidateLinks:
    return CandidateLinks(tenant.app.state.jwt_secret, PUBLIC_URL)


def token_of(url: str) -> str:
    assert url.startswith(f"{PUBLIC_URL}/candidate/"), url
    return url.rsplit("/", 1)[1]


async def visit(tenant: Tenant, token: str, now: datetime) -> LinkVisit:
    """Open the link as the candidate's page does (the service D's pages call)."""
    async with tenant.app.state.sessions() as session, session.begin():
        return await open_link(session, links_of(tenant), token, now)


async def refused(tenant: Tenant, token: str, now: datetime) -> type[Problem]:
    """The problem opening the link raises (it must raise one)."""
    try:
        await visit(tenant, token, now)
    except Problem as problem:
        return type(problem)
    raise AssertionError("the link opened")


async def link_rows(tenant: Tenant) -> list[CandidateLink]:
    stmt = select(CandidateLink).where(CandidateLink.agency_id == tenant.agency_id)
    async with tenant_transaction(tenant.app.state.sessions, AgencyId(tenant.agency_id)) as s:
        return list((await s.scalars(stmt)).all())


async def link_mail(tenant: Tenant, application_id: str) -> list[Message]:
    """The candidate-link emails of the application, oldest first."""
    stmt = select(Message).where(
        Message.agency_id == tenant.agency_id,
        Message.application_id == UUID(application_id),
        Message.kind == MessageKind.candidate_link,
    )
    async with tenant_transaction(tenant.app.state.sessions, AgencyId(tenant.agency_id)) as s:
        return list((await s.scalars(stmt.order_by(Message.created_at, Message.id))).all())


async def issue(s: Scene, client: Any = None) -> Json:
    response = await (client or s.tenant.admin).post(s.path)
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


async def set_agency(tenant: Tenant, **settings: Any) -> Json:
    _, etag = await read(tenant.admin, "/v1/agency")
    response = await tenant.admin.patch("/v1/agency", json=settings, headers={"If-Match": etag})
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


# --- Issuing -------------------------------------------------------------------------------------


async def test_a_consultant_issues_a_link_that_is_emailed_and_opens_the_interview(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    consultant = await agency_a.add_user("consultant", name="Priya Shah")
    client = await agency_a.client_as(consultant)

    body = await issue(s, client)

    assert set(body) == {"url", "expires_at", "emailed"}
    assert body["emailed"] is True
    assert at(body["expires_at"]) == clock.now() + timedelta(days=3)  # the default, in UTC
    opened = await visit(agency_a, token_of(body["url"]), clock.now())
    assert opened.principal.via == "candidate"
    assert opened.principal.agency_id == agency_a.agency_id
    assert (opened.principal.user_id, opened.principal.api_key_id) == (None, None)
    assert not opened.principal.is_person
    assert str(opened.interview.id) == s.interview["id"]
    assert str(opened.application.id) == s.application["id"]
    assert str(opened.candidate.id) == s.candidate["id"]
    (row,) = await link_rows(agency_a)
    assert opened.link_id == row.id
    assert (row.issued_by, row.emailed_at) == (UUID(consultant["id"]), clock.now())

    (mail,) = await link_mail(agency_a, s.application["id"])
    assert (mail.to_address, mail.status) == (s.candidate["email"], "queued")
    assert body["url"] in mail.body
    assert ROLE in mail.body and CLIENT in mail.body
    assert "thank us first" in mail.body.lower() and "within a day" in mail.body

    timeline = await client.get(f"/v1/applications/{s.application['id']}/timeline")
    (issued,) = [e for e in timeline.json()["items"] if e["type"] == "candidate_link.issued"]
    assert issued["actor"] == {
        "user_id": consultant["id"],
        "api_key_id": None,
        "on_behalf_of": False,
        "via_link": None,
    }
    assert issued["data"] == {"interview_id": s.interview["id"], "emailed": True}
    (event,) = await events_of(agency_a, "candidate_link.issued")
    assert event["object_id"] == str(row.id)
    assert token_of(body["url"]) not in json.dumps(event)


async def test_without_contact_consent_the_link_is_not_emailed(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock, consent=False)

    body = await issue(s)

    assert body["emailed"] is False
    assert await link_mail(agency_a, s.application["id"]) == []
    assert (await visit(agency_a, token_of(body["url"]), clock.now())).link_id


async def test_an_api_key_issues_links_and_its_idempotent_replay_does_not_repeat_the_url(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    integration = await agency_a.integration()
    headers = {"Idempotency-Key": "link-1"}

    first = await integration.post(s.path, headers=headers)
    again = await integration.post(s.path, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == {**first.json(), "url": None}  # a credential is shown once
    assert len(await link_mail(agency_a, s.application["id"])) == 1
    assert (await visit(agency_a, token_of(first.json()["url"]), clock.now())).link_id


async def test_another_agencys_interview_is_a_404_and_gets_no_link(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)

    assert_problem(await agency_b.admin.post(s.path), 404, "not-found")
    assert_problem(await agency_b.admin.delete(s.path), 404, "not-found")
    assert await link_rows(agency_a) == []


async def test_an_interview_not_yet_ended_is_refused(agency_a: Tenant, clock: FixedClock) -> None:
    s = await scene(agency_a, clock, ended=False)

    body = assert_problem(await agency_a.admin.post(s.path), 409, "interview-not-finished")

    assert at(body["ends_at"]) == at(s.interview["ends_at"])
    assert await link_rows(agency_a) == []
    assert await events_of(agency_a, "candidate_link.issued") == []


async def test_a_cancelled_interview_is_refused(agency_a: Tenant, clock: FixedClock) -> None:
    s = await scene(agency_a, clock, ended=False)
    assert (await agency_a.admin.delete(f"/v1/interviews/{s.interview['id']}")).status_code == 204

    assert_problem(await agency_a.admin.post(s.path), 409, "interview-cancelled")
    assert await link_rows(agency_a) == []


@pytest.mark.parametrize("status", ["withdrawn", "unsuccessful", "placed"])
async def test_a_closed_application_is_refused(
    agency_a: Tenant, clock: FixedClock, status: str
) -> None:
    s = await scene(agency_a, clock)
    await set_application_status(agency_a, s.application["id"], status)

    assert_problem(await agency_a.admin.post(s.path), 409, "application-closed")
    assert await link_rows(agency_a) == []
    assert await link_mail(agency_a, s.application["id"]) == []


# --- Issuing again, revoking, expiry -------------------------------------------------------------


async def test_issuing_again_closes_the_earlier_link_and_its_unsent_email(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    first = await issue(s)
    clock.set(clock.now() + timedelta(minutes=1))

    second = await issue(s)

    assert first["url"] != second["url"]
    assert at(second["expires_at"]) == clock.now() + timedelta(days=3)
    assert await refused(agency_a, token_of(first["url"]), clock.now()) is LinkClosed
    assert (await visit(agency_a, token_of(second["url"]), clock.now())).link_id
    assert len(await link_rows(agency_a)) == 1  # one live link per interview
    old_mail, new_mail = await link_mail(agency_a, s.application["id"])
    assert (old_mail.status, new_mail.status) == ("cancelled", "queued")
    assert first["url"] in old_mail.body and second["url"] in new_mail.body
    assert len(await events_of(agency_a, "candidate_link.issued")) == 2


async def test_revoking_closes_the_link_and_a_second_revoke_finds_none(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    body = await issue(s)

    response = await agency_a.admin.delete(s.path)

    assert response.status_code == 204, response.text
    assert await refused(agency_a, token_of(body["url"]), clock.now()) is LinkClosed
    (mail,) = await link_mail(agency_a, s.application["id"])
    assert mail.status == "cancelled"  # the email with the dead link does not go
    timeline = await agency_a.admin.get(f"/v1/applications/{s.application['id']}/timeline")
    types = [e["type"] for e in timeline.json()["items"]]
    assert types.index("candidate_link.revoked") < types.index("candidate_link.issued")
    assert_problem(await agency_a.admin.delete(s.path), 404, "not-found")

    again = await issue(s)  # a consultant may issue a new one after revoking
    assert (await visit(agency_a, token_of(again["url"]), clock.now())).link_id


async def test_revoking_without_any_link_is_a_404(agency_a: Tenant, clock: FixedClock) -> None:
    s = await scene(agency_a, clock)

    assert_problem(await agency_a.admin.delete(s.path), 404, "not-found")
    assert await events_of(agency_a, "candidate_link.revoked") == []


async def test_the_link_expires_after_the_agencys_candidate_link_days(
    agency_a: Tenant, clock: FixedClock
) -> None:
    await set_agency(agency_a, candidate_link_days=5)
    s = await scene(agency_a, clock)
    integration = await agency_a.integration()  # keeps working when the clock moves days
    body = await issue(s, integration)
    token, expires = token_of(body["url"]), at(body["expires_at"])
    assert expires == clock.now() + timedelta(days=5)

    assert (await visit(agency_a, token, expires - timedelta(seconds=1))).link_id
    assert await refused(agency_a, token, expires) is LinkExpired
    clock.set(expires)
    assert_problem(await integration.delete(s.path), 404, "not-found")  # not live any more


async def test_a_forged_or_foreign_token_is_not_found(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    token = token_of((await issue(s))["url"])
    (row,) = await link_rows(agency_a)
    header, claims, signature = token.split(".")
    feedback = FeedbackLinks(agency_a.app.state.jwt_secret, PUBLIC_URL)
    other_secret = CandidateLinks("another-secret", PUBLIC_URL)
    expires = clock.now() + timedelta(days=1)

    for forged in (
        f"{header}.{claims}.{signature[:-4]}AAAA",
        "not-a-token",
        token[: len(token) // 2],
        feedback.token(agency_a.agency_id, row.id, expires),  # another purpose's link
        other_secret.token(agency_a.agency_id, row.id, 1, expires),
        links_of(agency_a).token(agency_a.agency_id, UUID(s.interview["id"]), 1, expires),
        links_of(agency_a).token(agency_b.agency_id, row.id, 1, expires),  # the wrong agency
    ):
        assert await refused(agency_a, forged, clock.now()) is NotFound, forged


# --- The agency's settings -----------------------------------------------------------------------


async def test_the_settings_default_off_and_three_days_and_are_validated(
    agency_a: Tenant,
) -> None:
    agency, _ = await read(agency_a.admin, "/v1/agency")
    assert (agency["candidate_links"], agency["candidate_link_days"]) == (False, 3)

    changed = await set_agency(agency_a, candidate_links=True, candidate_link_days=30)
    assert (changed["candidate_links"], changed["candidate_link_days"]) == (True, 30)

    _, etag = await read(agency_a.admin, "/v1/agency")
    for bad in (
        {"candidate_link_days": 0},
        {"candidate_link_days": 31},
        {"candidate_link_days": 2.5},
        {"candidate_links": "yes"},
    ):
        response = await agency_a.admin.patch("/v1/agency", json=bad, headers={"If-Match": etag})
        assert_problem(response, 422, "validation-error")
        assert error_fields(response) == set(bad), response.text
    agency, _ = await read(agency_a.admin, "/v1/agency")
    assert (agency["candidate_links"], agency["candidate_link_days"]) == (True, 30)


# --- Who acted: "candidate (link)" ---------------------------------------------------------------


@pytest.mark.horizon  # reads the event feed right after writing (tests/conftest.py)
async def test_what_the_candidate_does_through_the_link_shows_as_the_candidate(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    token = token_of((await issue(s))["url"])
    async with agency_a.app.state.sessions() as session, session.begin():
        opened = await open_link(session, links_of(agency_a), token, clock.now())
        await record_decision(
            session,
            opened.principal,
            agency_a.app.state.clock,
            opened.application.id,
            DecisionWrite(decision="want"),
        )
    candidate = {"user_id": None, "api_key_id": None, "on_behalf_of": False}

    timeline = await agency_a.admin.get(f"/v1/applications/{s.application['id']}/timeline")
    (decided,) = [e for e in timeline.json()["items"] if e["type"] == "decision.recorded"]
    assert decided["actor"] == {**candidate, "via_link": "candidate"}
    (event,) = await feed(agency_a, "decision.recorded")
    assert event["actor"] == {**candidate, "via_link": "candidate"}
    (issued,) = await feed(agency_a, "candidate_link.issued")
    assert issued["actor"]["via_link"] is None


async def feed(tenant: Tenant, event_type: str) -> list[Json]:
    """The feed's events of that type, once it serves them: it holds back events while an
    older transaction anywhere in the cluster (another test run's) may still commit one."""
    for _ in range(100):
        response = await tenant.admin.get("/v1/events", params={"types": event_type})
        assert response.status_code == 200, response.text
        if items := response.json()["items"]:
            return list(items)
        await asyncio.sleep(0.1)
    raise AssertionError(f"the feed never served {event_type}")


# --- The token stays out of the logs and the OpenAPI document says it all ------------------------


async def test_the_token_never_reaches_the_logs(
    app: FastAPI, agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    with structlog.testing.capture_logs() as entries:
        body = await issue(s)
        token = token_of(body["url"])
        async with new_client(app) as anon:
            await anon.get(f"/candidate/{token}")
            await anon.post(f"/candidate/{token}/decision", data={"decision": "want"})
        assert (await agency_a.admin.delete(s.path)).status_code == 204

    paths = {e.get("path") for e in entries if e["event"] == "request"}
    assert {"/candidate/[redacted]", "/candidate/[redacted]/decision"} <= paths
    assert token not in json.dumps(entries, default=str)


async def test_the_openapi_document_declares_the_routes_and_their_problems(
    anon: Any,
) -> None:
    document = (await anon.get("/openapi.json")).json()
    operations = document["paths"]["/v1/interviews/{interview_id}/candidate-link"]

    issued = operations["post"]
    assert set(issued["responses"]) >= {"201", "404", "409", "422"}
    schema = issued["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    assert schema.endswith("/CandidateLinkIssued")
    conflicts = json.dumps(issued["responses"]["409"])
    for slug in ("interview-not-finished", "application-closed", "interview-cancelled"):
        assert slug in conflicts
    assert "Idempotency-Key" in {p["name"] for p in issued["parameters"]}
    revoked = operations["delete"]
    assert set(revoked["responses"]) >= {"204", "404"}
    settings = document["components"]["schemas"]["AgencyUpdate"]["properties"]
    assert {"candidate_links", "candidate_link_days"} <= set(settings)
    actor = document["components"]["schemas"]["Actor"]
    assert "via_link" in actor["required"]


# --- When the application or the candidate goes -------------------------------------------------


async def test_erasing_the_candidate_closes_their_live_link(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    token = token_of((await issue(s))["url"])

    erased = await agency_a.admin.post(
        f"/v1/candidates/{s.candidate['id']}/erasure", json={"reason": "Asked by email"}
    )

    assert erased.status_code == 200, erased.text
    assert erased.json()["changed"]["candidate_links"] == 1
    assert await refused(agency_a, token, clock.now()) is LinkClosed
    (mail,) = await link_mail(agency_a, s.application["id"])
    assert mail.status == "cancelled"


async def test_an_outcome_that_closes_the_application_stops_the_unsent_link_email(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    await issue(s)

    closed = await agency_a.admin.put(
        f"/v1/applications/{s.application['id']}/outcome", json={"outcome": "unsuccessful"}
    )

    assert closed.status_code == 200, closed.text
    (mail,) = await link_mail(agency_a, s.application["id"])
    assert mail.status == "cancelled"
