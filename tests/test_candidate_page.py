"""The page the candidate's link opens (issue 13): their interview, what happens next and when to
expect news, and forms for steps 2-4. Each form calls the step's own service as the candidate
(through the link), so every rule of the API holds and each refusal is shown in words; CSRF
tokens bound to the link, limits per link and per address, 404/410 pages, the "already sent"
page (also for two tabs racing), the actor "candidate (link)" on the timeline, and what the
consultant then sees: the worklist's `review_candidate_input` and the report's counts."""

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from httpx import AsyncClient, Response

from app.candidate_links.links import CandidateLinks
from app.candidate_links.page_limits import ADDRESS_PER_MINUTE, LINK_PER_MINUTE
from app.core.clock import FixedClock
from app.core.limit_store import LOGIN_MAX_FAILURES
from tests.support.candidate_page import candidate_links, page_path, post_form
from tests.support.problems import assert_problem
from tests.support.records import (
    at,
    events_of,
    list_items,
    make_application,
    make_candidate,
    make_client,
    make_contact,
    make_interview,
    make_vacancy,
)
from tests.support.tenants import Tenant, client_from

Json = dict[str, Any]
PUBLIC_URL = "http://afterview.test"  # the tests' app settings (tests/conftest.py)
ROLE = "Senior Supply Chain Analyst"
CLIENT = "Harbour Logistics"
NEXT = "Second round with the CFO: a case study on warehouse costs."
VOID = frozenset({"meta", "br", "input", "img", "link", "hr", "area", "base", "col", "wbr"})
REVIEW = "review_candidate_input"
QUESTIONS = [
    ("Tell us about a time you cut costs without hurting service.", "adequate", True),
    ("How would you run the WMS migration?", "strong", False),
]
DEBRIEF = {
    "went_well": "Clear on the WMS migration; good rapport with the operations lead.",
    "could_improve": "Numbers on the cost-saving example were vague.",
    "links": "https://portfolio.example.com/amara/wms-case-study",
}


# --- Reading a page ------------------------------------------------------------------------------


class Page(HTMLParser):
    """A page's elements by id (tag, attributes, text), labels by `for`, forms by action with
    their hidden fields, the h1 headings."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.by_id: dict[str, tuple[str, dict[str, str], str]] = {}
        self.labels: dict[str, str] = {}
        self.headings: list[str] = []
        self.forms: dict[str, dict[str, str]] = {}
        self._form: dict[str, str] | None = None
        self._open: list[tuple[str, dict[str, str], list[str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        if tag == "form":
            self._form = self.forms.setdefault(attributes.get("action", ""), {})
        if tag == "input" and attributes.get("type") == "hidden" and self._form is not None:
            self._form[attributes["name"]] = attributes.get("value", "")
        if tag == "input" and "id" in attributes:
            self.by_id[attributes["id"]] = (tag, attributes, "")
        if tag not in VOID:
            self._open.append((tag, attributes, []))

    def handle_data(self, data: str) -> None:
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
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

    def text(self, element_id: str) -> str:
        return " ".join(self.by_id[element_id][2].split())

    def value(self, element_id: str) -> str:
        """What a text box or text area shows."""
        tag, attributes, text = self.by_id[element_id]
        return text.removeprefix("\n") if tag == "textarea" else attributes.get("value", "")

    def checked(self, element_id: str) -> bool:
        return "checked" in self.by_id[element_id][1]

    def attributes(self, element_id: str) -> dict[str, str]:
        return self.by_id[element_id][1]

    @property
    def body(self) -> str:
        return " ".join(self.text(i) for i in self.by_id)


def assert_page(response: Response, status: int) -> Page:
    """An HTML page with the headers and the shape every candidate page has."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    for directive in ("default-src 'none'", "form-action 'self'", "frame-ancestors 'none'"):
        assert directive in policy, policy
    assert "script-src" not in policy
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    page = Page(response.text)
    assert ("html", {"lang": "en"}) in page.tags
    viewport = {"name": "viewport", "content": "width=device-width, initial-scale=1"}
    assert ("meta", viewport) in page.tags
    assert "script" not in {tag for tag, _ in page.tags}
    return page


def form_tags(page: Page) -> set[str]:
    return set(page.forms)


# --- The scene -----------------------------------------------------------------------------------


