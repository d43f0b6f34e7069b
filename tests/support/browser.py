"""Headless Chromium (Debian's `chromium` and `chromium-driver`) for the page tests, allowed to
reach this machine only, with screenshots saved under `.artifacts/`."""

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service as ChromeService
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from tests.support.processes import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = PROJECT_ROOT / ".artifacts"
WINDOW_FRAME = 200  # room for the part of a headless window that is not the page (~150px)
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Every request to another host goes to this proxy, where nothing listens: it fails on this
# machine instead of leaving it. Loopback bypasses proxies in Chromium by default.
DEAD_PROXY = "http://127.0.0.1:9"


@contextmanager
def chromium(profile: Path, width: int, height: int) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile, loopback only, recording every request it makes
    (see `requested_hosts`); always quit on the way out."""
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
        f"--proxy-server={DEAD_PROXY}",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver_path = CHROMEDRIVER if CHROMEDRIVER.exists() else shutil.which("chromedriver")
    driver = webdriver.Chrome(
        service=ChromeService(executable_path=str(driver_path)), options=options
    )
    try:
        driver.set_page_load_timeout(30)
        driver.set_window_size(width, height)  # --window-size stops at 500 wide
        yield driver
    finally:
        driver.quit()


def requested_hosts(driver: WebDriver) -> set[str]:
    """The hosts of every request the page has made so far (from the DevTools log)."""
    hosts = set()
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.startswith(("http://", "https://")):
                hosts.add(urlsplit(url).hostname or "")
    return hosts


def screenshot(driver: WebDriver, name: str, width: int) -> Path:
    """The whole page at `width` (the window grows to fit it), saved under .artifacts/."""
    page_height = driver.find_element(By.TAG_NAME, "html").size["height"]
    driver.set_window_size(width, max(800, page_height + WINDOW_FRAME))
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path)), path
    print(f"screenshot: {path}")
    return path


def element_screenshot(element: WebElement, name: str) -> Path:
    """Just `element` (scrolled into view), saved under .artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    assert element.screenshot(str(path)), path
    print(f"screenshot: {path}")
    return path


DETACHED = "does not belong to the document"
"""chromedriver's words, now and then, for an element of a page it is leaving (an inspector
error rather than a stale element: seen once in a loaded suite run)."""


def page_left(page: WebElement) -> Callable[[WebDriver], bool]:
    """A `WebDriverWait` condition: `page` (the old document's `html`) has been replaced."""

    def left(_driver: WebDriver) -> bool:
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if DETACHED in (exc.msg or ""):
                return True
            raise
        return False

    return left
