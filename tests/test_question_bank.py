"""The per-client question bank: debrief questions grouped by normalised text across a client's
interviews, most asked first, filterable by vacancy, keyset-paginated, and never another
client's or another agency's questions."""

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from httpx import AsyncClient

from app.core.clock import FixedClock
from tests.support.problems import assert_problem, error_fields
from tests.support.records import at, make_application, make_client, make_interview, make_vacancy
from tests.support.tenants import Tenant

Json = dict[str, Any]

WHY_HERE = "why do you want to work here"
WMS = "describe your wms migration"
CONFLICT = "tell us about a conflict"
NOTICE = "what is your notice period"
HUB = "how would you run our rotterdam hub"


def question(text: str, quality: str, half: bool = False, topic: str | None = None) -> Json:
    return {"text": text, "topic": topic, "answer_quality": quality, "half_answered": half}


@dataclass
class Bank:
    """Client X with vacancies V1 (interview ending E1) and V2 (ending E2, later), client Y with
    V3; each interview has a debrief. `api` is an API-key client of the agency."""

    api: AsyncClient
    client_x: str
    client_y: str
    v1: str
    v2: str
    v3: str
    e1: datetime
    e2: datetime

    def path(self, client_id: str | None = None) -> str:
        return f"/v1/clients/{client_id or self.client_x}/question-bank"


async def interview_at(tenant: Tenant, vacancy_id: str, starts_at: datetime) -> Json:
    application = await make_application(tenant, vacancy_id=vacancy_id)
    return await make_interview(tenant, application["id"], starts_at=starts_at)


async def debrief(api: AsyncClient, interview: Json, questions: list[Json]) -> None:
    body = {"questions": questions, "went_well": "Rapport.", "could_improve": "Numbers."}
    response = await api.put(f"/v1/interviews/{interview['id']}/debrief", json=body)
    assert response.status_code == 201, response.text


async def make_bank(tenant: Tenant, clock: FixedClock) -> Bank:
    base = clock.now()
    client_x, client_y = (await make_client(tenant))["id"], (await make_client(tenant))["id"]
    v1, v2 = (
        (await make_vacancy(tenant, client_x))["id"],
        (await make_vacancy(tenant, client_x))["id"],
    )
    v3 = (await make_vacancy(tenant, client_y))["id"]
    first = await interview_at(tenant, v1, base + timedelta(hours=1))
    later = await interview_at(tenant, v2, base + timedelta(hours=3))
    at_y = await interview_at(tenant, v3, base + timedelta(hours=1))
    api = await tenant.integration()
    clock.set(base + timedelta(hours=5))

    # The later interview's debrief goes in first: "most recent" follows the interviews' ends.
    await debrief(
        api,
        later,
        [
            question("why do you  WANT to work here", "adequate", half=True, topic="culture"),
            question("Tell us about a conflict.", "strong"),
        ],
    )
    await debrief(
        api,
        first,
        [
            question("Why do you want to work here?", "strong", topic="motivation"),
            question("Describe your WMS migration.", "weak", half=True, topic="systems"),
            question("What is your notice period", "adequate", half=True),
        ],
    )
    await debrief(
        api,
        at_y,
        [
            question("Why do you want to work here?", "weak"),
            question("How would you run our Rotterdam hub?", "strong"),
        ],
    )
    return Bank(api, client_x, client_y, v1, v2, v3, at(first["ends_at"]), at(later["ends_at"]))


def comparable(entries: list[Json]) -> list[Json]:
    return [
        {
            **e,
            "last_asked_at": at(e["last_asked_at"]),
            "vacancy_ids": sorted(e["vacancy_ids"]),
        }
        for e in entries
    ]


def entry(
    normalized: str,
    text: str,
    times: int,
    last: datetime,
    topics: list[str],
    vacancies: list[str],
    struggled: int,
) -> Json:
    return {
        "text": text,
        "normalized_text": normalized,
        "times_asked": times,
        "last_asked_at": last,
        "topics": topics,
        "vacancy_ids": sorted(vacancies),
        "weak_or_half_answered": struggled,
    }


async def items(api: AsyncClient, path: str, **params: Any) -> list[Json]:
    response = await api.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.json()["next"] is None
    found: list[Json] = response.json()["items"]
    return found


