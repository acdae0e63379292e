"""Run the DAGs in tests/support/dags with ``dag.test()`` (real task runner, triggers run in-process)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

DAGS_FOLDER = Path(__file__).resolve().parent / "dags"


@dataclass
class DagRunResult:
    """What a DAG run left behind: the states, tries and XComs of its task instances."""

    dag_id: str
    run_id: str
    state: str
    task_states: dict[str, str]
    tries: dict[str, int]
    xcoms: dict[tuple[str, str], Any]

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        return self.xcoms.get((task_id, key))


def collect(dag_run: Any) -> DagRunResult:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        instances = dag_run.get_task_instances(session=session)
        task_states, tries = {}, {}
        for ti in instances:
            name = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
            task_states[name] = str(ti.state.value if hasattr(ti.state, "value") else ti.state)
            tries[name] = ti.try_number
        xcoms: dict[tuple[str, str], Any] = {}
        for row in session.scalars(XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id)):
            name = row.task_id if row.map_index < 0 else f"{row.task_id}[{row.map_index}]"
            xcoms[(name, row.key)] = XComModel.deserialize_value(row)
    state = dag_run.state.value if hasattr(dag_run.state, "value") else str(dag_run.state)
    return DagRunResult(dag_run.dag_id, dag_run.run_id, state, task_states, tries, xcoms)


def dag_runner(dags_folder: Path = DAGS_FOLDER) -> Callable[..., DagRunResult]:
    """Run one DAG of ``dags_folder`` to the end; ``logical_date`` twice means the same run, cleared and rerun."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(dags_folder))
    assert not bag.import_errors, bag.import_errors

    def run(dag_id: str, *, conf: dict[str, Any] | None = None, logical_date: datetime | None = None) -> DagRunResult:
        dag = bag.get_dag(dag_id)
        kwargs: dict[str, Any] = {"run_conf": conf or {}}
        if logical_date is not None:
            # The run id derives from run_after: the same pair means the same run, cleared and rerun.
            kwargs["logical_date"] = kwargs["run_after"] = logical_date
        return collect(dag.test(**kwargs))

    return run
