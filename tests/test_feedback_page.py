"""The page a client link opens: an accessible HTML form (no JavaScript) showing the agency's name,
the role and the candidate's first name only; errors beside their field; 404 and 410 pages; the
token never logged."""

import json
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import structlog
from fastapi import FastAPI
from httpx import AsyncClient, Response

from app.core.clock import FixedClock
from app.core.requests import loggable_path
from tests.support.feedback import (
    DAY,
    FEEDBACK,
    Scene,
    at,
    forged_signature,
    links_of,
    public_path,
    scene,
    with_token,
)
from tests.support.problems import assert_problem
from tests.support.records import Json, events_of, make_interview, read
from tests.support.tenants import Tenant, new_client

FIELDS = ("strengths", "gaps", "advice")
VOID = frozenset({"meta", "br", "input", "img", "link", "hr", "area", "base", "col", "wbr"})


class Page(HTMLParser):
    """A page's elements: each by id (tag, attributes, text), labels by `for`, all start tags."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.by_id: dict[str, tuple[str, dict[str, str], str]] = {}
        self.labels: dict[str, str] = {}
        self.headings: list[str] = []
        self._open: list[tuple[str, dict[str, str], list[str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        if tag not in VOID:
            self._open.append((tag, attributes, []))

    def handle_data(self, data: str) -> None:
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, attributes, parts = self._open.pop()
            text = "".join(parts)
            if "id" in attributes:
                self.by_id[attributes["id"]] = (name, attributes, text)
            if name == "label":
                self.labels[attributes.get("for", "")] = " ".join(text.split())
            if name == "h1":
                self.headings.append(" ".join(text.split()))
            if name == tag:
                return

    def field(self, name: str) -> tuple[dict[str, str], str]:
        """A textarea's attributes and its value (as a browser shows it)."""
        tag, attributes, text = self.by_id[name]
        assert tag == "textarea", name
        assert attributes["name"] == name
        return attributes, text.removeprefix("\n")  # a browser drops the first line break

    def text(self, element_id: str) -> str:
        return " ".join(self.by_id[element_id][2].split())


