"""GET /v1/reports/post-interview: the window's rules, what counts and when, how the rows per
consultant and per client add up to the agency's, and that only the caller's agency counts.

Interviews count by when they ended, within [from, to); feedback requests by when they were
made. Everything here happens at the clock's now (no time travel), so the admin's login holds.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient

from app.core.clock import FixedClock
from tests.support.problems import assert_problem, error_fields
from tests.support.records import (
    Json,
    make_application,
    make_client,
    make_contact,
    make_interview,
    make_vacancy,
)
from tests.support.tenants import Tenant

PATH = "/v1/reports/post-interview"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
COUNTS = ("interviews", "follow_ups_sent", "debriefs", "feedback_requests", "feedback_obtained")
EMPTY: Json = {
    "interviews": 0,
    "follow_ups_sent": 0,
    "follow_up_rate": None,
    "follow_up_on_time_rate": None,
    "debriefs": 0,
    "debrief_on_time_rate": None,
    "feedback_requests": 0,
    "feedback_obtained": 0,
    "feedback_obtained_rate": None,
    "median_days_to_feedback": None,
}
DEBRIEF: Json = {
    "questions": [{"text": "Why this role?", "answer_quality": "strong", "half_answered": False}],
    "went_well": "Clear on the WMS migration.",
    "could_improve": "Numbers on the cost example.",
}
FEEDBACK: Json = {"strengths": "Structured answers.", "gaps": "Budgeting depth."}


def window(start: datetime, end: datetime) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat()}


async def report(client: AsyncClient, start: datetime, end: datetime) -> Json:
    response = await client.get(PATH, params=window(start, end))
    assert response.status_code == 200, response.text
    body: Json = response.json()
    assert datetime.fromisoformat(body["from"]) == start
    assert datetime.fromisoformat(body["to"]) == end
    return body


async def interview_ending(
    client: AsyncClient, application_id: str, ends_at: datetime, **overrides: Any
) -> Json:
    return await make_interview(client, application_id, starts_at=ends_at - HOUR, **overrides)


async def ok(
    client: AsyncClient, method: str, path: str, body: Json | None = None, status: int = 200
) -> Json:
    response = await client.request(method, path, json=body)
    assert response.status_code == status, response.text
    result: Json = response.json()
    return result


async def debrief(client: AsyncClient, interview: Json) -> bool:
    """Submit the interview's debrief; whether it was on time."""
    written = await ok(client, "PUT", f"/v1/interviews/{interview['id']}/debrief", DEBRIEF, 201)
    on_time: bool = written["on_time"]
    return on_time


async def follow_up(client: AsyncClient, interview: Json) -> bool:
    """Decide `want`, thank the agency and send the note via the agency; whether on time."""
    app_path = f"/v1/applications/{interview['application_id']}"
    await ok(client, "PUT", f"{app_path}/decision", {"decision": "want"})
    path = f"/v1/interviews/{interview['id']}/follow-up"
    await ok(client, "POST", f"{path}/agency-thanks", {})
    note = {"route": "via_agency", "subject": "Thank you", "body": "Thank you for today."}
    sent = await ok(client, "POST", f"{path}/send", note)
    assert sent["state"] == "sent"
    on_time: bool = sent["on_time"]
    return on_time


async def fail(client: AsyncClient, application: Json) -> None:
    """An unsuccessful outcome: feedback is asked of the vacancy's hiring contact."""
    path = f"/v1/applications/{application['id']}"
    await ok(client, "PUT", f"{path}/outcome", {"outcome": "unsuccessful"})
    request = await ok(client, "GET", f"{path}/feedback-request")
    assert request["state"] == "requested"


async def client_with_vacancy(tenant: Tenant) -> tuple[Json, Json]:
    client = await make_client(tenant)
    contact = await make_contact(tenant, client["id"])
    vacancy = await make_vacancy(tenant, client["id"], hiring_contact_id=contact["id"])
    return client, vacancy


def by(rows: list[Json], key: str) -> dict[Any, Json]:
    keyed = {row[key]: {k: v for k, v in row.items() if k != key} for row in rows}
    assert len(keyed) == len(rows), rows
    return keyed


# --- The window ---------------------------------------------------------------------------------


async def report_of(client: AsyncClient, params: dict[str, str]) -> Json:
    response = await client.get(PATH, params=params)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def echoed(body: Json) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(body["from"]), datetime.fromisoformat(body["to"])


