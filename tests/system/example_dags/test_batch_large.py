"""example_fax_batch_large under ``airflow dags test``: a CSV in object storage, one upload, deferred waits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_telnyx_fax.batch.manifest import read_manifest
from airflow_provider_telnyx_fax.models import was_not_dialled

if TYPE_CHECKING:
    from pathlib import Path

    from tests.system.example_dags.conftest import ExampleAirflow

DAG_ID = "example_fax_batch_large"
SIZE = 300
BUSY = 1


def test_the_large_batch_example_sends_every_row_once_and_summarizes(
    example_airflow: ExampleAirflow, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("EXAMPLE_FAX_BATCH_RETRY_DELAY", "0")
    monkeypatch.setenv("EXAMPLE_FAX_BATCH_SENDS_PER_SECOND", "500")
    # The busy row is redialled on each retry once its number has rested; a second is enough for the emulator.
    monkeypatch.setenv("EXAMPLE_FAX_BATCH_SAME_NUMBER_GAP", "1")
    storage = (tmp_path / "storage").as_uri()

    run = example_airflow.dags_test(
        DAG_ID, conf={"size": SIZE, "busy": BUSY, "storage_root": storage, "poll_interval": 0.5}
    )

    # One row answers busy every time: the batch task's two retries resend only that row, then it fails.
    states = example_airflow.db.task_states(run.dag_id, run.run_id)
    assert states[("send_batch", -1)] == "failed", run.tail()
    assert states[("summarize", -1)] == "success", run.tail()
    # The batch dials on the worker, keeping the emulator's 10 channels busy, and says so.
    assert "channels busy" in run.output
    summary = example_airflow.db.xcom(run.dag_id, run.run_id, "summarize")
    assert summary["total"] == SIZE
    assert summary["delivered"] == SIZE - BUSY
    assert summary["failed"] == {"retryable": BUSY, "permanent": 0}

    # Dials Telnyx refused for want of one of the emulator's 10 channels reached nobody: they are not faxes sent.
    faxes = [
        fax for fax in example_airflow.emulator.faxes() if fax["direction"] == "outbound" and not was_not_dialled(fax)
    ]
    assert len(faxes) == SIZE + 2 * BUSY
    assert example_airflow.emulator.request_count("POST", "/v2/media") == 1
    assert len({fax["media_name"] for fax in faxes}) == 1
    (manifest,) = (tmp_path / "storage" / "manifests").glob("*.jsonl")
    lines = read_manifest(manifest)
    assert [line["row_id"] for line in lines] == [f"customer-{index:05d}" for index in range(SIZE)]
    assert {line["fax_id"] for line in lines} <= {fax["id"] for fax in faxes}
    assert sorted(line["attempts"] - line["not_dialled"] for line in lines)[-BUSY - 1 :] == [1] + [3] * BUSY
    assert "Batch progress: sent" in run.output
