"""
The Faxes page in a real browser, inside the real Airflow UI, after the example DAGs ran against the emulator.

One deployment for the module: a fresh home and SQLite database, ``airflow dags test`` of
``example_fax_batch`` (twice: two runs) and ``example_fax_cancel`` against one emulator, then a real
api-server with a test auth manager (tests/support/restricted_auth_manager.py): an admin, and a
viewer who may read only ``example_fax_batch``. Headless Chromium signs in with each user's token
as the UI's ``_token`` cookie. The cases run in file order against the same deployment; the last
one adds a fax and watches it go from ``sending`` to ``delivered`` without a reload.

About 2 minutes: the three runs and the api-server's start (about 30 s), and the last case's fax on the line
at a real line's speed (about 30 s), so that the page is open before it is delivered however slow the
machine.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
import requests
from selenium.common.exceptions import WebDriverException

from airflow_provider_telnyx_fax.plugins.fax_rows import CSV_COLUMNS
from tests.support.airflow_processes import (
    AIRFLOW,
    EXAMPLE_DAGS,
    REPO_ROOT,
    AirflowDB,
    airflow_env,
    api_server_healthy,
    api_server_settings,
    dags_test,
    migrate,
    stop_groups,
    wait_until,
)
from tests.support.browser import headless_chromium
from tests.support.faxes_page import ADMIN, PASSWORDS, RESTRICTED, auth_settings, send_keyed_fax
from tests.support.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

# Three `airflow dags test` runs and an api-server start before the first case, on a shared machine.
pytestmark = pytest.mark.timeout(1500)

BATCH_DAG = "example_fax_batch"
CANCEL_DAG = "example_fax_cancel"
DELIVERS = "+15550100000"
BUSY = "+15550100001"
ALSO_DELIVERS = "+15550100020"
INVALID = "+15550100005"
NEVER_FINISHES = "+15550100011"
SCREENSHOT = REPO_ROOT / "docs" / "faxes-page.png"
XSS_DAG = "<img src=x onerror=alert(1)>"
XSS_TASK = "<script>alert(2)</script>"
# A page or frame in the middle of loading may answer a script or element call with an error of its own
# (a lost execution context, a node of the old document): a wait asks again.
NAVIGATING = (WebDriverException,)


class Deployment:
    """The api-server, its database, the emulator, the runs the DAGs made and each user's token."""

    def __init__(self, env: dict[str, str], home: Path, emulator: Any, base_url: str) -> None:
        self.env, self.home, self.emulator, self.base_url = env, home, emulator, base_url
        self.db = AirflowDB(home / "airflow.db")
        self.logs = home / "component-logs"
        self.runs: dict[str, list[str]] = {}
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            answer = requests.post(
                f"{self.base_url}/auth/token",
                json={"username": username, "password": PASSWORDS[username]},
                timeout=30,
            )
            assert answer.status_code == 201, answer.text
            self.tokens[username] = answer.json()["access_token"]
        return self.tokens[username]

    def get(self, route: str, username: str | None = None, **params: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token(username)}"} if username else {}
        return requests.get(f"{self.base_url}/telnyx-fax-ui{route}", params=params, headers=headers, timeout=60)

    def fax_ids(self, dag_id: str, run_id: str, count: int) -> list[str]:
        """The ids the mapped ``send`` task pushed, by map index."""
        return [str(self.db.xcom(dag_id, run_id, "send", "fax_id", index)) for index in range(count)]

    def fax_id(self, dag_id: str, run_id: str) -> str:
        """The id the (unmapped) ``send`` task pushed."""
        return str(self.db.xcom(dag_id, run_id, "send", "fax_id"))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from telnyx_fax_emulator.launcher import start_emulator

    home = tmp_path_factory.mktemp("faxes-page-airflow-home")
    logs = home / "component-logs"
    logs.mkdir()
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps(PASSWORDS))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    emulator = start_emulator()
    emulator.set_speed(1000)
    env = airflow_env(
        home,
        EXAMPLE_DAGS,
        AIRFLOW_CONN_TELNYX_FAX_DEFAULT=emulator.airflow_conn_json,
        # The api-server imports the test auth manager from tests/support.
        PYTHONPATH=str(REPO_ROOT),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        **api_server_settings(port),
        **auth_settings([BATCH_DAG]),
    )
    deployment = Deployment(env, home, emulator, base_url)
    api_server: subprocess.Popen[bytes] | None = None
    try:
        migrate(env)
        db = deployment.db
        for dag_id, conf in (
            (BATCH_DAG, {"recipients": [DELIVERS, BUSY, ALSO_DELIVERS], "storage_root": str(home), "poll_interval": 1}),
            (BATCH_DAG, {"recipients": [DELIVERS, INVALID], "storage_root": str(home), "poll_interval": 1}),
            (CANCEL_DAG, {"to": NEVER_FINISHES}),
        ):
            run = dags_test(env, db, dag_id, conf=conf, log_dir=logs, timeout=300)
            deployment.runs.setdefault(dag_id, []).append(run.run_id)
        with (logs / "api-server.log").open("wb") as log:
            api_server = subprocess.Popen(
                [AIRFLOW, "api-server"], env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        wait_until(lambda: api_server_healthy(base_url), 180, "the api-server to answer", logs)
        yield deployment
    finally:
        if api_server is not None:
            stop_groups([api_server])
        emulator.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with headless_chromium(window_size="1440,1000") as driver:
        yield driver


# -- driving the page --------------------------------------------------------------------------------


def sign_in(browser: Any, deployment: Deployment, username: str) -> None:
    """Be ``username`` in the UI: their token as the ``_token`` cookie, as the UI's login leaves it."""
    browser.get(f"{deployment.base_url}/api/v2/monitor/health")
    browser.delete_all_cookies()
    browser.add_cookie({"name": "_token", "value": deployment.token(username), "path": "/"})


def open_in_ui(browser: Any, deployment: Deployment, path: str) -> None:
    """Open an Airflow UI page that frames the Faxes page, and step into the frame once its rows are drawn."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    browser.switch_to.default_content()
    browser.get(deployment.base_url + path)
    frame = WebDriverWait(browser, 120, ignored_exceptions=NAVIGATING).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, "iframe[src*='/telnyx-fax-ui/faxes']")
    )[0]
    browser.switch_to.frame(frame)
    WebDriverWait(browser, 120, ignored_exceptions=NAVIGATING).until(
        lambda driver: driver.execute_script(
            "const page = document.getElementById('faxes-page'); return page && page.hasAttribute('data-in-flight');"
        )
    )


def shown_rows(browser: Any) -> list[dict[str, Any]]:
    """Every row of the fax table as the person sees it: cell texts and link targets."""
    rows: list[dict[str, Any]] = browser.execute_script(
        """
        return Array.from(document.querySelectorAll('table.faxes tbody tr')).map(function (tr) {
          var cells = {};
          tr.querySelectorAll('td').forEach(function (td) { cells[td.className] = td.textContent; });
          var task = tr.querySelector('td.task a'), run = tr.querySelector('td.run a');
          return {fax_id: tr.getAttribute('data-fax-id'), cells: cells,
                  task_href: task ? task.getAttribute('href') : null, run_href: run ? run.getAttribute('href') : null};
        });
        """
    )
    return rows


def rollup_counts(browser: Any) -> dict[tuple[str, str], tuple[str, str, str, str, str]]:
    lines = browser.execute_script(
        """
        return Array.from(document.querySelectorAll('table.rollup tbody tr')).map(function (tr) {
          var text = function (name) { return tr.querySelector('td.' + name).textContent; };
          var reasons = Array.from(tr.querySelectorAll('td.failed-by-reason li')).map(function (li) {
            return li.textContent;
          });
          return [tr.getAttribute('data-dag-id'), tr.getAttribute('data-run-id'), text('total'), text('delivered'),
                  text('failed'), reasons.join(', '), text('pending')];
        });
        """
    )
    return {(line[0], line[1]): tuple(line[2:]) for line in lines}


def row_status(browser: Any, fax_id: str) -> str | None:
    status: str | None = browser.execute_script(
        "const row = document.querySelector(`tr[data-fax-id='${arguments[0]}']`);"
        "return row ? row.querySelector('td.status').textContent : null;",
        fax_id,
    )
    return status


def task_path(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    path = f"/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}/tasks/{quote(task_id, safe='')}"
    return f"{path}/mapped/{map_index}" if map_index >= 0 else path


# -- the cases, in order -------------------------------------------------------------------------------


def test_anonymous_requests_get_401_on_every_route(deployment: Deployment) -> None:
    for route in ("/faxes", "/faxes.json", "/faxes.csv", "/static/faxes.js"):
        assert deployment.get(route).status_code == 401, route


def test_the_faxes_page_lists_the_dags_faxes_with_their_task_links_and_rollup(
    deployment: Deployment, browser: Any
) -> None:
    first, second = deployment.runs[BATCH_DAG]
    (cancel_run,) = deployment.runs[CANCEL_DAG]
    first_ids = deployment.fax_ids(BATCH_DAG, first, 3)
    second_ids = deployment.fax_ids(BATCH_DAG, second, 2)
    cancelled_id = deployment.fax_id(CANCEL_DAG, cancel_run)

    sign_in(browser, deployment, ADMIN)
    open_in_ui(browser, deployment, "/plugin/telnyx-faxes")
    rows = {row["fax_id"]: row for row in shown_rows(browser)}

    assert set(rows) == {*first_ids, *second_ids, cancelled_id}
    for run_id, fax_ids in ((first, first_ids), (second, second_ids)):
        for map_index, fax_id in enumerate(fax_ids):
            row = rows[fax_id]
            assert row["cells"]["dag"] == BATCH_DAG
            assert row["cells"]["task"] == f"send [{map_index}]"
            assert row["task_href"] == task_path(BATCH_DAG, run_id, "send", map_index)
            assert row["run_href"] == f"/dags/{BATCH_DAG}/runs/{quote(run_id, safe='')}"
    assert rows[cancelled_id]["task_href"] == task_path(CANCEL_DAG, cancel_run, "send")
    # Numbers masked; no document name anywhere on the page.
    assert {rows[fax_id]["cells"]["to"] for fax_id in second_ids} == {"+1•••••0000", "+1•••••0005"}
    assert ".pdf" not in browser.find_element("css selector", "body").text

    counts = rollup_counts(browser)
    assert counts[(BATCH_DAG, "")] == ("5", "3", "2", "destination_invalid: 1, user_busy: 1", "0")
    assert counts[(BATCH_DAG, first)] == ("3", "2", "1", "user_busy: 1", "0")
    assert counts[(BATCH_DAG, second)] == ("2", "1", "1", "destination_invalid: 1", "0")
    assert counts[(CANCEL_DAG, cancel_run)] == ("1", "0", "1", "sender_canceled: 1", "0")

    browser.switch_to.default_content()
    browser.save_screenshot(str(SCREENSHOT))


def test_a_task_link_opens_the_task_instance_in_the_airflow_ui(deployment: Deployment, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    first = deployment.runs[BATCH_DAG][0]
    fax_id = deployment.fax_ids(BATCH_DAG, first, 3)[1]
    open_in_ui(browser, deployment, "/plugin/telnyx-faxes")

    browser.find_element(By.CSS_SELECTOR, f"tr[data-fax-id='{fax_id}'] td.task a").click()

    browser.switch_to.default_content()
    expected = deployment.base_url + task_path(BATCH_DAG, first, "send", 1)
    WebDriverWait(browser, 60, ignored_exceptions=NAVIGATING).until(lambda driver: driver.current_url == expected)


def test_the_run_tab_shows_only_that_run(deployment: Deployment, browser: Any) -> None:
    first = deployment.runs[BATCH_DAG][0]

    open_in_ui(browser, deployment, f"/dags/{BATCH_DAG}/runs/{quote(first, safe='')}/plugin/telnyx-faxes-run")

    assert {row["fax_id"] for row in shown_rows(browser)} == set(deployment.fax_ids(BATCH_DAG, first, 3))
    assert set(rollup_counts(browser)) == {(BATCH_DAG, ""), (BATCH_DAG, first)}


def test_the_csv_export_holds_the_rows_shown(deployment: Deployment, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait

    open_in_ui(browser, deployment, "/plugin/telnyx-faxes")
    # Choosing a filter on the page reloads the frame with it.
    Select(browser.find_element(By.CSS_SELECTOR, "select[name=status]")).select_by_value("failed")
    WebDriverWait(browser, 60, ignored_exceptions=NAVIGATING).until(
        lambda driver: driver.execute_script(
            "return location.search.includes('status=failed') && document.getElementById('faxes-page')"
            ".hasAttribute('data-in-flight');"
        )
    )
    rows = shown_rows(browser)
    href = browser.find_element(By.CSS_SELECTOR, "a.csv-link").get_attribute("href")

    answer = requests.get(href, headers={"Authorization": f"Bearer {deployment.token(ADMIN)}"}, timeout=60)

    assert answer.status_code == 200, answer.text
    table = list(csv.DictReader(io.StringIO(answer.text)))
    assert [row["cells"]["status"] for row in rows] == ["failed"] * 3
    assert [line["fax_id"] for line in table] == [row["fax_id"] for row in rows]
    for line, row in zip(table, rows, strict=True):
        assert list(line) == list(CSV_COLUMNS)
        assert (line["dag_id"], line["status"], line["failure_reason"]) == (
            row["cells"]["dag"],
            row["cells"]["status"],
            row["cells"]["failure-reason"],
        )
        # The CSV keeps a leading + from reading as a formula.
        assert line["to_number"] == "'" + row["cells"]["to"]


def listed(deployment: Deployment, fax_id: str) -> dict[str, Any]:
    """The page's JSON for the admin once it lists the fax (a listing is shared for a couple of seconds)."""

    def view() -> dict[str, Any] | None:
        data: dict[str, Any] = deployment.get("/faxes.json", ADMIN).json()
        rows = [row for row in data["rows"] if row["fax_id"] == fax_id]
        return data if rows else None

    result: dict[str, Any] = wait_until(view, 120, f"the page's JSON to list fax {fax_id}", deployment.logs)
    return result


def test_a_user_without_access_to_a_dag_does_not_see_its_faxes(deployment: Deployment, browser: Any) -> None:
    inbound = deployment.emulator.simulate_inbound("+15550177000", to="+15550142000")
    deployment.emulator.wait_for_status(inbound["id"], "received", timeout=30)

    admin = listed(deployment, inbound["id"])
    viewer = deployment.get("/faxes.json", RESTRICTED).json()

    assert {row["dag_id"] for row in viewer["rows"]} == {BATCH_DAG}
    assert {row["dag_id"] for row in admin["rows"]} == {BATCH_DAG, CANCEL_DAG, ""}
    # Neither the cancelled fax nor the received one (no DAG: it needs the connection), nor how many there are.
    assert viewer["listed"] == len(viewer["rows"]) == len(admin["rows"]) - 2
    sign_in(browser, deployment, RESTRICTED)
    open_in_ui(browser, deployment, "/plugin/telnyx-faxes")
    assert {row["cells"]["dag"] for row in shown_rows(browser)} == {BATCH_DAG}
    assert CANCEL_DAG not in browser.find_element("css selector", "body").text
    sign_in(browser, deployment, ADMIN)


def test_html_in_a_send_key_shows_as_text(deployment: Deployment, browser: Any, monkeypatch: Any) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

    monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", deployment.emulator.airflow_conn_json)
    fax = send_keyed_fax(TelnyxFaxHook(), ALSO_DELIVERS, dag_id=XSS_DAG, task_id=XSS_TASK, run_id="manual__<b>x</b>")
    deployment.emulator.wait_for_status(fax["id"], "delivered", timeout=30)
    listed(deployment, fax["id"])

    open_in_ui(browser, deployment, "/plugin/telnyx-faxes")
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-fax-id='{fax['id']}']")

    assert row.find_element(By.CSS_SELECTOR, "td.dag").text == XSS_DAG
    assert row.find_element(By.CSS_SELECTOR, "td.task").text == XSS_TASK
    assert row.find_element(By.CSS_SELECTOR, "td.run").text == "manual__<b>x</b>"
    assert browser.find_elements(By.CSS_SELECTOR, "table img, table script, table b") == []
    with pytest.raises(TimeoutException):
        WebDriverWait(browser, 1).until(expected_conditions.alert_is_present())


