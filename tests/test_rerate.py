"""Re-rating closed periods (issue 5): `billing rerate --from … --to …` recomputes the
finalized period parts ending in those days against the current catalog and events, writes
the differences to `rerate_differences` for finance, and `billing approve --rerate` issues a
credit note for what was over-billed and a supplementary invoice for what was under-billed,
each pointing to the original invoice and period, once.

The scenario, on round numbers (a 10 % VAT, amounts in EUR cents):

- October, closed on Nov 1: plan fee 10.00 in arrears, API calls at 1.00 each. cus_a made 100
  calls (fees 110.00, VAT 11.00, total 121.00), cus_b 50 (60.00 + 6.00 = 66.00).
- Then the price changes: the plan fee becomes 8.00, a call 1.20; and 10 more October calls of
  cus_b land late (after its invoice was frozen: late usage).
- The re-rating of October finds, per fee: the plan fee over-billed by 2.00 for each customer;
  the calls under-billed by 20.00 (cus_a: 100 x 0.20) and 22.00 (cus_b: 60 x 1.20 - 50.00).
- Approved, it issues to each customer a credit note of 2.00 + 0.20 VAT = 2.20 on the
  original plan fee (credited to the balance, as Lago credits by default) and a supplementary
  invoice of 20.00 + 2.00 VAT (cus_b: 22.00 + 2.20) for the calls, which consumes the 2.20
  credit like any next invoice (Lago's order: credit notes after taxes).
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import (BILLING, ORGANIZATION, Close, layer_test_failures, run_close, write_catalog,
                      write_events)

pytestmark = pytest.mark.xdist_group("rerate")


def catalog(plan_cents: int = 1000, call_price: str = "1") -> dict:
    return {
        "organization": [{**ORGANIZATION, "tax_codes": ["vat10"]}],
        "taxes": [{"code": "vat10", "name": "VAT", "rate": 10}],
        "billable_metrics": [{"code": "api_calls", "name": "API calls",
                              "aggregation_type": "count_agg"}],
        "plans": [{"code": "usage", "name": "Usage", "interval": "monthly",
                   "amount_cents": plan_cents, "amount_currency": "EUR",
                   "pay_in_advance": False,
                   "charges": [{"billable_metric_code": "api_calls", "charge_model": "standard",
                                "properties": {"amount": call_price}}]}],
        "customers": [{"external_id": c, "name": c.upper(), "currency": "EUR"}
                      for c in ("cus_a", "cus_b")],
        "subscriptions": [{"external_id": f"sub_{c}", "external_customer_id": f"cus_{c}",
                           "plan_code": "usage", "subscription_at": "2026-10-01T00:00:00Z",
                           "billing_time": "calendar"} for c in ("a", "b")],
    }


def calls(sub: str, count: int, prefix: str = "") -> list[dict]:
    return [{"transaction_id": f"{prefix}{sub}-{i}", "external_subscription_id": sub,
             "code": "api_calls", "timestamp": f"2026-10-{1 + i % 28:02d}T10:00:00Z",
             "properties": {}} for i in range(count)]


def billing(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BILLING), *args, "--catalog", str(root / "catalog"), "--events",
         str(root / "events"), "--warehouse", str(root / "warehouse.duckdb"), "--documents",
         str(root / "documents")],
        cwd=root, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def rerated(tmp_path_factory):
    """October closed; the price changed and late calls landed; re-rated; approved twice;
    re-rated again. Each step's outcome is kept for the tests."""
    root = tmp_path_factory.mktemp("rerate")
    write_catalog(root / "catalog", catalog())
    write_events(root / "events" / "day=2026-10-31" / "calls.parquet",
                 calls("sub_a", 100) + calls("sub_b", 50))
    closed = run_close(root, "2026-11-01T00:00:00Z", documents=False)
    assert closed.success
    steps = {"closed": {"invoices": closed.rows("select * from invoices order by number")}}

    write_catalog(root / "catalog", catalog(plan_cents=800, call_price="1.2"))
    write_events(root / "events" / "day=2026-11-05" / "late.parquet",
                 calls("sub_b", 10, prefix="late-"))
    result = billing(root, "rerate", "--from", "2026-10-01", "--to", "2026-10-31",
                     "--as-of", "2026-11-10T00:00:00Z", "--no-documents")
    assert result.returncode == 0, result.stdout + result.stderr
    close = Close(root, "2026-11-10T00:00:00Z", True)
    steps["rerate"] = {"output": result.stdout,
                       "differences": close.rows("select * from rerate_differences"),
                       "invoices": close.rows("select * from invoices order by number"),
                       "credit_notes": close.scalar("select count(*) from credit_notes"),
                       "review": (root / "review" / "warehouse-latest.html").read_text()}

    result = billing(root, "approve", "--rerate", "RR-001", "--as-of", "2026-11-10T01:00:00Z")
    assert result.returncode == 0, result.stdout + result.stderr
    steps["approve"] = {"output": result.stdout,
                        "invoices": close.rows("select * from invoices order by number"),
                        "credit_notes": close.rows("select * from credit_notes order by number"),
                        "differences": close.rows("select * from rerate_differences")}

    from orchestration.cli import main
    args = ["--catalog", str(root / "catalog"), "--events", str(root / "events"),
            "--warehouse", str(root / "warehouse.duckdb"), "--documents",
            str(root / "documents"), "--quiet", "--no-documents"]
    assert main(["approve", "--rerate", "RR-001", "--as-of", "2026-11-10T02:00:00Z",
                 *args]) == 0
    steps["approve_again"] = {
        "invoices": close.rows("select * from invoices order by number"),
        "credit_notes": close.rows("select * from credit_notes order by number"),
        "adjustments": close.scalar("select count(*) from ledger.rerate_adjustments")}

    assert main(["rerate", "--from", "2026-10-01", "--to", "2026-10-31", "--as-of",
                 "2026-11-11T00:00:00Z", *args]) == 0
    steps["rerate_again"] = {"differences": close.rows(
        "select * from rerate_differences where rerate_id = 'RR-002'")}
    steps["close"] = close
    return steps