async def interviews_ending_at(tenant: Tenant, **ends: datetime) -> dict[str, str]:
    """One interview ending at each instant, each at a client of its own: label -> client id."""
    clients = {}
    for label, ends_at in ends.items():
        client, vacancy = await client_with_vacancy(tenant)
        application = await make_application(tenant, vacancy_id=vacancy["id"])
        await interview_ending(tenant.admin, application["id"], ends_at)
        clients[label] = client["id"]
    return clients


def counted(body: Json, clients: dict[str, str]) -> set[str]:
    """The labels of the interviews the report counted."""
    by_client = {client_id: label for label, client_id in clients.items()}
    return {by_client[row["client_id"]] for row in body["clients"] if row["interviews"]}


async def set_timezone(tenant: Tenant, timezone: str) -> None:
    current = await tenant.admin.get("/v1/agency")
    changed = await tenant.admin.patch(
        "/v1/agency", json={"timezone": timezone}, headers={"If-Match": current.headers["etag"]}
    )
    assert changed.status_code == 200, changed.text


async def test_without_from_and_to_the_window_is_the_last_30_days(
    agency_a: Tenant, clock: FixedClock
) -> None:
    now = clock.now()
    start = now - 30 * DAY
    clients = await interviews_ending_at(
        agency_a,
        before=start - timedelta(seconds=1),
        first=start,
        last=now - timedelta(seconds=1),
        now=now,
    )

    body = await report_of(agency_a.admin, {})
    assert echoed(body) == (start, now)
    assert body["timezone"] == "UTC"
    assert counted(body, clients) == {"first", "last"}
    assert body["agency"]["interviews"] == 2

    # Either bound alone: `to` defaults to now, `from` to 30 days before `to`.
    earlier = now - 2 * DAY
    only_from = await report_of(agency_a.admin, {"from": earlier.isoformat()})
    assert echoed(only_from) == (earlier, now)
    assert counted(only_from, clients) == {"last"}
    only_to = await report_of(agency_a.admin, {"to": earlier.isoformat()})
    assert echoed(only_to) == (earlier - 30 * DAY, earlier)
    assert counted(only_to, clients) == {"before", "first"}


async def test_plain_dates_are_whole_days_in_the_agencys_time_zone(
    agency_a: Tenant, clock: FixedClock
) -> None:
    # 15 July 2026 in New York (EDT, UTC-4) runs from 04:00 UTC to 04:00 UTC the next day.
    local_start = datetime(2026, 7, 15, 4, tzinfo=UTC)
    local_end = datetime(2026, 7, 16, 4, tzinfo=UTC)
    second = timedelta(seconds=1)
    clients = await interviews_ending_at(
        agency_a,
        utc_day_only=local_start - second,
        first=local_start,
        last=local_end - second,
        next_local_day=local_end,
    )
    day = {"from": "2026-07-15", "to": "2026-07-15"}

    # While the agency keeps UTC, the same dates are the UTC day.
    in_utc = await report_of(agency_a.admin, day)
    assert echoed(in_utc) == (datetime(2026, 7, 15, tzinfo=UTC), datetime(2026, 7, 16, tzinfo=UTC))
    assert counted(in_utc, clients) == {"utc_day_only", "first"}

    await set_timezone(agency_a, "America/New_York")
    body = await report_of(agency_a.admin, day)
    assert echoed(body) == (local_start, local_end)
    assert body["timezone"] == "America/New_York"
    assert counted(body, clients) == {"first", "last"}
    assert body["agency"]["interviews"] == 2

    # The day the clocks go back (1 November 2026) is 25 hours long: EDT at its start, EST after.
    autumn = await report_of(agency_a.admin, {"from": "2026-11-01", "to": "2026-11-01"})
    assert echoed(autumn) == (
        datetime(2026, 11, 1, 4, tzinfo=UTC),
        datetime(2026, 11, 2, 5, tzinfo=UTC),
    )


