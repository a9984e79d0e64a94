"""The web UI as a person uses it: headless Chromium (selenium) drives a real `locust` process against a real
reference bridge, from the start form with its defaults to the goals CSV.

Every other test starts runs with --headless or --autostart, which never reach the start form: that is how an
empty "caller seed" field that killed every user in on_start went unnoticed.

Needs Debian's chromium and chromium-driver (`make test` installs them) and selenium (requirements-dev.txt).
Without them a developer's run skips, saying why; under CI=true it fails instead. A failing test leaves a
screenshot, the page's HTML and Locust's log in a temporary folder named in the failure.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

from tests.loopback import free_port
from tests.reference_bridge import launch_bridge

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TOKEN = "tok-WEBUI-5c1e9"  # planted: must never be in the page
WAIT_S = 30.0
# Half the bridge's calls hang up right after the greeting: they end within seconds, so the Goals tab has
# finished calls to show while the run goes on (the others take 20-30 s). Which calls the bridge drops
# depends on the order they reach it, so the first few may all be whole calls: the first finished call is
# waited for as long as a whole call can take.
FIRST_CALL_WAIT_S = 60.0
BRIDGE_ARGS = ("--voice-rate", "230", "--fault", "early-hangup:0.5", "--seed", "1")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _missing_tools() -> Optional[str]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        return (f"{' and '.join(missing)} not installed: `make test` installs Debian's chromium and "
                "chromium-driver (or: apt-get install -y chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -r requirements-dev.txt"
    return None


@pytest.fixture(scope="module")
def driver():
    problem = _missing_tools()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and the browser test cannot run: {problem}")
        pytest.skip(problem)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    downloads = Path(tempfile.mkdtemp(prefix="webui-downloads-"))
    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(argument)
    options.binary_location = CHROMIUM
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    # An explicit driver path: selenium-manager would otherwise try to download one.
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(WAIT_S)
    browser.downloads = downloads
    yield browser
    browser.quit()
    shutil.rmtree(downloads, ignore_errors=True)


@pytest.fixture(scope="module")
def bridge():
    process = launch_bridge(*BRIDGE_ARGS, ear="none")
    yield process
    process.stop()


class LocustUI:
    """`locust` started as a person would (web UI, no --autostart), on free loopback ports."""

    def __init__(self, bridge_url: str, folder: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.results = folder / "results"
        self.log_path = folder / "locust.log"
        master_port = str(free_port())
        command = [sys.executable, "-m", "locust", "-f", "locustfile.py", "--web-host", "127.0.0.1",
                   "--web-port", str(self.port), "--master-bind-host", "127.0.0.1",
                   "--master-bind-port", master_port, "--host", bridge_url, "-u", "4", "-r", "4",
                   "--test-config", "quick_test", "--results-dir", str(self.results), "--bridge-token", TOKEN, *args]
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("LOCUST_") and key != "OPENAI_API_KEY"}
        self.proc = subprocess.Popen(command, cwd=REPO, env={**env, "LOCUST_BRIDGE_TOKEN": TOKEN},
                                     stdout=self.log_path.open("wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=5) as answer:
                    self.index_html = answer.read().decode("utf-8")
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"locust's web UI never answered:\n{self.log[-3000:]}") from None
                time.sleep(0.3)

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def start_locust(bridge, tmp_path) -> Iterator[Callable[..., LocustUI]]:
    started: list[LocustUI] = []

    def start(*args: str) -> LocustUI:
        started.append(LocustUI(bridge.url, tmp_path, *args))
        return started[-1]

    yield start
    for process in started:
        process.stop()


@contextmanager
def evidence_on_failure(browser, locust: LocustUI, name: str) -> Iterator[None]:
    """On failure, keep what a person would have seen, and Locust's log, in a folder named in the failure."""
    try:
        yield
    except BaseException as exc:
        folder = Path(tempfile.mkdtemp(prefix=f"webui-{name}-"))
        try:
            browser.save_screenshot(str(folder / "screenshot.png"))
            (folder / "page.html").write_text(browser.page_source, encoding="utf-8")
        except Exception as shot_error:  # the browser itself may be what failed
            (folder / "no-screenshot.txt").write_text(repr(shot_error), encoding="utf-8")
        (folder / "locust.log").write_text(locust.log, encoding="utf-8")
        exc.add_note(f"web UI screenshot, page and locust log: {folder}")
        raise


# ---- what a person does and sees ------------------------------------------------------------------------

def wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT_S) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.25)


def button(browser, label: str):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.XPATH, f"//button[translate(normalize-space(), 'abcdefghijklmnopqrstuvwxyz', "
                                          f"'ABCDEFGHIJKLMNOPQRSTUVWXYZ')='{label.upper()}']")


