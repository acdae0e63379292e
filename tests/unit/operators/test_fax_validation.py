"""Bad input fails the task with AirflowFailException naming the field, before any request reaches Telnyx."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator
from tests.support.documents import make_pdf
from tests.support.task_instances import RecordingTaskInstance


def execute(**kwargs: Any) -> RecordingTaskInstance:
    ti = RecordingTaskInstance()
    SendFaxOperator(task_id="send", **kwargs).execute({"ti": ti})  # type: ignore[arg-type]
    return ti


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "scan.tiff"
    with path.open("wb") as handle:
        handle.truncate(20 * 1024 * 1024 + 1)
    return path


@pytest.mark.parametrize(
    ("kwargs", "field_name", "hint"),
    [
        ({"to": "5550100000", "media_url": "https://example.com/a.pdf"}, "to", "E.164"),
        ({"to": "+15550100000", "from_number": "555", "media_url": "https://example.com/a.pdf"}, "from", "E.164"),
        ({"to": "+15550100000"}, "media_path", "none was given"),
        (
            {"to": "+15550100000", "media_url": "https://example.com/a.pdf", "media_name": "doc"},
            "media_path",
            "media_url, media_name",
        ),
        ({"to": "+15550100000", "media_path": "/no/such/report.pdf"}, "media_path", "no file at the given path"),
        ({"to": "+15550100000", "media_path": "/tmp/report.xlsx"}, "media_path", "not one Telnyx can fax"),
        (
            {"to": "+15550100000", "media_url": "https://example.com/a.pdf", "client_state": "not base64!"},
            "client_state",
            "base64",
        ),
        ({"to": "+15550100000", "media_url": "https://example.com/a.pdf", "quality": "best"}, "quality", "one of"),
        (
            {"to": "+15550100000", "media_url": "https://example.com/a.pdf", "black_threshold": 50},
            "black_threshold",
            "monochrome",
        ),
        (
            {"to": "+15550100000", "media_url": "https://example.com/a.pdf", "from_display_name": "<b>x</b>"},
            "from_display_name",
            "128",
        ),
    ],
)
def test_bad_input_names_the_field_and_sends_nothing(telnyx_fax_emulator, kwargs, field_name, hint):
    with pytest.raises(AirflowFailException, match=rf"Invalid '{field_name}'.*{hint}"):
        execute(**kwargs)

    assert telnyx_fax_emulator.request_count("POST", "/v2/faxes") == 0


def test_file_over_20_mb_is_refused_before_upload(telnyx_fax_emulator, big_file):
    with pytest.raises(AirflowFailException, match=r"Invalid 'media_path'.*20 MB"):
        execute(to="+15550100000", media_path=str(big_file))

    assert telnyx_fax_emulator.request_count("POST", "/v2/media") == 0


def test_pdf_over_350_pages_is_refused_before_upload(telnyx_fax_emulator, tmp_path):
    pdf = make_pdf(tmp_path / "huge.pdf", pages=351)

    with pytest.raises(AirflowFailException, match=r"Invalid 'media_path'.*351 pages"):
        execute(to="+15550100000", media_path=str(pdf))

    assert telnyx_fax_emulator.request_count("POST", "/v2/media") == 0


def test_unreadable_pdf_is_refused(telnyx_fax_emulator, tmp_path):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")

    with pytest.raises(AirflowFailException, match=r"Invalid 'media_path'.*not a readable PDF"):
        execute(to="+15550100000", media_path=str(broken))


def test_fax_id_is_pushed_and_the_record_returned_without_waiting(telnyx_fax_emulator):
    ti = RecordingTaskInstance()

    fax = SendFaxOperator(task_id="send", to="+15550100000", media_url="https://example.com/a.pdf").execute(
        {"ti": ti}  # type: ignore[arg-type]
    )

    assert ti.pushed == {"fax_id": fax["id"]}
    assert fax["status"] == "queued"


def test_resend_policy_is_checked_when_the_dag_is_parsed():
    with pytest.raises(ValueError, match="resend_policy must be one of if_failed, always, never"):
        SendFaxOperator(task_id="send", to="+15550100000", media_url="https://x/a.pdf", resend_policy="sometimes")


PARSE_TIME_SCRIPT = """
import sys
import airflow.sdk
before = set(sys.modules)
from airflow_provider_telnyx_fax.operators.batch import SendFaxBatchOperator
from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator

SendFaxOperator(task_id="send", to="+15550100000", media_url="https://x/a.pdf",
                send_window={"days": "mon-fri", "start": "08:00", "end": "18:00", "timezone": "America/Chicago"})
SendFaxBatchOperator(task_id="batch", recipients=["+15550100000"], media_url="https://x/a.pdf")
print("\\n".join(sorted(set(sys.modules) - before)))
"""
# A DAG file pays for the operator classes; what a running task needs loads when it runs.
RUN_TIME_ONLY = (
    "airflow_provider_telnyx_fax.batch",
    "airflow_provider_telnyx_fax.documents",
    "airflow_provider_telnyx_fax.hooks",
    "airflow_provider_telnyx_fax.idempotency",
    "airflow_provider_telnyx_fax.outcomes",
    "airflow_provider_telnyx_fax.polling",
    "pypdf",
    "reportlab",
)


def test_parsing_a_dag_loads_neither_the_batch_machinery_nor_documents():
    import subprocess
    import sys

    loaded = subprocess.run(
        [sys.executable, "-c", PARSE_TIME_SCRIPT], capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()

    assert [name for name in loaded if name.startswith(RUN_TIME_ONLY)] == []
