"""A stand-in task instance for calling an operator's ``execute()`` directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RecordingTaskInstance:
    """The few task-instance attributes the operator reads, recording XCom pushes."""

    dag_id: str = "validation"
    task_id: str = "send"
    run_id: str = "manual__2026-01-01"
    map_index: int = -1
    pushed: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value
