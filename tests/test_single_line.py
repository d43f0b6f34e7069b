"""Single-line fields (names, titles, subjects: text that may reach an email header) refuse line
breaks and control characters with a 422 `validation-error` naming the field, and change nothing;
a template whose subject renders a line break is refused as `template-invalid`.

Every HTTP case is followed by the same request with a clean value succeeding, so a refusal is
known to come from the line break and not from the route or its state."""

import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from pydantic import Field, ValidationError

from app.core.clock import FixedClock
from app.core.schemas import InputModel, SingleLine
from app.messages.templates import TemplateInvalid, render
from tests.support.follow_ups import SUBJECT, note, thanked
from tests.support.problems import assert_problem, error_fields
from tests.support.records import (
    list_items,
    make_application,
    make_candidate,
    make_client,
    make_contact,
    make_interview,
    make_referee,
    make_vacancy,
    read,
)
from tests.support.tenants import Tenant, unique_email

Json = dict[str, Any]

BREAKS = ["\r", "\n", "\u2028"]
"""Sent over HTTP for every field; the unit tests at the end cover the whole refused set."""

REFUSED = ["\r", "\n", "\r\n", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\x00", "\x1b", "\x7f"]


def broken(good: str, line_break: str) -> str:
    """`good` with a header injection inside it (surrounding whitespace would just be stripped)."""
    return f"{good}{line_break}Bcc: attacker@example.com"


def assert_refused(response: Any, field: str, line_break: str) -> None:
    assert_problem(response, 422, "validation-error")
    assert error_fields(response) == {field}, (repr(line_break), response.text)
    assert "single line" in response.json()["errors"][0]["message"], response.text


# --- POST: create -------------------------------------------------------------------------------

Builder = Callable[[Tenant], Awaitable[tuple[str, Json]]]
"""A path to POST to (its GET lists what it creates) and a valid body for it."""


async def new_user(tenant: Tenant) -> tuple[str, Json]:
    password = secrets.token_urlsafe(16)
    body = {"email": unique_email("u"), "name": "Priya Shah", "password": password}
    return "/v1/users", {**body, "role": "consultant"}


async def new_api_key(tenant: Tenant) -> tuple[str, Json]:
    return "/v1/api-keys", {"name": "Bullhorn sync"}


async def new_candidate(tenant: Tenant) -> tuple[str, Json]:
    body = {"first_name": "Amara", "last_name": "Okafor", "email": "amara@example.com"}
    return "/v1/candidates", {**body, "external_id": "ats-1"}


async def new_referee(tenant: Tenant) -> tuple[str, Json]:
    candidate = await make_candidate(tenant)
    body = {"name": "Daniel Reyes", "email": "daniel@example.org", "relationship": "Manager"}
    return f"/v1/candidates/{candidate['id']}/referees", body


async def new_client(tenant: Tenant) -> tuple[str, Json]:
    return "/v1/clients", {"name": "Harbour Logistics"}


async def new_contact(tenant: Tenant) -> tuple[str, Json]:
    client = await make_client(tenant)
    body = {"name": "Sofia Marin", "email": "sofia@harbour.example.com", "job_title": "COO"}
    return f"/v1/clients/{client['id']}/contacts", body


async def new_vacancy(tenant: Tenant) -> tuple[str, Json]:
    client = await make_client(tenant)
    return "/v1/vacancies", {"client_id": client["id"], "title": "Supply Chain Analyst"}


CREATES: list[tuple[Builder, str]] = [
    (new_user, "name"),
    (new_api_key, "name"),
    (new_candidate, "first_name"),
    (new_candidate, "last_name"),
    (new_candidate, "external_id"),
    (new_referee, "name"),
    (new_referee, "relationship"),
    (new_client, "name"),
    (new_contact, "name"),
    (new_contact, "job_title"),
    (new_vacancy, "title"),
]


@pytest.mark.parametrize(("build", "field"), CREATES, ids=[f"{b.__name__}.{f}" for b, f in CREATES])
async def test_create_refuses_a_line_break(agency_a: Tenant, build: Builder, field: str) -> None:
    path, body = await build(agency_a)
    before = await list_items(agency_a.admin, path)

    for line_break in BREAKS:
        response = await agency_a.admin.post(
            path, json={**body, field: broken(body[field], line_break)}
        )
        assert_refused(response, field, line_break)

    assert await list_items(agency_a.admin, path) == before
    created = await agency_a.admin.post(path, json=body)
    assert created.status_code == 201, created.text


# --- PATCH --------------------------------------------------------------------------------------

Maker = Callable[[Tenant], Awaitable[str]]
"""Makes an object and returns its path."""


async def a_user(tenant: Tenant) -> str:
    return f"/v1/users/{(await tenant.add_user())['id']}"


async def a_candidate(tenant: Tenant) -> str:
    return f"/v1/candidates/{(await make_candidate(tenant))['id']}"


async def a_referee(tenant: Tenant) -> str:
    candidate = await make_candidate(tenant)
    return f"/v1/referees/{(await make_referee(tenant, candidate['id']))['id']}"


async def a_client(tenant: Tenant) -> str:
    return f"/v1/clients/{(await make_client(tenant))['id']}"


async def a_contact(tenant: Tenant) -> str:
    client = await make_client(tenant)
    return f"/v1/contacts/{(await make_contact(tenant, client['id']))['id']}"


async def a_vacancy(tenant: Tenant) -> str:
    return f"/v1/vacancies/{(await make_vacancy(tenant))['id']}"


async def the_agency(tenant: Tenant) -> str:
    return "/v1/agency"


UPDATES: list[tuple[Maker, str, str]] = [
    (a_user, "name", "Priya Shah"),
    (a_candidate, "first_name", "Amy"),
    (a_candidate, "last_name", "Okafor-Reyes"),
    (a_candidate, "external_id", "ats-9"),
    (a_referee, "name", "Dan Reyes"),
    (a_referee, "relationship", "Mentor"),
    (a_client, "name", "Harbour Group"),
    (a_contact, "name", "Sofia Marín"),
    (a_contact, "job_title", "Head of Operations"),
    (a_vacancy, "title", "Warehouse Manager"),
    (the_agency, "name", "Northbridge Talent"),
    (the_agency, "timezone", "Europe/Paris"),
    (the_agency, "sender_name", "Northbridge Talent"),
]


@pytest.mark.parametrize(
    ("make", "field", "good"), UPDATES, ids=[f"{m.__name__}.{f}" for m, f, _ in UPDATES]
)
async def test_patch_refuses_a_line_break(
    agency_a: Tenant, make: Maker, field: str, good: str
) -> None:
    path = await make(agency_a)
    before = await read(agency_a.admin, path)
    if_match = {"If-Match": before[1]}

    for line_break in BREAKS:
        response = await agency_a.admin.patch(
            path, json={field: broken(good, line_break)}, headers=if_match
        )
        assert_refused(response, field, line_break)

    assert await read(agency_a.admin, path) == before  # same value, same ETag
    changed = await agency_a.admin.patch(path, json={field: good}, headers=if_match)
    assert changed.status_code == 200, changed.text
    assert changed.json()[field] == good


async def test_a_patched_name_too_long_is_measured_in_characters(agency_a: Tenant) -> None:
    candidate = await make_candidate(agency_a)
    path = f"/v1/candidates/{candidate['id']}"
    before = await read(agency_a.admin, path)
    response = await agency_a.admin.patch(
        path, json={"first_name": "A" * 101}, headers={"If-Match": before[1]}
    )
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"] == [
        {
            "field": "first_name",
            "location": "body",
            "message": "String should have at most 100 characters",
        }
    ]
    assert await read(agency_a.admin, path) == before