def _by_customer(rows, **match):
    return {r["external_customer_id"]: r for r in rows
            if all(r[k] == v for k, v in match.items())}


def test_the_closed_month_is_billed_at_the_old_prices(rerated):
    invoices = _by_customer(rerated["closed"]["invoices"])
    assert invoices["cus_a"]["fees_amount_cents"] == 11000
    assert invoices["cus_a"]["total_amount_cents"] == 12100
    assert invoices["cus_b"]["fees_amount_cents"] == 6000
    assert invoices["cus_b"]["total_amount_cents"] == 6600


def test_the_rerate_writes_the_differences_and_issues_nothing(rerated):
    step = rerated["rerate"]
    differences = step["differences"]
    assert {r["status"] for r in differences} == {"awaiting_approval"}
    found = {(r["external_customer_id"], r["fee_type"]):
             (r["frozen_amount_cents"], r["recomputed_amount_cents"], r["difference_cents"],
              r["action"]) for r in differences}
    assert found == {
        ("cus_a", "subscription"): (1000, 800, -200, "credit_note"),
        ("cus_a", "charge"): (10000, 12000, 2000, "supplementary_invoice"),
        ("cus_b", "subscription"): (1000, 800, -200, "credit_note"),
        ("cus_b", "charge"): (5000, 7200, 2200, "supplementary_invoice"),
    }
    late = _by_customer(differences, fee_type="charge")["cus_b"]
    assert (late["frozen_units"], late["recomputed_units"]) == (50, 60)
    assert {r["invoice_number"] for r in differences} == {"TST-001-001", "TST-002-001"}
    # nothing is issued before approval; the frozen invoices are untouched
    assert step["invoices"] == rerated["closed"]["invoices"]
    assert step["credit_notes"] == 0
    assert "RR-001" in step["output"] and "billing approve --rerate RR-001" in step["output"]
    assert "+20.00 EUR" in step["output"] and "-2.00 EUR" in step["output"]
    # the review report lists what awaits approval
    review = step["review"]
    assert 'id="rerates"' in review and "RR-001" in review
    assert review.count("supplementary invoice") >= 2 and "TST-002-001" in review