def assert_page(response: Response, status: int) -> Page:
    """An HTML page with the headers every feedback page carries."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ):
        assert directive in policy, policy
    assert "script-src" not in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    page = Page(response.text)
    assert ("html", {"lang": "en"}) in page.tags
    assert ("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}) in (
        page.tags
    )
    assert "script" not in {tag for tag, _ in page.tags}
    return page


def page_path(request: Json) -> str:
    path = urlsplit(request["client_link"]).path
    assert path.startswith("/feedback/"), path
    return path


async def requested(agency: Tenant, **candidate: Any) -> tuple[Scene, Json, str]:
    """A scene whose application failed: its feedback request and the page its link opens."""
    s = await scene(agency, **candidate)
    await s.fail()
    request = await s.request()
    return s, request, page_path(request)


async def agency_name(s: Scene) -> str:
    agency = (await s.api.get("/v1/agency")).json()
    name: str = agency["sender_name"] or agency["name"]
    return name


# --- The form -----------------------------------------------------------------------------------


async def test_the_page_shows_the_agency_the_role_and_the_first_name_only(
    agency_a: Tenant, anon: AsyncClient
) -> None:
    s, request, path = await requested(agency_a, phone="+44 7700 900123")

    response = await anon.get(path)
    page = assert_page(response, 200)
    text = response.text
    assert await agency_name(s) in text
    assert s.vacancy["title"] in text
    assert s.candidate["first_name"] in text
    for private in (
        s.candidate["last_name"],
        s.candidate["email"],
        s.candidate["email"].split("@")[0],
        "7700 900123",
        s.candidate["id"],
        s.application["id"],
        request["id"],
        s.contact["name"],
        s.contact["email"],
        s.client["name"],
    ):
        assert private not in text, private

    # A plain form posting back to this page, each field labelled, the required ones marked.
    forms = [attributes for tag, attributes in page.tags if tag == "form"]
    assert len(forms) == 1
    assert forms[0]["method"] == "post"
    assert "action" not in forms[0]
    name = s.candidate["first_name"]
    assert page.labels["strengths"] == f"What did {name} do well? (required)"
    assert page.labels["gaps"] == f"Where could {name} improve? (required)"
    assert page.labels["advice"] == f"Any advice for {name}'s next interview? (optional)"
    for field in FIELDS:
        attributes, value = page.field(field)
        assert value == ""
        assert ("required" in attributes) == (field != "advice"), field
        assert "aria-invalid" not in attributes
        assert attributes["aria-describedby"] == f"{field}-hint"
        assert page.text(f"{field}-hint")
    assert ("button", {"type": "submit"}) in page.tags

    # Opening the page changes nothing.
    assert await s.request() == request


async def test_a_role_title_is_shown_escaped(agency_a: Tenant, anon: AsyncClient) -> None:
    s, _, path = await requested(agency_a)
    title = '<script>alert("x")</script> Analyst & Planner'
    vacancy_path = f"/v1/vacancies/{s.vacancy['id']}"
    _, etag = await read(s.api, vacancy_path)
    renamed = await s.api.patch(vacancy_path, json={"title": title}, headers={"If-Match": etag})
    assert renamed.status_code == 200, renamed.text

    response = await anon.get(path)
    page = assert_page(response, 200)
    assert "<script>" not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Analyst &amp; Planner" in response.text
    assert page.text("strengths-hint")  # the rest of the page is intact


async def test_a_missing_field_comes_back_beside_it_with_what_was_typed(
    agency_a: Tenant, anon: AsyncClient
) -> None:
    s, request, path = await requested(agency_a)
    name = s.candidate["first_name"]
    gaps = 'Budgeting <b>depth</b> & "numbers"'

    for strengths in ("", "  \r\n  "):
        response = await anon.post(path, data={"strengths": strengths, "gaps": gaps})
        page = assert_page(response, 422)
        attributes, value = page.field("strengths")
        assert attributes["aria-invalid"] == "true"
        assert attributes["aria-describedby"] == "strengths-hint strengths-error"
        assert value == strengths.replace("\r\n", "\n")
        assert page.text("strengths-error") == f"Error: Write what {name} did well."
        # Beside its field: between the field's label and its box.
        html = response.text
        label = html.index('<label for="strengths"')
        assert label < html.index('id="strengths-error"') < html.index('<textarea id="strengths"')
        # The other fields keep what was typed, and carry no error.
        attributes, value = page.field("gaps")
        assert value == gaps
        assert "aria-invalid" not in attributes
        assert "gaps-error" not in page.by_id
        assert page.field("advice")[1] == ""
        assert page.text("error-summary-title") == "There is a problem"

    both = assert_page(await anon.post(path, data={"advice": "Practise."}), 422)
    assert both.text("strengths-error") == f"Error: Write what {name} did well."
    assert both.text("gaps-error") == f"Error: Write where {name} could improve."
    assert both.field("advice")[1] == "Practise."

    # The same length limit as the JSON twin (5,000 characters).
    long = assert_page(await anon.post(path, data={**FEEDBACK, "advice": "x" * 5001}), 422)
    attributes, value = long.field("advice")
    assert (attributes["aria-invalid"], attributes["aria-describedby"], value) == (
        "true",
        "advice-hint advice-error",
        "x" * 5001,
    )
    assert long.text("advice-error") == (
        "Error: Please shorten this to 5,000 characters or fewer (it has 5,001)."
    )
    assert long.field("strengths")[1] == FEEDBACK["strengths"]
    assert "strengths-error" not in long.by_id

    # Nothing was recorded.
    assert await s.request() == request
    assert await events_of(agency_a, "feedback.received") == []


async def test_a_sent_form_records_the_feedback_and_says_thank_you(
    agency_a: Tenant, anon: AsyncClient, clock: FixedClock
) -> None:
    s, _, path = await requested(agency_a)
    clock.set(clock.now() + DAY)
    sent = {
        "strengths": "Clear answers.\r\nStrong on warehouse systems.",
        "gaps": FEEDBACK["gaps"],
        "advice": FEEDBACK["advice"],
    }

    page = assert_page(await anon.post(path, data=sent), 200)
    assert page.headings == ["Thank you: your feedback is sent"]
    assert "form" not in {tag for tag, _ in page.tags}

    received = await s.request()
    assert received["state"] == "received"
    assert received["submitted_by"] == "client"
    assert at(received["received_at"]) == clock.now()
    assert received["strengths"] == "Clear answers.\nStrong on warehouse systems."
    assert received["gaps"] == FEEDBACK["gaps"]
    assert received["advice"] == FEEDBACK["advice"]
    events = await events_of(agency_a, "feedback.received")
    assert [(e["object_id"], e["data"]["submitted_by"]) for e in events] == [
        (received["id"], "client")
    ]

    # Answered: the page, a second post and the JSON twin all say the link is closed (410).
    for response in (await anon.get(path), await anon.post(path, data=FEEDBACK)):
        closed = assert_page(response, 410)
        assert closed.headings == ["This link no longer accepts feedback"]
        assert "already been received" in response.text
        assert "form" not in {tag for tag, _ in closed.tags}
    twin = public_path(received["client_link"])
    assert_problem(await anon.post(twin, json=FEEDBACK), 410, "link-closed")
    assert await s.request() == received
    assert len(await events_of(agency_a, "feedback.received")) == 1


async def test_an_empty_advice_is_not_recorded(agency_a: Tenant, anon: AsyncClient) -> None:
    s, _, path = await requested(agency_a)
    data = {"strengths": "Calm.", "gaps": "Budgeting.", "advice": "   "}
    assert_page(await anon.post(path, data=data), 200)
    received = await s.request()
    assert (received["strengths"], received["gaps"], received["advice"]) == (
        "Calm.",
        "Budgeting.",
        None,
    )


# --- Links that take nothing ---------------------------------------------------------------------


async def test_an_expired_link_is_a_410_page(
    agency_a: Tenant, anon: AsyncClient, clock: FixedClock
) -> None:
    s, request, path = await requested(agency_a)
    stale = links_of(agency_a).token(agency_a.agency_id, UUID(request["id"]), clock.now())
    expired = with_token(path, stale)
    for response in (await anon.get(expired), await anon.post(expired, data=FEEDBACK)):
        page = assert_page(response, 410)
        assert page.headings == ["This link has expired"]
        assert "form" not in {tag for tag, _ in page.tags}
    assert await s.request() == request
    assert await events_of(agency_a, "feedback.received") == []


async def test_a_request_closed_by_a_withdrawal_is_a_410_page(
    agency_a: Tenant, anon: AsyncClient, clock: FixedClock
) -> None:
    """Unsuccessful (feedback requested), reopened, then the candidate withdrew: the request is
    closed and its link, still unexpired, takes nothing."""
    s = await scene(agency_a)
    await make_interview(s.api, s.id, [s.contact["id"]], starts_at=clock.now() - 2 * DAY)
    await s.fail()
    path = page_path(await s.request())
    assert_page(await anon.get(path), 200)
    reopened = await s.api.post(
        f"/v1/applications/{s.id}/reopen", json={"reason": "The client came back."}
    )
    assert reopened.status_code == 200, reopened.text
    withdrawn = await s.api.put(
        f"/v1/applications/{s.id}/decision",
        json={"decision": "withdraw", "reason": "Accepted another offer."},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    closed = await s.request()
    assert closed["state"] == "expired"

    for response in (await anon.get(path), await anon.post(path, data=FEEDBACK)):
        page = assert_page(response, 410)
        assert page.headings == ["This link no longer accepts feedback"]
        assert "has been closed" in response.text
    assert_problem(
        await anon.post(public_path(closed["client_link"]), json=FEEDBACK), 410, "link-closed"
    )
    assert await s.request() == closed
    assert await events_of(agency_a, "feedback.received") == []


async def test_a_forged_link_is_a_404_page(
    agency_a: Tenant, anon: AsyncClient, clock: FixedClock
) -> None:
    s, request, path = await requested(agency_a)
    token = path.rsplit("/", 1)[1]
    expires = clock.now() + 30 * DAY
    forgeries = [
        forged_signature(token),
        "not-a-token",
        token[: len(token) // 2],
        links_of(agency_a).token(agency_a.agency_id, UUID(s.id), expires),  # names no request
    ]
    for forged in forgeries:
        for response in (
            await anon.get(with_token(path, forged)),
            await anon.post(with_token(path, forged), data=FEEDBACK),
        ):
            page = assert_page(response, 404)
            assert page.headings == ["Feedback form not found"]
            assert "form" not in {tag for tag, _ in page.tags}
    assert await s.request() == request
    assert await events_of(agency_a, "feedback.received") == []
    assert_page(await anon.get(path), 200)  # the genuine link still works


# --- The token stays out of the logs -------------------------------------------------------------


def test_loggable_path_hides_link_tokens_only() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJhZ2VuY3kiOiJ4In0.c2lnbmF0dXJl"
    assert loggable_path(f"/feedback/{token}") == "/feedback/[redacted]"
    assert loggable_path(f"/v1/public/feedback/{token}") == "/v1/public/feedback/[redacted]"
    assert loggable_path("/feedback/not-a-token") == "/feedback/[redacted]"
    assert loggable_path("/v1/public/referees/abc123/confirm") == (
        "/v1/public/referees/[redacted]/confirm"
    )
    assert loggable_path(f"/somewhere/new/{token}") == "/somewhere/new/[redacted]"
    for kept in ("/v1/applications/0196f0b4-4444-7c0e-9a3b-1f2e3d4c5b6a/feedback-request", "/"):
        assert loggable_path(kept) == kept


async def test_the_token_never_reaches_the_logs_or_a_problem(
    fresh_app: FastAPI, agency_a: Tenant
) -> None:
    _, request, path = await requested(agency_a)
    token = path.rsplit("/", 1)[1]
    twin = public_path(request["client_link"])

    async def explode(token: str) -> None:
        raise RuntimeError("boom")

    fresh_app.add_api_route("/v1/public/explode/{token}", explode)
    async with new_client(fresh_app) as client:
        with structlog.testing.capture_logs() as entries:
            assert_page(await client.get(path), 200)
            assert (await client.get(twin)).status_code == 200
            exploded = await client.get(f"/v1/public/explode/{token}")
    assert exploded.status_code == 500
    assert exploded.json()["instance"] == "/v1/public/explode/[redacted]"  # nor in the answer
    assert token not in exploded.text

    logged = [(e["event"], e.get("path"), e.get("status")) for e in entries]
    assert ("request", "/feedback/[redacted]", 200) in logged
    assert ("request", "/v1/public/feedback/[redacted]", 200) in logged
    assert ("unhandled_error", "/v1/public/explode/[redacted]", None) in logged
    assert ("request", "/v1/public/explode/[redacted]", 500) in logged
    assert token not in json.dumps(entries, default=str)


async def test_the_json_twin_keeps_its_token_out_of_caches_and_referers(
    agency_a: Tenant, anon: AsyncClient
) -> None:
    """As the pages do: on the form's JSON, and on the problem a forged token gets."""
    _, request, path = await requested(agency_a)
    twin = public_path(request["client_link"])
    forged = twin.rsplit("/", 1)[0] + "/" + forged_signature(path.rsplit("/", 1)[1])
    for response, status in ((await anon.get(twin), 200), (await anon.get(forged), 404)):
        assert response.status_code == status, response.text
        assert response.headers["cache-control"] == "no-store", status
        assert response.headers["referrer-policy"] == "no-referrer", status
