"""Documents and delivery policy through the real task runner against the emulator: merged documents behind a
cover page, transmission reports, and the send window (with a frozen clock), deferred and on a worker."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from airflow_provider_telnyx_fax.idempotency import decode_client_state
from airflow_provider_telnyx_fax.models import was_not_dialled
from tests.support.clock import freeze_send_window_clock
from tests.support.documents import make_pdf

DELIVERS = "+15550100000"
BUSY_ONCE = "+15550100010"
CHICAGO = ZoneInfo("America/Chicago")
COVER = {"subject": "Invoice 2026-06", "recipient_name": "Dr. Ada Smith", "sender_name": "Acme Billing"}
MODES = ["deferred", "on_worker"]


def outbound(emulator) -> list[dict]:
    return [fax for fax in emulator.faxes() if fax["direction"] == "outbound"]


def report_text(path) -> tuple[str, PdfReader]:
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    # pypdf puts a label and its value on one line or two, depending on the layout.
    return re.sub(r":[ \n]+", ": ", text), reader


@pytest.fixture
def invoice_and_terms(tmp_path):
    return [str(make_pdf(tmp_path / "invoice.pdf", 2)), str(make_pdf(tmp_path / "terms.pdf", 3))]


@pytest.mark.parametrize("mode", MODES)
def test_merged_documents_behind_a_cover_are_one_fax_and_the_report_proves_it(
    run_dag, telnyx_fax_emulator, tmp_path, invoice_and_terms, mode
):
    report = tmp_path / "reports" / "fax.pdf"
    result = run_dag(
        f"send_documents_{mode}",
        conf={"media_paths": invoice_and_terms, "cover_page": COVER, "report_path": str(report)},
    )

    assert result.task_states == {"send": "success"}
    [fax] = outbound(telnyx_fax_emulator)
    # Telnyx counts the pages of what it was given: both documents and the cover.
    assert fax["page_count"] == 2 + 3 + 1
    assert telnyx_fax_emulator.request_count("POST", "/v2/media") == 1
    text, reader = report_text(report)
    assert len(reader.pages) == 1
    for expected in (fax["id"], "Delivered", "From: +15550199999", "Pages: 6", "Duration:", "Start:", "End:"):
        assert expected in text, expected
    # The destination is masked (the mask's dots do not survive text extraction; its last four do).
    assert re.search(r"To: \+1\W+0000\n", text), text
    assert DELIVERS not in text
    images = list(reader.pages[0].images)
    assert len(images) == 1, "the report shows the first page of the fax"


def test_a_rerun_with_the_same_documents_and_cover_is_recognised_and_a_changed_cover_is_a_new_fax(
    run_dag, telnyx_fax_emulator, invoice_and_terms
):
    day = datetime(2026, 3, 2, tzinfo=timezone.utc)
    conf = {"media_paths": invoice_and_terms, "cover_page": COVER}

    first = run_dag("send_documents_deferred", conf=conf, logical_date=day)
    again = run_dag("send_documents_deferred", conf=conf, logical_date=day)

    assert first.task_states == again.task_states == {"send": "success"}
    assert len(outbound(telnyx_fax_emulator)) == 1
    assert again.xcom("send")["id"] == first.xcom("send")["id"]

    changed = run_dag(
        "send_documents_deferred",
        conf={**conf, "cover_page": {**COVER, "subject": "Invoice 2026-07"}},
        logical_date=day,
    )

    faxes = outbound(telnyx_fax_emulator)
    assert len(faxes) == 2
    keys = {decode_client_state(fax["client_state"])["key"] for fax in faxes}
    assert len(keys) == 2, "a different cover page is a different document, so a different send key"
    assert changed.xcom("send")["id"] != first.xcom("send")["id"]


def test_a_merge_over_the_page_limit_is_refused_before_anything_is_sent(run_dag, telnyx_fax_emulator, tmp_path):
    paths = [str(make_pdf(tmp_path / "a.pdf", 200)), str(make_pdf(tmp_path / "b.pdf", 150))]

    result = run_dag("send_documents_on_worker", conf={"media_paths": paths, "cover_page": COVER})

    assert result.task_states == {"send": "failed"}
    assert result.tries == {"send": 1}
    assert outbound(telnyx_fax_emulator) == []
    assert telnyx_fax_emulator.request_count("POST", "/v2/media") == 0


def test_media_path_and_media_paths_together_are_refused_naming_both(run_dag, telnyx_fax_emulator, invoice_and_terms):
    result = run_dag(
        "send_documents_on_worker", conf={"media_path": invoice_and_terms[0], "media_paths": invoice_and_terms}
    )

    assert result.task_states == {"send": "failed"}
    assert result.tries == {"send": 1}
    assert outbound(telnyx_fax_emulator) == []


def test_a_fax_by_url_gets_a_report_without_a_first_page(run_dag, telnyx_fax_emulator, tmp_path):
    report = tmp_path / "url-fax.pdf"

    result = run_dag(
        "send_documents_deferred", conf={"media_url": "https://example.com/x.pdf", "report_path": str(report)}
    )

    assert result.task_states == {"send": "success"}
    text, reader = report_text(report)
    assert result.xcom("send")["id"] in text
    assert "not available" in text
    assert list(reader.pages[0].images) == []


def test_a_failed_fax_gets_its_report_with_the_failure_reason(
    run_dag, telnyx_fax_emulator, tmp_path, invoice_and_terms
):
    report = tmp_path / "failed.pdf"

    result = run_dag(
        "send_documents_on_worker",
        conf={"to": "+15550100005", "media_paths": invoice_and_terms, "report_path": str(report)},
    )

    assert result.task_states == {"send": "failed"}
    text, _ = report_text(report)
    assert "destination_invalid" in text
    assert "permanent" in text


# -- the send window ---------------------------------------------------------------------------------


def chicago(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


@pytest.fixture
def trigger_moments(monkeypatch):
    """The moments the send waited for in a date-time trigger (a spy on the real trigger)."""
    from airflow.providers.standard.triggers.temporal import DateTimeTrigger

    moments: list[datetime] = []
    original = DateTimeTrigger.__init__

    def spy(self, moment=None, **kwargs):
        moments.append(moment)
        original(self, moment, **kwargs)

    monkeypatch.setattr(DateTimeTrigger, "__init__", spy)
    return moments


def test_a_send_at_friday_19_00_waits_in_the_triggerer_until_monday_08_00(
    run_dag, telnyx_fax_emulator, monkeypatch, trigger_moments
):
    # 2026-01-09 is a Friday; the resumed try reads the clock again, at Monday 08:00.
    freeze_send_window_clock(monkeypatch, chicago(2026, 1, 9, 19, 0), chicago(2026, 1, 12, 8, 0))

    result = run_dag("send_in_window_deferred", conf={"to": DELIVERS})

    assert result.task_states == {"send": "success"}
    assert {moment.astimezone(CHICAGO) for moment in trigger_moments if moment} == {chicago(2026, 1, 12, 8, 0)}
    assert len(outbound(telnyx_fax_emulator)) == 1


def test_a_send_at_friday_19_00_on_a_worker_sleeps_until_monday_08_00(run_dag, telnyx_fax_emulator, monkeypatch):
    clock = freeze_send_window_clock(monkeypatch, chicago(2026, 1, 9, 19, 0))

    result = run_dag("send_in_window_on_worker", conf={"to": DELIVERS})

    assert result.task_states == {"send": "success"}
    assert clock.slept == timedelta(hours=61)
    assert len(outbound(telnyx_fax_emulator)) == 1


def test_a_send_at_19_00_on_a_weekday_waits_until_08_00_the_next_morning(run_dag, telnyx_fax_emulator, monkeypatch):
    clock = freeze_send_window_clock(monkeypatch, chicago(2026, 1, 7, 19, 0))

    result = run_dag("send_in_window_on_worker", conf={"to": DELIVERS})

    assert result.task_states == {"send": "success"}
    assert clock.slept == timedelta(hours=13)


@pytest.mark.parametrize("mode", MODES)
def test_a_retry_after_user_busy_at_17_59_waits_for_the_next_window(
    run_dag, telnyx_fax_emulator, monkeypatch, trigger_moments, mode
):
    # Wednesday: the first try dials at 17:59 and the line is busy; the retry comes at 18:04.
    moments = [chicago(2026, 1, 7, 17, 59), chicago(2026, 1, 7, 18, 4)]
    if mode == "deferred":
        moments.append(chicago(2026, 1, 8, 8, 0))
    clock = freeze_send_window_clock(monkeypatch, *moments)

    result = run_dag(f"send_in_window_{mode}", conf={"to": BUSY_ONCE})

    assert result.task_states == {"send": "success"}
    assert result.tries == {"send": 2}
    assert sorted((fax["status"], fax.get("failure_reason")) for fax in outbound(telnyx_fax_emulator)) == [
        ("delivered", None),
        ("failed", "user_busy"),
    ]
    if mode == "deferred":
        assert {moment.astimezone(CHICAGO) for moment in trigger_moments if moment} == {chicago(2026, 1, 8, 8, 0)}
    else:
        assert clock.slept == timedelta(hours=13, minutes=56)


# -- batches -----------------------------------------------------------------------------------------


def test_a_batch_sends_the_merged_document_with_its_cover_and_reports_every_row(
    run_dag, telnyx_fax_emulator, monkeypatch, tmp_path, invoice_and_terms
):
    freeze_send_window_clock(monkeypatch, chicago(2026, 1, 7, 10, 0))
    recipients = [f"+1555010{index:04d}" for index in range(20, 32)]
    report = tmp_path / "batch.pdf"

    result = run_dag(
        "batch_documents_on_worker",
        conf={
            "recipients": recipients,
            "media_paths": invoice_and_terms,
            "cover_page": {"subject": "Statement", "sender_name": "Acme Billing"},
            "report_path": str(report),
        },
    )

    assert result.task_states == {"send": "success"}, result
    # Dials refused for want of one of the emulator's 10 channels reached nobody: they are not faxes sent.
    faxes = [fax for fax in outbound(telnyx_fax_emulator) if not was_not_dialled(fax)]
    assert len(faxes) == len(recipients)
    assert {fax["page_count"] for fax in faxes} == {6}
    assert telnyx_fax_emulator.request_count("POST", "/v2/media") == 1
    text, _ = report_text(report)
    for fax in faxes:
        assert fax["id"] in text
    assert text.count("delivered") >= len(recipients)
    for number in recipients:
        assert number not in text


def test_a_batch_outside_the_window_defers_until_it_opens(
    run_dag, telnyx_fax_emulator, monkeypatch, trigger_moments, invoice_and_terms
):
    freeze_send_window_clock(monkeypatch, chicago(2026, 1, 10, 9, 0), chicago(2026, 1, 12, 8, 0))

    result = run_dag("batch_documents_deferred", conf={"recipients": [DELIVERS], "media_paths": invoice_and_terms})

    assert result.task_states == {"send": "success"}
    assert chicago(2026, 1, 12, 8, 0) in {moment.astimezone(CHICAGO) for moment in trigger_moments if moment}
    assert len(outbound(telnyx_fax_emulator)) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_batch_still_sending_when_the_window_closes_sends_the_rest_when_it_opens(
    run_dag, telnyx_fax_emulator, monkeypatch, trigger_moments, invoice_and_terms, mode
):
    # Two rows to one number go in two waves (one call per number at a time). Wednesday: the first wave
    # dials at 17:58; the second would dial at 18:01, after the window closed.
    moments = [chicago(2026, 1, 7, 17, 58), chicago(2026, 1, 7, 17, 58), chicago(2026, 1, 7, 18, 1)]
    if mode == "deferred":
        moments.append(chicago(2026, 1, 8, 8, 0))
    clock = freeze_send_window_clock(monkeypatch, *moments)

    result = run_dag(
        f"batch_documents_{mode}", conf={"recipients": [DELIVERS, DELIVERS], "media_paths": invoice_and_terms}
    )

    assert result.task_states == {"send": "success"}, result
    faxes = sorted(outbound(telnyx_fax_emulator), key=lambda fax: fax["created_at"])
    assert [fax["status"] for fax in faxes] == ["delivered", "delivered"]
    if mode == "deferred":
        assert chicago(2026, 1, 8, 8, 0) in {moment.astimezone(CHICAGO) for moment in trigger_moments if moment}
    else:
        assert clock.slept == timedelta(hours=13, minutes=59)


def test_report_text_is_read_back_by_pypdf():
    # Guard for the helpers above: an empty PDF has no text, so a missing field cannot pass unnoticed.
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    text, _ = report_text(io.BytesIO(buffer.getvalue()))
    assert "Delivered" not in text


# -- arguments ---------------------------------------------------------------------------------------


def test_a_report_without_waiting_for_the_outcome_is_refused_when_the_dag_is_parsed():
    from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator

    with pytest.raises(ValueError, match="report_path needs wait_for_completion=True"):
        SendFaxOperator(task_id="send", to=DELIVERS, media_url="https://example.com/a.pdf", report_path="r.pdf")


def test_a_bad_literal_window_is_refused_when_the_dag_is_parsed_and_a_templated_one_when_rendered():
    from airflow_provider_telnyx_fax.exceptions import TelnyxFaxValidationError
    from airflow_provider_telnyx_fax.operators.delivery import window_of
    from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator

    with pytest.raises(TelnyxFaxValidationError, match="is not an IANA time zone"):
        SendFaxOperator(task_id="send", to=DELIVERS, media_url="u", send_window={"timezone": "Chicago"})
    templated = SendFaxOperator(task_id="send", to=DELIVERS, media_url="u", send_window="{{ params.window }}")
    assert templated.send_window == "{{ params.window }}"
    assert window_of('{"days": "sat,sun", "timezone": "Europe/Paris"}').days == (5, 6)
    with pytest.raises(TelnyxFaxValidationError, match="is text that is not JSON") as raised:
        window_of("mon-fri")
    assert raised.value.field == "send_window"


def test_the_cover_prints_the_runs_date_in_the_windows_time_zone():
    from types import SimpleNamespace

    from airflow_provider_telnyx_fax.operators.delivery import run_date
    from airflow_provider_telnyx_fax.send_window import SendWindow

    context = {"dag_run": SimpleNamespace(run_after=datetime(2026, 6, 2, 3, 0, tzinfo=timezone.utc))}

    assert run_date(context, None) == "2 June 2026"
    assert run_date(context, SendWindow.of({"timezone": "America/Chicago"})) == "1 June 2026"