# --- PUT by external id -------------------------------------------------------------------------

Upsert = Callable[[Tenant], Awaitable[tuple[str, str, Json]]]
"""The kind's path, the path listing what an upsert creates, and a valid body."""


async def upsert_candidate(tenant: Tenant) -> tuple[str, str, Json]:
    body = {"first_name": "Amara", "last_name": "Okafor", "email": "amara@example.com"}
    return "/v1/candidates", "/v1/candidates", body


async def upsert_client(tenant: Tenant) -> tuple[str, str, Json]:
    return "/v1/clients", "/v1/clients", {"name": "Harbour Logistics"}


async def upsert_contact(tenant: Tenant) -> tuple[str, str, Json]:
    client = await make_client(tenant)
    body = {"name": "Sofia Marin", "email": "sofia@harbour.example.com", "job_title": "COO"}
    return (
        "/v1/contacts",
        f"/v1/clients/{client['id']}/contacts",
        {**body, "client_id": client["id"]},
    )


async def upsert_vacancy(tenant: Tenant) -> tuple[str, str, Json]:
    client = await make_client(tenant)
    return "/v1/vacancies", "/v1/vacancies", {"client_id": client["id"], "title": "Analyst"}


UPSERTS: list[tuple[Upsert, str]] = [
    (upsert_candidate, "first_name"),
    (upsert_candidate, "last_name"),
    (upsert_client, "name"),
    (upsert_contact, "name"),
    (upsert_contact, "job_title"),
    (upsert_vacancy, "title"),
]