def test_approval_issues_a_credit_note_and_a_supplementary_invoice(rerated):
    step = rerated["approve"]
    originals = {r["invoice_id"]: r for r in rerated["closed"]["invoices"]}
    credit_notes = _by_customer(step["credit_notes"])
    for customer, number in (("cus_a", "TST-001-001"), ("cus_b", "TST-002-001")):
        note = credit_notes[customer]
        assert note["origin"] == "rerate" and note["rerate_id"] == "RR-001"
        assert note["invoice_number"] == number and note["number"] == f"{number}-CN001"
        assert (note["sub_total_excluding_taxes_amount_cents"], note["taxes_amount_cents"],
                note["total_amount_cents"], note["credit_amount_cents"]) == (200, 20, 220, 220)
        assert note["refund_amount_cents"] == 0

    supplementary = _by_customer(step["invoices"], rerate_id="RR-001")
    assert set(supplementary) == {"cus_a", "cus_b"}
    a, b = supplementary["cus_a"], supplementary["cus_b"]
    assert originals[a["corrects_invoice_id"]]["number"] == "TST-001-001"
    assert originals[b["corrects_invoice_id"]]["number"] == "TST-002-001"
    assert (a["number"], b["number"]) == ("TST-001-002", "TST-002-002")
    assert a["status"] == "finalized" and a["invoice_type"] == "subscription"
    # the period it corrects, not the day it was issued
    assert (a["from_datetime"].date().isoformat(), a["to_datetime"].date().isoformat()) == (
        "2026-10-01", "2026-10-31")
    # fees, no coupon, VAT, less the credit note issued with it
    assert (a["fees_amount_cents"], a["taxes_amount_cents"], a["credit_notes_amount_cents"],
            a["total_amount_cents"]) == (2000, 200, 220, 1980)
    assert (b["fees_amount_cents"], b["taxes_amount_cents"], b["credit_notes_amount_cents"],
            b["total_amount_cents"]) == (2200, 220, 220, 2200)
    # the original invoices never change
    for original in rerated["closed"]["invoices"]:
        assert next(r for r in step["invoices"] if r["invoice_id"] == original["invoice_id"]) \
            == original
    assert {r["status"] for r in step["differences"]} == {"settled"}
    assert {r["document_number"] for r in step["differences"] if r["action"] != "none"} == {
        "TST-001-001-CN001", "TST-001-002", "TST-002-001-CN001", "TST-002-002"}
    assert "settled" in step["output"]


def test_the_supplementary_fees_point_to_the_original_period(rerated):
    fees = rerated["close"].rows(
        "select f.* from fees f join invoices i using (invoice_id) where i.rerate_id = 'RR-001' "
        "order by f.external_subscription_id")
    assert [(f["external_subscription_id"], f["fee_type"], f["amount_cents"], f["units"])
            for f in fees] == [("sub_a", "charge", 2000, 100), ("sub_b", "charge", 2200, 60)]
    assert {f["from_datetime"].date().isoformat() for f in fees} == {"2026-10-01"}


def test_approving_twice_issues_once(rerated):
    again = rerated["approve_again"]
    assert again["invoices"] == rerated["approve"]["invoices"]
    assert again["credit_notes"] == rerated["approve"]["credit_notes"]
    assert again["adjustments"] == 4


def test_a_new_rerate_of_the_same_days_finds_nothing_left_to_correct(rerated):
    differences = rerated["rerate_again"]["differences"]
    assert len(differences) == 4
    assert {r["difference_cents"] for r in differences} == {0}
    assert {r["corrected_before_cents"] for r in differences} == {-200, 2000, 2200}


def test_approving_an_unknown_rerate_is_refused(rerated):
    root = rerated["close"].root
    result = billing(root, "approve", "--rerate", "RR-009", "--as-of", "2026-11-12T00:00:00Z",
                     "--no-documents")
    assert result.returncode != 0
    assert "no re-rating 'RR-009' was requested" in result.stderr
    assert "RR-001, RR-002" in result.stderr


def test_the_documents_say_what_they_correct(rerated):
    import pypdf

    documents = rerated["close"].documents
    invoice = "\n".join(page.extract_text() for page in
                        pypdf.PdfReader(documents / "invoices" / "TST-001-002.pdf").pages)
    assert "Corrects" in invoice and "TST-001-001 (re-rating RR-001)" in invoice
    assert "2026" in invoice and "20.00" in invoice and "19.80" in invoice
    note = "\n".join(page.extract_text() for page in pypdf.PdfReader(
        documents / "credit_notes" / "TST-001-001-CN001.pdf").pages)
    assert "TST-001-001" in note and "Re-rating RR-001" in note and "2.20" in note


def test_the_layer_tests_hold_after_re_rating(rerated):
    """The dbt tests a close leaves out (selectors.yml: layer_tests) hold on a warehouse re-rated
    and approved."""
    failures = layer_test_failures(rerated["close"].warehouse)
    assert failures is None, failures[-4000:]
