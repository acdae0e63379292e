"""Airflow version gaps the tests bridge (the package itself needs none of this)."""

from __future__ import annotations

from typing import Any


def mend_dag_test_on_airflow_3_2() -> None:
    """
    Let ``dag.test()`` run tasks on Airflow 3.2.2, the declared minimum.

    3.2.2's backport of the two-token mechanism (apache/airflow#66989) looks up the execution API's
    service registry on the request's app, and in ``dag.test()``'s in-process API the versioned sub-app
    has none: every task fails with ``'State' object has no attribute 'svcs_registry'``. Airflow 3.3
    gives the in-process API a registry of its own with a stub token generator (apache/airflow#60108);
    this does the same for 3.2. Real deployments (scheduler, workers, api-server) are not affected.
    """
    from airflow import __version__ as airflow_version
    from packaging.version import Version

    if Version(airflow_version) >= Version("3.3"):
        return
    import svcs
    from airflow.api_fastapi.auth.tokens import JWTGenerator
    from airflow.api_fastapi.execution_api import app as execution_api
    from airflow.api_fastapi.execution_api import deps

    class InProcessToken:
        def generate(self, *args: Any, **kwargs: Any) -> str:
            return "in-process"

    registry = svcs.Registry()
    registry.register_value(JWTGenerator, InProcessToken())

    async def container() -> Any:
        async with svcs.Container(registry) as services:
            yield services

    create_app = execution_api.create_task_execution_api_app

    def create_app_with_registry(*args: Any, **kwargs: Any) -> Any:
        app = create_app(*args, **kwargs)
        app.dependency_overrides[deps._container] = container
        return app

    execution_api.create_task_execution_api_app = create_app_with_registry
    reissue = execution_api.JWTReissueMiddleware.dispatch

    async def dispatch(self: Any, request: Any, call_next: Any) -> Any:
        # In-process there is no token to reissue.
        if not hasattr(request.app.state, "svcs_registry"):
            return await call_next(request)
        return await reissue(self, request, call_next)

    execution_api.JWTReissueMiddleware.dispatch = dispatch