@dataclass
class Scene:
    """An interview that ended an hour ago, its next steps, and the candidate's link, opened
    from its own client address (limits count per address)."""

    tenant: Tenant
    api: AsyncClient
    consultant: Json
    interviewers: list[Json]
    vacancy: Json
    candidate: Json
    application: Json
    interview: Json
    next_steps: Json
    url: str
    browser: AsyncClient

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def token(self) -> str:
        return self.path.rsplit("/", 1)[1]

    @property
    def interview_path(self) -> str:
        return f"/v1/interviews/{self.interview['id']}"

    @property
    def application_path(self) -> str:
        return f"/v1/applications/{self.application['id']}"

    async def page(self, status: int = 200, path: str | None = None) -> Page:
        return assert_page(await self.browser.get(path or self.path), status)

    async def post(self, form: str, data: dict[str, str], *, csrf: str | None = None) -> Response:
        """Post `form` as the page offers it (its genuine CSRF token unless `csrf` given)."""
        return await post_form(self.browser, self.tenant.app, self.url, form, data, csrf)

    async def link_id(self) -> UUID:
        return candidate_links(self.tenant.app).read(self.token).link_id

    async def get(self, suffix: str) -> Json:
        response = await self.api.get(self.interview_path + suffix)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    async def follow_up(self) -> Json:
        return await self.get("/follow-up")

    async def decision(self) -> Json | None:
        response = await self.api.get(self.application_path + "/decision")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    async def timeline(self) -> list[Json]:
        return await list_items(self.api, self.application_path + "/timeline", limit=200)

    async def worklist(self, kind: str | None = None) -> list[Json]:
        """The consultant's items about this application (of `kind`, when given)."""
        items = await list_items(
            self.api, "/v1/worklist", assignee=self.consultant["id"], limit=100
        )
        ours = [i for i in items if i["application_id"] == self.application["id"]]
        return [i for i in ours if kind is None or i["kind"] == kind]


def address() -> str:
    """A client address of its own (the page's limits count per address)."""
    return f"198.51.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"


async def scene(tenant: Tenant, clock: FixedClock, *, interviewers: int = 2) -> Scene:
    api = await tenant.integration()  # outlives clock moves
    consultant = await tenant.add_user("consultant", name="Priya Shah")
    company = await make_client(api, name=CLIENT)
    contacts = [await make_contact(api, company["id"]) for _ in range(interviewers)]
    vacancy = await make_vacancy(
        api, company["id"], title=ROLE, hiring_contact_id=contacts[0]["id"]
    )
    candidate = await make_candidate(api, first_name="Amara")
    application = await make_application(
        api, candidate["id"], vacancy["id"], consultant_id=consultant["id"]
    )
    start = clock.now() - timedelta(hours=2)
    interview = await make_interview(
        api, application["id"], [c["id"] for c in contacts], starts_at=start
    )
    expected = (start + timedelta(days=3)).replace(hour=17, minute=0, second=0)
    steps = await api.put(
        f"/v1/interviews/{interview['id']}/next-steps",
        json={
            "kind": "another_round",
            "details": NEXT,
            "decision_expected_by": expected.isoformat(),
        },
    )
    assert steps.status_code == 201, steps.text
    issued = await api.post(f"/v1/interviews/{interview['id']}/candidate-link")
    assert issued.status_code == 201, issued.text
    browser = client_from(tenant.app, address())
    tenant._clients.append(browser)
    return Scene(
        tenant,
        api,
        consultant,
        contacts,
        vacancy,
        candidate,
        application,
        interview,
        steps.json(),
        issued.json()["url"],
        browser,
    )


def debrief_form(
    questions: list[tuple[str, str, bool]] = QUESTIONS, **fields: str
) -> dict[str, str]:
    data = {**DEBRIEF, "slots": "3", "action": "send", **fields}
    for i, (text, quality, half) in enumerate(questions):
        data[f"q{i}_text"] = text
        data[f"q{i}_quality"] = quality
        if half:
            data[f"q{i}_half"] = "yes"
    return data


def sent_to(response: Response, s: Scene, form: str) -> None:
    """A sent form: 303 back to the page, which says so."""
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{s.path}?sent={form}"


def local(value: str, zone: str = "UTC") -> str:
    moment = datetime.fromisoformat(value).astimezone(ZoneInfo(zone))
    return f"{moment:%A} {moment.day} {moment:%B %Y, %H:%M} ({zone})"


# --- The page ------------------------------------------------------------------------------------


