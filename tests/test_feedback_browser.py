"""A client contact answers the feedback request in a real browser: headless Chromium, driven by
selenium, against `afterview serve` on a loopback port (the same database as the in-process
app that builds the scene, and the same secret, so its signed link is valid there)."""

from pathlib import Path
from urllib.parse import urlsplit

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from app.core.provision import DatabaseUrls
from tests.conftest import JWT_SECRET
from tests.support.browser import LOOPBACK, chromium, requested_hosts, screenshot
from tests.support.feedback import scene
from tests.support.processes import Server, cli_env
from tests.support.tenants import Tenant

PHONE_WIDTH, PHONE_HEIGHT = 412, 915
ANSWERS = {
    "strengths": "Calm under pressure; clear answers on warehouse systems.",
    "gaps": "Less depth on budgeting than the role needs.",
    "advice": "Bring numbers to the cost-saving examples.",
}


async def test_a_client_answers_in_a_real_browser(
    agency_a: Tenant, database_urls: DatabaseUrls, tmp_path: Path
) -> None:
    s = await scene(agency_a)
    await s.fail()
    request = await s.request()
    assert request["state"] == "requested"

    server = Server(
        cli_env(DATABASE_URL=database_urls.runtime, AFTERVIEW_JWT_SECRET=JWT_SECRET),
        tmp_path / "logs",
        extra_args=("--no-worker",),  # this test sends no mail
    )
    server.env["AFTERVIEW_PUBLIC_URL"] = server.base_url
    token = urlsplit(request["client_link"]).path.rsplit("/", 1)[1]
    with server, chromium(tmp_path / "profile", PHONE_WIDTH, PHONE_HEIGHT) as driver:
        server.wait_ready()
        driver.get(server.base_url + urlsplit(request["client_link"]).path)

        assert (
            driver.title
            == f"Feedback on {s.candidate['first_name']} \N{EN DASH} {s.vacancy['title']}"
        )
        heading = driver.find_element(By.TAG_NAME, "h1").text
        assert heading == f"Feedback on {s.candidate['first_name']}"
        body = driver.find_element(By.TAG_NAME, "body").text
        assert s.vacancy["title"] in body
        assert s.candidate["last_name"] not in body
        for field, text in ANSWERS.items():
            # Each label is tied to its box: clicking the label puts the cursor in the box.
            driver.find_element(By.CSS_SELECTOR, f"label[for='{field}']").click()
            box = driver.switch_to.active_element
            assert box.get_attribute("name") == field
            box.send_keys(text)
        screenshot(driver, "feedback-form.png", PHONE_WIDTH)

        driver.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
        WebDriverWait(driver, 15).until(expected_conditions.title_contains("thank you"))
        assert driver.find_element(By.TAG_NAME, "h1").text == "Thank you: your feedback is sent"
        assert driver.find_elements(By.TAG_NAME, "form") == []
        screenshot(driver, "feedback-thanks.png", PHONE_WIDTH)
        assert requested_hosts(driver) <= LOOPBACK

        # The server's own log lines show the requests, never the token.
        output = server.output()
        assert "/feedback/[redacted]" in output, output
        assert token not in output

    received = await s.request()
    assert received["state"] == "received"
    assert received["submitted_by"] == "client"
    assert {field: received[field] for field in ANSWERS} == ANSWERS
