"""Credit notes requested on finalized invoices (CONTRACT.md §2 credit_notes.yaml,
LAGO_RULES.md §12): loaded and checked with the catalog, computed with their coupon and tax
shares, credited to the customer's balance and consumed by its next invoices, or refunded.

Where the amounts come from:

- Lago's scenario getlago/lago-api `spec/scenarios/credit_notes/credit_note_spec.rb` ("Allows
  creation of partial credit note"): two pay-in-advance plans of 179.00 and 399.00, a 10 % tax
  of the billing entity, the second plan taxed 10 % + 10 % by its own taxes, a forever fixed
  coupon limited to the second plan applied with amount 250.00. The invoice: fees 578.00,
  coupons 250.00, taxes 47.70, total 375.70. A credit note of 262.60 on the 399.00 fee,
  refunded: coupons adjustment 164.54, sub total 98.06, taxes 19.61, total 117.67.
- The termination credit note as tests/test_credit_note_pdf.py and conformance LC07 compute
  it (unused days x plan amount / period days), now consumed by the customer's next invoice.
- Lago's Credits::CreditNoteService for the consumption: the oldest credit note first, never
  more than what is left of the invoice after taxes, the rest carried to the next invoices;
  the refund is paid back, never applied.

The other amounts follow from these rules on round numbers (a 10 % tax, 1.00 EUR a unit).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import ORGANIZATION, run_close, write_catalog, write_events, layer_test_failures
from orchestration.lib.catalog.errors import CatalogError, catalog_refusal
from orchestration.lib.catalog.validate import validate_catalog

pytestmark = pytest.mark.xdist_group("credit_notes")

RUNS = ["2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"]

PLANS = [
    {"code": "p179", "name": "Plan 179", "interval": "monthly", "amount_cents": 17900,
     "amount_currency": "EUR", "pay_in_advance": True},
    {"code": "p399", "name": "Plan 399", "interval": "monthly", "amount_cents": 39900,
     "amount_currency": "EUR", "pay_in_advance": True, "tax_codes": ["plan_tax", "vat10"]},
    {"code": "usage", "name": "Usage", "interval": "monthly", "amount_cents": 0,
     "amount_currency": "EUR", "charges": [
         {"billable_metric_code": "units", "charge_model": "standard",
          "properties": {"amount": "1"}}]},
]
SUBSCRIPTIONS = [
    # Lago's scenario: both plans on one invoice issued 2026-10-01 (TST-001-001)
    {"external_id": "lago_1", "external_customer_id": "lago", "plan_code": "p179"},
    {"external_id": "lago_2", "external_customer_id": "lago", "plan_code": "p399"},
    # usage in arrears: 300 units in October, 100 in November and December
    {"external_id": "carry_1", "external_customer_id": "carry", "plan_code": "usage"},
    # in advance, terminated on Oct 16 at noon: Oct 17..31 are credited; usage on another
    {"external_id": "term_a", "external_customer_id": "term", "plan_code": "p179",
     "terminated_at": "2026-10-16T12:00:00Z"},
    {"external_id": "term_b", "external_customer_id": "term", "plan_code": "usage"},
]
REQUESTS = [
    # Lago's partial credit note, refunded
    {"external_customer_id": "lago", "invoice_issuing_date": "2026-10-01",
     "at": "2026-10-23T12:00:00Z", "reason": "other", "credit_amount_cents": 0,
     "refund_amount_cents": 11767,
     "items": [{"fee": {"fee_type": "subscription", "external_subscription_id": "lago_2"},
                "amount_cents": 26260}]},
    # 200.00 of usage credited on the invoice of Nov 1: 220.00 with tax, 55.00 refunded
    {"external_customer_id": "carry", "invoice_issuing_date": "2026-11-01",
     "at": "2026-11-10T00:00:00Z", "reason": "product_unsatisfactory",
     "credit_amount_cents": 16500, "refund_amount_cents": 5500,
     "items": [{"fee": {"fee_type": "charge", "external_subscription_id": "carry_1",
                        "billable_metric_code": "units"}, "amount_cents": 20000}]},
    # named by number: lago's invoice of Dec 1
    {"invoice_number": "TST-001-003", "at": "2026-12-05T00:00:00Z",
     "reason": "duplicated_charge", "credit_amount_cents": 1100,
     "items": [{"fee": {"fee_type": "subscription", "external_subscription_id": "lago_1"},
                "amount_cents": 1000}]},
]


def catalog(requests=REQUESTS) -> dict:
    return {
        "organization": [{**ORGANIZATION, "tax_codes": ["vat10"]}],
        "taxes": [{"code": "vat10", "name": "VAT", "rate": 10},
                  {"code": "plan_tax", "name": "Plan Tax", "rate": 10}],
        "billable_metrics": [{"code": "units", "name": "Units", "aggregation_type": "sum_agg",
                              "field_name": "units"}],
        "plans": PLANS,
        "customers": [{"external_id": c, "name": c.title(), "currency": "EUR"}
                      for c in ("lago", "carry", "term")],
        "subscriptions": [{**s, "subscription_at": "2026-10-01T00:00:00Z",
                           "billing_time": "calendar"} for s in SUBSCRIPTIONS],
        "coupons": [{"code": "plan2_deal", "coupon_type": "fixed_amount", "amount_cents": 20000,
                     "amount_currency": "EUR", "frequency": "forever",
                     "applies_to": {"plan_codes": ["p399"]}}],
        "applied_coupons": [{"external_customer_id": "lago", "coupon_code": "plan2_deal",
                             "created_at": "2026-09-20T00:00:00Z", "amount_cents": 25000}],
        "credit_notes": requests,
    }


def usage() -> list[dict]:
    units = {"carry_1": {10: 300, 11: 100, 12: 100}, "term_b": {10: 100}}
    return [{"transaction_id": f"{sub}-{month}", "external_subscription_id": sub,
             "code": "units", "timestamp": f"2026-{month}-10T10:00:00Z",
             "properties": {"units": n}}
            for sub, months in units.items() for month, n in months.items()]


def _setup(root: Path, requests=REQUESTS) -> Path:
    write_catalog(root / "catalog", catalog(requests))
    write_events(root / "events" / "events.parquet", usage())
    return root


@pytest.fixture(scope="module")
def monthly(tmp_path_factory):
    """One close a month on one warehouse: balances carry through the ledger."""
    root = _setup(tmp_path_factory.mktemp("credit_notes_monthly"))
    for as_of in RUNS:
        result = run_close(root, as_of, documents=False)
        assert result.success, f"close as of {as_of} failed"
    return result


@pytest.fixture(scope="module")
def at_once(tmp_path_factory):
    """The same months in one close, then the same close again, with the PDFs."""
    root = _setup(tmp_path_factory.mktemp("credit_notes_at_once"))
    first = run_close(root, RUNS[-1])
    assert first.success
    pending = first.rows("select * from credit_note_requests order by position")
    again = run_close(root, RUNS[-1])
    assert again.success
    again.pending = pending
    return again


def invoices_of(close, customer: str) -> list[tuple]:
    return close.query(
        "select number, issuing_date::varchar, fees_amount_cents, coupons_amount_cents, "
        "taxes_amount_cents, credit_notes_amount_cents, total_amount_cents from invoices "
        "where external_customer_id = ? order by billing_at, number", [customer])


def note(close, number: str) -> dict:
    (row,) = close.rows("select * from credit_notes where number = ?", [number])
    return row


# --- amounts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("close", ["monthly", "at_once"])
def test_lagos_partial_credit_note_on_a_couponed_taxed_fee(close, request):
    closed = request.getfixturevalue(close)
    # the invoice as Lago's scenario bills it
    assert invoices_of(closed, "lago")[0] == (
        "TST-001-001", "2026-10-01", 57800, 25000, 4770, 0, 37570)
    cn = note(closed, "TST-001-001-CN001")
    assert (cn["coupons_adjustment_amount_cents"], cn["sub_total_excluding_taxes_amount_cents"],
            cn["taxes_amount_cents"], cn["credit_amount_cents"], cn["refund_amount_cents"],
            cn["total_amount_cents"]) == (16454, 9806, 1961, 0, 11767, 11767)
    assert float(cn["precise_coupons_adjustment_amount_cents"]) == pytest.approx(
        25000 * 26260 / 39900, abs=1e-5)                       # 16453.63409
    assert (cn["origin"], cn["reason"], cn["issuing_date"].isoformat()) == (
        "request", "other", "2026-10-23")
    assert cn["credit_status"] is None and cn["balance_amount_cents"] == 0
    (item,) = closed.rows("select * from credit_note_items where credit_note_id = ?",
                          [cn["credit_note_id"]])
    assert (item["fee_type"], item["external_subscription_id"], item["amount_cents"],
            float(item["taxes_rate"])) == ("subscription", "lago_2", 26260, 20.0)


@pytest.mark.parametrize("close", ["monthly", "at_once"])
def test_a_refund_is_never_applied_to_an_invoice(close, request):
    closed = request.getfixturevalue(close)
    # lago's next invoices are billed in full: the 117.67 were paid back
    assert [i[5:] for i in invoices_of(closed, "lago")[1:3]] == [(0, 37570), (0, 37570)]
    assert closed.scalar("select count(*) from credit_note_applications a join credit_notes n "
                         "using (credit_note_id) where n.number = 'TST-001-001-CN001'") == 0


@pytest.mark.parametrize("close", ["monthly", "at_once"])
def test_a_credit_is_consumed_by_the_next_invoices_and_carried(close, request):
    closed = request.getfixturevalue(close)
    assert invoices_of(closed, "carry") == [
        ("TST-003-001", "2026-11-01", 30000, 0, 3000, 0, 33000),     # credited afterwards
        ("TST-003-002", "2026-12-01", 10000, 0, 1000, 11000, 0),     # never below zero
        ("TST-003-003", "2027-01-01", 10000, 0, 1000, 5500, 5500),   # the rest of the credit
    ]
    cn = note(closed, "TST-003-001-CN001")
    assert (cn["sub_total_excluding_taxes_amount_cents"], cn["taxes_amount_cents"],
            cn["credit_amount_cents"], cn["refund_amount_cents"], cn["total_amount_cents"],
            cn["consumed_amount_cents"], cn["balance_amount_cents"], cn["credit_status"]) == (
        20000, 2000, 16500, 5500, 22000, 16500, 0, "consumed")
    assert closed.query(
        "select invoice_number, credit_note_number, amount_cents from credit_note_applications "
        "where external_customer_id = 'carry' order by billing_at") == [
        ("TST-003-002", "TST-003-001-CN001", 11000), ("TST-003-003", "TST-003-001-CN001", 5500)]


@pytest.mark.parametrize("close", ["monthly", "at_once"])
def test_a_termination_credit_note_is_consumed_the_same_way(close, request):
    closed = request.getfixturevalue(close)
    cn = note(closed, "TST-002-001-CN001")
    # 17900 x 15/31 = 8661.29032, + 10 % tax
    assert (cn["origin"], cn["reason"], cn["sub_total_excluding_taxes_amount_cents"],
            cn["taxes_amount_cents"], cn["credit_amount_cents"]) == (
        "termination", "order_cancellation", 8661, 866, 9527)
    invoices = invoices_of(closed, "term")
    assert invoices[:3] == [
        ("TST-002-001", "2026-10-01", 17900, 0, 1790, 0, 19690),
        ("TST-002-002", "2026-10-16", 0, 0, 0, 0, 0),             # termination: nothing due
        ("TST-002-003", "2026-11-01", 10000, 0, 1000, 9527, 1473),
    ]
    assert (cn["balance_amount_cents"], cn["credit_status"]) == (0, "consumed")


def test_a_credit_note_never_changes_the_invoice_it_credits(monthly):
    (row,) = monthly.query(
        "select fees_amount_cents, total_amount_cents, len(applied_credit_notes) "
        "from ledger.finalized_invoices where number = 'TST-003-001'")
    assert row == (30000, 33000, 0)


def test_a_request_by_number_is_issued_once_its_invoice_is_finalized(monthly, at_once):
    # closed month by month, TST-001-003 (Dec 1) is in the ledger when the Jan 1 close begins:
    # the note is issued from Dec 5 and consumed by the Jan 1 invoice
    cn = note(monthly, "TST-001-003-CN001")
    assert (cn["total_amount_cents"], cn["credit_amount_cents"], cn["balance_amount_cents"]) == (
        1100, 1100, 0)
    assert invoices_of(monthly, "lago")[3] == (
        "TST-001-004", "2027-01-01", 57800, 25000, 4770, 1100, 36470)
    # closed at once, the close that finalizes TST-001-003 leaves the request pending (a number
    # is known once the ledger gives it); the next close issues it, after the Jan 1 invoice
    pending = {r["invoice_number"]: r for r in at_once.pending}["TST-001-003"]
    assert (pending["status"], pending["credit_note_number"]) == ("pending", None)
    assert "finalized by this close" in pending["status_reason"]
    assert invoices_of(at_once, "lago")[3][5:] == (0, 37570)
    cn = note(at_once, "TST-001-003-CN001")
    assert (cn["balance_amount_cents"], cn["credit_status"]) == (1100, "available")
    assert at_once.query("select status, credit_note_number from credit_note_requests "
                         "order by position") == [
        ("issued", "TST-001-001-CN001"), ("issued", "TST-003-001-CN001"),
        ("issued", "TST-001-003-CN001")]


def test_the_ledger_carries_balances_across_closes(monthly):
    assert monthly.query(
        "select i.number, c.credit_note_id = n.credit_note_id, c.amount_cents "
        "from ledger.finalized_invoices i, unnest(i.applied_credit_notes) as t(c) "
        "join credit_notes n on n.number = 'TST-003-001-CN001' "
        "where i.external_customer_id = 'carry' order by i.number") == [
        ("TST-003-002", True, 11000), ("TST-003-003", True, 5500)]


def test_a_close_again_issues_nothing_twice(at_once):
    again = run_close(at_once.root, RUNS[-1], documents=False)
    assert again.success
    assert again.scalar("select count(*) from credit_notes") == 4
    assert again.scalar("select count(*) from ledger.issued_credit_notes") == 4


# --- the PDF ------------------------------------------------------------------------------------


def pdf_text(path) -> str:
    import pypdf

    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def test_the_pdf_shows_items_coupon_and_tax_shares_and_the_refund(at_once):
    text = pdf_text(at_once.documents / "credit_notes" / "TST-001-001-CN001.pdf")
    assert "TST-001-001" in text and "Other" in text
    assert "Plan 399" in text and "20 % €262.60" in text          # the item, at its fee's rate
    assert "Coupon share −€164.54" in text
    assert "Sub total €262.60" in text
    assert "Coupons −€164.54" in text
    assert "Sub total excluding taxes €98.06" in text
    assert "Taxes €19.61" in text
    assert "Total credited €117.67" in text
    assert "Refunded €117.67" in text
    assert "Credited to the customer's balance" not in text
    assert "credits invoice TST-001-001, which stays as issued." in " ".join(text.split())
    text = pdf_text(at_once.documents / "credit_notes" / "TST-003-001-CN001.pdf")
    assert "Credited to the customer's balance €165.00" in text
    assert "Refunded €55.00" in text
    assert "Product unsatisfactory" in text
    assert "the credit is applied to the customer's next invoices" in " ".join(text.split())


# --- refusals -----------------------------------------------------------------------------------


def _refused(tmp_path, requests) -> str:
    write_catalog(tmp_path / "catalog", catalog(requests))
    with pytest.raises(CatalogError) as error:
        validate_catalog(tmp_path / "catalog")
    return str(error.value)


def test_a_request_is_refused_by_the_catalog_naming_file_request_and_field(tmp_path):
    item = {"fee": {"fee_type": "subscription", "external_subscription_id": "lago_1"},
            "amount_cents": 100}
    text = _refused(tmp_path, [
        {"invoice_number": "TST-001-001", "external_customer_id": "lago",
         "invoice_issuing_date": "2026-10-01", "at": "2026-10-02", "credit_amount_cents": 110,
         "items": [item]},
        {"external_customer_id": "nobody", "at": "2026-10-02", "credit_amount_cents": 110,
         "items": [item]},
        {"invoice_number": "TST-001-001", "at": "2026-10-03", "credit_amount_cents": 0,
         "reason": "because", "items": []},
        {"invoice_number": "TST-001-002", "at": "2026-10-03", "credit_amount_cents": 110,
         "items": [{"fee": {"fee_type": "charge", "external_subscription_id": "lago_1"},
                    "amount_cents": 100},
                   {"fee": {"fee_type": "subscription", "external_subscription_id": "lago_1",
                            "billable_metric_code": "units"}, "amount_cents": -5}]},
        {"external_customer_id": "carry", "invoice_issuing_date": "2026-11-01",
         "at": "2026-11-02", "credit_amount_cents": 110, "items": [item]},
        {"external_customer_id": "carry", "invoice_issuing_date": "2026-11-01",
         "at": "2026-11-02", "credit_amount_cents": 110,
         "items": [{"fee": {"fee_type": "charge", "external_subscription_id": "carry_1",
                            "billable_metric_code": "unit"}, "amount_cents": 100}]},
    ])
    first = 'credit_notes.yaml: credit note request #1 (invoice "TST-001-001"): '
    assert first + "invoice_number: name the invoice either by invoice_number or by " \
        "external_customer_id and invoice_issuing_date, not both" in text
    second = 'credit_notes.yaml: credit note request #2 (customer "nobody"): '
    assert second + "invoice_issuing_date: is required when invoice_number is not given" in text
    assert second + "external_customer_id: unknown customer 'nobody'" in text
    third = 'credit_notes.yaml: credit note request #3 (invoice "TST-001-001"): '
    assert third + "reason: expected one of" in text
    fourth = 'credit_notes.yaml: credit note request #4 (invoice "TST-001-002"): '
    assert fourth + "items[1].amount_cents: must not be negative (got -5)" in text
    fifth = 'credit_notes.yaml: credit note request #5 (customer "carry", invoice of 2026-11-01): '
    assert fifth + "items[0].fee.external_subscription_id: subscription 'lago_1' belongs to " \
        "customer 'lago', not to 'carry'" in text
    sixth = 'credit_notes.yaml: credit note request #6 (customer "carry", invoice of 2026-11-01): '
    assert sixth + "items[0].fee.billable_metric_code: unknown billable metric 'unit'" in text


def test_static_refusals_of_items_and_amounts(tmp_path):
    text = _refused(tmp_path, [
        {"invoice_number": "TST-001-001", "at": "2026-10-03", "items": [
            {"fee": {"fee_type": "charge", "external_subscription_id": "lago_1"},
             "amount_cents": 100},
            {"fee": {"fee_type": "subscription", "external_subscription_id": "lago_1",
                     "billable_metric_code": "units"}, "amount_cents": 5}]},
        {"invoice_number": "TST-001-001", "at": "2026-10-03", "credit_amount_cents": 5,
         "items": []},
        {"invoice_number": "TST-001-001", "at": "2026-10-03", "credit_amount_cents": 5,
         "items": [{"fee": {"fee_type": "subscription", "external_subscription_id": "lago_1"},
                    "amount_cents": 5}]},
    ])
    first = 'credit_notes.yaml: credit note request #1 (invoice "TST-001-001"): '
    assert first + "items[0].fee.billable_metric_code: is required for a charge fee" in text
    assert first + "items[1].fee.billable_metric_code: must be left out for a subscription " \
        "fee" in text
    assert first + "credit_amount_cents: credit_amount_cents + refund_amount_cents must be " \
        "positive" in text
    second = 'credit_notes.yaml: credit note request #2 (invoice "TST-001-001"): '
    assert second + "items: is empty" in text
    third = 'credit_notes.yaml: credit note request #3 (invoice "TST-001-001"): '
    assert third + "at: credit note request #2 (invoice \"TST-001-001\") already requests a " \
        "credit note on this invoice at 2026-10-03" in text


BAD_REQUESTS = [
    # no fee of the invoice is a charge of lago_1
    {"external_customer_id": "lago", "invoice_issuing_date": "2026-10-01",
     "at": "2026-10-05T00:00:00Z", "credit_amount_cents": 110,
     "items": [{"fee": {"fee_type": "charge", "external_subscription_id": "lago_2",
                        "billable_metric_code": "units"}, "amount_cents": 100}]},
    # more than the fee (179.00)
    {"external_customer_id": "lago", "invoice_issuing_date": "2026-10-01",
     "at": "2026-10-06T00:00:00Z", "credit_amount_cents": 22000,
     "items": [{"fee": {"fee_type": "subscription", "external_subscription_id": "lago_1"},
                "amount_cents": 20000}]},
    # 10.00 + 10 % tax is 11.00, not 10.00
    {"external_customer_id": "lago", "invoice_issuing_date": "2026-10-01",
     "at": "2026-10-07T00:00:00Z", "credit_amount_cents": 1000,
     "items": [{"fee": {"fee_type": "subscription", "external_subscription_id": "lago_1"},
                "amount_cents": 1000}]},
    # carry's Dec 1 invoice was settled by the credit note: nothing was paid to refund
    {"external_customer_id": "carry", "invoice_issuing_date": "2026-12-01",
     "at": "2026-12-07T00:00:00Z", "refund_amount_cents": 1100,
     "items": [{"fee": {"fee_type": "charge", "external_subscription_id": "carry_1",
                        "billable_metric_code": "units"}, "amount_cents": 1000}]},
    # the invoice of Dec 1 is not finalized on Nov 20
    {"external_customer_id": "carry", "invoice_issuing_date": "2026-12-01",
     "at": "2026-11-20T00:00:00Z", "credit_amount_cents": 1100,
     "items": [{"fee": {"fee_type": "charge", "external_subscription_id": "carry_1",
                        "billable_metric_code": "units"}, "amount_cents": 1000}]},
    # no invoice of carry's on Nov 15
    {"external_customer_id": "carry", "invoice_issuing_date": "2026-11-15",
     "at": "2026-11-20T00:00:00Z", "credit_amount_cents": 1100,
     "items": [{"fee": {"fee_type": "charge", "external_subscription_id": "carry_1",
                        "billable_metric_code": "units"}, "amount_cents": 1000}]},
]


def test_requests_the_invoice_cannot_take_refuse_the_close_before_anything_is_final(tmp_path):
    root = _setup(tmp_path, REQUESTS[:2] + BAD_REQUESTS)
    result = run_close(root, RUNS[-1], cli=True)
    assert not result.success
    text = result.output
    label = 'credit_notes.yaml: credit note request #{} (customer "{}", invoice of {}): '
    assert "credit_notes.yaml refused: 6 problem(s)" in text, text
    assert label.format(3, "lago", "2026-10-01") + "items[0].fee: no charge fee of " \
        "subscription lago_2 on billable metric units is on the invoice" in text
    assert label.format(4, "lago", "2026-10-01") + "items[0].amount_cents: 20000 is more than " \
        "is left to credit on the fee (17900 of 17900)" in text
    assert label.format(5, "lago", "2026-10-01") + "credit_amount_cents: credit_amount_cents " \
        "+ refund_amount_cents = 1000, but the items come to 1100" in text
    assert label.format(6, "carry", "2026-12-01") + "refund_amount_cents: 1100 is more than " \
        "was paid on the invoice less earlier refunds (0;" in text
    assert label.format(7, "carry", "2026-12-01") + "invoice_issuing_date: the invoice is " \
        "finalized at 2026-12-01T00:00:00Z, after the request's at" in text
    assert label.format(8, "carry", "2026-11-15") + "invoice_issuing_date: no invoice of " \
        "customer carry was issued on 2026-11-15" in text
    # nothing was finalized: the close stopped before the ledger was written
    assert result.scalar("select count(*) from information_schema.tables where "
                         "table_schema = 'ledger' and table_name = 'finalized_invoices'") == 0


def test_the_refusal_text_is_found_in_dbts_error():
    error = ("Runtime Error in model int_credit_note_checks (x.sql)\n"
             "  Invalid Input Error: credit_notes.yaml refused: 1 problem(s)\n"
             "    - credit_notes.yaml: credit note request #1: at: bad\n"
             "  compiled code at target/x.sql\n")
    assert catalog_refusal(error) == ("credit_notes.yaml refused: 1 problem(s)\n"
                                      "    - credit_notes.yaml: credit note request #1: at: bad")
    assert catalog_refusal("Parser Error: syntax error") is None


def test_the_catalog_file_is_in_the_contracts_shape():
    # what the README shows for credit_notes.yaml loads as it is
    text = """
- external_customer_id: acme
  invoice_issuing_date: 2026-11-01
  at: 2026-11-10T09:00:00Z
  reason: product_unsatisfactory
  credit_amount_cents: 1100
  refund_amount_cents: 0
  items:
    - fee: {fee_type: charge, external_subscription_id: sub_acme, billable_metric_code: api_calls}
      amount_cents: 1000
"""
    from orchestration.lib.catalog.schema import CreditNoteRequest

    (request,) = [CreditNoteRequest.model_validate(r) for r in yaml.safe_load(text)]
    assert request.items[0].fee.billable_metric_code == "api_calls"


def test_the_layer_tests_hold_on_the_monthly_warehouse(monthly):
    """The dbt tests a close leaves out (selectors.yml: layer_tests) hold on the warehouse of a
    year of monthly closes with credit notes."""
    failures = layer_test_failures(monthly.warehouse)
    assert failures is None, failures[-4000:]
