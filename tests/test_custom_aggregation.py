"""A catalog with a custom_agg metric closes end to end: the model's parents are declared
whatever the catalog holds (dbt could not infer them from refs inside a catalog-dependent
branch), and the metric's own SQL aggregate prices the period."""
from __future__ import annotations

import pytest

from conftest import base_catalog, run_close, write_catalog, write_events

pytestmark = pytest.mark.xdist_group("custom_aggregation")


def test_custom_aggregator_prices_the_period(tmp_path):
    catalog = base_catalog()
    catalog["billable_metrics"].append({
        "code": "teams", "name": "Teams", "aggregation_type": "custom_agg",
        "custom_aggregator": "count(distinct json_extract_string(properties, '$.team'))"})
    catalog["plans"][0]["charges"] = [
        {"billable_metric_code": "teams", "charge_model": "standard",
         "properties": {"amount": "2.00"}}]
    write_catalog(tmp_path / "catalog", catalog)
    events = [{"transaction_id": f"t{i}", "external_subscription_id": "sub_a", "code": "teams",
               "timestamp": f"2026-10-{10 + i:02d}T12:00:00Z", "properties": {"team": team}}
              for i, team in enumerate(["ops", "sales", "ops", "dev"])]
    write_events(tmp_path / "events" / "day=2026-10-20" / "part-0.parquet", events)
    close = run_close(tmp_path, "2026-11-01T00:00:00Z", documents=False)
    assert close.success
    fee = close.rows("select units, events_count, amount_cents from fees "
                     "where external_subscription_id = 'sub_a' and fee_type = 'charge'")
    assert [(int(f["units"]), f["events_count"], f["amount_cents"]) for f in fee] == [(3, 4, 600)]
