"""The candidate does steps 2-4 in a real browser (issue 13): headless Chromium, driven by
selenium, against `afterview serve` on a loopback port (the same database and secret as the
in-process app that builds the scene). The link comes from the email the candidate receives at
a real SMTP server (aiosmtpd on loopback), sent by a worker in the test's process; the note to
the interviewers arrives there too, once the consultant has approved it. Screenshots of each
page go to `.artifacts/`.

The worker claims due mail across every agency, so this test has a database of its own, as the
delivery tests do (their fixtures, imported here)."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from httpx import AsyncClient
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from app.core.clock import FixedClock
from app.core.provision import DatabaseUrls
from app.delivery.mail import SmtpConfig, SmtpTransport
from tests.conftest import JWT_SECRET
from tests.delivery import conftest as own_database
from tests.support.browser import LOOPBACK, chromium, page_left, requested_hosts, screenshot
from tests.support.delivery import make_worker
from tests.support.processes import Server, cli_env
from tests.support.records import (
    make_application,
    make_candidate,
    make_client,
    make_contact,
    make_interview,
    make_vacancy,
)
from tests.support.smtp import SmtpSink, smtp_sink
from tests.support.tenants import Tenant

PHONE_WIDTH, PHONE_HEIGHT = 412, 915
ROLE = "Senior Supply Chain Analyst"
CLIENT = "Harbour Logistics"
HALF = "Tell us about a time you cut costs without hurting service."
WHOLE = "How would you run the WMS migration?"
NOTE_SUBJECT = "Thank you for today"
NOTE_BODY = (
    "Thank you for your time today. On the cost question: the saving was 14% in year one, "
    "measured against the 2023 baseline, with no drop in on-time delivery."
)

# A database of this test's own: the delivery tests' fixtures.
template_urls = own_database.template_urls
database_urls = own_database.database_urls
engine = own_database.engine
app = own_database.app


def type_into(driver: WebDriver, field_id: str, text: str) -> None:
    """Click the field's label (it must put the cursor in the field), then type."""
    driver.find_element(By.CSS_SELECTOR, f"label[for='{field_id}']").click()
    box = driver.switch_to.active_element
    assert box.get_attribute("id") == field_id
    box.send_keys(text)


def choose(driver: WebDriver, choice_id: str) -> None:
    """Tick a radio button or a checkbox by clicking its label."""
    driver.find_element(By.CSS_SELECTOR, f"label[for='{choice_id}']").click()
    assert driver.find_element(By.ID, choice_id).is_selected(), choice_id


def submit(driver: WebDriver, action: str, value: str | None = None) -> None:
    """Press the form's button and wait for the next page to say it was sent (the page before
    may show a banner too: first wait for it to go)."""
    selector = f"form[action$='/{action}'] button[type='submit']"
    if value is not None:
        selector += f"[value='{value}']"
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, selector).click()
    WebDriverWait(driver, 15).until(page_left(page))
    WebDriverWait(driver, 15).until(
        expected_conditions.presence_of_element_located((By.ID, "sent-banner"))
    )


async def deliver_mail(tenant: Tenant, clock: FixedClock, sink: SmtpSink) -> int:
    """What the worker does: send what is queued, to the sink. The server stamps rows with the
    real time, so the worker's clock first catches up with it."""
    clock.set(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1))
    worker = make_worker(tenant.app, clock, SmtpTransport(SmtpConfig.from_url(sink.url)))
    try:
        return await worker.deliver_all()
    finally:
        await worker.close()


