"""Add-ons and one-off invoices (LAGO_RULES.md §16, CONTRACT.md §2 add_ons.yaml /
one_off_invoices.yaml), and the money lines of the invoice PDF, through the real close.

Where the amounts come from:

- Lago's one-off invoice guide, getlago/lago-doc `guide/one-off-invoices/create-one-off-invoices.mdx`:
  its API example bills `setup_fee` 1 x 50000 and `customer_success` 2 x 100000 cents (USD);
  "Coupons or prepaid credits (discounts) do not apply to one-off invoices"; "One-off invoices
  are subject to taxes"; "a one-off invoice is invoiced straight away"; "If the currency of the
  customer is already defined, the currency of the one-off invoice must be the same".
- Lago's getlago/lago-api `app/services/fees/one_off_service.rb`: unit amount = the fee's
  unit_amount_cents else the add-on's amount_cents, units default 1, amount =
  (unit_amount_cents x units).round; and `app/services/fees/apply_taxes_service.rb`: the fee's
  tax_codes, else the add-on's taxes, else the customer's, else the organization's.

Here `setup_fee` is an add-on of 400.00 USD overridden to 500.00 on the invoice, with no taxes
of its own (the customer's 20% VAT applies: 100.00); `customer_success` is 1,000.00 USD with
the add-on's 10% tax (2 units: 2,000.00, tax 200.00); a third line bills 0.5 x 3.33 USD =
1.665 -> 1.67 with its own tax code (20%: 0.334). Fees 2,501.67, taxes round(10000 + 20000 +
33.4) = 30033, total 2,802.00. The customer's subscription invoice (100.00 USD, a 10%
forever coupon, 20% VAT) shows the coupon and tax lines: 100.00 - 10.00 + 18.00 = 108.00.
"""
from __future__ import annotations

from pathlib import Path

import pypdf
import pytest

from conftest import ORGANIZATION, run_close, write_catalog, layer_test_failures

pytestmark = pytest.mark.xdist_group("one_off_invoices")

AT = "2026-10-15T12:00:00Z"
CATALOG = {
    "organization": [{**ORGANIZATION, "tax_codes": ["vat5"]}],
    "taxes": [{"code": "vat5", "name": "Default tax", "rate": 5},
              {"code": "vat10", "name": "Services tax", "rate": 10},
              {"code": "vat20", "name": "VAT", "rate": 20}],
    "billable_metrics": [{"code": "api_calls", "name": "API calls",
                          "aggregation_type": "count_agg"}],
    "plans": [{"code": "pro", "name": "Pro", "interval": "monthly", "amount_cents": 10000,
               "amount_currency": "USD"}],
    "customers": [{"external_id": "hooli", "name": "Hooli", "currency": "USD",
                   "tax_codes": ["vat20"]}],
    "subscriptions": [{"external_id": "sub_hooli", "external_customer_id": "hooli",
                       "plan_code": "pro", "subscription_at": "2026-10-01T00:00:00Z"}],
    "coupons": [{"code": "ten_off", "name": "Ten percent", "coupon_type": "percentage",
                 "percentage_rate": 10, "frequency": "forever"}],
    "applied_coupons": [{"external_customer_id": "hooli", "coupon_code": "ten_off",
                         "created_at": "2026-10-01T00:00:00Z"}],
    "add_ons": [
        {"code": "setup_fee", "name": "Setup fee", "amount_cents": 40000,
         "amount_currency": "USD"},
        {"code": "customer_success", "name": "Customer success", "amount_cents": 100000,
         "amount_currency": "USD", "tax_codes": ["vat10"]},
    ],
    "one_off_invoices": [{
        "external_customer_id": "hooli", "currency": "USD", "at": AT,
        "fees": [
            {"add_on_code": "setup_fee", "units": 1, "unit_amount_cents": 50000},
            {"add_on_code": "customer_success", "units": 2},
            {"add_on_code": "customer_success", "units": 0.5, "unit_amount_cents": 333,
             "tax_codes": ["vat20"], "invoice_display_name": "Extra session"},
        ],
    }],
}


@pytest.fixture(scope="module")
def closes(tmp_path_factory) -> dict:
    """Closes just before the one-off invoice's instant, at the month end, and a day later."""
    root = tmp_path_factory.mktemp("one_off")
    write_catalog(root / "catalog", CATALOG)
    before = run_close(root, "2026-10-15T11:59:59Z")
    before_count = before.scalar("select count(*) from invoices") if before.success else None
    month_end = run_close(root, "2026-11-01T00:00:00Z")
    month_end_rows = month_end.rows("select * from invoices order by number")
    later = run_close(root, "2026-11-02T00:00:00Z")
    return {"before": (before.success, before_count), "month_end": month_end,
            "month_end_rows": month_end_rows, "later": later}


