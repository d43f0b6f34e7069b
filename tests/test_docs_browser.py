"""A consultant's first minutes in `/docs`, in headless Chromium that may reach this machine
only: Authorize with the demo admin (OAuth2 password flow), then Try it out on `GET /v1/me` and
`GET /v1/worklist`, both answering with the demo's data. Screenshots go to `.artifacts/`."""

import json
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as until
from selenium.webdriver.support.wait import WebDriverWait

from app.demo.data import DEMO_ADMIN_EMAIL
from tests.conftest import JWT_SECRET, TEST_RUNTIME, TestDatabase
from tests.support.browser import (
    ARTIFACTS,
    LOOPBACK,
    chromium,
    element_screenshot,
    requested_hosts,
)
from tests.support.demo import DEMO_PASSWORD, seeded_demo
from tests.support.processes import Server, cli_env

WIDTH, HEIGHT = 1280, 1000
WAIT_SECONDS = 30


def wait_for(driver: WebDriver, selector: str) -> WebElement:
    element: WebElement = WebDriverWait(driver, WAIT_SECONDS).until(
        until.element_to_be_clickable((By.CSS_SELECTOR, selector))
    )
    return element


def authorize(driver: WebDriver) -> None:
    """Authorize → the OAuth2 password form → Authorize → Close."""
    wait_for(driver, ".auth-wrapper .authorize").click()
    wait_for(driver, "#oauth_username").send_keys(DEMO_ADMIN_EMAIL)
    driver.find_element(By.CSS_SELECTOR, "#oauth_password").send_keys(DEMO_PASSWORD)
    element_screenshot(driver.find_element(By.CSS_SELECTOR, ".modal-ux"), "docs-authorize.png")
    driver.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .authorize").click()
    # Logged in, the dialog offers to log out of the password scheme.
    WebDriverWait(driver, WAIT_SECONDS).until(
        until.text_to_be_present_in_element((By.CSS_SELECTOR, ".auth-btn-wrapper"), "Logout")
    )
    driver.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .btn-done").click()


def try_it_out(driver: WebDriver, operation_id: str) -> dict[str, object]:
    """Open the operation, Try it out, Execute; the JSON body of its 200 answer (and a
    screenshot of the operation, answer included)."""
    block = f"[id$='-{operation_id}']"
    wait_for(driver, f"{block} .opblock-summary").click()
    wait_for(driver, f"{block} .try-out__btn").click()
    wait_for(driver, f"{block} .execute").click()
    status = f"{block} .live-responses-table .response .response-col_status"
    WebDriverWait(driver, WAIT_SECONDS).until(
        until.presence_of_element_located((By.CSS_SELECTOR, status))
    )
    assert driver.find_element(By.CSS_SELECTOR, status).text.strip() == "200"
    body = driver.find_element(
        By.CSS_SELECTOR, f"{block} .live-responses-table .response-col_description pre"
    ).text
    answer: dict[str, object] = json.loads(body)
    answered = driver.find_element(By.CSS_SELECTOR, f"{block} .live-responses-table")
    driver.execute_script("arguments[0].scrollIntoView()", answered)
    element_screenshot(answered, f"docs-{operation_id}.png")
    return answer


async def test_authorize_and_try_it_out_in_the_docs(
    test_database: TestDatabase, tmp_path: Path
) -> None:
    async with seeded_demo(test_database, TEST_RUNTIME, JWT_SECRET) as (urls, _):
        server = Server(
            cli_env(DATABASE_URL=urls.runtime, AFTERVIEW_JWT_SECRET=JWT_SECRET),
            tmp_path / "logs",
            extra_args=("--no-worker",),
        )
        with server, chromium(tmp_path / "profile", WIDTH, HEIGHT) as driver:
            server.wait_ready()
            driver.get(f"{server.base_url}/docs")
            wait_for(driver, ".information-container")
            driver.save_screenshot(str(ARTIFACTS / "docs.png"))  # the first screenful

            authorize(driver)
            me = try_it_out(driver, "read_me")
            assert me["user"] == {**me["user"], "email": DEMO_ADMIN_EMAIL}  # type: ignore[dict-item]

            work = try_it_out(driver, "read_worklist")
            items = work["items"]
            assert isinstance(items, list) and items, work
            assert {item["candidate_name"] for item in items} >= {"Farah Khan"}

            assert requested_hosts(driver) <= LOOPBACK
            server.stop()
