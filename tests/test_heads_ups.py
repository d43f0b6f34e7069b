"""Step 5: referee heads-ups, only when an offer looks likely, only with consent, once each."""

import asyncio
from typing import Any

from httpx import AsyncClient

from tests.support.problems import assert_problem
from tests.support.records import (
    events_of,
    list_items,
    make_application,
    make_candidate,
    make_referee,
)
from tests.support.tenants import Tenant

Json = dict[str, Any]


async def likely_offer(tenant: Tenant, **referee: Any) -> tuple[Json, Json]:
    """An application whose offer looks likely, and a consenting referee of its candidate."""
    candidate = await make_candidate(tenant, first_name="Amara", last_name="Okafor")
    application = await make_application(
        tenant, candidate_id=candidate["id"], offer_likelihood="high"
    )
    found = await make_referee(tenant, candidate["id"], **{"consent_to_contact": True, **referee})
    return application, found


def heads_up(referee_id: str) -> Json:
    return {
        "referee_id": referee_id,
        "why_want_job": "The network redesign role she prepared for.",
        "key_points": "Led the 2024 WMS migration.",
    }


def path(application: Json) -> str:
    return f"/v1/applications/{application['id']}/referee-heads-ups"


async def test_a_heads_up_is_queued_to_a_consenting_referee(agency_a: Tenant) -> None:
    application, referee = await likely_offer(agency_a)
    response = await agency_a.admin.post(path(application), json=heads_up(referee["id"]))
    assert response.status_code == 201, response.text
    assert response.json()["message_status"] == "queued"
    messages = await list_items(agency_a.admin, "/v1/messages", application_id=application["id"])
    assert [m["kind"] for m in messages] == ["referee_heads_up"]
    message = messages[0]
    assert message["to"] == referee["email"]
    assert "The network redesign role she prepared for." in message["body"]
    assert "Led the 2024 WMS migration." in message["body"]
    vacancy = (await agency_a.admin.get(f"/v1/vacancies/{application['vacancy_id']}")).json()
    assert vacancy["title"] in message["body"]
    assert "Okafor" not in message["body"]
    listed = await list_items(agency_a.admin, path(application))
    assert [h["referee_id"] for h in listed] == [referee["id"]]
    assert len(await events_of(agency_a, event_type="heads_up.sent")) == 1


async def test_only_when_an_offer_looks_likely(agency_a: Tenant) -> None:
    candidate = await make_candidate(agency_a)
    referee = await make_referee(agency_a, candidate["id"], consent_to_contact=True)
    for likelihood in ("unknown", "low", "medium"):
        application = await make_application(
            agency_a, candidate_id=candidate["id"], offer_likelihood=likelihood
        )
        response = await agency_a.admin.post(path(application), json=heads_up(referee["id"]))
        assert_problem(response, 409, "offer-not-likely")
        assert await list_items(agency_a.admin, path(application)) == []
    assert await list_items(agency_a.admin, "/v1/messages") == []


async def test_only_to_referees_who_consented(agency_a: Tenant) -> None:
    application, referee = await likely_offer(agency_a, consent_to_contact=False)
    response = await agency_a.admin.post(path(application), json=heads_up(referee["id"]))
    assert_problem(response, 409, "referee-no-consent")
    assert await list_items(agency_a.admin, "/v1/messages") == []


async def test_once_per_referee_and_application(agency_a: Tenant) -> None:
    application, referee = await likely_offer(agency_a)
    assert (
        await agency_a.admin.post(path(application), json=heads_up(referee["id"]))
    ).status_code == 201
    again = await agency_a.admin.post(path(application), json=heads_up(referee["id"]))
    assert_problem(again, 409, "heads-up-already-sent")
    assert len(await list_items(agency_a.admin, "/v1/messages")) == 1


async def test_racing_heads_ups_send_one(agency_a: Tenant) -> None:
    application, referee = await likely_offer(agency_a)

    async def send(client: AsyncClient) -> int:
        response = await client.post(path(application), json=heads_up(referee["id"]))
        return response.status_code

    statuses = await asyncio.gather(*(send(agency_a.admin) for _ in range(4)))
    assert sorted(statuses) == [201, 409, 409, 409]
    assert len(await list_items(agency_a.admin, path(application))) == 1
    assert len(await list_items(agency_a.admin, "/v1/messages")) == 1


async def test_the_referee_must_be_the_candidates(agency_a: Tenant, agency_b: Tenant) -> None:
    application, _ = await likely_offer(agency_a)
    stranger = await make_referee(
        agency_a, (await make_candidate(agency_a))["id"], consent_to_contact=True
    )
    response = await agency_a.admin.post(path(application), json=heads_up(stranger["id"]))
    assert_problem(response, 422, "reference-not-found")
    _, foreign = await likely_offer(agency_b)
    response = await agency_a.admin.post(path(application), json=heads_up(foreign["id"]))
    assert_problem(response, 422, "reference-not-found")
    assert await list_items(agency_a.admin, path(application)) == []


async def test_a_referee_with_a_heads_up_stays_on_record(agency_a: Tenant) -> None:
    application, referee = await likely_offer(agency_a)
    await agency_a.admin.post(path(application), json=heads_up(referee["id"]))
    response = await agency_a.admin.delete(f"/v1/referees/{referee['id']}")
    assert_problem(response, 409, "in-use")
    assert (await agency_a.admin.get(f"/v1/referees/{referee['id']}")).status_code == 200