def test_the_one_off_invoice_is_issued_at_its_instant_with_lagos_amounts(closes):
    assert closes["before"] == (True, 0)
    close = closes["month_end"]
    assert close.success
    one_off = close.rows("select * from invoices where invoice_type = 'one_off'")
    assert len(one_off) == 1
    invoice = one_off[0]
    assert invoice["number"] == "TST-001-001"   # numbered with the customer's invoices
    assert str(invoice["issuing_date"]) == "2026-10-15"
    assert invoice["currency"] == "USD"
    assert (invoice["fees_amount_cents"], invoice["coupons_amount_cents"],
            invoice["taxes_amount_cents"], invoice["total_amount_cents"]) == (
        250167, 0, 30033, 280200)
    fees = close.rows("select * from fees where invoice_id = ? order by amount_cents desc",
                      [invoice["invoice_id"]])
    assert [(f["fee_type"], f["add_on_code"], f["display_name"], float(f["units"]),
             f["unit_amount_cents"], f["amount_cents"], f["taxes_amount_cents"],
             float(f["taxes_rate"])) for f in fees] == [
        ("add_on", "customer_success", "Customer success", 2.0, 100000, 200000, 20000, 10.0),
        ("add_on", "setup_fee", "Setup fee", 1.0, 50000, 50000, 10000, 20.0),
        ("add_on", "customer_success", "Extra session", 0.5, 333, 167, 33, 20.0),
    ]
    assert [float(f["precise_amount_cents"]) for f in fees] == [200000, 50000, 166.5]
    taxes = close.rows("select tax_code, taxable_amount_cents, amount_cents from invoice_taxes "
                       "where invoice_id = ? order by tax_code", [invoice["invoice_id"]])
    assert [tuple(t.values()) for t in taxes] == [("vat10", 200000, 20000),
                                                  ("vat20", 50167, 10033)]


def test_coupons_go_to_the_subscription_invoice_not_the_one_off(closes):
    close = closes["month_end"]
    rows = close.rows("select invoice_type, number, fees_amount_cents, coupons_amount_cents, "
                      "taxes_amount_cents, total_amount_cents from invoices order by number")
    assert [tuple(r.values()) for r in rows] == [
        ("one_off", "TST-001-001", 250167, 0, 30033, 280200),
        ("subscription", "TST-001-002", 10000, 1000, 1800, 10800),
    ]


def test_a_later_close_does_not_issue_it_again(closes):
    later = closes["later"]
    assert later.success
    rows = later.rows("select * from invoices order by number")
    assert rows == closes["month_end_rows"]


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def test_the_one_off_pdf_lists_the_add_ons_and_a_tax_line_per_rate(closes):
    text = pdf_text(closes["month_end"].documents / "invoices" / "TST-001-001.pdf")
    assert "Customer success 2 $1,000.00 10 % $2,000.00" in text
    assert "Setup fee 1 $500.00 20 % $500.00" in text
    assert "Extra session 0.5 $3.33 20 % $1.67" in text
    assert "Sub total $2,501.67" in text
    assert "Services tax 10 % on $2,000.00 $200.00" in text
    assert "VAT 20 % on $501.67 $100.33" in text
    assert "Taxes $300.33" in text
    assert "Total due $2,802.00" in text
    assert "Coupon" not in text
    assert "Period" not in text   # a one-off invoice bills no period


def test_the_subscription_pdf_shows_each_coupon_and_the_taxes(closes):
    text = pdf_text(closes["month_end"].documents / "invoices" / "TST-001-002.pdf")
    assert "Sub total $100.00" in text
    assert "Coupon Ten percent −$10.00" in text
    assert "Sub total excluding taxes $90.00" in text
    assert "VAT 20 % on $90.00 $18.00" in text
    assert "Total due $108.00" in text
    # no credit note or prepaid credit applied: no such line
    assert "Credit notes" not in text and "Prepaid credits" not in text


# --- refusals: a bad add-on or one-off invoice is refused before anything is computed ---------

from conftest import base_catalog  # noqa: E402
from orchestration.lib.catalog.errors import CatalogError  # noqa: E402
from orchestration.lib.catalog.tables import catalog_tables  # noqa: E402
from orchestration.lib.catalog.validate import validate_catalog  # noqa: E402

ADD_ONS = [{"code": "setup_fee", "name": "Setup fee", "amount_cents": 50000,
            "amount_currency": "EUR"}]


def one_off(**fields) -> dict:
    return {"external_customer_id": "cus_a", "currency": "EUR", "at": AT,
            "fees": [{"add_on_code": "setup_fee"}], **fields}


def refusal(tmp_path: Path, add_ons=ADD_ONS, invoices=()) -> str:
    folder = write_catalog(tmp_path / "catalog", base_catalog(
        add_ons=add_ons, one_off_invoices=list(invoices)))
    with pytest.raises(CatalogError) as caught:
        validate_catalog(folder)
    return str(caught.value)