async def test_the_page_shows_the_interview_what_happens_next_and_each_step(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    page = await s.page()

    assert page.headings == [f"Your interview for {ROLE}"]
    assert page.text("role") == f"{ROLE} at {CLIENT}"
    assert page.text("interview-time") == local(s.interview["starts_at"])
    assert page.text("next-steps") == f"Another interview round: {NEXT}"
    assert page.text("expect-news") == f"By {local(s.next_steps['decision_expected_by'])}"
    assert page.text("step-debrief").startswith("Your notes on the interview To do: best by")
    assert page.text("step-decision") == "Do you still want the job? To do"
    assert page.text("step-thanks") == "Thank Agency A To do"
    assert page.text("step-note") == "A note to the interviewers To do, after thanking Agency A"
    # Nothing private about the others: no interviewer's name or address.
    for contact in s.interviewers:
        assert contact["name"] not in page.body and contact["email"] not in page.body

    # Two forms now (notes, decision); thanking comes after the decision `want`.
    assert form_tags(page) == {f"{s.path}/debrief", f"{s.path}/decision"}
    assert page.text("thanks-state").startswith("This comes once you have told Agency A")
    for action, fields in page.forms.items():
        form = action.rsplit("/", 1)[1]
        assert fields["csrf"] == candidate_links(agency_a.app).csrf_token(await s.link_id(), form)
    # Every field is labelled; required ones say so.
    assert page.labels["debrief-went_well"] == "What went well? (required)"
    assert page.labels["debrief-could_improve"] == "What could have gone better? (required)"
    assert page.labels["debrief-links"] == "Links worth sending (optional)"
    for i in range(3):
        assert page.labels[f"debrief-q{i}_text"] == "What were you asked? (optional)"
        assert page.labels[f"debrief-q{i}_half"] == "I only half-answered it"
        for quality in ("strong", "adequate", "weak"):
            assert f"debrief-q{i}_quality-{quality}" in page.labels
    for choice in ("want", "unsure", "withdraw"):
        assert f"decision-decision-{choice}" in page.labels
    # Opening the page records nothing.
    assert sorted(e["type"] for e in await s.timeline()) == [
        "application.created",
        "candidate_link.issued",
        "interview.created",
        "next_steps.recorded",
    ]


def actors(timeline: list[Json], event_type: str) -> list[str | None]:
    """Who did `event_type`, oldest first: "candidate" through the link, None otherwise."""
    matching = [e for e in reversed(timeline) if e["type"] == event_type]
    return [e["actor"]["via_link"] for e in matching]


async def messages(s: Scene) -> list[Json]:
    return await list_items(s.api, "/v1/messages", application_id=s.application["id"])


# --- Step 2: the debrief -------------------------------------------------------------------------


async def test_notes_sent_through_the_link_are_the_interviews_debrief_by_the_candidate(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)

    sent_to(await s.post("debrief", debrief_form()), s, "debrief")

    debrief = await s.get("/debrief")
    assert debrief["author"] == "candidate"
    assert at(debrief["submitted_at"]) == clock.now()
    assert debrief["on_time"] is True  # within debrief_due_hours of the interview's end
    assert [(q["text"], q["answer_quality"], q["half_answered"]) for q in debrief["questions"]] == (
        QUESTIONS
    )
    assert (debrief["went_well"], debrief["could_improve"]) == (
        DEBRIEF["went_well"],
        DEBRIEF["could_improve"],
    )
    assert debrief["links"] == [DEBRIEF["links"]]
    # Like any debrief, it feeds the client's question bank.
    company = s.vacancy["client_id"]
    bank = await list_items(s.api, f"/v1/clients/{company}/question-bank")
    assert {entry["text"] for entry in bank} == {text for text, _, _ in QUESTIONS}
    assert actors(await s.timeline(), "debrief.submitted") == ["candidate"]

    # The page says so, and offers the candidate's own notes to correct.
    page = await s.page(path=f"{s.path}?sent=debrief")
    assert page.text("sent-banner") == "Thank you: your notes are sent"
    assert page.text("step-debrief").startswith("Your notes on the interview Sent ")
    assert page.value("debrief-q0_text") == QUESTIONS[0][0]
    assert page.checked("debrief-q0_quality-adequate") and page.checked("debrief-q0_half")
    assert page.checked("debrief-q1_quality-strong") and not page.checked("debrief-q1_half")
    assert page.value("debrief-q2_text") == ""  # one more empty box
    assert page.value("debrief-went_well") == DEBRIEF["went_well"]
    corrected = debrief_form(QUESTIONS[:1], could_improve="Numbers, and the budget question.")
    sent_to(await s.post("debrief", corrected), s, "debrief")
    again = await s.get("/debrief")
    assert (again["author"], again["could_improve"]) == ("candidate", corrected["could_improve"])
    assert again["submitted_at"] == debrief["submitted_at"] and len(again["questions"]) == 1

    # The consultant sees it to review; revising it takes it over (both on the timeline).
    assert [(i["kind"], i["interview_id"]) for i in await s.worklist()] == [
        ("review_candidate_input", s.interview["id"])
    ]
    revised = await s.api.put(
        s.interview_path + "/debrief",
        json={"went_well": "Rapport.", "could_improve": "Budget numbers.", "questions": []},
    )
    assert revised.status_code == 200, revised.text
    assert revised.json()["author"] == "consultant"
    timeline = await s.timeline()
    assert actors(timeline, "debrief.submitted") == ["candidate"]
    assert actors(timeline, "debrief.updated") == ["candidate", None]
    assert await s.worklist() == []

    # The notes are the consultant's now: the page says so and takes no more.
    page = await s.page()
    assert "debrief" not in {a.rsplit("/", 1)[1] for a in page.forms}
    assert page.text("step-debrief") == "Your notes on the interview Recorded by your consultant"
    response = await s.post("debrief", debrief_form())
    assert assert_page(response, 409).headings == ["Already sent"]
    assert "Your consultant has taken over your notes" in response.text
    assert (await s.get("/debrief"))["went_well"] == "Rapport."


async def test_a_wrong_debrief_comes_back_with_each_message_beside_its_field(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    typed = debrief_form(went_well="  \r\n ", links="https://ok.example.com\r\nnot a link")
    typed["q0_quality"] = ""  # a question without how it went
    typed["q1_text"] = ""  # how it went, without the question
    typed["q2_half"] = "yes"

    response = await s.post("debrief", typed)
    page = assert_page(response, 422)
    assert page.text("error-summary-title") == "There is a problem"
    expected = {
        "debrief-q0_quality": "Error: Choose how your answer went.",
        "debrief-q1_text": "Error: Write the question you were asked, or clear this box.",
        "debrief-q2_text": "Error: Write the question you were asked, or clear this box.",
        "debrief-q2_quality": "Error: Choose how your answer went.",
        "debrief-went_well": "Error: Write what went well.",
    }
    for field, message in expected.items():
        assert page.text(f"{field}-error") == message, field
        assert page.attributes(field)["aria-invalid"] == "true"
    # Beside the field: after its label, before its box.
    html = response.text
    label = html.index('<label for="debrief-went_well"')
    error = html.index('id="debrief-went_well-error"')
    assert label < error < html.index('<textarea id="debrief-went_well"')
    # What was typed is kept.
    assert page.value("debrief-q0_text") == QUESTIONS[0][0]
    assert page.checked("debrief-q1_quality-strong")
    assert page.checked("debrief-q2_half")
    assert page.value("debrief-could_improve") == DEBRIEF["could_improve"]
    assert page.value("debrief-links") == "https://ok.example.com\nnot a link"

    # The other checks are the API's own: a link that is not one, a question too long.
    fixed = debrief_form(links="https://ok.example.com\nnot a link")
    fixed["q1_text"] = "x" * 1001
    page = assert_page(await s.post("debrief", fixed), 422)
    assert page.text("debrief-links-error") == (
        "Error: Each line should be a web address starting with https:// (or http://)."
    )
    assert page.text("debrief-q1_text-error") == (
        "Error: Please shorten this to 1,000 characters or fewer (it has 1,001)."
    )

    # "Add another question" shows one box more, with everything kept, and sends nothing.
    more = assert_page(await s.post("debrief", {**debrief_form(), "action": "more"}), 200)
    assert "debrief-q3_text" in more.by_id and "debrief-q4_text" not in more.by_id
    assert more.value("debrief-q1_text") == QUESTIONS[1][0]
    assert more.forms[f"{s.path}/debrief"]["slots"] == "4"
    assert (await s.api.get(s.interview_path + "/debrief")).status_code == 404
    assert await events_of(agency_a, "debrief.submitted") == []


# --- Step 3: the decision ------------------------------------------------------------------------


async def test_the_candidate_decides_and_a_withdrawal_runs_the_decisions_rules(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    unsure = {"decision": "unsure", "open_questions": "Is hybrid negotiable?\r\n\r\nThe salary?"}
    sent_to(await s.post("decision", unsure), s, "decision")
    decision = await s.decision()
    assert decision is not None
    assert (decision["decision"], decision["open_questions"]) == (
        "unsure",
        ["Is hybrid negotiable?", "The salary?"],
    )
    assert actors(await s.timeline(), "decision.recorded") == ["candidate"]
    assert [i["kind"] for i in await s.worklist(REVIEW)] == [REVIEW]
    page = await s.page()
    assert page.checked("decision-decision-unsure")
    assert page.text("step-decision") == "Do you still want the job? You are not sure yet"

    # A withdrawal needs a reason, beside its box; nothing changes without one.
    page = assert_page(await s.post("decision", {"decision": "withdraw", "reason": " "}), 422)
    assert page.text("decision-reason-error") == (
        "Error: Tell us why you are withdrawing; we pass it on kindly."
    )
    assert page.checked("decision-decision-withdraw")
    page = assert_page(await s.post("decision", {}), 422)
    assert page.text("decision-decision-error") == "Error: Choose one of the three answers."
    assert await s.decision() == decision

    reason = "Accepted another offer closer to home."
    sent_to(await s.post("decision", {"decision": "withdraw", "reason": reason}), s, "decision")
    application = (await s.api.get(s.application_path)).json()
    assert application["status"] == "withdrawn"
    notes = [m for m in await messages(s) if m["kind"] == "withdrawal_note"]
    assert [m["to"] for m in notes] == [s.interviewers[0]["email"]]  # the hiring contact
    assert actors(await s.timeline(), "application.withdrawn") == ["candidate"]
    assert await s.worklist() == []  # a closed application is no one's work

    # Closed: the page says so, offers nothing, and every form is refused in words.
    page = await s.page()
    assert page.forms == {}
    assert page.text("closed").startswith("Your application is now closed")
    for form, data in (
        ("decision", {"decision": "want"}),
        ("debrief", debrief_form()),
        ("thanks", {"note": "Thanks!"}),
    ):
        refused = assert_page(await s.post(form, data), 409)
        assert refused.text(f"{form}-problem") == (
            "Error: Your application is closed, so this can no longer be sent. If that is a "
            "surprise, reply to Agency A's email."
        )
    assert (await s.decision() or {})["decision"] == "withdraw"
    assert (await s.api.get(s.interview_path + "/debrief")).status_code == 404


async def test_a_consultant_recording_the_decision_again_has_reviewed_it(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    sent_to(await s.post("decision", {"decision": "want"}), s, "decision")
    [item] = await s.worklist(REVIEW)
    assert (item["kind"], item["interview_id"], at(item["due_at"])) == (
        "review_candidate_input",
        s.interview["id"],
        clock.now(),
    )
    again = await s.api.put(s.application_path + "/decision", json={"decision": "want"})
    assert again.status_code == 200, again.text
    assert actors(await s.timeline(), "decision.recorded") == ["candidate", None]
    assert await s.worklist(REVIEW) == []


# --- Step 4: thanks, then the note to the interviewers -------------------------------------------


async def test_thanks_wait_for_the_decision_want(agency_a: Tenant, clock: FixedClock) -> None:
    s = await scene(agency_a, clock)
    before = await s.follow_up()
    for decision in (None, "unsure"):
        if decision is not None:
            sent_to(await s.post("decision", {"decision": decision}), s, "decision")
        page = assert_page(await s.post("thanks", {"note": "Thank you!"}), 409)
        assert page.text("thanks-problem") == (
            "Error: You can thank Agency A once you have told them you still want the job (above)."
        )
        assert page.text("error-summary-title") == "There is a problem"
        assert "thanks" not in {a.rsplit("/", 1)[1] for a in page.forms}
    assert await s.follow_up() == before
    assert await events_of(agency_a, "follow_up.agency_thanked") == []


async def test_thanks_then_a_note_that_waits_for_the_consultants_approval(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    sent_to(await s.post("debrief", debrief_form()), s, "debrief")
    sent_to(await s.post("decision", {"decision": "want"}), s, "decision")
    note = {
        "subject": "Thank you for today",
        "body": "Thank you for your time. On costs: the saving was 14% in year one.",
        "links": "https://portfolio.example.com/amara",
    }

    # The note before the thanks: the agency first.
    page = assert_page(await s.post("note", note), 409)
    assert page.text("note-problem") == (
        "Error: Please thank Agency A first (above); then write to the interviewers."
    )

    page = await s.page()
    assert f"{s.path}/thanks" in page.forms
    sent_to(await s.post("thanks", {"note": "Thanks for setting it up!"}), s, "thanks")
    thanked = await s.follow_up()
    assert (thanked["state"], at(thanked["agency_thanked_at"])) == ("agency_thanked", clock.now())
    assert actors(await s.timeline(), "follow_up.agency_thanked") == ["candidate"]
    page = await s.page(path=f"{s.path}?sent=thanks")
    assert page.text("sent-banner") == "Thank you: Agency A has your thanks"
    assert set(page.forms) == {
        f"{s.path}/debrief",
        f"{s.path}/decision",
        f"{s.path}/interviewer-note",
    }
    half = (await s.get("/debrief"))["questions"][0]
    assert page.labels == page.labels | {
        "note-subject": "Subject (required)",
        "note-body": "Your note (required)",
        f"note-answers_question_id-{half['id']}": QUESTIONS[0][0],
        "note-answers_question_id-none": "None of them",
    }
    assert page.text("note-body-hint") == "At most 150 words; a few sentences is best."

    # A second thanks: the "already sent" page, and still one.
    again = assert_page(await s.post("thanks", {"note": "Thanks again!"}), 409)
    assert again.headings == ["Already sent"]
    assert await s.follow_up() == thanked

    # Too many words, beside the note; a question the debrief did not mark half-answered.
    long = {**note, "body": " ".join(["word"] * 151)}
    page = assert_page(await s.post("note", long), 422)
    assert page.text("note-body-error") == (
        "Error: Your note has 151 words; please keep it to 150."
    )
    assert page.value("note-body") == long["body"] and page.value("note-subject") == note["subject"]
    whole = (await s.get("/debrief"))["questions"][1]
    page = assert_page(await s.post("note", {**note, "answers_question_id": whole["id"]}), 422)
    assert page.text("note-answers_question_id-error") == (
        "Error: Choose one of the questions you marked half-answered, or none."
    )
    page = assert_page(await s.post("note", {**note, "subject": " "}), 422)
    assert page.text("note-subject-error") == "Error: Write a subject line."
    assert await s.follow_up() == thanked

    # The note answering the half-answered question: a direct-contact request, nothing sent.
    sent_to(await s.post("note", {**note, "answers_question_id": half["id"]}), s, "note")
    requested = await s.follow_up()
    assert requested["state"] == "direct_requested"
    assert (requested["subject"], requested["body"]) == (note["subject"], note["body"])
    assert requested["links"] == [note["links"]]
    assert requested["answers_question_id"] == half["id"]
    assert requested["word_count"] == 14
    assert requested["sent_at"] is None and requested["messages"] == []
    assert [m for m in await messages(s) if m["kind"].startswith("follow_up")] == []
    assert actors(await s.timeline(), "follow_up.direct_contact_requested") == ["candidate"]
    kinds = {i["kind"] for i in await s.worklist()}
    assert "approve_direct_contact" in kinds
    page = await s.page(path=f"{s.path}?sent=note")
    assert page.text("sent-banner") == "Your note is with Agency A for approval"
    assert page.text("step-note") == "A note to the interviewers Waiting for Agency A's approval"

    # A second note: "already sent".
    again = assert_page(await s.post("note", note), 409)
    assert again.headings == ["Already sent"]
    assert (await s.follow_up())["body"] == note["body"]

    # The consultant approves, then sends it as drafted: only now does it reach the panel.
    consultant = await agency_a.client_as(s.consultant)
    approved = await consultant.post(s.interview_path + "/follow-up/direct-contact-request/approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["body"] == note["body"]
    send = {
        "route": "direct",
        "subject": requested["subject"],
        "body": requested["body"],
        "links": requested["links"],
        "answers_question_id": requested["answers_question_id"],
    }
    sent = await consultant.post(s.interview_path + "/follow-up/send", json=send)
    assert sent.status_code == 200, sent.text
    queued = [m for m in await messages(s) if m["kind"] == "follow_up_direct"]
    assert sorted(m["to"] for m in queued) == sorted(c["email"] for c in s.interviewers)
    page = await s.page()
    assert page.text("step-note") == "A note to the interviewers Sent"
    assert page.text("note-state").startswith("Your note was sent on ")
    assert_page(await s.post("note", note), 409)


async def test_two_tabs_thanking_at_once_record_one_thanks(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    sent_to(await s.post("decision", {"decision": "want"}), s, "decision")

    first, second = await asyncio.gather(
        s.post("thanks", {"note": "Thank you, from the first tab."}),
        s.post("thanks", {"note": "Thank you, from the second tab."}),
    )

    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [303, 409], [first.text, second.text]
    loser = first if first.status_code == 409 else second
    assert assert_page(loser, 409).headings == ["Already sent"]
    assert "Your thanks to Agency A were already sent" in loser.text
    assert len(await events_of(agency_a, "follow_up.agency_thanked")) == 1
    assert (await s.follow_up())["state"] == "agency_thanked"


async def test_an_agency_thanks_race_through_the_api_is_a_409_not_a_500(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    sent_to(await s.post("decision", {"decision": "want"}), s, "decision")
    path = s.interview_path + "/follow-up/agency-thanks"
    responses = await asyncio.gather(*(s.api.post(path, json={}) for _ in range(3)))
    assert sorted(r.status_code for r in responses) == [200, 409, 409]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "follow-up-wrong-state")
    assert len(await events_of(agency_a, "follow_up.agency_thanked")) == 1


# --- Forms without their token, links that take nothing, limits ----------------------------------


async def test_a_form_without_its_links_token_is_a_403_page(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    other = await scene(agency_a, clock)
    wrong = [
        "",
        "0" * 64,
        candidate_links(agency_a.app).csrf_token(await s.link_id(), "thanks"),  # another form's
        candidate_links(agency_a.app).csrf_token(await other.link_id(), "decision"),  # link's
    ]
    for csrf in wrong:
        page = assert_page(await s.post("decision", {"decision": "want"}, csrf=csrf), 403)
        assert page.headings == ["This form could not be sent"]
    response = await s.browser.post(f"{s.path}/decision", data={"decision": "want"})
    assert_page(response, 403)
    assert await s.decision() is None
    assert await events_of(agency_a, "decision.recorded") == []

    # Failures count against the link, as failed logins count: after ten, it waits.
    for _ in range(LOGIN_MAX_FAILURES - len(wrong) - 1):
        assert_page(await s.post("decision", {"decision": "want"}, csrf="x"), 403)
    for response in (await s.browser.get(s.path), await s.post("decision", {"decision": "want"})):
        page = assert_page(response, 429)
        assert page.headings == ["Too many attempts"]
        assert int(response.headers["retry-after"]) > 0
    # From another address too (the link is counted), while other links work.
    elsewhere = client_from(agency_a.app, address())
    agency_a._clients.append(elsewhere)
    assert_page(await elsewhere.get(s.path), 429)
    assert_page(await elsewhere.get(other.path), 200)
    assert await s.decision() is None


async def test_an_expired_link_is_a_410_page(agency_a: Tenant, clock: FixedClock) -> None:
    s = await scene(agency_a, clock)
    issued = (await s.api.get(s.interview_path)).json()  # the interview is unchanged
    assert issued["id"] == s.interview["id"]
    clock.set(clock.now() + timedelta(days=3))  # the agency's candidate_link_days
    for response in (await s.browser.get(s.path), await s.post("decision", {"decision": "want"})):
        page = assert_page(response, 410)
        assert page.headings == ["This link has expired"]
        assert page.forms == {}
    assert await s.decision() is None


async def test_a_revoked_or_replaced_link_is_a_410_page(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    link = s.interview_path + "/candidate-link"
    reissued = await s.api.post(link)
    assert reissued.status_code == 201, reissued.text
    for response in (await s.browser.get(s.path), await s.post("decision", {"decision": "want"})):
        assert assert_page(response, 410).headings == ["This link no longer works"]
    fresh = page_path(reissued.json()["url"])
    assert_page(await s.browser.get(fresh), 200)

    assert (await s.api.delete(link)).status_code == 204
    for path in (fresh, s.path):
        assert assert_page(await s.browser.get(path), 410).headings == ["This link no longer works"]
    assert await s.decision() is None


async def test_a_forged_link_is_a_404_page_and_guessing_is_limited_per_address(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    head, claims, signature = s.token.split(".")
    links = candidate_links(agency_a.app)
    expires = clock.now() + timedelta(days=3)
    forgeries = [
        f"{head}.{claims}.{signature[::-1]}",
        "not-a-token",
        s.token[: len(s.token) // 2],
        links.token(agency_a.agency_id, uuid4(), 1, expires),  # names no link
        CandidateLinks("another-secret", PUBLIC_URL).token(
            agency_a.agency_id, await s.link_id(), 1, expires
        ),
    ]
    guesser = client_from(agency_a.app, address())
    agency_a._clients.append(guesser)
    for forged in forgeries:
        for response in (
            await guesser.get(f"/candidate/{forged}"),
            await guesser.post(f"/candidate/{forged}/thanks", data={"csrf": "x"}),
        ):
            page = assert_page(response, 404)
            assert page.headings == ["Page not found"]
            assert page.forms == {}
    assert await events_of(agency_a, "follow_up.agency_thanked") == []
    # Ten failures from one address: it waits, even with a genuine link; others do not.
    page = assert_page(await guesser.get(s.path), 429)
    assert page.headings == ["Too many attempts"]
    assert_page(await s.browser.get(s.path), 200)


async def test_requests_are_limited_per_link_and_per_address(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    for _ in range(LINK_PER_MINUTE):
        assert_page(await s.browser.get(s.path), 200)
    response = await s.browser.get(s.path)
    assert assert_page(response, 429).headings == ["Too many attempts"]
    assert 0 < int(response.headers["retry-after"]) <= 60
    clock.set(clock.now() + timedelta(minutes=1))
    assert_page(await s.browser.get(s.path), 200)

    # One address may open ADDRESS_PER_MINUTE pages a minute, whichever links they are (here
    # two fresh links, each within its own quota); then it waits, and other addresses do not.
    busy = client_from(agency_a.app, address())
    agency_a._clients.append(busy)
    assert ADDRESS_PER_MINUTE == 2 * LINK_PER_MINUTE
    for other in [await scene(agency_a, clock), await scene(agency_a, clock)]:
        for _ in range(LINK_PER_MINUTE):
            assert_page(await busy.get(other.path), 200)
    response = await busy.get(s.path)
    assert assert_page(response, 429).headings == ["Too many attempts"]
    assert 0 < int(response.headers["retry-after"]) <= 60
    assert_page(await s.browser.get(s.path), 200)


# --- What the consultant sees --------------------------------------------------------------------


async def test_the_report_counts_what_candidates_did_through_their_link(
    agency_a: Tenant, clock: FixedClock
) -> None:
    by_link = await scene(agency_a, clock)
    by_consultant = await scene(agency_a, clock)
    sent_to(await by_link.post("debrief", debrief_form()), by_link, "debrief")
    sent_to(await by_link.post("decision", {"decision": "want"}), by_link, "decision")
    sent_to(await by_link.post("thanks", {}), by_link, "thanks")
    api = by_consultant.api
    debrief = {"went_well": "Rapport.", "could_improve": "Numbers.", "questions": []}
    assert (
        await api.put(by_consultant.interview_path + "/debrief", json=debrief)
    ).status_code == 201
    assert (
        await api.put(by_consultant.application_path + "/decision", json={"decision": "want"})
    ).status_code == 200
    thanks = await api.post(by_consultant.interview_path + "/follow-up/agency-thanks", json={})
    assert thanks.status_code == 200, thanks.text
    # A consultant revising the candidate's debrief keeps it counted as the candidate's.
    revised = await api.put(by_link.interview_path + "/debrief", json=debrief)
    assert revised.status_code == 200, revised.text

    report = await api.get(
        "/v1/reports/post-interview",
        params={
            "from": (clock.now() - timedelta(days=1)).isoformat(),
            "to": clock.now().isoformat(),
        },
    )
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["candidate_link"] == {"debriefs": 1, "thank_yous": 1}
    assert (body["agency"]["interviews"], body["agency"]["debriefs"]) == (2, 2)


async def test_a_form_no_page_sends_is_a_400_page_not_a_record(
    agency_a: Tenant, clock: FixedClock
) -> None:
    s = await scene(agency_a, clock)
    many = {f"extra{i}": "x" for i in range(200)}
    csrf = candidate_links(agency_a.app).csrf_token(await s.link_id(), "debrief")
    for response in (
        await s.post("debrief", {**debrief_form(), **many}),
        await s.browser.post(
            f"{s.path}/debrief", data={"csrf": csrf}, files={"cv": ("cv.txt", b"Amara")}
        ),
    ):
        page = assert_page(response, 400)
        assert page.headings == ["This form could not be read"]
    assert (await s.api.get(s.interview_path + "/debrief")).status_code == 404
