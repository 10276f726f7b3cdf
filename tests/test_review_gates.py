"""A review gate that fails blocks finalization: nothing of the close is frozen, the close
fails naming the rule, and the review page (opened in headless Chromium) says why. Once the
data is put right, the next close finalizes."""
from __future__ import annotations

import pytest

from conftest import METRICS, PLANS, base_catalog, run_close, write_catalog, write_events
from test_close_records import rendered_text

pytestmark = pytest.mark.xdist_group("review_gates")


def catalog():
    metrics = METRICS + [{"code": "credits_used", "name": "Credits", "aggregation_type":
                          "sum_agg", "field_name": "credits"}]
    plans = [dict(PLANS[0], charges=PLANS[0]["charges"] + [
        {"billable_metric_code": "credits_used", "charge_model": "standard",
         "properties": {"amount": "1"}}])]
    return base_catalog(billable_metrics=metrics, plans=plans)


def usage(n, credits, tx):
    return {"transaction_id": tx, "external_subscription_id": "sub_a", "code": "credits_used",
            "timestamp": f"2026-10-{n:02d}T10:00:00Z", "properties": {"credits": credits}}


def test_a_negative_invoice_blocks_finalization_until_fixed(tmp_path):
    write_catalog(tmp_path / "catalog", catalog())
    # a producer sent a refund as negative usage: sub_a's October total would be negative
    write_events(tmp_path / "events" / "a.parquet", [usage(3, 5, "u-1"), usage(4, -50, "u-2")])
    blocked = run_close(tmp_path, "2026-11-01T00:00:00Z", cli=True)
    assert not blocked.success
    assert "finalization blocked by review gate(s): no_negative_amounts (1 failing, " \
           "e.g. cus_a: total -3500 EUR)" in blocked.output
    assert blocked.query("select count(*) from invoices") == [(0,)]
    assert blocked.query("select count(*) from ledger.finalized_invoices") == [(0,)]
    assert not (tmp_path / "documents" / "invoices").exists() or not any(
        (tmp_path / "documents" / "invoices").iterdir())

    report = tmp_path / "review" / "warehouse-latest.html"
    text = rendered_text(report, tmp_path / "chromium")
    assert "Finalization blocked. 1 review gate(s) failed: no_negative_amounts " \
           "(1, e.g. cus_a: total -3500 EUR)" in text
    assert "events_conserved 0" in text and "no_negative_amounts 1" in text
    # the computed invoices awaiting finalization are still shown for review
    assert "EUR 2 " in text

    # put right: a correcting event lands; the next close finalizes both invoices
    write_events(tmp_path / "events" / "b.parquet", [usage(5, 60, "u-3")])
    fixed = run_close(tmp_path, "2026-11-01T00:00:00Z", cli=True)
    assert fixed.success, fixed.output
    totals = dict(fixed.query("select external_customer_id, total_amount_cents from invoices"))
    # cus_a: 10.00 + (5 - 50 + 60) x 1.00 = 25.00; cus_b: from Oct 16, 10.00 x 16/31 = 5.16
    assert totals == {"cus_a": 2500, "cus_b": 516}
    assert "All 4 review gates passed" in rendered_text(report, tmp_path / "chromium")
