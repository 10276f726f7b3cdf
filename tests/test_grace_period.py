"""Grace period and drafts (LAGO_RULES.md §17): with an invoice_grace_period an invoice stays a
draft (no number, no coupon, recomputed by every close: a late event inside the grace period
changes it) until the period ends, then the next close finalizes it; an event after that is
late usage and changes nothing; `billing approve` finalizes a draft early."""
from __future__ import annotations

import datetime as dt
import subprocess

import pytest

from conftest import (BILLING, CUSTOMERS, ORGANIZATION, Close, base_catalog, run_close,
                      write_catalog, write_events)

pytestmark = pytest.mark.xdist_group("grace_period")


def calls(prefix, n, day):
    return [{"transaction_id": f"{prefix}-{i}", "external_subscription_id": "sub_a",
             "code": "api_calls", "timestamp": f"2026-10-{day:02d}T12:00:00Z",
             "properties": {}} for i in range(n)]


def inputs(root):
    # three days of grace for the organization; cus_b has none of its own: invoiced at once
    customers = [dict(CUSTOMERS[0]), dict(CUSTOMERS[1], invoice_grace_period=0)]
    write_catalog(root / "catalog", base_catalog(
        organization=[dict(ORGANIZATION, invoice_grace_period=3)], customers=customers,
        coupons=[{"code": "thanks", "coupon_type": "fixed_amount", "amount_cents": 200,
                  "amount_currency": "EUR", "frequency": "once"}],
        applied_coupons=[{"external_customer_id": "cus_a", "coupon_code": "thanks",
                          "created_at": "2026-10-01T00:00:00Z"}]))
    write_events(root / "events" / "a.parquet", calls("a", 10, 5))


def invoice(close, customer="cus_a"):
    [row] = close.rows("select * from invoices where external_customer_id = ? "
                       "and billing_at >= '2026-11-01'", [customer])
    return row


class State:
    """What one close left: its invoices, charge units, PDFs and late events, read at once
    (the closes share one warehouse)."""

    def __init__(self, close):
        self.invoices = {c: invoice(close, c) for c in ("cus_a", "cus_b")}
        self.calls = close.scalar(
            "select sum(units) from fees where invoice_id = ? and fee_type = 'charge' and "
            "billable_metric_code = 'api_calls'", [self.invoices["cus_a"]["invoice_id"]])
        self.finalized_a = close.scalar("select count(*) from ledger.finalized_invoices "
                                        "where external_customer_id = 'cus_a'")
        self.pdfs = sorted(p.name for p in (close.documents / "invoices").glob("*.pdf"))
        self.late = close.rows("select transaction_id, invoice_number from late_events")


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    root = tmp_path_factory.mktemp("grace")
    inputs(root)
    states = {}

    def close(name, as_of):
        done = run_close(root, as_of)
        assert done.success, name
        states[name] = State(done)

    close("nov1", "2026-11-01T00:00:00Z")
    write_events(root / "events" / "b.parquet", calls("b", 1, 20))   # late, inside the grace
    close("nov2", "2026-11-02T00:00:00Z")
    close("nov4", "2026-11-04T00:00:00Z")
    write_events(root / "events" / "c.parquet", calls("c", 1, 21))   # after finalization
    close("nov5", "2026-11-05T00:00:00Z")
    return states


def test_an_invoice_is_a_draft_during_its_grace_period(month):
    draft = month["nov1"].invoices["cus_a"]
    # 10.00 + 10 calls x 0.05; no number, no coupon on a draft; issued when the grace ends
    assert (draft["status"], draft["number"], draft["fees_amount_cents"],
            draft["coupons_amount_cents"], draft["total_amount_cents"]) == (
        "draft", None, 1050, 0, 1050)
    assert draft["issuing_date"] == dt.date(2026, 11, 4)
    assert month["nov1"].finalized_a == 0
    # cus_b has no grace period of its own: finalized at once (10.00 x 16/31)
    other = month["nov1"].invoices["cus_b"]
    assert (other["status"], other["number"], other["total_amount_cents"]) == (
        "finalized", "TST-001-001", 516)
    # no PDF for a draft
    assert month["nov1"].pdfs == ["TST-001-001.pdf"]


def test_a_late_event_inside_the_grace_period_updates_the_draft(month):
    draft = month["nov2"].invoices["cus_a"]
    assert (draft["status"], draft["fees_amount_cents"], draft["total_amount_cents"]) == (
        "draft", 1055, 1055)
    assert month["nov2"].calls == 11


def test_the_close_after_the_grace_period_finalizes_with_the_coupon(month):
    final = month["nov4"].invoices["cus_a"]
    assert (final["status"], final["number"], final["fees_amount_cents"],
            final["coupons_amount_cents"], final["total_amount_cents"]) == (
        "finalized", "TST-002-001", 1055, 200, 855)
    assert final["issuing_date"] == dt.date(2026, 11, 4)
    assert final["finalized_at"] == dt.datetime(2026, 11, 4, tzinfo=dt.timezone.utc)
    assert month["nov4"].pdfs == ["TST-001-001.pdf", "TST-002-001.pdf"]


def test_an_event_after_finalization_is_late_usage(month):
    assert month["nov5"].invoices == month["nov4"].invoices
    assert month["nov5"].calls == 11
    assert month["nov4"].late == []
    assert month["nov5"].late == [{"transaction_id": "c-0", "invoice_number": "TST-002-001"}]


def test_billing_approve_finalizes_a_draft_before_its_grace_ends(tmp_path):
    inputs(tmp_path)
    assert run_close(tmp_path, "2026-11-01T00:00:00Z").success
    paths = ["--catalog", str(tmp_path / "catalog"), "--events", str(tmp_path / "events"),
             "--warehouse", str(tmp_path / "warehouse.duckdb"), "--documents",
             str(tmp_path / "documents")]
    refused = subprocess.run([str(BILLING), "approve", "--period", "2026-13", *paths],
                             capture_output=True, text=True, cwd=tmp_path)
    assert refused.returncode != 0 and "expected YYYY-MM-DD, YYYY-MM" in refused.stderr
    done = subprocess.run([str(BILLING), "approve", "--period", "2026-11-01", "--customer",
                           "cus_a", "--as-of", "2026-11-02T09:30:00Z", *paths],
                          capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert done.returncode == 0, done.stderr
    approved = Close(tmp_path, "", True)
    final = invoice(approved)
    assert (final["status"], final["number"], final["total_amount_cents"]) == (
        "finalized", "TST-002-001", 850)    # 10.50 - the 2.00 coupon
    assert final["issuing_date"] == dt.date(2026, 11, 2)
    assert approved.query("select first_day, last_day, external_customer_id "
                          "from ledger.approvals") == [
        (dt.date(2026, 11, 1), dt.date(2026, 11, 1), "cus_a")]
