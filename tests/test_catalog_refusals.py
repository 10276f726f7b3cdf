"""A bad catalog is refused before anything is computed, and the error names the file, the
object and the field (CONTRACT §2)."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import base_catalog, run_close, write_catalog, write_events
from orchestration.lib.catalog.errors import CatalogError
from orchestration.lib.catalog.validate import validate_catalog


def refusal(tmp_path: Path, **documents) -> str:
    folder = write_catalog(tmp_path / "catalog", base_catalog(**documents))
    with pytest.raises(CatalogError) as caught:
        validate_catalog(folder)
    return str(caught.value)


def test_the_base_catalog_loads(catalog_dir):
    catalog = validate_catalog(catalog_dir)
    assert [p.code for p in catalog.plans] == ["starter"]
    assert len(catalog.version) == 64


def test_unknown_metric_code_in_a_charge(tmp_path):
    plans = base_catalog()["plans"]
    plans[0]["charges"][0]["billable_metric_code"] = "api_cals"
    message = refusal(tmp_path, plans=plans)
    assert 'plans.yaml: plan "starter": charges[0].billable_metric_code: unknown billable ' \
           "metric 'api_cals'" in message
    assert "api_calls" in message  # the known codes are listed


def test_negative_amount(tmp_path):
    plans = base_catalog()["plans"]
    plans[0]["charges"][0]["properties"]["amount"] = "-1"
    message = refusal(tmp_path, plans=plans)
    assert 'plans.yaml: plan "starter": charges[0].properties.amount' in message
    assert "negative" in message


def test_negative_plan_amount(tmp_path):
    plans = base_catalog()["plans"]
    plans[0]["amount_cents"] = -100
    assert 'plans.yaml: plan "starter": amount_cents' in refusal(tmp_path, plans=plans)


@pytest.mark.parametrize("ranges, field", [
    # the second range starts inside the first: overlap
    ([{"from_value": 0, "to_value": 10}, {"from_value": 5, "to_value": None}],
     "graduated_ranges[1].from_value"),
    # the second range starts after 11: a gap
    ([{"from_value": 0, "to_value": 10}, {"from_value": 20, "to_value": None}],
     "graduated_ranges[1].from_value"),
    # the last range must be open-ended
    ([{"from_value": 0, "to_value": 10}, {"from_value": 11, "to_value": 20}],
     "graduated_ranges[1].to_value"),
])
def test_overlapping_or_gapped_graduated_ranges(tmp_path, ranges, field):
    plans = base_catalog()["plans"]
    for r in ranges:
        r.update(per_unit_amount="1", flat_amount="0")
    plans[0]["charges"][1]["properties"]["graduated_ranges"] = ranges
    message = refusal(tmp_path, plans=plans)
    assert f'plans.yaml: plan "starter": charges[1].properties.{field}' in message


def test_unknown_currency(tmp_path):
    plans = base_catalog()["plans"]
    plans[0]["amount_currency"] = "EUX"
    message = refusal(tmp_path, plans=plans)
    assert 'plans.yaml: plan "starter": amount_currency: unknown currency \'EUX\'' in message


def test_malformed_yaml_names_the_line(tmp_path):
    folder = write_catalog(tmp_path / "catalog", base_catalog())
    (folder / "plans.yaml").write_text("- code: starter\n  charges: [\n    - oops\n")
    with pytest.raises(CatalogError) as caught:
        validate_catalog(folder)
    message = str(caught.value)
    assert "plans.yaml: not valid YAML (line" in message


def test_missing_required_field(tmp_path):
    subscriptions = base_catalog()["subscriptions"]
    del subscriptions[1]["plan_code"]
    message = refusal(tmp_path, subscriptions=subscriptions)
    assert 'subscriptions.yaml: subscription "sub_b": plan_code: is required' in message


def test_unknown_plan_and_customer_in_a_subscription(tmp_path):
    subscriptions = base_catalog()["subscriptions"]
    subscriptions[0]["plan_code"] = "nope"
    subscriptions[1]["external_customer_id"] = "cus_zz"
    message = refusal(tmp_path, subscriptions=subscriptions)
    assert 'subscriptions.yaml: subscription "sub_a": plan_code: unknown plan' in message
    assert 'subscriptions.yaml: subscription "sub_b": external_customer_id: unknown customer' \
           in message


def test_every_problem_is_reported_at_once(tmp_path):
    plans = base_catalog()["plans"]
    plans[0]["amount_currency"] = "EUX"
    plans[0]["charges"][0]["billable_metric_code"] = "api_cals"
    message = refusal(tmp_path, plans=plans)
    assert "amount_currency: unknown currency" in message
    assert "charges[0].billable_metric_code: unknown billable metric" in message


@pytest.mark.xdist_group("close")
def test_the_run_refuses_a_bad_catalog_before_computing(tmp_path):
    plans = base_catalog()["plans"]
    plans[0]["charges"][0]["billable_metric_code"] = "api_cals"
    write_catalog(tmp_path / "catalog", base_catalog(plans=plans))
    write_events(tmp_path / "events" / "e.parquet", [])
    result = run_close(tmp_path, "2026-11-01T00:00:00Z", cli=True)
    assert not result.success
    assert 'plans.yaml: plan "starter": charges[0].billable_metric_code' in result.output
    # nothing was computed: no invoices table was written
    import duckdb
    if result.warehouse.exists():
        with duckdb.connect(str(result.warehouse), read_only=True) as con:
            tables = {r[0] for r in con.sql(
                "select table_name from information_schema.tables").fetchall()}
        assert "invoices" not in tables
