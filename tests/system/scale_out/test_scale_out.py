"""
The provider on a scaled-out Airflow: CeleryExecutor, PostgreSQL, Redis, two workers, two triggerers.

The tests run in file order on one deployment (see conftest.py):

1. a file in one worker's temp dir is not in the other's (each has a private tmpfs view of both);
2. the daily report, the batch example at 300 rows and the mapped batch example, at once, all succeed
   with their tasks on whichever worker Celery picks (how they spread is recorded as a figure);
3. a triggerer is SIGKILLed while faxes wait: the other takes its triggers over and every run succeeds;
4. the worker running the batch is SIGKILLed in the middle of its sends: the task is retried on the other
   worker and no row gets a second fax;
5. the API key is in none of the component logs, task logs or metadata tables.

Every scenario is checked on the emulator: exactly one fax per row or recipient; and in the logs: each
deferral fired an event and its task resumed exactly once for it (a duplicate fire is dropped by Airflow).

The module takes about 3 minutes on 2 cores: starting the deployment (about 20 s), and in each kill the
wait for Airflow to notice (the triggerer health check, 15 s; the task heartbeat timeout, 40 s), which is
what the test is about.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_telnyx_fax.models import was_not_dialled
from benchmarks.emulator_checks import faxes_by_row, outbound
from tests.support.celery_deployment import WORKERS

if TYPE_CHECKING:
    from telnyx_fax_emulator.launcher import EmulatorProcess
    from tests.support.celery_deployment import CeleryDeployment

pytestmark = pytest.mark.timeout(900)

REPORT, BATCH, MAPPED = "example_fax_daily_report", "example_fax_batch_large", "example_fax_batch"
REPORT_TO = "+15550100000"
BATCH_ROWS = 300
MAPPED_TO = [f"+1312556{index:04d}" for index in range(6)]


def report_conf(deployment: CeleryDeployment) -> dict[str, Any]:
    return {"to": REPORT_TO, "rows": 20, "poll_interval": 1, "storage_root": str(deployment.storage / "reports")}


def batch_conf(deployment: CeleryDeployment) -> dict[str, Any]:
    return {"size": BATCH_ROWS, "storage_root": (deployment.storage / "batch").as_uri(), "poll_interval": 1}


def mapped_conf(deployment: CeleryDeployment) -> dict[str, Any]:
    return {"recipients": MAPPED_TO, "storage_root": str(deployment.storage / "notices"), "poll_interval": 1}


def faxes_to(emulator: EmulatorProcess, numbers: list[str]) -> Counter[str]:
    return Counter(fax["to"] for fax in outbound(emulator) if fax["to"] in numbers)


def assert_one_fax_per_batch_row(emulator: EmulatorProcess) -> None:
    # One fax per row that reached its recipient (a dial refused for want of a channel reached nobody).
    batch_faxes = [fax for fax in outbound(emulator) if fax["to"].startswith("+1312555") and not was_not_dialled(fax)]
    by_row = faxes_by_row(batch_faxes)
    assert sorted(by_row) == [f"customer-{index:05d}" for index in range(BATCH_ROWS)]
    assert {row: len(faxes) for row, faxes in by_row.items() if len(faxes) != 1} == {}


def fired_events(deployment: CeleryDeployment, dag_id: str, run_id: str) -> dict[str, list[int]]:
    """Per task instance, how many events each triggerer's copy of its trigger fired (from the trigger logs)."""
    fired: dict[str, list[int]] = {}
    run_logs = deployment.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
    for trigger_log in sorted(run_logs.glob("task_id=*/**/attempt=*.log.trigger.*.log")):
        instance = str(trigger_log.relative_to(run_logs).parent)
        fired.setdefault(instance, []).append(trigger_log.read_text(errors="replace").count("Trigger fired event"))
    return fired


