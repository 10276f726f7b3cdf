"""dbt `unit_tests:` of the aggregation and charge models, run on a real warehouse.

The unit tests live beside the models
(dbt_models/models/intermediate/metering/_metering__unit_tests.yml and
dbt_models/models/intermediate/rating/_rating__unit_tests.yml); their expected values are
Lago's documented worked examples. dbt reads the column types of a model's parents from the
warehouse, so the parents must exist: this test closes a small catalog that uses every
aggregation type and every charge model (the real Dagster job), then runs
`dbt test --select test_type:unit` on that warehouse and requires every unit test to pass.

The `dbt build` of a close leaves unit tests out (`--exclude-resource-type unit_test`): a
close must not fail on a test fixture, and a unit test needs its parents built, which on a
fresh warehouse they are not yet.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import PROJECT_ROOT, base_catalog, run_close, write_catalog, write_events

pytestmark = pytest.mark.xdist_group("dbt_unit_tests")

DBT = Path(sys.executable).parent / "dbt"
UNIT_TEST_FILES = [
    PROJECT_ROOT / "dbt_models/models/intermediate/metering/_metering__unit_tests.yml",
    PROJECT_ROOT / "dbt_models/models/intermediate/rating/_rating__unit_tests.yml",
    PROJECT_ROOT / "dbt_models/models/intermediate/invoicing/_invoicing__unit_tests.yml",
]

# One metric per aggregation type (custom_agg apart: its unit test mocks the metric list).
METRICS = [
    {"code": "calls", "name": "Calls", "aggregation_type": "count_agg"},
    {"code": "gb", "name": "Storage", "aggregation_type": "sum_agg", "field_name": "gb"},
    {"code": "peak", "name": "Peak", "aggregation_type": "max_agg", "field_name": "n"},
    {"code": "users", "name": "Users", "aggregation_type": "unique_count_agg",
     "field_name": "user"},
    {"code": "level", "name": "Level", "aggregation_type": "latest_agg", "field_name": "n"},
    {"code": "gbs", "name": "GB seconds", "aggregation_type": "weighted_sum_agg",
     "field_name": "gb", "weighted_interval": "seconds"},
    {"code": "payments", "name": "Payments", "aggregation_type": "sum_agg",
     "field_name": "amount"},
    {"code": "instances", "name": "Instances", "aggregation_type": "sum_agg",
     "field_name": "units"},
]

# One charge per charge model, and a spending minimum.
PLANS = [{
    "code": "every_model", "name": "Every model", "interval": "monthly", "amount_cents": 0,
    "amount_currency": "USD",
    "charges": [
        {"billable_metric_code": "calls", "charge_model": "standard",
         "properties": {"amount": "0.05"}, "min_amount_cents": 10000},
        {"billable_metric_code": "gb", "charge_model": "graduated",
         "properties": {"graduated_ranges": [
             {"from_value": 0, "to_value": 100, "per_unit_amount": "1", "flat_amount": "10"},
             {"from_value": 101, "to_value": None, "per_unit_amount": "0.5",
              "flat_amount": "0"}]}},
        {"billable_metric_code": "peak", "charge_model": "volume",
         "properties": {"volume_ranges": [
             {"from_value": 0, "to_value": 10, "per_unit_amount": "1", "flat_amount": "1"},
             {"from_value": 11, "to_value": None, "per_unit_amount": "0.5",
              "flat_amount": "1"}]}},
        {"billable_metric_code": "users", "charge_model": "package",
         "properties": {"amount": "5", "package_size": 100, "free_units": 100}},
        {"billable_metric_code": "level", "charge_model": "graduated_percentage",
         "properties": {"graduated_percentage_ranges": [
             {"from_value": 0, "to_value": 1000, "rate": "1", "flat_amount": "200"},
             {"from_value": 1001, "to_value": None, "rate": "2", "flat_amount": "300"}]}},
        {"billable_metric_code": "gbs", "charge_model": "standard",
         "properties": {"amount": "0.01"}},
        {"billable_metric_code": "instances", "charge_model": "dynamic", "properties": {}},
        {"billable_metric_code": "payments", "charge_model": "percentage",
         "properties": {"rate": "1.2", "fixed_amount": "0.1", "free_units_per_events": 3,
                        "free_units_per_total_aggregation": "500",
                        "per_transaction_min_amount": "1",
                        "per_transaction_max_amount": "5"}},
    ],
}]


def unit_test_names() -> list[str]:
    names = []
    for path in UNIT_TEST_FILES:
        for test in yaml.safe_load(path.read_text()).get("unit_tests", []):
            names.append(test["name"])
    return names


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dbt_unit_tests")
    write_catalog(root / "catalog", base_catalog(
        billable_metrics=METRICS, plans=PLANS,
        customers=[{"external_id": "cus_u", "name": "Unit Co", "currency": "USD"}],
        subscriptions=[{"external_id": "sub_u", "external_customer_id": "cus_u",
                        "plan_code": "every_model",
                        "subscription_at": "2026-10-01T00:00:00Z"}]))
    events = [
        {"transaction_id": f"t{i}", "external_subscription_id": "sub_u", "code": code,
         "timestamp": f"2026-10-{i + 1:02d}T10:00:00Z", "properties": props}
        for i, (code, props) in enumerate([
            ("calls", {}), ("gb", {"gb": "3"}), ("peak", {"n": "4"}), ("users", {"user": "a"}),
            ("level", {"n": "7"}), ("gbs", {"gb": "2"}), ("payments", {"amount": "50"}),
            ("instances", {"units": "7"}),
        ])
    ]
    write_events(root / "events" / "october.parquet", events)
    close = run_close(root, "2026-11-01T00:00:00Z", documents=False)
    assert close.success, "the close that creates the unit tests' parent relations failed"
    return close.warehouse


def test_every_dbt_unit_test_passes(warehouse: Path, tmp_path: Path):
    from orchestration.defs.dbt.assets import dbt_target_path
    from orchestration.lib.settings import BillingSettings

    expected = unit_test_names()
    assert len(expected) == len(set(expected)), "unit test names must be unique"
    # The warehouse's own dbt target folder, as the close used (orchestration's
    # dbt_target_path): no other run writes there, and its partial-parse cache is warm.
    target = dbt_target_path(BillingSettings(warehouse_path=str(warehouse)))
    env = {**os.environ, "BILLING_WAREHOUSE": str(warehouse),
           "BILLING_AS_OF": "2026-11-01T00:00:00Z", "DBT_LOG_PATH": str(tmp_path / "dbt_logs")}
    result = subprocess.run(
        [str(DBT), "--no-use-colors", "test", "--select", "test_type:unit",
         "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT),
         "--target-path", str(target)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"dbt unit tests failed:\n{output}"

    results = json.loads((target / "run_results.json").read_text())["results"]
    unit_results = {r["unique_id"].rsplit(".", 1)[-1]: r["status"] for r in results
                    if r["unique_id"].startswith("unit_test.")}
    passed = sorted(name for name, status in unit_results.items() if status == "pass")
    assert passed == sorted(expected), (
        f"{len(passed)} unit tests passed, {len(expected)} defined:\n{output}")