async def test_the_same_question_in_other_words_is_one_entry(
    agency_a: Tenant, clock: FixedClock
) -> None:
    bank = await make_bank(agency_a, clock)

    found = comparable(await items(bank.api, bank.path()))

    assert found == [
        entry(
            WHY_HERE,
            "why do you  WANT to work here",  # the later interview's wording
            2,
            bank.e2,
            ["culture", "motivation"],
            [bank.v1, bank.v2],
            1,
        ),
        entry(WMS, "Describe your WMS migration.", 1, bank.e1, ["systems"], [bank.v1], 1),
        entry(CONFLICT, "Tell us about a conflict.", 1, bank.e2, [], [bank.v2], 0),
        entry(NOTICE, "What is your notice period", 1, bank.e1, [], [bank.v1], 1),
    ]


async def test_filter_by_vacancy_and_other_clients_questions_stay_out(
    agency_a: Tenant, clock: FixedClock
) -> None:
    bank = await make_bank(agency_a, clock)

    assert comparable(await items(bank.api, bank.path(), vacancy_id=bank.v1)) == [
        entry(WMS, "Describe your WMS migration.", 1, bank.e1, ["systems"], [bank.v1], 1),
        entry(NOTICE, "What is your notice period", 1, bank.e1, [], [bank.v1], 1),
        entry(WHY_HERE, "Why do you want to work here?", 1, bank.e1, ["motivation"], [bank.v1], 0),
    ]
    assert comparable(await items(bank.api, bank.path(), vacancy_id=bank.v2)) == [
        entry(CONFLICT, "Tell us about a conflict.", 1, bank.e2, [], [bank.v2], 0),
        entry(WHY_HERE, "why do you  WANT to work here", 1, bank.e2, ["culture"], [bank.v2], 1),
    ]
    assert await items(bank.api, bank.path(), vacancy_id=bank.v3) == []

    at_y = await items(bank.api, bank.path(bank.client_y))
    assert [(e["normalized_text"], e["times_asked"]) for e in at_y] == [(HUB, 1), (WHY_HERE, 1)]
    assert [e["weak_or_half_answered"] for e in at_y] == [0, 1]
    assert {v for e in at_y for v in e["vacancy_ids"]} == {bank.v3}


async def test_pages_walk_every_entry_once_in_order(agency_a: Tenant, clock: FixedClock) -> None:
    bank = await make_bank(agency_a, clock)
    expected = [WHY_HERE, WMS, CONFLICT, NOTICE]

    for limit in (1, 3):
        seen: list[str] = []
        pages = 0
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
            response = await bank.api.get(bank.path(), params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert 0 < len(page["items"]) <= limit
            seen += [e["normalized_text"] for e in page["items"]]
            pages += 1
            cursor = page["next"]
            if cursor is None:
                break
            assert pages < 10, "the cursor never ends"
        assert seen == expected
        assert pages == -(-len(expected) // limit)


def as_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


async def test_a_cursor_it_did_not_return_is_refused(agency_a: Tenant, clock: FixedClock) -> None:
    bank = await make_bank(agency_a, clock)
    for cursor in (
        "not a cursor!",
        as_cursor({"times": 1}),
        as_cursor([1]),
        as_cursor(["1", WHY_HERE]),
        as_cursor(["2026-01-01T00:00:00+00:00", "0196f0c9-9999-7c0e-9a3b-1f2e3d4c5b6a"]),
    ):
        response = await bank.api.get(bank.path(), params={"cursor": cursor, "limit": 1})
        assert_problem(response, 422, "cursor-invalid")
        assert "cursor" in error_fields(response)


async def test_another_agencys_client_is_not_found(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    own_client = (await make_client(agency_b))["id"]
    intruder = await agency_b.integration()
    bank = await make_bank(agency_a, clock)

    for client_id in (bank.client_x, bank.client_y):
        assert_problem(await intruder.get(bank.path(client_id)), 404, "not-found")
    response = await intruder.get(bank.path(client_id=own_client), params={"vacancy_id": bank.v1})
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next": None}
    unknown = "0196f0c9-9999-7c0e-9a3b-1f2e3d4c5b6a"
    assert_problem(await bank.api.get(bank.path(unknown)), 404, "not-found")
    assert len(await items(bank.api, bank.path())) == 4