def resumes(deployment: CeleryDeployment, dag_id: str, run_id: str) -> dict[str, tuple[int, int]]:
    """Per task instance and try: (times it deferred, times it ran again after a deferral), from its task log."""
    counts: dict[str, tuple[int, int]] = {}
    run_logs = deployment.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
    for task_log in sorted(run_logs.glob("task_id=*/**/attempt=*.log")):
        if ".log.trigger." in task_log.name:
            continue
        text = task_log.read_text(errors="replace")
        deferred, runs = text.count("Pausing task as DEFERRED"), text.count("::group::Pre Execute")
        if deferred:
            counts[str(task_log.relative_to(run_logs))] = (deferred, runs - 1)
    return counts


def assert_each_deferral_resumed_once(deployment: CeleryDeployment, dag_id: str, run_id: str) -> int:
    """Every deferral fired an event and the task resumed exactly once for it; returns the duplicate fires.

    A trigger may run on two triggerers for a moment (a heartbeat late on a busy machine hands it to the
    other) and both copies fire: Airflow resumes the task for the first event and drops the second.
    """
    resumed = resumes(deployment, dag_id, run_id)
    assert resumed, f"no task of {dag_id} deferred"
    assert {log: runs for log, (_, runs) in resumed.items()} == {
        log: deferred for log, (deferred, _) in resumed.items()
    }
    fired = fired_events(deployment, dag_id, run_id)
    deferrals_per_instance: dict[str, int] = {}
    for log, (deferred, _) in resumed.items():
        instance = str(Path(log).parent)
        deferrals_per_instance[instance] = deferrals_per_instance.get(instance, 0) + deferred
    assert all(sum(fired.get(instance, [])) >= count for instance, count in deferrals_per_instance.items()), fired
    return sum(sum(fired.get(instance, [])) - count for instance, count in deferrals_per_instance.items())


def triggers_per_triggerer(deployment: CeleryDeployment, seen: dict[int, str]) -> None:
    """Note which triggerer holds each trigger now (called while the runs go on)."""
    for trigger_id, _, holder in deployment.triggers():
        if holder:
            seen.setdefault(trigger_id, holder)


def test_a_file_in_one_workers_temp_dir_is_not_there_for_the_other(deployment: CeleryDeployment):
    """What makes the examples below prove no task reads a file another task left on a worker's disk."""
    if not deployment.private_tmp:
        pytest.skip("no mount namespaces here (not root, or a locked-down container): temp dirs are only apart")
    first, second = (deployment.processes[name].pid for name in WORKERS)
    tmp = deployment.worker_dir(WORKERS[0]) / "tmp"
    # /proc/<pid>/root resolves a path in that process's mount namespace.
    written = Path(f"/proc/{first}/root{tmp}/left-by-a-task.pdf")
    written.write_bytes(b"%PDF-1.4")
    assert written.exists()
    assert not Path(f"/proc/{second}/root{tmp}/left-by-a-task.pdf").exists()
    assert not (tmp / "left-by-a-task.pdf").exists()
    written.unlink()


