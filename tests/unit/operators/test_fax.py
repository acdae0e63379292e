"""SendFaxOperator and CancelFaxOperator against the running emulator, mostly through Airflow's real task
runner (``dag.test()``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_telnyx_fax.hooks.fax import TelnyxFaxHook
from airflow_provider_telnyx_fax.idempotency import decode_client_state
from airflow_provider_telnyx_fax.operators.fax import CancelFaxOperator

DELIVERS = "+15550100000"
BUSY = "+15550100001"
BUSY_ONCE = "+15550100010"
INVALID = "+15550100005"
MEDIA_URL = "https://example.com/report.pdf"
NEVER_FINISHES = "+15550100011"


def faxes_to(emulator, number: str) -> list[dict]:
    return [fax for fax in emulator.faxes() if fax["to"] == number]


@pytest.mark.parametrize("mode", ["deferred", "on_worker"])
def test_send_and_wait_returns_the_delivered_fax(run_dag, telnyx_fax_emulator, mode):
    result = run_dag(f"send_and_wait_{mode}", conf={"to": DELIVERS, "media_url": MEDIA_URL})

    assert result.task_states == {"send": "success"}
    fax = result.xcom("send")
    assert fax["status"] == "delivered"
    assert result.xcom("send", "fax_id") == fax["id"]
    assert [sent["id"] for sent in faxes_to(telnyx_fax_emulator, DELIVERS)] == [fax["id"]]


def test_send_key_in_client_state_names_the_task_instance(run_dag, telnyx_fax_emulator):
    result = run_dag("send_and_wait_deferred", conf={"to": DELIVERS, "media_url": MEDIA_URL})

    state = decode_client_state(result.xcom("send")["client_state"])
    assert state is not None
    assert (state["dag"], state["task"], state["run"], state["map"]) == (
        "send_and_wait_deferred",
        "send",
        result.run_id,
        -1,
    )


def test_retryable_failure_redials_once_on_retry_and_succeeds(run_dag, telnyx_fax_emulator):
    result = run_dag("send_and_wait_deferred", conf={"to": BUSY_ONCE, "media_url": MEDIA_URL})

    assert result.task_states == {"send": "success"}
    assert result.tries == {"send": 2}
    sent = faxes_to(telnyx_fax_emulator, BUSY_ONCE)
    assert sorted((fax["status"], fax.get("failure_reason")) for fax in sent) == [
        ("delivered", None),
        ("failed", "user_busy"),
    ]


def test_retryable_failure_that_persists_fails_after_the_retries(run_dag, telnyx_fax_emulator):
    result = run_dag("send_and_wait_on_worker", conf={"to": BUSY, "media_url": MEDIA_URL})

    assert result.task_states == {"send": "failed"}
    assert result.tries == {"send": 2}
    assert len(faxes_to(telnyx_fax_emulator, BUSY)) == 2


def test_permanent_failure_is_not_retried(run_dag, telnyx_fax_emulator):
    result = run_dag("send_and_wait_deferred", conf={"to": INVALID, "media_url": MEDIA_URL})

    assert result.task_states == {"send": "failed"}
    assert result.tries == {"send": 1}
    [fax] = faxes_to(telnyx_fax_emulator, INVALID)
    assert fax["failure_reason"] == "destination_invalid"


def test_lost_response_on_send_adopts_the_fax_telnyx_created(run_dag, telnyx_fax_emulator):
    telnyx_fax_emulator.add_fault("POST", "/v2/faxes", "drop", count=1)

    result = run_dag("send_and_wait_deferred", conf={"to": DELIVERS, "media_url": MEDIA_URL})

    assert result.task_states == {"send": "success"}
    [fax] = faxes_to(telnyx_fax_emulator, DELIVERS)
    assert result.xcom("send", "fax_id") == fax["id"]
    assert telnyx_fax_emulator.request_count("POST", "/v2/faxes") == 1


def test_lost_response_with_resend_policy_always_still_sends_once(run_dag, telnyx_fax_emulator):
    telnyx_fax_emulator.add_fault("POST", "/v2/faxes", "drop", count=1)

    result = run_dag("send_always", conf={"to": DELIVERS, "media_url": MEDIA_URL})

    assert result.task_states == {"send": "success"}
    [fax] = faxes_to(telnyx_fax_emulator, DELIVERS)
    assert result.xcom("send", "fax_id") == fax["id"]


def test_rerun_of_a_delivered_task_sends_nothing_new(run_dag, telnyx_fax_emulator):
    logical_date = datetime(2026, 3, 1, tzinfo=timezone.utc)
    conf = {"to": DELIVERS, "media_url": MEDIA_URL}

    first = run_dag("send_and_wait_deferred", conf=conf, logical_date=logical_date)
    second = run_dag("send_and_wait_deferred", conf=conf, logical_date=logical_date)

    assert first.run_id == second.run_id
    assert second.task_states == {"send": "success"}
    assert second.xcom("send", "fax_id") == first.xcom("send", "fax_id")
    assert len(faxes_to(telnyx_fax_emulator, DELIVERS)) == 1


def test_rerun_with_resend_policy_always_sends_again(run_dag, telnyx_fax_emulator):
    logical_date = datetime(2026, 3, 2, tzinfo=timezone.utc)
    conf = {"to": DELIVERS, "media_url": MEDIA_URL}

    run_dag("send_always", conf=conf, logical_date=logical_date)
    run_dag("send_always", conf=conf, logical_date=logical_date)

    assert len(faxes_to(telnyx_fax_emulator, DELIVERS)) == 2


@pytest.mark.parametrize("as_url", [False, True], ids=["local-path", "object-storage"])
def test_document_is_uploaded_once_across_two_tries(run_dag, telnyx_fax_emulator, sample_pdf, as_url):
    media_path = sample_pdf.as_uri() if as_url else str(sample_pdf)

    result = run_dag("send_and_wait_deferred", conf={"to": BUSY_ONCE, "media_path": media_path})

    assert result.task_states == {"send": "success"}
    assert result.tries == {"send": 2}
    assert telnyx_fax_emulator.request_count("POST", "/v2/media") == 1
    sent = faxes_to(telnyx_fax_emulator, BUSY_ONCE)
    assert len(sent) == 2
    assert {fax["media_name"] for fax in sent} == {sent[0]["media_name"]}


def test_mapped_sends_one_fax_per_recipient(run_dag, telnyx_fax_emulator):
    recipients = ["+15550100000", "+15550100020", "+15550100021"]

    result = run_dag("send_mapped", conf={"recipients": recipients})

    assert result.task_states == {
        "recipients": "success",
        "send[0]": "success",
        "send[1]": "success",
        "send[2]": "success",
    }
    assert sorted(fax["to"] for fax in telnyx_fax_emulator.faxes()) == sorted(recipients)
    map_indexes = {decode_client_state(fax["client_state"])["map"] for fax in telnyx_fax_emulator.faxes()}
    assert map_indexes == {0, 1, 2}


def test_bad_input_fails_without_retry_and_sends_nothing(run_dag, telnyx_fax_emulator):
    result = run_dag("send_and_wait_deferred", conf={"to": "5550100000", "media_url": MEDIA_URL})

    assert result.task_states == {"send": "failed"}
    assert result.tries == {"send": 1}
    assert telnyx_fax_emulator.request_count("POST", "/v2/faxes") == 0
    assert telnyx_fax_emulator.request_count("POST", "/v2/media") == 0


def send_earlier_faxes(emulator, count: int) -> None:
    """``count`` faxes to DELIVERS before the run, faster than one line would carry them."""
    import asyncio

    from airflow_provider_telnyx_fax.fax_request import FaxSendRequest

    async def send_all() -> None:
        hook, gate = TelnyxFaxHook(), asyncio.Semaphore(50)
        request = FaxSendRequest(to=DELIVERS, media_url="https://example.com/earlier.pdf")

        async def one() -> None:
            async with gate:
                await hook.asend_fax(request)

        await asyncio.gather(*(one() for _ in range(count)))

    emulator.set_limits(busy_lines=False, max_in_flight=None)
    asyncio.run(send_all())


@pytest.fixture
def busy_destination(telnyx_fax_emulator, monkeypatch):
    """DELIVERS with 5,000 faxes before the run; the emulator and Airflow share a clock, so the margin for
    Telnyx's clock shrinks to a second, and the run starts once that second has passed."""
    import time

    from airflow_provider_telnyx_fax.operators import sending

    send_earlier_faxes(telnyx_fax_emulator, 5_000)
    monkeypatch.setattr(sending, "CLOCK_SKEW_MARGIN", timedelta(seconds=1))
    time.sleep(1.5)  # at least a second and a half: every earlier fax is outside the margin
    return telnyx_fax_emulator