async def test_a_date_and_an_instant_mix(agency_a: Tenant, clock: FixedClock) -> None:
    await set_timezone(agency_a, "Europe/London")
    # 15 July 2026 in London (BST, UTC+1): from 14 July 23:00 UTC to 15 July 23:00 UTC.
    local_start = datetime(2026, 7, 14, 23, tzinfo=UTC)
    local_end = datetime(2026, 7, 15, 23, tzinfo=UTC)
    noon = datetime(2026, 7, 15, 12, tzinfo=UTC)
    clients = await interviews_ending_at(
        agency_a, early=local_start, morning=noon - HOUR, late=local_end - timedelta(seconds=1)
    )

    from_date = await report_of(agency_a.admin, {"from": "2026-07-15", "to": noon.isoformat()})
    assert echoed(from_date) == (local_start, noon)
    assert counted(from_date, clients) == {"early", "morning"}

    to_date = await report_of(agency_a.admin, {"from": noon.isoformat(), "to": "2026-07-15"})
    assert echoed(to_date) == (noon, local_end)
    assert counted(to_date, clients) == {"late"}


async def test_unreadable_dates_and_instants_are_refused_naming_the_parameter(
    agency_a: Tenant,
) -> None:
    unreadable = (
        "2026-02-30",  # no such day
        "2026-13-01",
        "2026-7-15",
        "15/07/2026",
        "1899-12-31",  # before 1900
        "2200-01-01",
        "2026-07-15T25:00:00+00:00",
        "1753920000",  # Unix time is not a date
        "",
    )
    for value in unreadable:
        for name in ("from", "to"):
            response = await agency_a.admin.get(PATH, params={name: value})
            assert_problem(response, 422, "validation-error")
            assert error_fields(response) == {name}, (value, response.json())
    response = await agency_a.admin.get(PATH, params={"from": "2026-02-30"})
    [error] = assert_problem(response, 422, "validation-error")["errors"]
    assert error == {
        "field": "from",
        "location": "query",
        "message": "must be a calendar date (YYYY-MM-DD)",
    }


async def test_a_window_out_of_order_blames_the_bound_given(
    agency_a: Tenant, clock: FixedClock
) -> None:
    now = clock.now()
    dates = [
        ({"from": "2026-07-16", "to": "2026-07-15"}, "to"),
        ({"from": "2026-07-15T12:00:00+00:00", "to": "2026-07-14"}, "to"),
        ({"from": "2025-07-01", "to": "2026-08-06"}, "to"),  # 402 days
        ({"to": "1900-01-01"}, None),  # the earliest day: its default `from` is in 1899
        ({"from": (now + HOUR).isoformat()}, "from"),  # after now, the default `to`
        ({"from": (now - 401 * DAY).isoformat()}, "from"),
    ]
    for params, field in dates:
        response = await agency_a.admin.get(PATH, params=params)
        if field is None:
            assert response.status_code == 200, response.text
            continue
        problem = assert_problem(response, 422, "inconsistent-values")
        assert [e["field"] for e in problem["errors"]] == [field], (params, problem)
    # The longest window by dates: 400 days from the first day's start to the last day's end.
    longest = await report_of(agency_a.admin, {"from": "2025-07-01", "to": "2026-08-04"})
    start, end = echoed(longest)
    assert end - start == 400 * DAY


async def test_to_must_be_after_from_and_the_window_at_most_400_days(
    agency_a: Tenant, clock: FixedClock
) -> None:
    now = clock.now()
    for end in (now, now - HOUR, now + 401 * DAY):
        response = await agency_a.admin.get(PATH, params=window(now, end))
        assert_problem(response, 422, "inconsistent-values")
        assert [e["field"] for e in response.json()["errors"]] == ["to"], response.json()
    # The longest window allowed, and the shortest, are answered.
    assert (await report(agency_a.admin, now, now + 400 * DAY))["agency"] == EMPTY
    assert (await report(agency_a.admin, now, now + timedelta(seconds=1)))["agency"] == EMPTY


async def test_naive_datetimes_are_refused(agency_a: Tenant, clock: FixedClock) -> None:
    now = clock.now()
    naive_from = (now - DAY).replace(tzinfo=None).isoformat()
    naive_to = (now + DAY).replace(tzinfo=None).isoformat()
    cases = [
        ({"from": naive_from, "to": (now + DAY).isoformat()}, "from"),
        ({"from": (now - DAY).isoformat(), "to": naive_to}, "to"),
    ]
    for params, field in cases:
        response = await agency_a.admin.get(PATH, params=params)
        assert response.status_code == 422, (params, response.text)
        assert error_fields(response) == {field}, response.json()


# --- What counts --------------------------------------------------------------------------------