@pytest.mark.parametrize("invoice, expected", [
    (one_off(fees=[{"add_on_code": "setup"}]),
     "one_off_invoices.yaml: one-off invoice #1 (customer \"cus_a\"): fees[0].add_on_code: "
     "unknown add-on 'setup' (known: setup_fee)"),
    (one_off(currency="USD"),
     "one_off_invoices.yaml: one-off invoice #1 (customer \"cus_a\"): currency: the invoice is "
     "in USD, but customer 'cus_a' is billed in EUR"),
    (one_off(external_customer_id="cus_zz"),
     "one_off_invoices.yaml: one-off invoice #1 (customer \"cus_zz\"): external_customer_id: "
     "unknown customer 'cus_zz'"),
    (one_off(fees=[{"add_on_code": "setup_fee", "units": -1}]),
     "one_off_invoices.yaml: one-off invoice #1 (customer \"cus_a\"): fees[0].units: must not "
     "be negative"),
    (one_off(fees=[{"add_on_code": "setup_fee", "unit_amount_cents": -5}]),
     "one_off_invoices.yaml: one-off invoice #1 (customer \"cus_a\"): "
     "fees[0].unit_amount_cents: must not be negative"),
    (one_off(fees=[{"add_on_code": "setup_fee", "tax_codes": ["vat"]}]),
     "fees[0].tax_codes[0]: unknown tax 'vat'"),
    (one_off(fees=[]), "one-off invoice #1 (customer \"cus_a\"): fees: needs at least one fee"),
    ({"external_customer_id": "cus_a", "fees": [{"add_on_code": "setup_fee"}]},
     "one-off invoice #1 (customer \"cus_a\"): at: is required"),
])
def test_a_bad_one_off_invoice_is_refused(tmp_path, invoice, expected):
    assert expected in refusal(tmp_path, invoices=[invoice])


def test_a_bad_add_on_is_refused(tmp_path):
    message = refusal(tmp_path, add_ons=[
        {"code": "setup_fee", "amount_cents": -1, "amount_currency": "EUR"},
        {"code": "support", "amount_cents": 100, "amount_currency": "EUR"},
        {"code": "support", "amount_cents": 100, "amount_currency": "EUX",
         "tax_codes": ["nope"]}])
    assert 'add_ons.yaml: add-on "setup_fee": amount_cents: must not be negative' in message
    assert 'add_ons.yaml: add-on "support": amount_currency: unknown currency \'EUX\'' in message
    assert 'add_ons.yaml: add-on "support": tax_codes[0]: unknown tax \'nope\'' in message
    assert "'support' is defined twice" in message


def test_an_add_on_priced_in_another_currency_needs_a_unit_amount(tmp_path):
    add_ons = [{"code": "setup_fee", "amount_cents": 50000, "amount_currency": "USD"}]
    assert ("fees[0].unit_amount_cents: is required: add-on 'setup_fee' is priced in USD, the "
            "invoice is in EUR") in refusal(tmp_path, add_ons=add_ons, invoices=[one_off()])
    # with its own unit amount, the fee is fine
    folder = write_catalog(tmp_path / "ok", base_catalog(add_ons=add_ons, one_off_invoices=[
        one_off(fees=[{"add_on_code": "setup_fee", "unit_amount_cents": 45000}])]))
    validate_catalog(folder)


def test_one_off_invoices_are_loaded_with_the_values_in_force(tmp_path):
    """Units default to 1 and the unit amount to the add-on's; the currency to the customer's;
    two one-off invoices of a customer at one instant are told apart (#2)."""
    folder = write_catalog(tmp_path / "catalog", base_catalog(add_ons=ADD_ONS, one_off_invoices=[
        {"external_customer_id": "cus_a", "at": AT, "fees": [{"add_on_code": "setup_fee"}]},
        one_off(fees=[{"add_on_code": "setup_fee", "units": "2.5", "unit_amount_cents": 999,
                       "tax_codes": "vat"}]),
    ], taxes=[{"code": "vat", "rate": 20}]))
    tables = catalog_tables(validate_catalog(folder))
    assert tables["one_off_invoices"].select(
        ["one_off_invoice_id", "currency"]).to_pylist() == [
        {"one_off_invoice_id": "cus_a/2026-10-15T12:00:00Z", "currency": "EUR"},
        {"one_off_invoice_id": "cus_a/2026-10-15T12:00:00Z#2", "currency": "EUR"}]
    fees = tables["one_off_fees"].select(["one_off_fee_id", "units", "unit_amount_cents"])
    assert [(f["one_off_fee_id"], float(f["units"]), f["unit_amount_cents"])
            for f in fees.to_pylist()] == [("cus_a/2026-10-15T12:00:00Z/0", 1.0, 50000),
                                           ("cus_a/2026-10-15T12:00:00Z#2/0", 2.5, 999)]
    assert ("one_off_fee", "cus_a/2026-10-15T12:00:00Z#2/0", "vat") in [
        tuple(r.values()) for r in tables["applied_taxes"].to_pylist()]


def test_the_layer_tests_hold_on_the_one_off_warehouse(closes):
    """The dbt tests a close leaves out (selectors.yml: layer_tests) hold on a warehouse with one-
    off invoices."""
    failures = layer_test_failures(closes["month_end"].warehouse)
    assert failures is None, failures[-4000:]
