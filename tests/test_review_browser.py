"""The review app in a real browser: Playwright drives Debian's headless Chromium
(/usr/bin/chromium; `.ci/run` installs it) against the app served by uvicorn on loopback.

Screenshots of each step go to test-artifacts/review/ (kept by CI as artifacts).
"""

import csv
import io
import os
import shutil
from pathlib import Path

import pytest

from partybot.logstore import LogStore
from partybot.review.app import create_app
from partybot.settings import REPO_ROOT, Settings
from tests import review_data
from tests.conftest import serving

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("PARTYBOT_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "test-artifacts" / "review"
PASSWORD = "s3cret-review-pass"

if not Path(CHROMIUM).exists():
    if os.environ.get("PARTYBOT_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium (CI must run the browser tests)")
    pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium", allow_module_level=True)

playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("review")
    settings = Settings(_env_file=None, data_dir=tmp / "var", review_password=PASSWORD,
                        review_eval_file=tmp / "project.jsonl")
    store = LogStore(f"sqlite:///{tmp / 'logs.sqlite3'}")
    ids = review_data.seed(store)
    with serving(create_app(settings, store)) as port:
        yield f"http://127.0.0.1:{port}", store, ids, tmp
    store.close()


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, errors


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, base: str, password: str = PASSWORD) -> None:
    page.goto(base + "/")
    assert "/login" in page.url  # every page sends a stranger to the login
    page.fill("input[name=password]", password)
    page.fill("input[name=name]", "Reviewer Mai")
    page.click("button[type=submit]")


def test_a_wrong_password_is_refused(served, page):
    base = served[0]
    log_in(page, base, "not-the-password")
    assert page.locator("[role=alert]").inner_text() == "Wrong password."
    assert "/login" in page.url or page.locator("input[name=password]").count() == 1
    shot(page, "01-login-failed")
    page.goto(base + "/dashboard")
    assert page.locator("input[name=password]").count() == 1  # still not in


def test_review_flow_filter_open_judge_export(served, page):
    base, store, ids, tmp = served
    log_in(page, base)
    page.wait_for_selector("text=Conversations")
    shot(page, "02-list")
    page.select_option("select[name=feedback]", "down")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**feedback=down**")
    rows = page.locator("tbody tr")
    assert rows.count() == 3
    assert page.locator("tbody").inner_text().count("👎") == 3
    shot(page, "03-filtered-thumbs-down")

    page.click(f"a[href='/turns/{ids[2]}'] >> nth=0")  # the Arabic turn
    page.wait_for_url(f"**/turns/{ids[2]}")
    assert page.locator("#question").get_attribute("dir") == "rtl"
    page.click("#answer a.cite")  # the citation marker jumps to the quoted passage
    assert page.url.endswith("#cite-1")
    assert "480" in page.locator("#cite-1").inner_text()
    page.select_option("#review-form select[name=verdict]", "wrong")
    page.fill("#review-form textarea[name=note]", "The number is from another year.")
    page.click("#review-form button[type=submit]")
    page.wait_for_selector("text=Review saved.")
    assert "Reviewer Mai" in page.inner_text("main")
    shot(page, "04-turn-reviewed")
    rv = store.get_review(ids[2])
    assert rv["verdict"] == "wrong" and rv["reviewer"] == "Reviewer Mai"

    page.goto(base + "/?feedback=down")
    assert "wrong" in page.locator(f"tbody tr:has(a[href='/turns/{ids[2]}'])").inner_text()
    with page.expect_download() as dl:
        page.click("#export-csv")
    path = tmp / "export.csv"
    dl.value.save_as(path)
    exported = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert sorted(int(r["id"]) for r in exported) == sorted([ids[0], ids[2], ids[4]])
    assert next(r for r in exported if int(r["id"]) == ids[2])["verdict"] == "wrong"
    with page.expect_download() as dl:
        page.click("#export-jsonl")
    jpath = tmp / "export.jsonl"
    dl.value.save_as(jpath)
    assert len(jpath.read_text(encoding="utf-8").splitlines()) == 3


def test_a_stored_xss_attempt_is_shown_as_text(served, page):
    base, _store, ids, _tmp = served
    log_in(page, base)
    page.goto(f"{base}/turns/{ids[4]}")
    assert page.locator("#question").inner_text() == review_data.XSS
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("main script, main img").count() == 0
    page.goto(base + "/?q=script")
    assert page.evaluate("window.__xss === undefined")
    shot(page, "05-xss-as-text")


def test_dashboard_shows_charts(served, page):
    log_in(page, served[0])
    page.goto(served[0] + "/dashboard")
    charts = page.locator("svg.chart")
    assert charts.count() == 4
    assert all(charts.nth(i).bounding_box()["height"] > 100 for i in range(4))
    shot(page, "06-dashboard")


def test_artifacts_exist():
    # runs last in this module: every step above left its screenshot
    for name in ("01-login-failed", "02-list", "03-filtered-thumbs-down", "04-turn-reviewed",
                 "05-xss-as-text", "06-dashboard"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 1000, name


def teardown_module():
    shutil.rmtree(ARTIFACTS / "tmp", ignore_errors=True)
