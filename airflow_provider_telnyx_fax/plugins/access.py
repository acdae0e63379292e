"""
Who may see which fax on the Faxes page, decided by Airflow's auth manager.

Airflow does not authenticate plugin apps, so every route of the page (:mod:`.faxes_page`) depends
on Airflow's own :func:`airflow.api_fastapi.core_api.security.get_user`: the bearer token, else the
``_token`` session cookie the UI logs in with; none (or an expired one) is 401, a bad one 403. Then:

* a fax whose send key names a DAG is shown to a user who may read that DAG (``GET`` on the DAG,
  as the DAG's own pages ask), whether or not the DAG still exists here;
* a fax with no send key (a received fax, one sent outside Airflow) belongs to no DAG: it is shown
  only to a user who may read the connection it was listed with, as they could read its API key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_provider_telnyx_fax.plugins.fax_rows import FaxRow


@dataclass(frozen=True)
class Visibility:
    """The DAGs whose faxes a user may see, and whether they may see faxes of no DAG."""

    dag_ids: frozenset[str]
    unattributed: bool

    def allows(self, row: FaxRow) -> bool:
        return row.dag_id in self.dag_ids if row.dag_id else self.unattributed


def _teams_of(dag_ids: set[str]) -> dict[str, str | None]:
    """The team of each DAG of this deployment among ``dag_ids`` that has one (multi-team mode)."""
    from airflow.models.dag import DagModel

    team_mapping = getattr(DagModel, "get_dag_id_to_team_name_mapping", None)
    # Airflow 3.2 has no mapping in one query; there a DAG's team (if any) is left to the auth manager.
    return dict(team_mapping(sorted(dag_ids))) if team_mapping is not None else {}


def readable_dag_ids(user: Any, dag_ids: Iterable[str]) -> frozenset[str]:
    """Those of ``dag_ids`` the user may read, asked of the configured auth manager."""
    from airflow.api_fastapi.app import get_auth_manager

    wanted = {dag_id for dag_id in dag_ids if dag_id}
    if not wanted:
        return frozenset()
    auth_manager = get_auth_manager()
    teams = _teams_of(wanted)
    by_team: dict[str | None, set[str]] = {}
    for dag_id in wanted:
        by_team.setdefault(teams.get(dag_id), set()).add(dag_id)
    readable: set[str] = set()
    for team_name, team_dag_ids in by_team.items():
        readable |= auth_manager.filter_authorized_dag_ids(
            dag_ids=team_dag_ids, user=user, method="GET", team_name=team_name
        )
    return frozenset(readable)


def may_read_connection(user: Any, conn_id: str) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import ConnectionDetails

    return bool(
        get_auth_manager().is_authorized_connection(method="GET", details=ConnectionDetails(conn_id=conn_id), user=user)
    )


def visibility_for(user: Any, conn_id: str, rows: Iterable[FaxRow]) -> Visibility:
    """What ``user`` may see of ``rows`` (listed with connection ``conn_id``)."""
    return Visibility(readable_dag_ids(user, (row.dag_id for row in rows)), may_read_connection(user, conn_id))