async def test_a_candidate_debriefs_decides_and_thanks_in_a_real_browser(
    agency_a: Tenant, clock: FixedClock, database_urls: DatabaseUrls, tmp_path: Path
) -> None:
    consultant = await agency_a.add_user("consultant", name="Priya Shah")
    company = await make_client(agency_a, name=CLIENT)
    panel = [await make_contact(agency_a, company["id"]) for _ in range(2)]
    vacancy = await make_vacancy(agency_a, company["id"], title=ROLE)
    candidate = await make_candidate(agency_a, first_name="Amara", contact_consent=True)
    application = await make_application(
        agency_a, candidate["id"], vacancy["id"], consultant_id=consultant["id"]
    )
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    interview = await make_interview(
        agency_a, application["id"], [c["id"] for c in panel], starts_at=start
    )
    interview_path = f"/v1/interviews/{interview['id']}"
    steps = await agency_a.admin.put(
        f"{interview_path}/next-steps",
        json={
            "kind": "another_round",
            "details": "A case study with the CFO.",
            "decision_expected_by": (start + timedelta(days=3)).isoformat(),
        },
    )
    assert steps.status_code == 201, steps.text
    key = (await agency_a.api_key())["key"]

    server = Server(
        cli_env(DATABASE_URL=database_urls.runtime, AFTERVIEW_JWT_SECRET=JWT_SECRET),
        tmp_path / "logs",
        extra_args=("--no-worker",),  # the test's own worker sends the mail
    )
    server.env["AFTERVIEW_PUBLIC_URL"] = server.base_url
    with (
        server,
        smtp_sink() as sink,
        chromium(tmp_path / "profile", PHONE_WIDTH, PHONE_HEIGHT) as driver,
    ):
        server.wait_ready()
        async with AsyncClient(
            base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}
        ) as api:
            # The consultant sends the link (the worker would, with candidate_links on).
            issued = await api.post(f"{interview_path}/candidate-link")
            assert issued.status_code == 201, issued.text
            assert issued.json()["emailed"] is True

        # The candidate opens it from the email.
        assert await deliver_mail(agency_a, clock, sink) == 1
        [mail] = sink.snapshot()
        assert mail.recipients == (candidate["email"],)
        found = re.search(r"http://\S+/candidate/\S+", mail.message.get_content())
        assert found is not None, mail.message.get_content()
        link = found.group(0)
        assert link == issued.json()["url"]
        token = urlsplit(link).path.rsplit("/", 1)[1]
        driver.get(link)
        assert driver.title == f"Your interview for {ROLE} \N{EN DASH} Agency A"
        assert f"{ROLE} at {CLIENT}" in driver.find_element(By.ID, "role").text
        assert driver.find_element(By.ID, "next-steps").text == (
            "Another interview round: A case study with the CFO."
        )
        assert driver.find_element(By.ID, "expect-news").text.startswith("By ")
        screenshot(driver, "candidate-page.png", PHONE_WIDTH)

        # Step 2: two questions, the first half-answered.
        type_into(driver, "debrief-q0_text", HALF)
        choose(driver, "debrief-q0_quality-adequate")
        choose(driver, "debrief-q0_half")
        type_into(driver, "debrief-q1_text", WHOLE)
        choose(driver, "debrief-q1_quality-strong")
        type_into(driver, "debrief-went_well", "Clear on the WMS migration; good rapport.")
        type_into(driver, "debrief-could_improve", "Numbers on the cost example were vague.")
        screenshot(driver, "candidate-debrief.png", PHONE_WIDTH)
        submit(driver, "debrief", "send")
        assert driver.find_element(By.ID, "sent-banner").text == "Thank you: your notes are sent"
        screenshot(driver, "candidate-debrief-sent.png", PHONE_WIDTH)

        # Step 3: still wants the job.
        choose(driver, "decision-decision-want")
        submit(driver, "decision")
        assert "You still want the job" in driver.find_element(By.ID, "step-decision").text

        # Step 4: thanks to the agency first; then the note, answering the half-answered one.
        type_into(driver, "thanks-note", "Thank you for setting it up!")
        screenshot(driver, "candidate-thanks.png", PHONE_WIDTH)
        submit(driver, "thanks")
        type_into(driver, "note-subject", NOTE_SUBJECT)
        type_into(driver, "note-body", NOTE_BODY)
        half_id = driver.find_element(
            By.XPATH, f"//label[normalize-space()='{HALF}']"
        ).get_attribute("for")
        assert half_id is not None
        choose(driver, half_id)
        screenshot(driver, "candidate-note.png", PHONE_WIDTH)
        submit(driver, "interviewer-note")
        assert driver.find_element(By.ID, "sent-banner").text == (
            "Your note is with Agency A for approval"
        )
        screenshot(driver, "candidate-note-sent.png", PHONE_WIDTH)
        assert requested_hosts(driver) <= LOOPBACK

        # Nothing reaches the interviewers yet.
        assert await deliver_mail(agency_a, clock, sink) == 0

        # The consultant approves it through the API, and sends it as the candidate wrote it.
        person = await agency_a.client_as(consultant)
        draft = (await person.get(f"{interview_path}/follow-up")).json()
        assert (draft["state"], draft["body"]) == ("direct_requested", NOTE_BODY)
        approved = await person.post(f"{interview_path}/follow-up/direct-contact-request/approve")
        assert approved.status_code == 200, approved.text
        sent = await person.post(
            f"{interview_path}/follow-up/send",
            json={
                "route": "direct",
                "subject": draft["subject"],
                "body": draft["body"],
                "answers_question_id": draft["answers_question_id"],
            },
        )
        assert sent.status_code == 200, sent.text

        # The interviewers receive it.
        assert await deliver_mail(agency_a, clock, sink) == 2
        notes = sink.snapshot()[1:]
        assert sorted(r.recipients for r in notes) == sorted((c["email"],) for c in panel)
        for note in notes:
            assert note.message["Subject"] == NOTE_SUBJECT
            assert " ".join(NOTE_BODY.split()) in " ".join(note.message.get_content().split())

        driver.get(link)
        assert driver.find_element(By.ID, "step-note").text.endswith("Sent")
        screenshot(driver, "candidate-done.png", PHONE_WIDTH)

        # The server's log lines show the page's requests, never the token.
        output = server.output()
        assert "/candidate/[redacted]" in output, output
        assert token not in output

    debrief = (await agency_a.admin.get(f"{interview_path}/debrief")).json()
    assert debrief["author"] == "candidate"
    questions = [(q["text"], q["answer_quality"], q["half_answered"]) for q in debrief["questions"]]
    assert questions == [(HALF, "adequate", True), (WHOLE, "strong", False)]
    assert draft["answers_question_id"] == debrief["questions"][0]["id"]
    timeline = await agency_a.admin.get(f"/v1/applications/{application['id']}/timeline")
    by_candidate = {
        e["type"] for e in timeline.json()["items"] if e["actor"]["via_link"] == "candidate"
    }
    assert by_candidate == {
        "debrief.submitted",
        "decision.recorded",
        "follow_up.agency_thanked",
        "follow_up.direct_contact_requested",
    }