def test_a_busy_destinations_history_before_the_run_is_never_listed(run_dag, busy_destination):
    """Reconciling looks from the run's start: 5,000 earlier faxes to the number cost no extra list calls."""
    lists_before = busy_destination.request_count("GET", "/v2/faxes")

    result = run_dag("send_and_wait_on_worker", conf={"to": DELIVERS, "media_url": "https://example.com/a.pdf"})

    assert result.state == "success"
    assert busy_destination.request_count("GET", "/v2/faxes") - lists_before <= 2


def backfill_context(*, started: datetime, clear_number: int, try_number: int) -> dict:
    """A backfill's run of April 2025, started ``started``, as the task sees it."""
    from types import SimpleNamespace

    from tests.support.task_instances import RecordingTaskInstance

    ti = RecordingTaskInstance(run_id="backfill__2025-04-02T00:00:00+00:00")
    ti.try_number = try_number  # type: ignore[attr-defined]
    run = SimpleNamespace(
        run_id=ti.run_id, run_after=datetime(2025, 4, 2, tzinfo=timezone.utc), start_date=started,
        clear_number=clear_number, logical_date=datetime(2025, 4, 2, tzinfo=timezone.utc),
    )  # fmt: skip
    return {"ti": ti, "dag_run": run}


def test_a_backfilled_send_looks_only_from_when_its_run_started(busy_destination):
    """A run of a past date is not a month of history to list: the window opens at the run's start."""
    from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator

    lists_before = busy_destination.request_count("GET", "/v2/faxes")
    context = backfill_context(started=datetime.now(timezone.utc), clear_number=0, try_number=1)

    SendFaxOperator(task_id="send", to=DELIVERS, media_url=MEDIA_URL).execute(context)  # type: ignore[arg-type]

    assert busy_destination.request_count("POST", "/v2/faxes") == 5_001
    assert busy_destination.request_count("GET", "/v2/faxes") - lists_before <= 2


