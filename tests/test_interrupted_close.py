"""A close killed midway (SIGKILL: no cleanup) and run again leaves the same tables as a close
that was never interrupted: invoice numbers without gaps or reuse, the same invoices, fees and
documents."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import BILLING, base_catalog, run_close, write_catalog, write_events

pytestmark = pytest.mark.xdist_group("interrupted")

CUSTOMERS = [{"external_id": f"cus_{i:02d}", "name": f"Customer {i:02d}", "currency": "EUR"}
             for i in range(12)]
SUBSCRIPTIONS = [{"external_id": f"sub_{i:02d}", "external_customer_id": f"cus_{i:02d}",
                  "plan_code": "starter", "subscription_at": "2026-09-01T00:00:00Z",
                  "billing_time": "calendar"} for i in range(12)]
ORGANIZATION = {"name": "Test Org", "timezone": "UTC", "default_currency": "EUR",
                "document_numbering": "per_organization", "document_number_prefix": "ORG"}
AS_OF = "2026-11-01T00:00:00Z"   # September and October close in one run: 24 invoices


def inputs(root):
    write_catalog(root / "catalog", base_catalog(
        organization=[ORGANIZATION], customers=CUSTOMERS, subscriptions=SUBSCRIPTIONS))
    events = [{"transaction_id": f"t-{i}-{n}", "external_subscription_id": f"sub_{i:02d}",
               "code": "api_calls", "timestamp": f"2026-{9 + n % 2:02d}-{1 + n % 28:02d}T10:00:00Z",
               "properties": {}} for i in range(12) for n in range(i * 3)]
    write_events(root / "events" / "usage.parquet", events)


def kill_when(root, marker: str, delay: float) -> str:
    """Start `billing run`, SIGKILL it `delay` seconds after a progress line containing
    `marker`; return what it printed."""
    command = [str(BILLING), "run", "--as-of", AS_OF, "--catalog", str(root / "catalog"),
               "--events", str(root / "events"), "--warehouse", str(root / "warehouse.duckdb"),
               "--documents", str(root / "documents")]
    process = subprocess.Popen(command, cwd=root, stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, start_new_session=True)
    seen = []
    for line in process.stderr:
        seen.append(line)
        if marker in line:
            time.sleep(delay)
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=120)
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    return "".join(seen)


def tables(close):
    return {
        "invoices": close.query("select * exclude (catalog_version) from invoices order by all"),
        "fees": close.query("select * from fees order by all"),
        "documents": close.query(
            "select document_type, document_id, replace(path, ?, '') from documents.rendered "
            "order by all", [str(close.root)]),
        "files": sorted(p.relative_to(close.documents).as_posix()
                        for p in close.documents.rglob("*.pdf")),
    }


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    root = tmp_path_factory.mktemp("uninterrupted")
    inputs(root)
    close = run_close(root, AS_OF)
    assert close.success
    return tables(close)


@pytest.mark.parametrize("marker,delay", [
    ("dbt models and tests", 6.0),     # mid-build: nothing finalized yet
    ("invoice documents", 1.0),        # after the ledger numbered every invoice, mid-PDFs
])
def test_a_killed_close_run_again_equals_an_uninterrupted_one(tmp_path, uninterrupted, marker,
                                                               delay):
    inputs(tmp_path)
    kill_when(tmp_path, marker, delay)
    again = run_close(tmp_path, AS_OF)
    assert again.success
    assert tables(again) == uninterrupted
    numbers = [r[0] for r in again.query("select number from invoices order by number")]
    assert numbers == [f"ORG-{month}-{seq:03d}" for month, seq in
                       [("202610", i) for i in range(1, 13)] + [("202611", i) for i in
                                                                range(13, 25)]]
