"""Rows, roll-up, filters and CSV of the Faxes page, from fax records shaped as the list API returns them."""

from __future__ import annotations

import csv
import io

import pytest

from airflow_provider_telnyx_fax.idempotency import SendKey
from airflow_provider_telnyx_fax.plugins.fax_rows import (
    CSV_COLUMNS,
    FilterError,
    Filters,
    fax_row,
    rollup,
    sort_newest_first,
    task_instance_path,
    to_csv,
)
from tests.support.api import fax_record


def keyed(status: str, *, dag: str = "reports", run: str = "manual__1", map_index: int = -1, **more: object) -> dict:
    """A fax record carrying the send key of task ``send`` of ``dag``, run ``run``."""
    key = SendKey(dag_id=dag, task_id="send", run_id=run, map_index=map_index, to="+13125550123", document="doc")
    return fax_record(status=status, client_state=key.client_state("my own state"), to="+13125550123", **more)


class TestARow:
    def test_it_names_the_task_instance_and_links_to_it_url_encoded_under_the_ui_root(self):
        run_id = "manual__2026-01-05T10:00:00+00:00"
        row = fax_row(keyed("delivered", run=run_id, map_index=2), mask=True, ui_root="/airflow")

        assert (row.dag_id, row.task_id, row.run_id, row.map_index) == ("reports", "send", run_id, 2)
        encoded = "manual__2026-01-05T10%3A00%3A00%2B00%3A00"
        assert row.task_instance_url == f"/airflow/dags/reports/runs/{encoded}/tasks/send/mapped/2"
        assert row.run_url == f"/airflow/dags/reports/runs/{encoded}"

    def test_a_long_send_key_is_decoded_whole(self):
        long_run = "backfill__" + "x" * 230
        record = keyed("delivered", run=long_run)
        assert len(record["client_state"]) > 400

        assert fax_row(record, mask=True).run_id == long_run

    def test_map_index_zero_is_a_mapped_task_and_minus_one_is_not(self):
        assert fax_row(keyed("delivered", map_index=0), mask=True).task_instance_url.endswith("/tasks/send/mapped/0")
        assert fax_row(keyed("delivered"), mask=True).task_instance_url.endswith("/tasks/send")

    def test_numbers_are_masked_and_nothing_of_the_document_or_client_state_is_kept(self):
        record = keyed("delivered", media_url="https://files.example/secret.pdf", media_name="patient-smith.pdf")
        record["from"] = "+13125550999"

        row = fax_row(record, mask=True)

        assert (row.to_number, row.from_number) == ("+1•••••0123", "+1•••••0999")
        text = repr(row.as_dict())
        for secret in ("secret.pdf", "patient-smith", "my own state", "+13125550123", record["client_state"]):
            assert secret not in text

    def test_masking_turned_off_shows_full_numbers(self):
        assert fax_row(keyed("delivered"), mask=False).to_number == "+13125550123"

    def test_a_fax_without_a_send_key_belongs_to_no_dag(self):
        row = fax_row(fax_record(status="received", direction="inbound", client_state="bm90IG91cnM="), mask=True)

        assert (row.dag_id, row.task_id, row.map_index, row.task_instance_url) == ("", "", None, "")

    @pytest.mark.parametrize(
        ("status", "outcome"),
        [("delivered", "delivered"), ("received", "delivered"), ("failed", "failed"), ("sending", "pending")],
    )
    def test_each_status_has_an_outcome_and_only_pending_is_in_flight(self, status, outcome):
        row = fax_row(keyed(status), mask=True)

        assert (row.outcome, row.in_flight) == (outcome, outcome == "pending")

    def test_a_failure_reason_is_kept_only_for_a_failed_fax(self):
        assert fax_row(keyed("failed", failure_reason="user_busy"), mask=True).failure_reason == "user_busy"
        assert fax_row(keyed("sending", failure_reason="stale"), mask=True).failure_reason == ""


def test_task_instance_path_encodes_slashes_and_question_marks():
    assert task_instance_path("d", "a/b?c", "t", -1) == "/dags/d/runs/a%2Fb%3Fc/tasks/t"


class TestFilters:
    def test_defaults_to_the_last_day(self):
        assert Filters.of().window == "24h"

    @pytest.mark.parametrize(("name", "value"), [("window", "2y"), ("status", "sending"), ("direction", "up")])
    def test_a_value_the_page_does_not_offer_is_refused_by_field(self, name, value):
        with pytest.raises(FilterError, match=f"'{name}' must be one of"):
            Filters.of(**{name: value})

    def test_they_match_on_outcome_direction_dag_and_run(self):
        failed = fax_row(keyed("failed", run="r2"), mask=True)
        delivered = fax_row(keyed("delivered", dag="other"), mask=True)

        assert [Filters.of(status="failed").matches(row) for row in (failed, delivered)] == [True, False]
        assert [Filters.of(dag_id="other").matches(row) for row in (failed, delivered)] == [False, True]
        assert [Filters.of(run_id="r2").matches(row) for row in (failed, delivered)] == [True, False]
        assert Filters.of(direction="inbound").matches(failed) is False


def test_the_rollup_counts_each_dag_then_its_runs_with_failures_by_reason():
    rows = [
        fax_row(keyed("failed", run="r1", failure_reason="user_busy"), mask=True),
        fax_row(keyed("delivered", run="r1"), mask=True),
        fax_row(keyed("failed", run="r2", failure_reason="user_busy"), mask=True),
        fax_row(keyed("sending", run="r2"), mask=True),
        fax_row(keyed("failed", dag="audit", failure_reason=None), mask=True),
        fax_row(fax_record(status="received", direction="inbound", client_state=None), mask=True),
    ]

    lines = [line.as_dict() for line in rollup(rows)]

    assert [(line["dag_id"], line["run_id"]) for line in lines] == [
        ("audit", ""),
        ("audit", "manual__1"),
        ("reports", ""),
        ("reports", "r1"),
        ("reports", "r2"),
        ("", ""),
    ]
    reports = lines[2]
    assert (reports["total"], reports["delivered"], reports["failed"], reports["pending"]) == (4, 1, 2, 1)
    assert reports["failed_by_reason"] == [{"reason": "user_busy", "count": 2}]
    assert lines[0]["failed_by_reason"] == [{"reason": "unknown", "count": 1}]


def test_the_csv_has_one_line_per_row_in_order_and_defuses_formulas():
    rows = sort_newest_first(
        [
            fax_row(keyed("delivered", created_at="2026-01-05T10:00:00Z", id="a"), mask=True),
            fax_row(keyed("failed", dag="=HYPERLINK(1)", created_at="2026-01-05T11:00:00Z", id="b"), mask=True),
        ]
    )

    table = list(csv.DictReader(io.StringIO(to_csv(rows))))

    assert [line["fax_id"] for line in table] == ["b", "a"]
    assert list(table[0]) == list(CSV_COLUMNS)
    assert table[0]["dag_id"] == "'=HYPERLINK(1)"
    assert table[1]["to_number"] == "'+1•••••0123"
    assert table[1]["map_index"] == "-1"