def test_a_fax_going_from_sending_to_delivered_updates_without_a_reload(
    deployment: Deployment, browser: Any, monkeypatch: Any
) -> None:
    from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook

    first = deployment.runs[BATCH_DAG][0]
    monkeypatch.setenv("AIRFLOW_CONN_TELNYX_FAX_DEFAULT", deployment.emulator.airflow_conn_json)
    # Near a real line's speed, so the page sees the fax in flight: about 30 s in `sending` for one page.
    deployment.emulator.set_speed(1.6)
    fax = send_keyed_fax(TelnyxFaxHook(), DELIVERS, dag_id=BATCH_DAG, task_id="send", run_id=first, map_index=7)
    deployment.emulator.set_speed(1000)
    listed(deployment, fax["id"])

    open_in_ui(browser, deployment, "/plugin/telnyx-faxes")
    browser.execute_script("window.faxesPageMarker = 'same page';")
    seen: list[str] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and (not seen or seen[-1] != "delivered"):
        status = row_status(browser, fax["id"])
        if status and (not seen or seen[-1] != status):
            seen.append(status)
        time.sleep(0.2)

    assert seen[-1:] == ["delivered"], seen
    assert "sending" in seen, seen
    assert browser.execute_script("return window.faxesPageMarker;") == "same page", "the page reloaded"
    counts = rollup_counts(browser)
    assert counts[(BATCH_DAG, first)] == ("4", "3", "1", "user_busy: 1", "0")
