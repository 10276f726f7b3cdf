"""Charge filters (a price per dimension value) and pricing group keys, closed end to end."""
from __future__ import annotations

import pytest

from conftest import base_catalog, run_close, write_catalog, write_events, layer_test_failures

pytestmark = pytest.mark.xdist_group("filters")

METRICS = [
    {"code": "requests", "name": "Requests", "aggregation_type": "sum_agg", "field_name": "n",
     "filters": [{"key": "region", "values": ["eu", "us", "apac"]},
                 {"key": "tier", "values": ["gold", "basic"]}]},
    {"code": "seats", "name": "Seats", "aggregation_type": "unique_count_agg",
     "field_name": "user"},
]

PLANS = [{
    "code": "regional", "name": "Regional", "interval": "monthly", "amount_cents": 0,
    "amount_currency": "USD",
    "charges": [
        {"billable_metric_code": "requests", "charge_model": "standard",
         "properties": {"amount": "1"},           # events no filter matches
         "filters": [
             {"values": {"region": ["eu"]}, "properties": {"amount": "2"},
              "invoice_display_name": "EU requests"},
             {"values": {"region": ["us"], "tier": ["gold"]}, "properties": {"amount": "5"}},
             {"values": {"region": ["us"]}, "properties": {"amount": "3"}},
         ]},
        {"billable_metric_code": "seats", "charge_model": "standard",
         "properties": {"amount": "10", "pricing_group_keys": ["team"]}},
    ],
}]


def event(i: int, code: str, props: dict) -> dict:
    return {"transaction_id": f"t{i}", "external_subscription_id": "sub_r", "code": code,
            "timestamp": f"2026-10-{(i % 28) + 1:02d}T10:00:00Z", "properties": props}


@pytest.fixture(scope="module")
def closed(tmp_path_factory):
    root = tmp_path_factory.mktemp("filters")
    write_catalog(root / "catalog", base_catalog(
        billable_metrics=METRICS, plans=PLANS,
        customers=[{"external_id": "cus_r", "name": "Regional Co", "currency": "USD"}],
        subscriptions=[{"external_id": "sub_r", "external_customer_id": "cus_r",
                        "plan_code": "regional", "subscription_at": "2026-10-01T00:00:00Z"}]))
    events = [
        event(1, "requests", {"n": 1, "region": "eu"}),
        event(2, "requests", {"n": 2, "region": "eu", "tier": "gold"}),
        event(3, "requests", {"n": 4, "region": "us", "tier": "gold"}),
        event(4, "requests", {"n": 8, "region": "us", "tier": "basic"}),
        event(5, "requests", {"n": 16, "region": "us"}),
        event(6, "requests", {"n": 32, "region": "apac"}),
        event(7, "requests", {"n": 64}),
        event(8, "seats", {"user": "ann", "team": "red"}),
        event(9, "seats", {"user": "bob", "team": "red"}),
        event(10, "seats", {"user": "ann", "team": "red"}),
        event(11, "seats", {"user": "cid", "team": "blue"}),
    ]
    write_events(root / "events" / "october.parquet", events)
    result = run_close(root, "2026-11-01T00:00:00Z")
    assert result.success
    return result


def test_each_filter_has_its_own_price(closed):
    fees = {r["display_name"] or r["filter_position"]: (r["units"], r["amount_cents"])
            for r in closed.rows(
                "select * from fees where billable_metric_code = 'requests' and units > 0")}
    # the most specific filter wins: us+gold is priced at 5, other us at 3
    assert sorted(fees.values()) == sorted([
        (3, 600),       # eu: 1 + 2 at $2
        (4, 2000),      # us + gold at $5
        (24, 7200),     # us (basic, none) at $3
        (96, 9600),     # apac and no region: the charge's own price, $1
    ])
    assert ("EU requests" in fees) and fees["EU requests"] == (3, 600)


def test_group_keys_split_the_fee(closed):
    groups = dict(closed.query(
        "select group_key, amount_cents from fees where billable_metric_code = 'seats'"))
    assert sorted(groups.values()) == [1000, 2000]
    assert any("red" in key for key in groups)


def test_the_invoice_adds_up(closed):
    total = closed.scalar("select total_amount_cents from invoices")
    assert total == 600 + 2000 + 7200 + 9600 + 1000 + 2000


def test_the_layer_tests_hold_on_the_filters_warehouse(closed):
    """The dbt tests a close leaves out (selectors.yml: layer_tests) hold on a warehouse with
    filters and groups."""
    failures = layer_test_failures(closed.warehouse)
    assert failures is None, failures[-4000:]
