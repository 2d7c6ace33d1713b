"""dclm report in a real browser: headless Chromium loads the page without errors, shows the
ledger's numbers, and runs none of the scripts that crawled pages carry."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_DIR, invoke_cli
from report_helpers import (
    SCRIPT_PAYLOAD,
    URL_PAYLOAD,
    hostile_output,
    ledger_totals,
    sample_output,
    segment_dirs,
    shown_counts,
)

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
    for element, (segment, counts) in zip(rows, expected, strict=True):
        assert element.get_attribute("data-segment") == segment
        assert element.get_attribute("data-step") == counts["step"]
        for key in ("in", "kept", "dropped", "out"):
            cell = element.find_element(By.CSS_SELECTOR, f"td.docs-{key}")
            # What a reader sees, not only the attribute: "1,234" is 1234.
            assert int(cell.text.replace(",", "")) == shown_counts(counts)[key], (segment, counts["step"], key)
            assert int(cell.get_attribute("data-value")) == shown_counts(counts)[key]
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


def _pages_in(folder: Path) -> int:
    """Response records of the WARCs in ``folder``, counted from their headers, not by the toolkit."""
    import gzip
    import re

    count = 0
    for warc in sorted(folder.glob("*.warc.gz")):
        with gzip.open(warc, "rb") as fh:
            count += len(re.findall(rb"\r\nWARC-Type: response\r\n", fh.read()))
    return count


def _visible(browser, css: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, css).text


def test_funnel_starts_at_pages_and_records_are_apart(browser, sample_report):
    out, page = sample_report
    assert _open(browser, page) == []
    pages = _pages_in(SAMPLE_DIR)
    assert pages == 146
    first = browser.find_element(By.ID, "funnel-row-0")
    assert int(first.find_element(By.CSS_SELECTOR, "td.docs-in").text.replace(",", "")) == pages
    assert int(_visible(browser, "#funnel-summary-docs-in").replace(",", "")) == pages
    records = sum(ledger_totals(segment_dirs(out)[0])[0][k] for k in ("in",))
    assert int(_visible(browser, "#funnel-summary-records-in").replace(",", "")) == records > pages
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "≥" not in body and "01_local" not in body and "09_language_filter" not in body
    assert "keep_languages=en" in body
    # The segment folder is one hover away.
    step = first.find_element(By.CSS_SELECTOR, "td.step")
    assert step.text == "extract" and step.get_attribute("title").startswith("segment folder: .dclm/work/01_local")


def _overlaps(boxes: list) -> list:
    found = []
    for i, (ax0, ay0, ax1, ay1) in enumerate(boxes):
        for bx0, by0, bx1, by1 in boxes[i + 1:]:
            if ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1:
                found.append(((ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1)))
    return found


def test_charts_fill_the_width_and_their_tick_labels_do_not_overlap(browser, sample_report):
    _, page = sample_report
    assert _open(browser, page) == []
    figures = browser.find_elements(By.CSS_SELECTOR, "figure[data-label-boxes]")
    assert len(figures) == len(browser.find_elements(By.CSS_SELECTOR, "figure")) >= 5
    for figure in figures:
        groups = json.loads(figure.get_attribute("data-label-boxes"))
        assert groups and all(len(boxes) >= 2 for boxes in groups)
        for boxes in groups:
            assert _overlaps(boxes) == [], figure.find_element(By.TAG_NAME, "img").get_attribute("alt")
        image = figure.find_element(By.TAG_NAME, "img")
        section_width = browser.execute_script("return arguments[0].closest('section').clientWidth", image)
        assert image.size["width"] >= 0.9 * section_width
    # Nothing is wider than its section: no sideways scrolling at 1280 px.
    assert browser.execute_script(
        "return [...document.querySelectorAll('section')].filter(s => s.scrollWidth > s.clientWidth).length") == 0


def test_counts_are_pluralised(browser, sample_report, ray_session, tmp_path):
    _, page = sample_report
    assert _open(browser, page) == []
    header = browser.find_element(By.TAG_NAME, "header").text
    assert "2 shards; 4 segments" in header
    one = tmp_path / "one"
    assert invoke_cli("extract", SAMPLE_DIR / "CC-MAIN-2020-34-sample.warc.gz", "--output", one).code == 0
    assert invoke_cli("report", one, "--output", tmp_path / "one.html").code == 0
    assert _open(browser, tmp_path / "one.html") == []
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "1 shard; 1 segment" in text
    assert re.search(r"\b1 (shards|segments|documents|pages|records)\b", text) is None
    assert "(s)" not in text
