"""Shared test harness: write a catalog and events into a temporary folder, close them through
the real Dagster job (the same one `billing run` executes) on a real DuckDB file, and read the
output tables back.

Closes are slow compared to unit tests (a dbt build each, ~10 s), so tests that share inputs
share one close through module-scoped fixtures, and xdist groups keep them on one worker.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
BILLING = Path(sys.executable).parent / "billing"

EVENT_SCHEMA = pa.schema([
    ("transaction_id", pa.string()),
    ("external_subscription_id", pa.string()),
    ("code", pa.string()),
    ("timestamp", pa.timestamp("us", tz="UTC")),
    ("properties", pa.string()),
])


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def write_catalog(folder: Path, documents: dict[str, Any]) -> Path:
    """One YAML file per document (`plans` → plans.yaml); a string is written as it is."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem, content in documents.items():
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        (folder / f"{stem}.yaml").write_text(text)
    return folder


def write_events(path: Path, events: list[dict[str, Any]], schema: pa.Schema = EVENT_SCHEMA) -> Path:
    """Events as a Parquet file in the contract's shape; `properties` given as a dict."""
    rows = []
    for event in events:
        row = dict(event)
        if isinstance(row.get("timestamp"), str) and pa.types.is_timestamp(
                schema.field("timestamp").type):
            row["timestamp"] = instant(row["timestamp"])
        if isinstance(row.get("properties"), dict):
            row["properties"] = json.dumps(row["properties"])
        rows.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


@dataclass
class Close:
    """The outcome of one close: its inputs, whether it succeeded, and the warehouse."""

    root: Path
    as_of: str
    success: bool
    output: str = ""
    _tables: dict = field(default_factory=dict)

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def documents(self) -> Path:
        return self.root / "documents"

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            cursor = con.execute(sql, params or [])
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def scalar(self, sql: str, params: list | None = None) -> Any:
        return self.query(sql, params)[0][0]


def pytest_configure(config) -> None:
    """Each test process (each xdist worker) gets a Dagster instance folder of its own, in
    memory (/dev/shm) when the machine has one: `billing` subprocesses record their runs
    there as with DAGSTER_HOME=.dagster_home, but without two workers waiting on one SQLite
    file, and without an fsync per event (the persistent instance stores ~900 events a close:
    on disk that was most of a close's time)."""
    shm = Path("/dev/shm")
    parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    home = tempfile.mkdtemp(prefix="billing-tests-dagster-", dir=parent)
    Path(home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    config._billing_dagster_home = (home, os.environ.get("DAGSTER_HOME"))
    os.environ["DAGSTER_HOME"] = home


def pytest_unconfigure(config) -> None:
    home, saved = getattr(config, "_billing_dagster_home", (None, None))
    if home is None:
        return
    shutil.rmtree(home, ignore_errors=True)
    if saved is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = saved


# The xdist groups that take longest, longest first (closes they run, from --durations): they
# are handed to the two workers first, so that the run ends on short tests rather than with one
# worker closing a long group while the other idles. pyproject's --no-loadscope-reorder keeps
# this order (xdist otherwise orders groups by their number of tests). A group missing here
# only runs later; tests without a group (catalog refusals, a second each) run last.
LONGEST_GROUPS_FIRST = [
    "credit_notes", "demo", "grace_period", "interrupted", "coupons_monthly",
    "calendar_properties", "daily_close", "close", "wallets", "recurring_metrics",
    "one_off_invoices", "wallet_properties", "dagster_ui", "dbt_unit_tests", "close_records",
    "minimum_commitment", "calendar", "credit_note_pdf", "review_gates", "ledger_format",
]


def _group_names(item) -> list[str]:
    return sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                   for m in item.iter_markers("xdist_group")})


def _keep_groups_on_one_worker(config, items) -> None:
    """`--dist loadgroup` keeps a group on one worker by the `@group` suffix xdist's worker adds
    to each test's nodeid; xdist 3.8 writes it to `item._nodeid`, which pytest 9 no longer
    reads (the id is `item._id`), so every group was spread like `--dist load` and each worker
    ran the module fixtures (the shared closes) again. Add the suffix where pytest reads it."""
    if not getattr(config.option, "loadgroup", False):   # set on xdist workers only
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        names = _group_names(item)
        suffix = "@" + "_".join(names)
        if names and not item.nodeid.endswith(suffix):
            item._id = coerce_node_id(item.nodeid + suffix)


@pytest.hookimpl(trylast=True)  # after xdist's own attempt
def pytest_collection_modifyitems(config, items) -> None:
    _keep_groups_on_one_worker(config, items)
    rank = {group: i for i, group in enumerate(LONGEST_GROUPS_FIRST)}

    def key(item):
        names = _group_names(item)
        if not names:
            return (2, 0)
        return (0, min(rank[g] for g in names if g in rank)) \
            if any(g in rank for g in names) else (1, 0)

    items.sort(key=key)   # stable: the collection order within a group and a rank