def test_the_examples_succeed_on_two_workers_and_two_triggerers(
    deployment: CeleryDeployment, emulator: EmulatorProcess, figures: dict[str, Any]
):
    emulator.reset()
    # A one-page call takes about 14 s: each fax is still sending when its sensor starts, though a task
    # takes 10 s to start on a busy 2-core machine.
    emulator.set_speed(4)
    started = time.monotonic()
    runs = {
        (REPORT, "scale_report"): report_conf(deployment),
        (BATCH, "scale_batch"): batch_conf(deployment),
        (MAPPED, "scale_mapped"): mapped_conf(deployment),
    }
    for (dag_id, run_id), conf in runs.items():
        deployment.trigger(dag_id, run_id, conf)
    holders: dict[int, str] = {}

    def finished() -> dict[tuple[str, str], str | None] | None:
        triggers_per_triggerer(deployment, holders)
        states = {run: deployment.run_state(*run) for run in runs}
        return states if all(state in ("success", "failed") for state in states.values()) else None

    states = deployment.wait(finished, "the three runs to finish", timeout=600, interval=0.5)
    wall = time.monotonic() - started
    assert states == dict.fromkeys(runs, "success"), {run: deployment.db.task_states(*run) for run in runs}

    assert faxes_to(emulator, [REPORT_TO]) == {REPORT_TO: 1}
    assert faxes_to(emulator, MAPPED_TO) == dict.fromkeys(MAPPED_TO, 1)
    assert_one_fax_per_batch_row(emulator)
    duplicate_fires = sum(assert_each_deferral_resumed_once(deployment, *run) for run in runs)

    # Which worker and which triggerer ran what is Celery's and Airflow's choice: a figure, not a promise. The
    # kills below make the other worker and the other triggerer take over by construction.
    hosts = Counter(
        host.split("@")[0] for run in runs for host in deployment.task_hosts(*run).values() if host is not None
    )
    per_triggerer = Counter(holders.values())
    figures["examples"] = {
        "wall_seconds": round(wall),
        "faxes": len(outbound(emulator)),
        "tasks_per_worker": dict(sorted(hosts.items())),
        "triggers_held_over_the_run": dict(sorted(per_triggerer.items())),
        "duplicate_fires_dropped_by_airflow": duplicate_fires,
    }


def test_a_triggerer_killed_while_faxes_wait_hands_its_triggers_to_the_other(
    deployment: CeleryDeployment, emulator: EmulatorProcess, figures: dict[str, Any]
):
    emulator.reset()
    emulator.set_speed(2.4)  # a one-page call takes about 23 s: the sensors wait deferred well past the takeover
    started = time.monotonic()
    runs = {(REPORT, "failover_report"): report_conf(deployment), (MAPPED, "failover_mapped"): mapped_conf(deployment)}
    for (dag_id, run_id), conf in runs.items():
        deployment.trigger(dag_id, run_id, conf)

    def running_in(name: str) -> int:
        """How many of these runs' triggers the triggerer ``name`` has started (each writes a trigger log)."""
        (job_id,) = [job_id for job_id, job_name in deployment.triggerer_names().items() if job_name == name]
        return sum(
            len(
                list(
                    (deployment.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}").glob(
                        f"**/*.trigger.{job_id}.log"
                    )
                )
            )
            for dag_id, run_id in runs
        )

    def both_triggerers_run_waits() -> tuple[dict[str, list[int]], str] | None:
        held: dict[str, list[int]] = {}
        for trigger_id, _, holder in deployment.triggers():
            if holder:
                held.setdefault(holder, []).append(trigger_id)
        # Seven sensors in all; each triggerer runs at most five ([triggerer] capacity), so both hold some.
        if sum(map(len, held.values())) < 6 or len(held) != 2:
            return None
        victim = max(held, key=lambda name: len(held[name]))
        # Holding a trigger in the table comes before running it: kill it once it runs some.
        return (held, victim) if running_in(victim) else None

    held, victim = deployment.wait(both_triggerers_run_waits, "both triggerers to run waiting sensors", 300)
    (survivor,) = set(held) - {victim}
    orphaned = set(held[victim])
    killed_at = deployment.kill(victim)

    def taken_over() -> float | None:
        holders = {trigger_id: holder for trigger_id, _, holder in deployment.triggers()}
        moved = [trigger_id for trigger_id in orphaned if holders.get(trigger_id) == survivor]
        return time.monotonic() - killed_at if moved else None

    takeover = deployment.wait(taken_over, f"{survivor} to take over {victim}'s triggers", 300)
    states = deployment.wait_for_runs(runs, timeout=600)
    wall = time.monotonic() - started
    assert states == dict.fromkeys(runs, "success"), {run: deployment.db.task_states(*run) for run in runs}

    assert faxes_to(emulator, [REPORT_TO]) == {REPORT_TO: 1}
    assert faxes_to(emulator, MAPPED_TO) == dict.fromkeys(MAPPED_TO, 1)
    # No sensor was retried: each resumed from its one deferral, whichever triggerer fired the event.
    sensors = [(REPORT, "failover_report", "wait_for_delivery", -1)]
    sensors += [(MAPPED, "failover_mapped", "wait", index) for index in range(len(MAPPED_TO))]
    assert {sensor: deployment.db.try_number(*sensor) for sensor in sensors} == dict.fromkeys(sensors, 1)
    duplicate_fires = sum(assert_each_deferral_resumed_once(deployment, *run) for run in runs)
    # The victim's triggers were rebuilt in the survivor: a trigger log from each, the event fired by the survivor.
    fired = [fired_events(deployment, *run) for run in runs]
    rebuilt = [counts for per_run in fired for counts in per_run.values() if len(counts) >= 2]
    assert rebuilt, fired
    figures["triggerer_killed"] = {
        "wall_seconds": round(wall),
        "faxes": len(outbound(emulator)),
        "triggers_per_triggerer_before_the_kill": {name: len(ids) for name, ids in sorted(held.items())},
        "triggers_taken_over": len(orphaned),
        "duplicate_fires_dropped_by_airflow": duplicate_fires,
        "takeover_seconds": round(takeover, 1),
        "health_check_threshold_seconds": float(deployment.env["AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD"]),
    }