def click(browser, element) -> None:
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def open_custom_parameters(browser) -> None:
    from selenium.webdriver.common.by import By

    click(browser, browser.find_element(By.XPATH, "//*[normalize-space()='Custom parameters']"))


def type_into(browser, name: str, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    field = browser.find_element(By.NAME, name)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", field)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    field.send_keys(text)


def header(browser, label: str) -> str:
    """A value of the top bar (Status, Users, ...) as shown."""
    text = browser.execute_script("const bar = document.querySelector('header'); return bar ? bar.innerText : '';")
    found = re.search(rf"(?m)^{label}\s*\n\s*(\S+)", text)
    return found.group(1) if found else ""


def shown_status(browser) -> str:
    """The Status a person sees, never reloading: Locust's page stops polling at the first state that is not
    spawning or running, so a CLEANUP or STOPPING it was shown would stay (loadtest/webstate.py)."""
    return header(browser, "Status")


def open_form(browser, locust: LocustUI) -> None:
    browser.get(locust.url)
    wait_for(lambda: browser.find_elements("xpath", "//button[normalize-space()='Start']"), "the start form")


def open_tab(browser, title: str) -> None:
    from selenium.webdriver.common.by import By

    tab = next(tab for tab in browser.find_elements(By.CSS_SELECTOR, "[role=tab]")
               if tab.text.strip().lower() == title.lower())
    click(browser, tab)


# Read in one go: the UI re-renders its tables every 2 s, which leaves element handles stale.
READ_TABLE = """
const table = document.querySelector('table');
if (!table) return [[], []];
const texts = cells => Array.from(cells).map(cell => cell.innerText.trim());
return [texts(table.querySelectorAll('thead th')),
        Array.from(table.querySelectorAll('tbody tr')).map(row => texts(row.querySelectorAll('td')))];
"""


def goals_rows(browser) -> dict[tuple[str, str], dict[str, str]]:
    """The Goals tab's table as shown, by (group, name)."""
    titles, rows = browser.execute_script(READ_TABLE)
    table = [dict(zip(titles, cells)) for cells in rows]
    return {(row["Group"], row["Name"]): row for row in table if "Group" in row and "Name" in row}


def total_calls(browser) -> int:
    calls = goals_rows(browser).get(("total", "all calls"), {}).get("Calls", "")
    return int(calls) if calls.isdigit() else 0


def alert_text(browser) -> str:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('[role=alert]')).map(alert => alert.innerText).join(' ');")


def spawn_lines(locust: LocustUI) -> list[str]:
    return re.findall(r"All users spawned: (\{.*?\})", locust.log)


# ---- the tests --------------------------------------------------------------------------------------------

def test_start_with_the_form_as_it_is_runs_calls_fills_goals_and_downloads_the_csv(driver, start_locust):
    locust = start_locust()
    with evidence_on_failure(driver, locust, "defaults"):
        open_form(driver, locust)
        open_custom_parameters(driver)
        from selenium.webdriver.common.by import By

        # A paid judge, skipped TLS checks or resumed calls are never switched on by the defaults.
        for name in ("judge", "insecure", "resumeOnDrop"):
            assert not driver.find_element(By.NAME, name).is_selected(), name
        assert driver.find_element(By.NAME, "callerSeed").get_attribute("value") == ""
        assert not driver.find_elements(By.NAME, "bridgeToken")
        for page in (driver.page_source, locust.index_html):
            assert TOKEN not in page and "bridge_token" not in page and "bridgeToken" not in page

        click(driver, button(driver, "Start"))
        wait_for(lambda: header(driver, "Users") == "4", "4 users running")
        assert header(driver, "Status") == "RUNNING"

        # Live rows: calls that ended (the bridge hangs up on half of them) while the run goes on.
        open_tab(driver, "Goals")
        wait_for(lambda: total_calls(driver) >= 1, "a finished call in the Goals tab", FIRST_CALL_WAIT_S)
        rows = goals_rows(driver)
        assert any(group == "personality" for group, _ in rows) and any(group == "scenario" for group, _ in rows)
        assert header(driver, "Status") == "RUNNING"

        click(driver, button(driver, "Edit"))
        type_into(driver, "userCount", "2")
        click(driver, button(driver, "Update"))
        wait_for(lambda: header(driver, "Users") == "2", "the edited user count (2)")

        click(driver, button(driver, "Stop"))
        wait_for(lambda: shown_status(driver) == "STOPPED", "the STOPPED status")

        open_tab(driver, "Download Data")
        link = driver.find_element(By.XPATH, "//a[normalize-space()='Download goals CSV']")
        click(driver, link)
        csv_path = driver.downloads / "goals.csv"
        wait_for(csv_path.exists, "goals.csv in the browser's download folder")
        table = list(csv.DictReader(csv_path.read_text(encoding="utf-8").splitlines()))
        total = table[0]
        assert total["group"] == "total" and int(total["calls"]) >= 4, total  # ended, cut off by EDIT or STOP
        assert int(total["failures"]) >= 1 and int(total["cancelled"]) >= 2, total

    log = locust.log
    assert "Traceback" not in log and "TypeError" not in log, log[-3000:]
    assert TOKEN not in log and "--insecure" not in log


