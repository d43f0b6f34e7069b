"""Incremental sync: lists walk in `(updated_at, id)` order with the cursor, every record once,
and resume with `updated_after` to fetch only what changed since."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from httpx import AsyncClient

from app.core.clock import FixedClock
from tests.support.problems import assert_problem
from tests.support.records import created, make_candidate, make_vacancy
from tests.support.tenants import Tenant

Item = dict[str, Any]


async def patched(client: AsyncClient, path: str, changes: dict[str, Any]) -> Item:
    current = await client.get(path)
    assert current.status_code == 200, current.text
    response = await client.patch(path, json=changes, headers={"If-Match": current.headers["etag"]})
    assert response.status_code == 200, response.text
    record: Item = response.json()
    return record


async def walk(client: AsyncClient, path: str, **params: Any) -> tuple[list[Item], list[int]]:
    """Every item of the list, following `next`; and the size of each page."""
    items: list[Item] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        sizes.append(len(page["items"]))
        cursor = page["next"]
        if cursor is None:
            return items, sizes
        assert len(sizes) < 100, "the cursor never ends"


def ids(items: list[Item]) -> list[str]:
    return [item["id"] for item in items]


def sync_key(item: Item) -> tuple[datetime, uuid.UUID]:
    return datetime.fromisoformat(item["updated_at"]), uuid.UUID(item["id"])


def assert_sync_order(items: list[Item]) -> None:
    keys = [sync_key(item) for item in items]
    assert keys == sorted(keys)
    assert len(set(ids(items))) == len(items), "an item came back twice"


def latest(items: list[Item]) -> str:
    """The largest `updated_at` among `items`, as the API wrote it."""
    newest: str = max(items, key=sync_key)["updated_at"]
    return newest


def tick(clock: FixedClock, seconds: int = 1) -> None:
    clock.set(clock.now() + timedelta(seconds=seconds))


# --- Candidates ---------------------------------------------------------------------------------


async def test_candidates_walk_then_resume_with_updated_after(
    agency_a: Tenant, clock: FixedClock
) -> None:
    client = agency_a.admin
    made = []
    for _ in range(12):
        tick(clock)
        made.append(await make_candidate(client))

    first_walk, sizes = await walk(client, "/v1/candidates", limit=5)

    assert sizes == [5, 5, 2]
    assert ids(first_walk) == ids(made)
    assert_sync_order(first_walk)

    changed = []
    for index in (7, 2, 10):
        tick(clock)
        path = f"/v1/candidates/{made[index]['id']}"
        changed.append(await patched(client, path, {"phone": f"+44 20 7946 000{index % 10}"}))
    for _ in range(2):
        tick(clock)
        changed.append(await make_candidate(client))

    second_walk, sizes = await walk(
        client, "/v1/candidates", limit=2, updated_after=latest(first_walk)
    )

    assert ids(second_walk) == ids(changed)
    assert sizes == [2, 2, 1]
    assert_sync_order(second_walk)
    untouched = set(ids(made)) - set(ids(changed))
    assert untouched.isdisjoint(ids(second_walk))
    assert [c["phone"] for c in second_walk[:3]] == [c["phone"] for c in changed[:3]]

    nothing_new, _ = await walk(client, "/v1/candidates", updated_after=latest(second_walk))
    assert nothing_new == []


async def test_rows_sharing_updated_at_are_paged_by_id(agency_a: Tenant) -> None:
    client = agency_a.admin
    made = [await make_candidate(client) for _ in range(7)]  # the clock stands still
    assert len({c["updated_at"] for c in made}) == 1

    walked, sizes = await walk(client, "/v1/candidates", limit=2)

    assert sizes == [2, 2, 2, 1]
    assert sorted(ids(walked)) == sorted(ids(made))
    assert [uuid.UUID(i) for i in ids(walked)] == sorted(uuid.UUID(i) for i in ids(made))
    assert_sync_order(walked)


async def test_updated_after_must_carry_an_offset(agency_a: Tenant, clock: FixedClock) -> None:
    naive = clock.now().replace(tzinfo=None).isoformat()

    for path in ("/v1/candidates", "/v1/applications", "/v1/interviews"):
        response = await agency_a.admin.get(path, params={"updated_after": naive})

        problem = assert_problem(response, 422, "validation-error")
        assert [(e["field"], e["location"]) for e in problem["errors"]] == [
            ("updated_after", "query")
        ], problem


async def test_a_cursor_the_list_did_not_return_is_refused(agency_a: Tenant) -> None:
    response = await agency_a.admin.get("/v1/candidates", params={"cursor": "not-a-cursor"})

    problem = assert_problem(response, 422, "cursor-invalid")
    assert [e["field"] for e in problem["errors"]] == ["cursor"]


# --- Applications and interviews ----------------------------------------------------------------


async def test_applications_walk_then_resume_with_updated_after(
    agency_a: Tenant, clock: FixedClock
) -> None:
    client = agency_a.admin
    vacancy = await make_vacancy(client)
    candidates = [await make_candidate(client) for _ in range(8)]
    made = []
    for candidate in candidates[:6]:
        tick(clock)
        made.append(
            await created(
                client,
                "/v1/applications",
                {"candidate_id": candidate["id"], "vacancy_id": vacancy["id"]},
            )
        )

    first_walk, sizes = await walk(client, "/v1/applications", limit=4)

    assert sizes == [4, 2]
    assert ids(first_walk) == ids(made)
    assert_sync_order(first_walk)

    changed = []
    for index, likelihood in ((4, "high"), (1, "low")):
        tick(clock)
        path = f"/v1/applications/{made[index]['id']}"
        changed.append(await patched(client, path, {"offer_likelihood": likelihood}))
    for candidate in candidates[6:]:
        tick(clock)
        changed.append(
            await created(
                client,
                "/v1/applications",
                {"candidate_id": candidate["id"], "vacancy_id": vacancy["id"]},
            )
        )

    second_walk, _ = await walk(
        client, "/v1/applications", limit=2, updated_after=latest(first_walk)
    )

    assert ids(second_walk) == ids(changed)
    assert_sync_order(second_walk)
    assert [a["offer_likelihood"] for a in second_walk] == ["high", "low", "unknown", "unknown"]


async def test_interviews_walk_then_resume_with_updated_after(
    agency_a: Tenant, clock: FixedClock
) -> None:
    client = agency_a.admin
    vacancy = await make_vacancy(client)
    candidate = await make_candidate(client)
    application = await created(
        client, "/v1/applications", {"candidate_id": candidate["id"], "vacancy_id": vacancy["id"]}
    )
    start = clock.now() + timedelta(days=7)

    async def schedule(day: int) -> Item:
        starts = start + timedelta(days=day)
        body = {
            "application_id": application["id"],
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(),
            "format": "video",
        }
        return await created(client, "/v1/interviews", body)

    made = []
    for day in range(6):
        tick(clock)
        made.append(await schedule(day))

    first_walk, sizes = await walk(client, "/v1/interviews", limit=4)

    assert sizes == [4, 2]
    assert ids(first_walk) == ids(made)
    assert_sync_order(first_walk)

    tick(clock)
    moved = await patched(client, f"/v1/interviews/{made[3]['id']}", {"format": "phone"})
    tick(clock)
    cancelled = await client.delete(f"/v1/interviews/{made[0]['id']}")
    assert cancelled.status_code == 204, cancelled.text
    tick(clock)
    added = await schedule(10)

    second_walk, _ = await walk(client, "/v1/interviews", limit=2, updated_after=latest(first_walk))

    assert ids(second_walk) == [moved["id"], made[0]["id"], added["id"]]
    assert_sync_order(second_walk)
    assert [i["format"] for i in second_walk] == ["phone", "video", "video"]
    assert [i["status"] for i in second_walk] == ["scheduled", "cancelled", "scheduled"]
