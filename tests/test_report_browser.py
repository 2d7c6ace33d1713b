"""dclm report in a real browser: headless Chromium loads the page without errors, shows the
ledger's numbers, and runs none of the scripts that crawled pages carry."""
from __future__ import annotations

import os

import shutil
from pathlib import Path

import pytest
from report_helpers import SCRIPT_PAYLOAD, URL_PAYLOAD, hostile_output, ledger_totals, sample_output, segment_dirs

from conftest import invoke_cli

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="headless browser test needs chromium and chromedriver "
           "(Debian: apt-get install -y chromium chromium-driver)")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
By = pytest.importorskip("selenium.webdriver.common.by").By


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,2400", "--disable-extensions"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Chromium keeps shared-memory files under $TMPDIR (--disable-dev-shm-usage) and may leave
    # one behind at exit: give it a folder that pytest removes.
    env = {**os.environ, "TMPDIR": str(tmp_path_factory.mktemp("chromium"))}
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER, env=env)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _open(browser, page: Path) -> list[dict]:
    """Load ``page`` and return the console messages of SEVERE level it produced."""
    browser.get_log("browser")                  # forget messages from an earlier page
    browser.get(page.resolve().as_uri())
    browser.find_element(By.ID, "funnel")      # the page rendered its first section
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.fixture(scope="module")
def sample_report(ray_session, tmp_path_factory) -> tuple[Path, Path]:
    out = sample_output(tmp_path_factory)
    target = tmp_path_factory.mktemp("browser") / "sample.html"
    assert invoke_cli("report", out, "--output", target).code == 0
    return out, target


def test_page_loads_cleanly_and_shows_the_ledger_numbers(browser, sample_report, tmp_path):
    out, page = sample_report
    assert _open(browser, page) == []
    assert browser.title == "DCLM report: out"
    expected = [(d.name if d != out else "final", s) for d in segment_dirs(out) for s in ledger_totals(d)]
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.funnel-row[id^='funnel-row-']")
    assert len(rows) == len(expected)
    for element, (segment, counts) in zip(rows, expected):
        assert element.get_attribute("data-segment") == segment
        assert element.get_attribute("data-step") == counts["step"]
        for key in ("in", "kept", "dropped", "out"):
            cell = element.find_element(By.CSS_SELECTOR, f"td.docs-{key}")
            # What a reader sees, not only the attribute: "1,234" is 1234.
            assert int(cell.text.replace(",", "")) == counts[key], (segment, counts["step"], key)
            assert int(cell.get_attribute("data-value")) == counts[key]
    shown_out = browser.find_element(By.ID, "funnel-summary-docs-out").text
    assert int(shown_out.replace(",", "")) == ledger_totals(out)[-1]["out"]
    images = browser.find_elements(By.TAG_NAME, "img")
    assert images and all(browser.execute_script("return arguments[0].naturalWidth", img) > 100 for img in images)
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000


def test_scripts_from_crawled_pages_do_not_run(browser, ray_session, tmp_path_factory, tmp_path):
    out = hostile_output(tmp_path_factory)
    page = tmp_path / "hostile.html"
    assert invoke_cli("report", out, "--output", page).code == 0
    assert _open(browser, page) == []
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.title == "DCLM report: out"
    # The payloads are on the page as text a reader can see.
    for details in browser.find_elements(By.CSS_SELECTOR, "details.dropped-step"):
        if not details.get_attribute("open"):
            browser.execute_script("arguments[0].open = true", details)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert SCRIPT_PAYLOAD in body and URL_PAYLOAD in body
    assert browser.find_elements(By.CSS_SELECTOR, "script") == []
    assert all(img.get_attribute("src").startswith("data:image/png;base64,")
               for img in browser.find_elements(By.TAG_NAME, "img"))