async def test_rates_are_null_with_nothing_to_count(agency_a: Tenant, clock: FixedClock) -> None:
    now = clock.now()
    body = await report(agency_a.admin, now - 30 * DAY, now + DAY)
    assert body["agency"] == EMPTY
    assert body["consultants"] == []
    assert body["clients"] == []

    # An interview with nothing done after it: counted, its rates 0 or null, never NaN.
    application = await make_application(agency_a, consultant_id=str(agency_a.admin_id))
    await interview_ending(agency_a.admin, application["id"], now - HOUR)
    body = await report(agency_a.admin, now - 30 * DAY, now + DAY)
    assert body["agency"] == {**EMPTY, "interviews": 1, "follow_up_rate": 0.0}


async def test_interviews_count_by_their_end_within_from_inclusive_to_exclusive(
    agency_a: Tenant, clock: FixedClock
) -> None:
    start = clock.now() - 5 * DAY
    end = start + DAY
    clients = {}
    for label, ends_at in (
        ("before", start - timedelta(seconds=1)),
        ("at_from", start),
        ("at_to", end),
    ):
        client, vacancy = await client_with_vacancy(agency_a)
        application = await make_application(agency_a, vacancy_id=vacancy["id"])
        await interview_ending(agency_a.admin, application["id"], ends_at)
        clients[label] = client["id"]

    body = await report(agency_a.admin, start, end)

    assert body["agency"]["interviews"] == 1
    assert [row["client_id"] for row in body["clients"]] == [clients["at_from"]]
    # Shifting the window by a second takes in the other two, one at each end.
    earlier = await report(agency_a.admin, start - timedelta(seconds=1), end)
    assert {row["client_id"] for row in earlier["clients"]} == {
        clients["before"],
        clients["at_from"],
    }
    later = await report(agency_a.admin, start, end + timedelta(seconds=1))
    assert {row["client_id"] for row in later["clients"]} == {clients["at_from"], clients["at_to"]}


async def test_cancelled_interviews_do_not_count(agency_a: Tenant, clock: FixedClock) -> None:
    now = clock.now()
    application = await make_application(agency_a)
    kept = await interview_ending(agency_a.admin, application["id"], now + 2 * DAY)
    cancelled = await interview_ending(agency_a.admin, application["id"], now + 3 * DAY)
    before = await report(agency_a.admin, now, now + 5 * DAY)
    assert before["agency"]["interviews"] == 2

    gone = await agency_a.admin.delete(f"/v1/interviews/{cancelled['id']}")
    assert gone.status_code == 204, gone.text
    status = await ok(agency_a.admin, "GET", f"/v1/interviews/{cancelled['id']}")
    assert status["status"] == "cancelled"

    after = await report(agency_a.admin, now, now + 5 * DAY)
    assert after["agency"]["interviews"] == 1
    assert kept["status"] == "scheduled"


# --- Rows per consultant and per client ---------------------------------------------------------