@pytest.mark.parametrize(("build", "field"), UPSERTS, ids=[f"{b.__name__}.{f}" for b, f in UPSERTS])
async def test_upsert_refuses_a_line_break_whether_creating_or_replacing(
    agency_a: Tenant, build: Upsert, field: str
) -> None:
    kind, listing, body = await build(agency_a)
    path = f"{kind}/by-external-id/ats-{secrets.token_hex(3)}"
    before = await list_items(agency_a.admin, listing)

    for line_break in BREAKS:
        response = await agency_a.admin.put(
            path, json={**body, field: broken(body[field], line_break)}
        )
        assert_refused(response, field, line_break)
    assert await list_items(agency_a.admin, listing) == before

    created = await agency_a.admin.put(path, json=body)
    assert created.status_code == 201, created.text
    item = f"{kind}/{created.json()['id']}"
    existing = await read(agency_a.admin, item)
    for line_break in BREAKS:
        response = await agency_a.admin.put(
            path,
            json={**body, field: broken(body[field], line_break)},
            headers={"If-Match": existing[1]},
        )
        assert_refused(response, field, line_break)
    assert await read(agency_a.admin, item) == existing


@pytest.mark.parametrize("line_break", BREAKS, ids=repr)
async def test_an_external_id_in_the_path_refuses_a_line_break(
    agency_a: Tenant, line_break: str
) -> None:
    _, _, body = await upsert_candidate(agency_a)
    external_id = quote(broken("ats-1", line_break), safe="")

    response = await agency_a.admin.put(f"/v1/candidates/by-external-id/{external_id}", json=body)

    assert_refused(response, "external_id", line_break)
    assert response.json()["errors"][0]["location"] == "path"
    assert await list_items(agency_a.admin, "/v1/candidates") == []


# --- Workflow bodies ----------------------------------------------------------------------------