def test_a_worker_killed_mid_send_is_retried_on_the_other_worker_without_a_second_fax(
    deployment: CeleryDeployment, emulator: EmulatorProcess, figures: dict[str, Any]
):
    emulator.reset()
    emulator.set_speed(20)
    started = time.monotonic()
    run = (BATCH, "worker_killed_batch")
    deployment.trigger(*run, batch_conf(deployment))

    def sending_on() -> str | None:
        host = deployment.task_hosts(*run).get(("send_batch", -1))
        return (
            host.split("@")[0]
            if host and deployment.db.task_states(*run).get(("send_batch", -1)) == "running"
            else None
        )

    worker = deployment.wait(sending_on, "the batch task to start on a worker", 300, interval=0.2)
    sent = deployment.wait(
        lambda: (count := emulator.request_count("POST", "/v2/faxes")) >= 60 and count,
        "the batch to be sending",
        300,
        interval=0.1,
    )
    killed_at = deployment.kill(worker)
    (state,) = deployment.wait_for_runs([run], timeout=600).values()
    recovered = time.monotonic() - killed_at
    assert state == "success", deployment.db.task_states(*run)
    assert sent < BATCH_ROWS, "the worker was killed after the batch had sent every row"
    assert deployment.db.try_number(BATCH, run[1], "send_batch") >= 2
    (other,) = set(WORKERS) - {worker}
    assert str(deployment.task_hosts(*run)[("send_batch", -1)]).split("@")[0] == other
    assert_one_fax_per_batch_row(emulator)
    # No deferral to check here: at this speed the retry's last faxes end within its watch on the worker
    # (the examples' run above checks that each of the batch's deferrals resumed it once).
    figures["worker_killed"] = {
        "wall_seconds": round(time.monotonic() - started),
        "faxes": len(outbound(emulator)),
        "sent_before_the_kill": sent,
        "kill_to_success_seconds": round(recovered),
        "task_heartbeat_timeout_seconds": int(deployment.env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"]),
    }


def test_the_api_key_is_in_no_log_and_no_metadata_table(deployment: CeleryDeployment, api_key: str):
    """Component logs, task and trigger logs, worker dirs, the whole database: the key only ever encrypted."""
    files = [path for path in deployment.home.rglob("*") if path.is_file()]
    logs = [path for path in files if ".log" in path.name]
    assert len(logs) > 50, logs  # every component's log and every task's
    files.append(deployment.postgres.log)
    leaking = [str(path) for path in files if api_key.encode() in path.read_bytes()]
    assert leaking == []
    dump = deployment.postgres.dump()
    assert "telnyx_fax_default" in dump  # the connection is stored ...
    assert api_key not in dump  # ... with its password encrypted
