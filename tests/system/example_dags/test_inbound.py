"""The inbound example DAGs end to end under ``airflow dags test``, in a fresh Airflow home, against the emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from airflow import __version__ as airflow_version
from packaging.version import Version

from tests.support.documents import make_pdf
from tests.support.inbound import INBOX, OTHER_INBOX

if TYPE_CHECKING:
    from tests.system.example_dags.conftest import ExampleAirflow

# `airflow dags test` runs tasks through an in-process execution API that Airflow 3.2.2 breaks (no service
# registry on the versioned app; fixed in 3.3). tests/conftest.py mends it for in-process dag.test(), which
# the minimum lane uses for these DAGs' tasks; a CLI subprocess cannot be mended from here.
needs_airflow_3_3_cli = pytest.mark.skipif(
    Version(airflow_version) < Version("3.3"), reason="airflow dags test cannot run tasks on Airflow 3.2.2"
)


@needs_airflow_3_3_cli
def test_scheduled_example_waits_downloads_and_hands_over(example_airflow: ExampleAirflow, emulator, receive, tmp_path):
    document = make_pdf(tmp_path / "sent.pdf", pages=2).read_bytes()
    faxes = receive(2, document=document) + receive(1, to=OTHER_INBOX)
    root = tmp_path / "inbox"

    done = example_airflow.dags_test(
        "example_fax_inbound_scheduled", conf={"to": INBOX, "storage_root": str(root)}, timeout=240
    )
    assert done.returncode == 0, done.tail(8000)

    stored = sorted(root.glob("*.pdf"))
    assert [path.name for path in stored] == sorted(f"{fax['id']}.pdf" for fax in faxes[:2])
    assert all(path.read_bytes() == document for path in stored)
    assert "Fax document ready at" in done.output


@needs_airflow_3_3_cli
def test_event_driven_example_tasks_store_the_faxes_named_in_conf(
    example_airflow: ExampleAirflow, emulator, receive, tmp_path
):
    faxes = receive(2)
    root = tmp_path / "inbox"

    done = example_airflow.dags_test(
        "example_fax_inbound", conf={"fax_ids": [f["id"] for f in faxes], "storage_root": str(root)}, timeout=240
    )
    assert done.returncode == 0, done.tail(8000)

    assert sorted(path.name for path in root.glob("*.pdf")) == sorted(f"{fax['id']}.pdf" for fax in faxes)