async def test_a_follow_up_subject_refuses_a_line_break(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await thanked(agency_a, clock)  # a send would be allowed now
    before = await scene.snapshot()

    for line_break in BREAKS:
        response = await scene.post("/send", note(subject=broken(SUBJECT, line_break)))
        assert_refused(response, "subject", line_break)

    assert await scene.snapshot() == before
    sent = await scene.post("/send", note())
    assert sent.status_code == 200, sent.text


async def test_a_debrief_question_topic_refuses_a_line_break(
    agency_a: Tenant, clock: FixedClock
) -> None:
    application = await make_application(agency_a)
    start = clock.now() + timedelta(minutes=1)
    end = start + timedelta(minutes=5)
    interview = await make_interview(
        agency_a, application["id"], starts_at=start, ends_at=end.isoformat()
    )
    clock.set(end + timedelta(minutes=1))
    path = f"/v1/interviews/{interview['id']}/debrief"
    question = {"text": "Why this role?", "topic": "motivation", "answer_quality": "strong"}
    body: Json = {"questions": [question], "went_well": "Clear.", "could_improve": "Numbers."}

    for line_break in BREAKS:
        bad = {**question, "topic": broken("motivation", line_break)}
        response = await agency_a.admin.put(path, json={**body, "questions": [bad]})
        assert_refused(response, "questions.0.topic", line_break)

    assert_problem(await agency_a.admin.get(path), 404, "not-found")
    created = await agency_a.admin.put(path, json=body)
    assert created.status_code == 201, created.text


# --- Message templates --------------------------------------------------------------------------

TEMPLATE = "/v1/message-templates/withdrawal_note"


async def test_a_template_subject_refuses_a_line_break(agency_a: Tenant) -> None:
    before = (await agency_a.admin.get(TEMPLATE)).json()

    for line_break in BREAKS:
        subject = broken("About {{ candidate_first_name }}", line_break)
        response = await agency_a.admin.put(TEMPLATE, json={"subject": subject, "body": "Hello"})
        assert_refused(response, "subject", line_break)

    assert (await agency_a.admin.get(TEMPLATE)).json() == before
    saved = await agency_a.admin.put(
        TEMPLATE, json={"subject": "About {{ candidate_first_name }}", "body": "Hello"}
    )
    assert saved.status_code == 200, saved.text


@pytest.mark.parametrize("escape", [r"\r\n", r"\r", r"\u2028", r"\u2029", r"\x85", r"\x0b"])
async def test_a_template_subject_that_renders_a_line_break_is_template_invalid(
    agency_a: Tenant, escape: str
) -> None:
    """The template text is one line, but a Jinja string literal's escape renders a break."""
    subject = '{{ candidate_first_name }}{{ "' + escape + 'Bcc: attacker@example.com" }}'

    response = await agency_a.admin.put(TEMPLATE, json={"subject": subject, "body": "Hello"})

    assert_problem(response, 422, "template-invalid")
    assert (await agency_a.admin.get(TEMPLATE)).json()["is_default"] is True


# --- The type and the renderer, for every refused character -------------------------------------


class Probe(InputModel):
    required: SingleLine = Field(min_length=1, max_length=20)
    optional: SingleLine | None = Field(default=None, max_length=20)


@pytest.mark.parametrize("line_break", REFUSED, ids=repr)
@pytest.mark.parametrize("field", ["required", "optional"])
def test_single_line_refuses_line_breaks_and_control_characters(
    field: str, line_break: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Probe.model_validate({"required": "ok", field: f"a{line_break}b"})

    assert [(e["loc"], e["type"]) for e in refused.value.errors()] == [((field,), "single_line")]


def test_single_line_keeps_tabs_strips_the_ends_and_keeps_its_length_limits() -> None:
    probe = Probe.model_validate({"required": " Zoë\tO'Brien 😀 ", "optional": "\r\n Amara \n"})
    assert (probe.required, probe.optional) == ("Zoë\tO'Brien 😀", "Amara")
    for body in ({"required": ""}, {"required": "x" * 21}, {"required": "x", "optional": "x" * 21}):
        with pytest.raises(ValidationError):
            Probe.model_validate(body)


@pytest.mark.parametrize("line_break", REFUSED, ids=repr)
def test_render_refuses_a_subject_that_comes_out_as_more_than_one_line(line_break: str) -> None:
    """Even from a value stored before names were checked."""
    with pytest.raises(TemplateInvalid):
        render("About {{ name }} today", "Hello", {"name": f"Amara{line_break}Bcc: x@example.com"})


def test_render_keeps_a_one_line_subject() -> None:
    assert render("About {{ name }}", "Hello", {"name": "Amara\tO."}) == (
        "About Amara\tO.",
        "Hello",
    )