@contextlib.contextmanager
def ephemeral_instance():
    """In-process closes run on Dagster's in-memory instance (orchestration.cli._instance()
    without DAGSTER_HOME): the same job and assets, without storing their events; the
    `billing` subprocesses still run on the persistent instance above."""
    saved = os.environ.pop("DAGSTER_HOME", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["DAGSTER_HOME"] = saved


def run_close(root: Path, as_of: str, catalog: Path | None = None, events: Path | None = None,
              cli: bool = False, documents: bool = True) -> Close:
    """Close `root/catalog` + `root/events` into `root/warehouse.duckdb` as of `as_of`.

    In-process through orchestration.cli.close (the job `billing run` executes), or with
    cli=True through the installed `billing` command in a subprocess."""
    catalog = catalog or root / "catalog"
    events = events or root / "events"
    events.mkdir(parents=True, exist_ok=True)
    if cli:
        result = subprocess.run(
            [str(BILLING), "run", "--as-of", as_of, "--catalog", str(catalog), "--events",
             str(events), "--warehouse", str(root / "warehouse.duckdb"), "--documents",
             str(root / "documents")],
            cwd=root, capture_output=True, text=True, timeout=900)
        return Close(root, as_of, result.returncode == 0, result.stdout + result.stderr)

    from orchestration.cli import close
    from orchestration.lib.settings import BillingSettings

    settings = BillingSettings(catalog_dir=str(catalog), events_dir=str(events),
                               warehouse_path=str(root / "warehouse.duckdb"),
                               documents_dir=str(root / "documents"), as_of=as_of)
    with ephemeral_instance():
        return Close(root, as_of, close(settings, quiet=True, documents=documents))


# --- a small catalog most tests start from ------------------------------------------------------

ORGANIZATION = {"name": "Test Org", "timezone": "UTC", "default_currency": "EUR",
                "document_numbering": "per_customer", "document_number_prefix": "TST"}

METRICS = [
    {"code": "api_calls", "name": "API calls", "aggregation_type": "count_agg"},
    {"code": "storage_gb", "name": "Storage", "aggregation_type": "sum_agg",
     "field_name": "gb"},
]

PLANS = [{
    "code": "starter", "name": "Starter", "interval": "monthly", "amount_cents": 1000,
    "amount_currency": "EUR", "pay_in_advance": False,
    "charges": [
        {"billable_metric_code": "api_calls", "charge_model": "standard",
         "properties": {"amount": "0.05"}},
        {"billable_metric_code": "storage_gb", "charge_model": "graduated",
         "properties": {"graduated_ranges": [
             {"from_value": 0, "to_value": 10, "per_unit_amount": "0", "flat_amount": "0"},
             {"from_value": 11, "to_value": None, "per_unit_amount": "0.5",
              "flat_amount": "1"}]}},
    ],
}]

CUSTOMERS = [
    {"external_id": "cus_a", "name": "Ada & Sons Ltd", "email": "billing@ada.example",
     "address_line1": "1 Rue de la Paix", "city": "Paris", "country": "FR", "currency": "EUR"},
    {"external_id": "cus_b", "name": "Brook Analytics", "currency": "EUR"},
]

SUBSCRIPTIONS = [
    {"external_id": "sub_a", "external_customer_id": "cus_a", "plan_code": "starter",
     "subscription_at": "2026-10-01T00:00:00Z", "billing_time": "calendar"},
    {"external_id": "sub_b", "external_customer_id": "cus_b", "plan_code": "starter",
     "subscription_at": "2026-10-16T00:00:00Z", "billing_time": "calendar"},
]


def base_catalog(**overrides: Any) -> dict[str, Any]:
    documents = {"organization": [ORGANIZATION], "billable_metrics": METRICS, "plans": PLANS,
                 "customers": CUSTOMERS, "subscriptions": SUBSCRIPTIONS}
    documents.update(overrides)
    return json.loads(json.dumps(documents))  # a deep copy tests may edit


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "catalog", base_catalog())


# --- the layer tests ------------------------------------------------------------------------------

DBT = Path(sys.executable).parent / "dbt"


def layer_test_failures(warehouse: Path) -> str | None:
    """Run the dbt tests a close leaves out (selectors.yml: layer_tests, the tests beside the
    staging and intermediate models) on a closed warehouse, read-only (the fixtures' readers
    may hold it open). None when they pass, else dbt's output."""
    from orchestration.defs.dbt.assets import seed_partial_parse

    target = warehouse.parent / f".{warehouse.name}.layer-tests.dbt"
    seed_partial_parse(target)
    env = {**os.environ, "BILLING_WAREHOUSE": str(warehouse), "BILLING_WAREHOUSE_READ_ONLY": "1"}
    result = subprocess.run(
        [str(DBT), "test", "--selector", "layer_tests", "--project-dir", str(PROJECT_ROOT),
         "--profiles-dir", str(PROJECT_ROOT), "--target-path", str(target)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    return None if result.returncode == 0 else result.stdout + result.stderr
