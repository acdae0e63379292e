"""The fax inbox in a real browser (headless Chromium): live updates, the document, the forms, escaping."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
import requests

from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
from airflow_provider_telnyx_fax.idempotency import SendKey
from telnyx_fax_emulator.documents import blank_pdf
from telnyx_fax_emulator_tests.support import write_pdf

if TYPE_CHECKING:
    from pathlib import Path

    from telnyx_fax_emulator.launcher import EmulatorProcess

DELIVERS = "+15550100000"
BUSY = "+15550100001"
CALLER = "+15551230000"
XSS_FILE_NAME = "<script>alert(1)</script>.pdf"
XSS_DAG = "<img src=x onerror=alert(1)>"
XSS_TASK = "<b onmouseover=alert(2)>task</b>"
XSS_RUN = "manual__<svg onload=alert(3)>"


def row_status(browser: Any, fax_id: str) -> str | None:
    """The status the list shows for a fax (read in the page: rows are replaced as they update)."""
    status: str | None = browser.execute_script(
        "const row = document.querySelector(`tr[data-fax-id='${arguments[0]}']`);"
        "return row ? row.querySelector('.status .badge').textContent.trim() : null;",
        fax_id,
    )
    return status


def watch_statuses(browser: Any, fax_id: str, final: str, timeout: float = 20.0) -> list[str]:
    """Every status the page shows for the fax, in order, until it shows ``final``."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = row_status(browser, fax_id)
        if status is not None and (not seen or seen[-1] != status):
            seen.append(status)
        if status == final:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"the inbox showed {seen} for fax {fax_id}, never {final!r} within {timeout}s")


def mark_document(browser: Any) -> None:
    # A reload or navigation would lose this marker; live updates keep it.
    browser.execute_script("window.inboxTestMarker = 'same page';")


def same_document(browser: Any) -> bool:
    return bool(browser.execute_script("return window.inboxTestMarker === 'same page';"))


def assert_no_alert(browser: Any, wait: float = 0.75) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    with pytest.raises(TimeoutException):
        WebDriverWait(browser, wait).until(expected_conditions.alert_is_present())


def submit(browser: Any, action: str) -> None:
    """Press the submit button of the form posting to ``.../{action}`` and wait for the next page."""
    from selenium.webdriver.common.by import By

    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, f"form[action$='/{action}'] button[type=submit]"))


def click_and_wait(browser: Any, element: Any) -> None:
    """Click a link or button and wait until the page it leads to has loaded.

    The old page's window carries a mark the new one lacks. No node of the old page is touched after the
    click: mid-navigation chromedriver may answer for one with "Node with given id does not belong to the
    document" rather than a stale reference, so those answers are waited out like any other.
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.wait import WebDriverWait

    browser.execute_script("window.inboxTestLeaving = true;")
    try:
        element.click()
    except WebDriverException as error:
        # chromedriver sometimes loses the clicked node when the click navigates at once; the
        # wait below still proves the navigation happened.
        if "does not belong to the document" not in str(error):
            raise
    WebDriverWait(browser, 30, ignored_exceptions=(WebDriverException,)).until(
        lambda driver: driver.execute_script(
            "return window.inboxTestLeaving !== true && document.readyState === 'complete';"
        )
    )


def send_like_the_operator(hook: TelnyxFaxHook, to: str, document: bytes, name: str, task: str) -> dict[str, Any]:
    """Upload, then send by media_name with the provider's send key, as TelnyxSendFaxOperator does."""
    key = SendKey("monthly_invoices", task, "scheduled__2025-06-01T00:00:00+00:00", -1, to, name)
    hook.upload_media(document, media_name=name, filename=name)
    return hook.send_fax(to, media_name=name, client_state=key.client_state())


