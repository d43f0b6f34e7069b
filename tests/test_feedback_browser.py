"""A client contact answers the feedback request in a real browser: headless Chromium, driven by
selenium, against `afterview serve` on a loopback port (the same database as the in-process
app that builds the scene, and the same secret, so its signed link is valid there)."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from app.core.provision import DatabaseUrls
from tests.conftest import JWT_SECRET
from tests.support.processes import PROJECT_ROOT, Server, cli_env
from tests.support.tenants import Tenant
from tests.test_feedback import scene

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = PROJECT_ROOT / ".artifacts"
PHONE_WIDTH, PHONE_HEIGHT = 412, 915
WINDOW_FRAME = 200  # room for the part of a headless window that is not the page (~150px)
ANSWERS = {
    "strengths": "Calm under pressure; clear answers on warehouse systems.",
    "gaps": "Less depth on budgeting than the role needs.",
    "advice": "Bring numbers to the cost-saving examples.",
}


@contextmanager
def chromium(profile: Path) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile, phone-sized; always quit on the way out."""
    for binary in (CHROMIUM, CHROMEDRIVER):
        assert binary.exists() or shutil.which(binary.name), (
            f"{binary} is missing: install Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver; .ci/run does)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={PHONE_WIDTH},{PHONE_HEIGHT}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    driver_path = CHROMEDRIVER if CHROMEDRIVER.exists() else shutil.which("chromedriver")
    driver = webdriver.Chrome(
        service=ChromeService(executable_path=str(driver_path)), options=options
    )
    try:
        driver.set_page_load_timeout(30)
        driver.set_window_size(PHONE_WIDTH, PHONE_HEIGHT)  # --window-size stops at 500 wide
        yield driver
    finally:
        driver.quit()


def screenshot(driver: WebDriver, name: str) -> Path:
    """The whole page at phone width (the window grows to fit it), saved under .artifacts/."""
    page_height = driver.find_element(By.TAG_NAME, "html").size["height"]
    driver.set_window_size(PHONE_WIDTH, max(PHONE_HEIGHT, page_height + WINDOW_FRAME))
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path)), path
    print(f"screenshot: {path}")
    return path


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
    with server, chromium(tmp_path / "profile") as driver:
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
        screenshot(driver, "feedback-form.png")

        driver.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
        WebDriverWait(driver, 15).until(expected_conditions.title_contains("thank you"))
        assert driver.find_element(By.TAG_NAME, "h1").text == "Thank you: your feedback is sent"
        assert driver.find_elements(By.TAG_NAME, "form") == []
        screenshot(driver, "feedback-thanks.png")

        # The server's own log lines show the requests, never the token.
        output = server.output()
        assert "/feedback/[redacted]" in output, output
        assert token not in output

    received = await s.request()
    assert received["state"] == "received"
    assert received["submitted_by"] == "client"
    assert {field: received[field] for field in ANSWERS} == ANSWERS