def test_a_cleared_backfill_still_finds_the_fax_its_first_try_sent(telnyx_fax_emulator):
    """Clearing resets the run's start: the window falls back to the run's date, and the fax is adopted."""
    from airflow_provider_telnyx_fax.operators.fax import SendFaxOperator

    first_start = datetime.now(timezone.utc)
    send = SendFaxOperator(task_id="send", to=DELIVERS, media_url=MEDIA_URL)
    sent = send.execute(backfill_context(started=first_start, clear_number=0, try_number=1))  # type: ignore[arg-type]
    cleared = backfill_context(started=first_start + timedelta(hours=1), clear_number=1, try_number=2)

    again = send.execute(cleared)  # type: ignore[arg-type]

    assert again["id"] == sent["id"]
    assert telnyx_fax_emulator.request_count("POST", "/v2/faxes") == 1


def send(number: str) -> str:
    return TelnyxFaxHook().send_fax(number, media_url=MEDIA_URL)["id"]


class TestCancelFaxOperator:
    @pytest.mark.parametrize("state", ["queued", "media.processed", "sending"])
    def test_cancels_a_fax_in_flight(self, telnyx_fax_emulator, state):
        telnyx_fax_emulator.set_speed(5)
        fax_id = send(NEVER_FINISHES)
        telnyx_fax_emulator.wait_for_status(fax_id, [state], timeout=30)

        status = CancelFaxOperator(task_id="cancel", fax_id=fax_id).execute({})  # type: ignore[arg-type]

        assert status == "failed"
        fax = telnyx_fax_emulator.fax(fax_id)
        assert (fax["status"], fax["failure_reason"]) == ("failed", "sender_canceled")

    @pytest.mark.parametrize(("number", "final"), [("+15550100000", "delivered"), ("+15550100001", "failed")])
    def test_a_finished_fax_fails_the_task_by_default(self, telnyx_fax_emulator, number, final):
        fax_id = send(number)
        telnyx_fax_emulator.wait_for_status(fax_id, [final])

        with pytest.raises(AirflowFailException, match=f"already {final}"):
            CancelFaxOperator(task_id="cancel", fax_id=fax_id).execute({})  # type: ignore[arg-type]
        assert telnyx_fax_emulator.request_count("POST", "/v2/faxes/*/actions/cancel") == 0

    def test_a_finished_fax_can_be_accepted(self, telnyx_fax_emulator):
        fax_id = send("+15550100000")
        telnyx_fax_emulator.wait_for_status(fax_id, ["delivered"])

        status = CancelFaxOperator(task_id="cancel", fax_id=fax_id, fail_if_finished=False).execute({})  # type: ignore[arg-type]

        assert status == "delivered"

    def test_send_then_cancel_dag_ends_with_a_cancelled_fax(self, run_dag, telnyx_fax_emulator):
        result = run_dag("send_and_cancel", conf={"to": NEVER_FINISHES, "media_url": MEDIA_URL})

        assert result.task_states == {"send": "success", "cancel": "success"}
        assert result.xcom("cancel") == "failed"
        fax = telnyx_fax_emulator.fax(result.xcom("send", "fax_id"))
        assert fax["failure_reason"] == "sender_canceled"
