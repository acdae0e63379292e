"""FaxStatusSensor against the running emulator."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout

from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
from airflow_provider_telnyx_fax.sensors.fax import FaxStatusSensor

NEVER_FINISHES = "+15550100011"
MEDIA_URL = "https://example.com/report.pdf"


def send(number: str) -> str:
    return TelnyxFaxHook().send_fax(number, media_url=MEDIA_URL)["id"]


class TestFaxStatusSensor:
    @pytest.mark.parametrize("mode", ["deferred", "on_worker"])
    def test_waits_for_delivery_and_returns_the_fax(self, run_dag, telnyx_fax_emulator, mode):
        result = run_dag(f"send_then_sensor_{mode}", conf={"to": "+15550100000", "media_url": MEDIA_URL})

        assert result.task_states == {"send": "success", "wait": "success"}
        assert result.xcom("wait")["status"] == "delivered"
        assert result.xcom("wait")["id"] == result.xcom("send", "fax_id")

    def test_deferred_wait_past_the_timeout_raises_sensor_timeout(self, run_dag, telnyx_fax_emulator):
        result = run_dag("sensor_times_out", conf={"to": NEVER_FINISHES, "media_url": MEDIA_URL})

        assert result.task_states == {"send": "success", "wait": "failed"}
        assert result.tries["wait"] == 1

    def test_timeout_event_raises_airflow_sensor_timeout(self):
        sensor = FaxStatusSensor(task_id="wait", fax_id="f-1")
        event = {"status": "timeout", "fax_id": "f-1", "fax": None, "message": "still sending"}

        with pytest.raises(AirflowSensorTimeout, match="still sending"):
            sensor.execute_complete({}, event)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "event", [None, {}, {"status": "weird", "fax_id": "f-1"}, {"status": "delivered", "fax_id": "other"}]
    )
    def test_empty_or_unknown_events_are_refused(self, event):
        sensor = FaxStatusSensor(task_id="wait", fax_id="f-1")

        with pytest.raises(AirflowException, match="event"):
            sensor.execute_complete({}, event)  # type: ignore[arg-type]

    def test_permanent_failure_fails_without_retry(self, telnyx_fax_emulator):
        fax_id = send("+15550100006")
        telnyx_fax_emulator.wait_for_status(fax_id, ["failed"])
        sensor = FaxStatusSensor(task_id="wait", fax_id=fax_id, poll_interval=0.1, timeout=10)

        with pytest.raises(
            AirflowFailException, match=f"{fax_id} to \\+1•••••0006 failed: receiver_unallocated_number"
        ):
            sensor.execute({})  # type: ignore[arg-type]

    def test_failure_classification_can_be_overridden_per_task(self, telnyx_fax_emulator):
        fax_id = send("+15550100006")
        telnyx_fax_emulator.wait_for_status(fax_id, ["failed"])
        sensor = FaxStatusSensor(
            task_id="wait", fax_id=fax_id, poll_interval=0.1, retryable_reasons=["receiver_unallocated_number"]
        )

        with pytest.raises(AirflowException) as raised:
            sensor.execute({})  # type: ignore[arg-type]
        assert not isinstance(raised.value, AirflowFailException)

    def test_waits_for_an_inbound_fax_to_be_received(self, telnyx_fax_emulator, sample_pdf):
        inbound = telnyx_fax_emulator.simulate_inbound("+15550123456", "+15550199999", sample_pdf.read_bytes())
        sensor = FaxStatusSensor(task_id="wait", fax_id=inbound["id"], poll_interval=0.1, timeout=30)

        fax = sensor.execute({})  # type: ignore[arg-type]

        assert (fax["direction"], fax["status"]) == ("inbound", "received")
