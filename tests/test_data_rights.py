"""A candidate's data rights: one document with everything held about them; erasure that leaves
their email nowhere in the database, keeps the reports' numbers, and is audited."""

import secrets
from datetime import timedelta
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from app.core.clock import FixedClock
from app.core.provision import DatabaseUrls
from tests.conftest import TestDatabase
from tests.support.feedback import Scene, scene
from tests.support.problems import assert_problem
from tests.support.records import make_interview, make_referee, make_vacancy
from tests.support.tenants import Tenant

Json = dict[str, Any]
TEXT_TYPES = ("text", "character varying", "jsonb", "json", "ARRAY")


def occurrences(test_database: TestDatabase, urls: DatabaseUrls, needle: str) -> list[str]:
    """Every `table.column` of the database whose value mentions `needle` (read as a superuser,
    past row-level security: every agency's rows, every table)."""
    target = make_url(test_database.superuser_url).set(database=make_url(urls.runtime).database)
    found = []
    with psycopg.connect(target.render_as_string(hide_password=False), autocommit=True) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = ANY(%s)",
            (list(TEXT_TYPES),),
        ).fetchall()
        for table, column in columns:
            hit = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE {}::text ILIKE %s").format(
                    sql.Identifier(table), sql.Identifier(column)
                ),
                (f"%{needle}%",),
            ).fetchone()
            if hit and hit[0]:
                found.append(f"{table}.{column}")
    return found


async def told_everything(agency: Tenant, tag: str) -> Scene:
    """An unsuccessful candidate with a referee, a feedback request (and its email) and the
    client's feedback; their data in records, steps, messages, events and stored responses.
    `tag` makes its texts unique in the database."""
    story = await scene(agency)
    await make_referee(story.api, story.candidate["id"], name=f"Daniel Reyes {tag}")
    await story.fail()
    feedback = await story.api.post(
        f"{story.path}/feedback",
        json={"strengths": f"Calm {tag}.", "gaps": "Budgets.", "advice": "Numbers."},
        headers={"Idempotency-Key": "fb-1"},
    )
    assert feedback.status_code == 200, feedback.text
    release = await story.api.post(f"{story.path}/release", json={"debrief_call": True})
    assert release.status_code == 200, release.text
    return story


async def test_the_export_holds_everything_about_the_candidate(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    tag = secrets.token_hex(4)
    story = await told_everything(agency_a, tag)
    response = await story.api.get(f"/v1/candidates/{story.candidate['id']}/export")
    assert response.status_code == 200, response.text
    document = response.json()
    assert (
        document["candidate"]
        == (await story.api.get(f"/v1/candidates/{story.candidate['id']}")).json()
    )
    assert [r["name"] for r in document["referees"]] == [f"Daniel Reyes {tag}"]
    (application,) = document["applications"]
    assert application["application"]["id"] == story.id
    feedback = application["feedback_request"]
    assert (feedback["strengths"], feedback["state"]) == (f"Calm {tag}.", "released")
    assert "client_link" not in feedback
    kinds = sorted(m["kind"] for m in application["messages"])
    assert kinds == ["feedback_release", "feedback_request"]
    assert "application.outcome_recorded" in [e["type"] for e in application["timeline"]]
    assert document["erased_at"] is None
    other = await agency_b.integration()
    assert_problem(
        await other.get(f"/v1/candidates/{story.candidate['id']}/export"), 404, "not-found"
    )


async def test_erasure_leaves_the_email_nowhere_and_the_reports_unchanged(
    agency_a: Tenant,
    clock: FixedClock,
    test_database: TestDatabase,
    database_urls: DatabaseUrls,
) -> None:
    tag = secrets.token_hex(4)
    story = await told_everything(agency_a, tag)
    email = story.candidate["email"]
    window = {
        "from": (clock.now() - timedelta(days=1)).isoformat(),
        "to": (clock.now() + timedelta(days=1)).isoformat(),
    }
    report_before = (await story.api.get("/v1/reports/post-interview", params=window)).json()
    assert occurrences(test_database, database_urls, email)  # before: in many places

    consultant = await agency_a.consultant()
    path = f"/v1/candidates/{story.candidate['id']}/erasure"
    assert_problem(await consultant.post(path, json={"reason": "asked"}), 403, "forbidden")
    erased = await agency_a.admin.post(path, json={"reason": "Request by email, 2 Dec"})
    assert erased.status_code == 200, erased.text
    changed = erased.json()["changed"]
    assert changed["referees"] == 1 and changed["messages"] >= 2 and changed["events"] > 0

    assert occurrences(test_database, database_urls, email) == []
    assert occurrences(test_database, database_urls, f"Calm {tag}") == []
    assert occurrences(test_database, database_urls, f"Daniel Reyes {tag}") == []
    candidate = (await story.api.get(f"/v1/candidates/{story.candidate['id']}")).json()
    assert (candidate["first_name"], candidate["contact_consent"]) == ("Erased", False)
    assert candidate["email"].endswith("@erased.invalid")
    report_after = (await story.api.get("/v1/reports/post-interview", params=window)).json()
    assert report_after == report_before  # counts and dates stay
    audit = (await agency_a.admin.get("/v1/audit-entries")).json()["items"]
    assert any(e["action"] == "candidate.erased" for e in audit)
    again = await agency_a.admin.post(path, json={"reason": "twice"})
    assert again.status_code == 200 and again.json()["changed"] == {}


REFEREE = {"name": "Daniel Reyes", "email": "daniel@example.org", "relationship": "Manager"}


async def test_an_erased_candidate_cannot_be_brought_back_or_reached(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """Erasure is for good: the record is not filled in again, and nothing new (an application,
    a referee, a link to their page) can be made for it. Each is a 409 and changes nothing."""
    story = await scene(agency_a)
    interview = await make_interview(
        story.api, story.id, starts_at=clock.now() - timedelta(hours=3)
    )
    candidate_path = f"/v1/candidates/{story.candidate['id']}"
    erasure = await agency_a.admin.post(f"{candidate_path}/erasure", json={"reason": "asked"})
    assert erasure.status_code == 200, erasure.text
    erased = await story.api.get(candidate_path)

    revived = await story.api.patch(
        candidate_path,
        json={"email": "amara@example.com", "contact_consent": True},
        headers={"If-Match": erased.headers["etag"]},
    )
    assert_problem(revived, 409, "candidate-erased")
    vacancy = await make_vacancy(story.api, story.client["id"])
    for path, body in (
        ("/v1/applications", {"candidate_id": story.candidate["id"], "vacancy_id": vacancy["id"]}),
        (f"{candidate_path}/referees", REFEREE),
        (f"/v1/interviews/{interview['id']}/candidate-link", None),
    ):
        assert_problem(await story.api.post(path, json=body), 409, "candidate-erased")
    new_application = {"candidate_id": story.candidate["id"], "vacancy_id": vacancy["id"]}
    by_a_person = await agency_a.admin.post("/v1/applications", json=new_application)
    assert_problem(by_a_person, 409, "candidate-erased")  # a person's creates take a fast road

    after = await story.api.get(candidate_path)
    assert (after.json(), after.headers["etag"]) == (erased.json(), erased.headers["etag"])
    assert (await story.api.get(f"{candidate_path}/referees")).json()["items"] == []
    applications = await story.api.get(
        "/v1/applications", params={"candidate_id": after.json()["id"]}
    )
    assert [a["id"] for a in applications.json()["items"]] == [story.id]