def test_sent_fax_goes_live_to_delivered_and_shows_its_document(
    browser: Any, emulator: EmulatorProcess, tmp_path: Path, artifacts_dir: Path
) -> None:
    from selenium.webdriver.common.by import By

    emulator.set_speed(10)  # a one-page fax takes 3.5 s: the page has to show the states in between
    document = blank_pdf(1)
    browser.get(emulator.inbox_url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Fax inbox"
    mark_document(browser)

    hook = TelnyxFaxHook()
    delivered = send_like_the_operator(hook, DELIVERS, document, "invoice-2025-06.pdf", "fax_invoice")
    failed = send_like_the_operator(hook, BUSY, document, "reminder-2025-06.pdf", "fax_reminder")

    seen = watch_statuses(browser, delivered["id"], "delivered")
    assert seen[-1] == "delivered"
    assert set(seen[:-1]) & {"queued", "media.processed", "sending"}, f"no in-flight state shown: {seen}"
    watch_statuses(browser, failed["id"], "failed")
    assert same_document(browser), "the page reloaded instead of updating itself"

    failed_row = browser.find_element(By.CSS_SELECTOR, f"tr[data-fax-id='{failed['id']}']")
    assert "user_busy" in failed_row.find_element(By.CSS_SELECTOR, ".failure").text
    delivered_row = browser.find_element(By.CSS_SELECTOR, f"tr[data-fax-id='{delivered['id']}']")
    assert delivered_row.find_element(By.CSS_SELECTOR, ".sender-dag").text == "monthly_invoices"
    assert delivered_row.find_element(By.CSS_SELECTOR, ".sender-task").text == "fax_invoice"
    ids_in_order = [
        row.get_attribute("data-fax-id") for row in browser.find_elements(By.CSS_SELECTOR, "#fax-list tbody tr")
    ]
    assert ids_in_order == [failed["id"], delivered["id"]], "newest first"
    browser.save_screenshot(str(artifacts_dir / "inbox-list.png"))

    click_and_wait(browser, delivered_row.find_element(By.CSS_SELECTOR, "th a"))
    assert browser.current_url == f"{emulator.root_url}/faxes/{delivered['id']}"
    timeline = [item.text.split()[0] for item in browser.find_elements(By.CSS_SELECTOR, ".timeline li")]
    assert timeline == ["queued", "media.processed", "sending", "delivered"]
    events = [cell.text for cell in browser.find_elements(By.CSS_SELECTOR, ".events-table tbody th")]
    assert events == ["fax.queued", "fax.media.processed", "fax.sending.started", "fax.delivered"]

    frame = browser.find_element(By.CSS_SELECTOR, "iframe.document-frame")
    source = frame.get_attribute("src")
    assert source is not None
    download = requests.get(source, timeout=10)
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.content == document
    browser.save_screenshot(str(artifacts_dir / "inbox-fax-detail.png"))


def test_inbound_fax_simulated_through_the_form_arrives(
    browser: Any, emulator: EmulatorProcess, tmp_path: Path, artifacts_dir: Path
) -> None:
    from selenium.webdriver.common.by import By

    emulator.set_speed(20)  # 1.65 s from receiving to received
    upload = write_pdf(tmp_path / "signed-contract.pdf", 1)
    browser.get(emulator.inbox_url)
    browser.find_element(By.ID, "inbound-from").send_keys(CALLER)
    browser.find_element(By.ID, "inbound-document").send_keys(str(upload))
    submit(browser, "inbound")

    assert browser.current_url.endswith("/?done=inbound")
    assert "Inbound fax simulated" in browser.find_element(By.CSS_SELECTOR, ".notice").text
    mark_document(browser)
    (fax,) = emulator.faxes()
    assert (fax["direction"], fax["from"], fax["to"]) == ("inbound", CALLER, emulator.from_number)
    watch_statuses(browser, fax["id"], "received")
    assert same_document(browser)
    row = browser.find_element(By.CSS_SELECTOR, f"tr[data-fax-id='{fax['id']}']")
    assert row.find_element(By.CSS_SELECTOR, "th a").text == "signed-contract.pdf"
    assert row.get_attribute("data-direction") == "inbound"
    browser.save_screenshot(str(artifacts_dir / "inbox-inbound.png"))

    click_and_wait(browser, row.find_element(By.CSS_SELECTOR, "th a"))
    source = browser.find_element(By.CSS_SELECTOR, "iframe.document-frame").get_attribute("src")
    assert source is not None
    assert requests.get(source, timeout=10).content == upload.read_bytes()


def test_outcome_fault_and_reset_forms(browser: Any, emulator: EmulatorProcess) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    browser.get(emulator.inbox_url)
    browser.find_element(By.ID, "outcome-number").send_keys("+15557654321")
    Select(browser.find_element(By.ID, "outcome-select")).select_by_value("receiver_no_answer")
    submit(browser, "outcome")
    assert emulator.outcomes()["+15557654321"] == "receiver_no_answer"
    assert "Outcome saved" in browser.find_element(By.CSS_SELECTOR, ".notice").text

    Select(browser.find_element(By.ID, "fault-method")).select_by_value("GET")
    path = browser.find_element(By.ID, "fault-path")
    path.clear()
    path.send_keys("/v2/faxes/*")
    Select(browser.find_element(By.ID, "fault-kind")).select_by_value("rate_limit")
    count = browser.find_element(By.ID, "fault-count")
    count.clear()
    count.send_keys("3")
    submit(browser, "fault")
    (fault,) = emulator.faults()
    assert (fault["method"], fault["path"], fault["kind"], fault["remaining"]) == (
        "GET",
        "/v2/faxes/*",
        "rate_limit",
        3,
    )

    # A bad number is refused with a message, not a crash.
    browser.find_element(By.ID, "outcome-number").send_keys("12345")
    submit(browser, "outcome")
    assert "+E.164" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text

    emulator.simulate_inbound(CALLER)
    submit(browser, "reset")
    assert emulator.faxes() == []
    assert emulator.faults() == []
    assert "+15557654321" not in emulator.outcomes()
    assert "No faxes yet" in browser.find_element(By.CSS_SELECTOR, "#fax-list").text


def test_html_in_file_names_and_send_keys_is_shown_as_text_never_run(
    browser: Any, emulator: EmulatorProcess, artifacts_dir: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    inbound = emulator.simulate_inbound(CALLER, document=blank_pdf(1), filename=XSS_FILE_NAME)
    key = SendKey(XSS_DAG, XSS_TASK, XSS_RUN, -1, DELIVERS, "doc").client_state("PHNjcmlwdD4=")
    body = {"connection_id": emulator.connection_id, "from": emulator.from_number, "to": DELIVERS}
    outbound = requests.post(
        f"{emulator.base_url}/faxes",
        json={**body, "media_url": "https://example.com/a.pdf", "client_state": key},
        headers=emulator.auth_headers,
        timeout=10,
    ).json()["data"]
    # The API refuses markup in a display name (as Telnyx does), so it can never reach the page.
    refused = requests.post(
        f"{emulator.base_url}/faxes",
        json={**body, "media_url": "https://example.com/a.pdf", "from_display_name": "<img src=x onerror=alert(1)>"},
        headers=emulator.auth_headers,
        timeout=10,
    )
    assert refused.status_code == 422

    browser.get(emulator.inbox_url)
    assert_no_alert(browser)
    inbound_row = browser.find_element(By.CSS_SELECTOR, f"tr[data-fax-id='{inbound['id']}']")
    assert inbound_row.find_element(By.CSS_SELECTOR, "th a").text == XSS_FILE_NAME
    outbound_row = browser.find_element(By.CSS_SELECTOR, f"tr[data-fax-id='{outbound['id']}']")
    assert outbound_row.find_element(By.CSS_SELECTOR, ".sender-dag").text == XSS_DAG
    assert outbound_row.find_element(By.CSS_SELECTOR, ".sender-task").text == XSS_TASK
    assert outbound_row.find_element(By.CSS_SELECTOR, ".sender-run").text == XSS_RUN
    # Nothing the payloads describe exists as an element: only the page's own script and no images.
    assert len(browser.find_elements(By.TAG_NAME, "script")) == 1
    assert browser.find_elements(By.CSS_SELECTOR, "img, svg, #fax-list b") == []
    # The first live update always re-renders the rows (then says "Updated ..."): still text after it.
    WebDriverWait(browser, 30).until(
        lambda driver: driver.find_element(By.CSS_SELECTOR, ".live-status").text.startswith("Updated")
    )
    assert_no_alert(browser, wait=0.3)
    assert browser.find_element(By.CSS_SELECTOR, f"tr[data-fax-id='{inbound['id']}'] th a").text == XSS_FILE_NAME

    for fax_id in (inbound["id"], outbound["id"]):
        browser.get(f"{emulator.root_url}/faxes/{fax_id}")
        assert_no_alert(browser)
        assert browser.find_elements(By.CSS_SELECTOR, "main img, main svg, main script, .facts b") == []
    assert browser.find_element(By.CSS_SELECTOR, ".facts .sender-dag").text == XSS_DAG
    assert browser.find_element(By.CSS_SELECTOR, ".facts .sender-run").text == XSS_RUN
    browser.save_screenshot(str(artifacts_dir / "inbox-escaping.png"))