def test_a_bad_value_is_one_clear_message_and_no_user_starts(driver, start_locust):
    locust = start_locust()
    with evidence_on_failure(driver, locust, "bad-value"):
        open_form(driver, locust)
        open_custom_parameters(driver)
        type_into(driver, "callerSeed", "twelve")
        click(driver, button(driver, "Start"))
        said = "--caller-seed: 'twelve' is not a whole number"
        wait_for(lambda: said in alert_text(driver), "the message naming the option and the value")
        time.sleep(1.5)  # would a user start anyway?
        assert header(driver, "Status") == "READY"
        assert button(driver, "Start").is_displayed()
    log = locust.log
    assert f"web UI start refused: {said}" in log
    assert "Ramping" not in log and "Traceback" not in log


def test_class_picker_runs_only_the_two_chosen_callers(driver, start_locust):
    locust = start_locust("--class-picker")
    with evidence_on_failure(driver, locust, "class-picker"):
        open_form(driver, locust)
        choose_callers(driver, {"AngryCaller", "NormalCaller"})
        type_into(driver, "userCount", "2")
        click(driver, button(driver, "Start"))
        wait_for(lambda: header(driver, "Users") == "2", "2 users running")
        spawned = wait_for(lambda: spawn_lines(locust), "Locust's spawn line")
        assert spawned[-1] == '{"AngryCaller": 1, "NormalCaller": 1}', spawned
        click(driver, button(driver, "Stop"))
        wait_for(lambda: shown_status(driver) == "STOPPED", "the STOPPED status")
    assert "Traceback" not in locust.log


def choose_callers(browser, chosen: set[str]) -> None:
    """Untick every class with the table's select-all box, then tick the chosen ones."""
    from selenium.webdriver.common.by import By

    rows = browser.find_elements(By.CSS_SELECTOR, "table tbody tr")
    header_box = browser.find_element(By.CSS_SELECTOR, "table thead input[type=checkbox]")
    if header_box.is_selected():
        click(browser, header_box)
    for row in rows:
        name = row.text.strip()
        box = row.find_element(By.CSS_SELECTOR, "input[type=checkbox]")
        if (name in chosen) != box.is_selected():
            click(browser, box)
    ticked = {row.text.strip() for row in rows
              if row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").is_selected()}
    assert ticked == chosen, ticked


def test_capacity_shape_from_the_class_picker_takes_the_form_s_plan(driver, start_locust):
    from selenium.webdriver.support.select import Select

    locust = start_locust("--class-picker")
    with evidence_on_failure(driver, locust, "capacity"):
        open_form(driver, locust)
        choose_callers(driver, {"ImpatientCaller", "TechSavvyCaller"})
        Select(driver.find_element("name", "shapeClass")).select_by_visible_text("CapacityShape")
        open_custom_parameters(driver)
        type_into(driver, "capacityStart", "2")
        type_into(driver, "capacityStep", "1")
        type_into(driver, "capacityMax", "1")
        type_into(driver, "capacityStepS", "4")
        click(driver, button(driver, "Start"))
        said = "--capacity-max (1) must be at least --capacity-start (2)"
        wait_for(lambda: said in alert_text(driver), "the capacity plan's message")
        assert header(driver, "Status") == "READY"

        type_into(driver, "capacityMax", "3")
        click(driver, button(driver, "Start"))
        wait_for(lambda: header(driver, "Users") == "2", "the first step's 2 callers")
        # A 4 s step is shorter than a whole call: only hung-up calls end in it, so it misses the success
        # target and the search ends there.
        wait_for(lambda: shown_status(driver) == "STOPPED", "the search to end", timeout=40)
    log = locust.log
    assert "capacity step: 2 callers" in log, log[-3000:]
    report = json.loads((locust.results / "capacity.json").read_text(encoding="utf-8"))
    assert [step["users"] for step in report["steps"]] == [2], report
    assert "Traceback" not in log