async def test_consultant_and_client_rows_add_up_to_the_agency(
    agency_a: Tenant, clock: FixedClock
) -> None:
    admin = agency_a.admin
    current = await admin.get("/v1/agency")
    settings = {"debrief_due_hours": 24, "follow_up_window_hours": 24}
    changed = await admin.patch(
        "/v1/agency", json=settings, headers={"If-Match": current.headers["etag"]}
    )
    assert changed.status_code == 200, changed.text
    now = clock.now()
    first, second = [(await agency_a.add_user("consultant"))["id"] for _ in range(2)]
    (x, x_vacancy), (y, y_vacancy) = [await client_with_vacancy(agency_a) for _ in range(2)]

    async def application(consultant: str | None, vacancy: Json, ended_ago: timedelta) -> Json:
        made = await make_application(agency_a, vacancy_id=vacancy["id"], consultant_id=consultant)
        assert made["consultant_id"] == consultant
        return await interview_ending(admin, made["id"], now - ended_ago)

    # First consultant, client X: debrief and note on time, feedback requested and obtained.
    one = await application(first, x_vacancy, 2 * HOUR)
    assert await debrief(admin, one) is True
    assert await follow_up(admin, one) is True
    await fail(admin, {"id": one["application_id"]})
    path = f"/v1/applications/{one['application_id']}/feedback-request/feedback"
    assert (await ok(admin, "POST", path, FEEDBACK))["state"] == "received"
    # First consultant, client Y: a late debrief, no note.
    two = await application(first, y_vacancy, 3 * DAY)
    assert await debrief(admin, two) is False
    # Second consultant, client X: nothing done; feedback requested, not yet given.
    three = await application(second, x_vacancy, HOUR)
    await fail(admin, {"id": three["application_id"]})
    # Nobody's application, client Y: debrief and note on time, feedback requested.
    four = await application(None, y_vacancy, 5 * HOUR)
    assert await debrief(admin, four) is True
    assert await follow_up(admin, four) is True
    await fail(admin, {"id": four["application_id"]})

    body = await report(admin, now - 10 * DAY, now + DAY)

    assert body["agency"] == {
        "interviews": 4,
        "follow_ups_sent": 2,
        "follow_up_rate": 0.5,
        "follow_up_on_time_rate": 1.0,
        "debriefs": 3,
        "debrief_on_time_rate": 0.6667,
        "feedback_requests": 3,
        "feedback_obtained": 1,
        "feedback_obtained_rate": 0.3333,
        "median_days_to_feedback": 0.0,
    }
    consultants = by(body["consultants"], "consultant_id")
    assert consultants == {
        first: {
            **body["agency"],
            "interviews": 2,
            "follow_ups_sent": 1,
            "debriefs": 2,
            "debrief_on_time_rate": 0.5,
            "feedback_requests": 1,
            "feedback_obtained_rate": 1.0,
        },
        second: {
            **EMPTY,
            "interviews": 1,
            "follow_up_rate": 0.0,
            "feedback_requests": 1,
            "feedback_obtained_rate": 0.0,
        },
        None: {
            **EMPTY,
            "interviews": 1,
            "follow_ups_sent": 1,
            "follow_up_rate": 1.0,
            "follow_up_on_time_rate": 1.0,
            "debriefs": 1,
            "debrief_on_time_rate": 1.0,
            "feedback_requests": 1,
            "feedback_obtained_rate": 0.0,
        },
    }
    clients = by(body["clients"], "client_id")
    assert clients == {
        x["id"]: {
            **body["agency"],
            "interviews": 2,
            "follow_ups_sent": 1,
            "debriefs": 1,
            "debrief_on_time_rate": 1.0,
            "feedback_requests": 2,
            "feedback_obtained_rate": 0.5,
        },
        y["id"]: {
            **EMPTY,
            "interviews": 2,
            "follow_ups_sent": 1,
            "follow_up_rate": 0.5,
            "follow_up_on_time_rate": 1.0,
            "debriefs": 2,
            "debrief_on_time_rate": 0.5,
            "feedback_requests": 1,
            "feedback_obtained_rate": 0.0,
        },
    }
    for rows in (body["consultants"], body["clients"]):
        for count in COUNTS:
            assert sum(row[count] for row in rows) == body["agency"][count], count


async def test_another_agencys_activity_never_appears(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    now = clock.now()
    start, end = now - 10 * DAY, now + DAY
    _, vacancy = await client_with_vacancy(agency_a)
    mine = await make_application(agency_a, vacancy_id=vacancy["id"])
    await interview_ending(agency_a.admin, mine["id"], now - 3 * HOUR)
    before = await report(agency_a.admin, start, end)
    assert before["agency"]["interviews"] == 1

    # Agency B works through its own interview in the same window.
    b_client, b_vacancy = await client_with_vacancy(agency_b)
    theirs = await make_application(
        agency_b, vacancy_id=b_vacancy["id"], consultant_id=str(agency_b.admin_id)
    )
    interview = await interview_ending(agency_b.admin, theirs["id"], now - 2 * HOUR)
    await debrief(agency_b.admin, interview)
    await follow_up(agency_b.admin, interview)
    await fail(agency_b.admin, theirs)
    b_report = await report(agency_b.admin, start, end)
    assert b_report["agency"]["interviews"] == 1
    assert b_report["agency"]["feedback_requests"] == 1
    assert [row["client_id"] for row in b_report["clients"]] == [b_client["id"]]

    after = await report(agency_a.admin, start, end)
    assert after == before
    assert b_client["id"] not in {row["client_id"] for row in after["clients"]}
    assert str(agency_b.admin_id) not in {row["consultant_id"] for row in after["consultants"]}


async def test_unreadable_dates_are_refused_field_by_field(agency_a: Tenant) -> None:
    response = await agency_a.admin.get(PATH, params={"from": "yesterday", "to": "today"})
    assert_problem(response, 422, "validation-error")
    assert error_fields(response) == {"from", "to"}
