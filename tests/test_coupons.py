"""Coupons (LAGO_RULES.md §10, CONTRACT.md §2 coupons.yaml / applied_coupons.yaml): loaded and
checked with the catalog, applied to invoices before taxes, with exact amounts.

Where the amounts come from:

- Lago's coupon guide, getlago/lago-doc `guide/coupons.mdx` (https://getlago.com/docs/guide/coupons):
  "The value of the coupon is deducted from the amount of the invoice before tax"; a fixed
  coupon that applies once and exceeds the invoice "the remaining unused amount will be
  applied to the following invoices, until the coupon is totally consumed"; a recurring one
  "any remaining unused amount will be lost"; coupons limited to billable metrics are deducted
  first, then those limited to plans, then the others by the date they were applied; "A coupon
  applied to a customer continues to apply beyond the expiration date"; "Coupons do not apply
  to add-ons or any other one-off charges". The API example there (`startup_deal`, 5000 USD,
  recurring, 6 periods, applies_to plan_codes) is the shape of coupons.yaml.
- Lago's own scenarios, getlago/lago-api `spec/scenarios/coupons_billing_period_spec.rb`
  ("with charges only / when charges are paid in arrears": a forever fixed 15.00 EUR coupon on
  20.00 EUR of charges takes 15.00 every month) and `spec/scenarios/coupons_breakdown_spec.rb`
  (three coupons on two subscriptions: the per-fee split to 5 decimals and the invoice tax
  1889, not the 1887 of the rounded fee taxes; our conformance case LC02).

The other amounts below follow from these rules on round numbers (a 20% tax, 10.00 EUR fees).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from conftest import (ORGANIZATION, base_catalog, layer_test_failures, run_close, write_catalog,
                      write_events)
from orchestration.lib.catalog.errors import CatalogError
from orchestration.lib.catalog.tables import catalog_tables
from orchestration.lib.catalog.validate import validate_catalog

# one xdist group per shared close (the catalog refusals close nothing): the two workers can
# run them at the same time
MONTHLY = pytest.mark.xdist_group("coupons_monthly")
AT_ONCE = pytest.mark.xdist_group("coupons_at_once")
BREAKDOWN = pytest.mark.xdist_group("coupons_breakdown")

CONFORMANCE = Path(__file__).parent / "conformance"
RUNS = ["2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"]
MONTHS = ["2026-11-01", "2026-12-01", "2027-01-01"]  # issuing dates, one invoice each

METRICS = [{"code": "units", "name": "Units", "aggregation_type": "sum_agg",
            "field_name": "units"}]
PLANS = [
    # 10.00 EUR a month in arrears, no charge
    {"code": "base", "name": "Base", "interval": "monthly", "amount_cents": 1000,
     "amount_currency": "EUR"},
    # usage only: 1.00 EUR a unit
    {"code": "usage", "name": "Usage", "interval": "monthly", "amount_cents": 0,
     "amount_currency": "EUR", "charges": [
         {"billable_metric_code": "units", "charge_model": "standard",
          "properties": {"amount": "1"}}]},
]
COUPONS = [
    {"code": "once_fixed", "coupon_type": "fixed_amount", "amount_cents": 1500,
     "amount_currency": "EUR", "frequency": "once"},
    {"code": "recurring_fixed", "coupon_type": "fixed_amount", "amount_cents": 1500,
     "amount_currency": "EUR", "frequency": "recurring", "frequency_duration": 2},
    # expired before any invoice: it was applied in time, so it keeps applying
    {"code": "forever_fixed", "coupon_type": "fixed_amount", "amount_cents": 1500,
     "amount_currency": "EUR", "frequency": "forever", "reusable": False,
     "expiration": "time_limit", "expiration_at": "2026-10-15T00:00:00Z"},
    {"code": "pct_once", "coupon_type": "percentage", "percentage_rate": 10,
     "frequency": "once"},
    {"code": "pct_recurring", "coupon_type": "percentage", "percentage_rate": 50,
     "frequency": "recurring", "frequency_duration": 1},
    {"code": "pct_all", "coupon_type": "percentage", "percentage_rate": 10,
     "frequency": "forever"},
    {"code": "plan_fixed", "coupon_type": "fixed_amount", "amount_cents": 300,
     "amount_currency": "EUR", "frequency": "forever", "applies_to": {"plan_codes": ["base"]}},
]
# one customer per rule: (customer, plan, [(coupon, applied at)])
SCENARIOS = [
    ("cus_once", "base", [("once_fixed", "2026-10-01T00:00:00Z")]),
    ("cus_recurring", "base", [("recurring_fixed", "2026-10-01T00:00:00Z")]),
    ("cus_forever", "usage", [("forever_fixed", "2026-10-01T00:00:00Z")]),
    ("cus_pct_once", "base", [("pct_once", "2026-11-15T00:00:00Z")]),
    ("cus_pct_recurring", "usage", [("pct_recurring", "2026-10-01T00:00:00Z")]),
    # the unrestricted coupon was applied first, the plan-limited one still goes first
    ("cus_order", "base", [("pct_all", "2026-10-01T00:00:00Z"),
                           ("plan_fixed", "2026-10-02T00:00:00Z")]),
]


def coupon_catalog() -> dict:
    customers = [{"external_id": c, "name": c, "currency": "EUR"} for c, _, _ in SCENARIOS]
    return {
        "organization": [{**ORGANIZATION, "tax_codes": ["vat20"]}],
        "taxes": [{"code": "vat20", "name": "VAT", "rate": 20}],
        "billable_metrics": METRICS, "plans": PLANS, "customers": customers,
        "subscriptions": [{"external_id": f"sub_{c}", "external_customer_id": c,
                           "plan_code": plan, "subscription_at": "2026-10-01T00:00:00Z",
                           "billing_time": "calendar"} for c, plan, _ in SCENARIOS],
        "coupons": COUPONS,
        "applied_coupons": [{"external_customer_id": c, "coupon_code": code, "created_at": at}
                            for c, _, applied in SCENARIOS for code, at in applied],
    }


def usage() -> list[dict]:
    # 20 units a month on cus_forever (Oct, Nov, Dec); on cus_pct_recurring none in October
    events = [{"transaction_id": f"f-{m}", "external_subscription_id": "sub_cus_forever",
               "code": "units", "timestamp": f"2026-{m}-10T10:00:00Z",
               "properties": {"units": 20}} for m in (10, 11, 12)]
    events += [{"transaction_id": f"p-{m}", "external_subscription_id": "sub_cus_pct_recurring",
                "code": "units", "timestamp": f"2026-{m}-10T10:00:00Z",
                "properties": {"units": 20}} for m in (11, 12)]
    return events


def _setup(root: Path) -> Path:
    write_catalog(root / "catalog", coupon_catalog())
    write_events(root / "events" / "events.parquet", usage())
    return root


@pytest.fixture(scope="module")
def monthly(tmp_path_factory):
    """Three closes, one a month, on one warehouse: remainders carry through the ledger."""
    root = _setup(tmp_path_factory.mktemp("coupons_monthly"))
    for as_of in RUNS:
        result = run_close(root, as_of, documents=False)
        assert result.success, f"close as of {as_of} failed"
    return result


@pytest.fixture(scope="module")
def at_once(tmp_path_factory):
    """The same three months in one close: remainders carry from invoice to invoice."""
    root = _setup(tmp_path_factory.mktemp("coupons_at_once"))
    result = run_close(root, RUNS[-1], documents=False)
    assert result.success
    return result


def invoices_of(close, customer: str) -> list[dict]:
    return close.rows(
        "select issuing_date::varchar as issued, fees_amount_cents as fees,"
        " coupons_amount_cents as coupons, taxes_amount_cents as taxes,"
        " total_amount_cents as total from invoices where external_customer_id = ?"
        " order by billing_at", [customer])


def row(issued, fees, coupons, taxes, total):
    return {"issued": issued, "fees": fees, "coupons": coupons, "taxes": taxes, "total": total}


EXPECTED = {
    # once fixed 15.00 on 10.00 invoices: 10.00, then the 5.00 left, then nothing; the 20%
    # tax applies to what the coupon leaves
    "cus_once": [row(MONTHS[0], 1000, 1000, 0, 0), row(MONTHS[1], 1000, 500, 100, 600),
                 row(MONTHS[2], 1000, 0, 200, 1200)],
    # recurring fixed 15.00 for 2 invoices: capped at 10.00 each, the 5.00 over is lost
    "cus_recurring": [row(MONTHS[0], 1000, 1000, 0, 0), row(MONTHS[1], 1000, 1000, 0, 0),
                      row(MONTHS[2], 1000, 0, 200, 1200)],
    # forever fixed 15.00 on 20.00 of charges each month (Lago's coupons_billing_period_spec),
    # past the coupon's expiration_at
    "cus_forever": [row(m, 2000, 1500, 100, 600) for m in MONTHS],
    # percentage once, applied on Nov 15: not on the Nov 1 invoice, 10% of the next, then spent
    "cus_pct_once": [row(MONTHS[0], 1000, 0, 200, 1200), row(MONTHS[1], 1000, 100, 180, 1080),
                     row(MONTHS[2], 1000, 0, 200, 1200)],
    # recurring percentage for 1 invoice: an invoice whose fees total 0 does not use it
    "cus_pct_recurring": [row(MONTHS[0], 0, 0, 0, 0), row(MONTHS[1], 2000, 1000, 200, 1200),
                          row(MONTHS[2], 2000, 0, 400, 2400)],
    # plan-limited 3.00 first, then 10% of the 7.00 left (0.70): 3.70, not 1.00 + 3.00
    "cus_order": [row(m, 1000, 370, 126, 756) for m in MONTHS],
}


@MONTHLY
@pytest.mark.parametrize("customer", list(EXPECTED))
def test_coupons_across_monthly_closes(monthly, customer):
    assert invoices_of(monthly, customer) == EXPECTED[customer]


@AT_ONCE
@pytest.mark.parametrize("customer", list(EXPECTED))
def test_coupons_when_the_months_close_at_once(at_once, customer):
    assert invoices_of(at_once, customer) == EXPECTED[customer]


@MONTHLY
def test_the_coupon_breakdown_lists_each_credit_in_order(monthly):
    rows = monthly.query(
        "select coupon_code, position, amount_cents from invoice_coupons"
        " where external_customer_id = 'cus_order' and number like '%-001' order by position")
    assert rows == [("plan_fixed", 1, 300), ("pct_all", 2, 70)]
    once = monthly.query(
        "select number, applied_coupon_id, amount_cents from invoice_coupons"
        " where external_customer_id = 'cus_once' order by number")
    assert [r[1:] for r in once] == [("cus_once/once_fixed", 1000), ("cus_once/once_fixed", 500)]


@MONTHLY
def test_fees_carry_their_share_and_are_taxed_after_it(monthly):
    fees = monthly.rows(
        "select fees.amount_cents, fees.precise_coupons_amount_cents, fees.coupons_amount_cents,"
        " fees.taxes_amount_cents from fees join invoices using (invoice_id)"
        " where invoices.external_customer_id = 'cus_once' order by invoices.billing_at")
    assert [(f["precise_coupons_amount_cents"], f["taxes_amount_cents"]) for f in fees] == [
        (1000, 0), (500, 100), (0, 200)]
    taxes = monthly.query(
        "select taxable_amount_cents, amount_cents from invoice_taxes join invoices"
        " using (invoice_id) where external_customer_id = 'cus_once' order by billing_at")
    assert taxes == [(0, 0), (500, 100), (1000, 200)]


@MONTHLY
def test_a_second_close_changes_nothing(monthly):
    before = monthly.query("select * from invoice_coupons order by invoice_id, position")
    assert run_close(monthly.root, RUNS[-1], documents=False).success
    assert monthly.query("select * from invoice_coupons order by invoice_id, position") == before


# --- Lago's coupons breakdown scenario (three coupons, two subscriptions, two tax rates) ------


@pytest.fixture(scope="module")
def breakdown(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("conformance_run", CONFORMANCE / "run.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    case = yaml.safe_load(
        (CONFORMANCE / "cases" / "LC02_coupons_priority_two_subscriptions.yaml").read_text())
    root = tmp_path_factory.mktemp("coupons_breakdown")
    catalog, events = runner.write_inputs(case, str(root))
    result = run_close(root, "2023-02-01T00:00:00Z", catalog=Path(catalog),
                       events=Path(events), documents=False)
    assert result.success
    return result, case


@BREAKDOWN
def test_metric_then_plan_then_unrestricted_split_to_five_decimals(breakdown):
    """coupons_breakdown_spec.rb: coupon1 (20.00, bm1+bm2) first, coupon2 (10.00, plan_code2)
    next, coupon3 (5.00, all fees) last, each split pro rata of what is left of the fees."""
    close, case = breakdown
    want = {f["metric"]: f for f in case["expected"]["invoices"][0]["fees"] if f.get("metric")}
    got = {r["billable_metric_code"]: r for r in close.rows(
        "select * from fees where fee_type = 'charge'")}
    assert {m: float(r["precise_coupons_amount_cents"]) for m, r in got.items()} == {
        m: pytest.approx(f["precise_coupons_amount_cents"], abs=1e-5) for m, f in want.items()}
    # each fee's tax is on amount - precise coupons, rounded on its own
    assert {m: r["taxes_amount_cents"] for m, r in got.items()} == {
        m: f["taxes_amount_cents"] for m, f in want.items()}
    credits = close.query("select coupon_code, amount_cents from invoice_coupons order by position")
    assert credits == [("coupon1_code", 2000), ("coupon2_code", 1000), ("coupon3_code", 500)]


@BREAKDOWN
def test_invoice_tax_is_rounded_once_after_coupons(breakdown):
    close, _ = breakdown
    invoice = close.rows("select * from invoices")[0]
    assert (invoice["fees_amount_cents"], invoice["coupons_amount_cents"],
            invoice["sub_total_excluding_taxes_amount_cents"], invoice["taxes_amount_cents"],
            invoice["total_amount_cents"]) == (20000, 3500, 16500, 1889, 18389)
    assert close.scalar("select sum(taxes_amount_cents) from fees") == 1887


# --- the catalog: loaded as tables, and refused with file, object and field ------------------


def _catalog(**documents) -> dict:
    return base_catalog(coupons=[
        {"code": "welcome", "coupon_type": "fixed_amount", "amount_cents": 500,
         "amount_currency": "EUR", "applies_to": {"billable_metric_codes": ["api_calls"]}},
        {"code": "tenpct", "coupon_type": "percentage", "percentage_rate": "10",
         "frequency": "recurring", "frequency_duration": 3, "reusable": False},
    ], applied_coupons=[
        {"external_customer_id": "cus_a", "coupon_code": "welcome",
         "created_at": "2026-10-01T00:00:00Z"},
        {"external_customer_id": "cus_a", "coupon_code": "welcome",
         "created_at": "2026-10-02T00:00:00Z", "amount_cents": 200},
        {"external_customer_id": "cus_b", "coupon_code": "tenpct",
         "created_at": "2026-10-01T00:00:00Z", "frequency": "forever"},
    ], **documents)


def refusal(tmp_path: Path, documents: dict) -> str:
    folder = write_catalog(tmp_path / "catalog", documents)
    with pytest.raises(CatalogError) as caught:
        validate_catalog(folder)
    return str(caught.value)


def test_coupons_load_as_tables_with_overrides_applied(tmp_path):
    catalog = validate_catalog(write_catalog(tmp_path / "catalog", _catalog()))
    tables = catalog_tables(catalog)
    applied = tables["applied_coupons"].to_pylist()
    assert [(a["applied_coupon_id"], a["amount_cents"], a["frequency"],
             a["frequency_duration"]) for a in applied] == [
        ("cus_a/welcome", 500, "once", None), ("cus_a/welcome#2", 200, "once", None),
        ("cus_b/tenpct", None, "forever", None)]
    assert tables["coupon_targets"].to_pylist() == [
        {"coupon_code": "welcome", "target_type": "billable_metric", "target_code": "api_calls"}]
    assert [c["limitation"] for c in tables["coupons"].to_pylist()] == ["billable_metrics", None]


def _edit(documents: dict, path: str, value) -> dict:
    stem, index, *keys = path.split(".")
    target = documents[stem][int(index)]
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    if value is None:
        target.pop(keys[-1], None)
    else:
        target[keys[-1]] = value
    return documents


@pytest.mark.parametrize("path, value, expected", [
    ("applied_coupons.0.coupon_code", "welcom",
     'applied_coupons.yaml: applied coupon #1 (customer "cus_a", coupon "welcom"): '
     "coupon_code: unknown coupon 'welcom'"),
    ("applied_coupons.2.external_customer_id", "cus_zz",
     'applied_coupons.yaml: applied coupon #3 (customer "cus_zz", coupon "tenpct"): '
     "external_customer_id: unknown customer 'cus_zz'"),
    ("coupons.1.percentage_rate", None,
     'coupons.yaml: coupon "tenpct": percentage_rate: is required for a percentage coupon'),
    ("coupons.0.amount_cents", None,
     'coupons.yaml: coupon "welcome": amount_cents: is required for a fixed_amount coupon'),
    ("coupons.0.amount_currency", None,
     'coupons.yaml: coupon "welcome": amount_currency: is required for a fixed_amount coupon'),
    ("coupons.0.amount_currency", "EUX",
     "coupons.yaml: coupon \"welcome\": amount_currency: unknown currency 'EUX'"),
    ("coupons.1.frequency_duration", None,
     'coupons.yaml: coupon "tenpct": frequency_duration: is required for a recurring coupon'),
    ("coupons.1.percentage_rate", 120,
     'coupons.yaml: coupon "tenpct": percentage_rate: must be at most 100'),
    ("coupons.0.applies_to", {"billable_metric_codes": ["api_cals"]},
     'coupons.yaml: coupon "welcome": applies_to.billable_metric_codes[0]: unknown billable '
     "metric 'api_cals'"),
    ("coupons.0.applies_to", {"plan_codes": ["startr"]},
     "coupons.yaml: coupon \"welcome\": applies_to.plan_codes[0]: unknown plan 'startr'"),
    ("coupons.0.applies_to", {"plan_codes": ["starter"], "billable_metric_codes": ["api_calls"]},
     'coupons.yaml: coupon "welcome": applies_to: limit a coupon to plans or to billable '
     "metrics, not both"),
    ("coupons.0.coupon_type", "amount",
     'coupons.yaml: coupon "welcome": coupon_type: expected one of'),
    ("applied_coupons.0.created_at", None,
     'applied_coupons.yaml: applied coupon #1 (customer "cus_a", coupon "welcome"): '
     "created_at: is required"),
    ("applied_coupons.0.percentage_rate", 5,
     'applied_coupons.yaml: applied coupon #1 (customer "cus_a", coupon "welcome"): '
     "percentage_rate: coupon 'welcome' is fixed_amount"),
    ("applied_coupons.0.amount_currency", "USD",
     'applied_coupons.yaml: applied coupon #1 (customer "cus_a", coupon "welcome"): '
     "amount_currency: the coupon is in USD, but customer 'cus_a' is billed in EUR"),
])
def test_bad_coupons_are_refused_by_file_object_and_field(tmp_path, path, value, expected):
    assert expected in refusal(tmp_path, _edit(_catalog(), path, value))


def test_a_non_reusable_coupon_is_applied_once_per_customer(tmp_path):
    documents = _catalog()
    documents["applied_coupons"].append({"external_customer_id": "cus_b",
                                         "coupon_code": "tenpct",
                                         "created_at": "2026-11-01T00:00:00Z"})
    assert ('applied_coupons.yaml: applied coupon #4 (customer "cus_b", coupon "tenpct"): '
            "coupon_code: coupon 'tenpct' is not reusable") in refusal(tmp_path, documents)


def test_an_expired_coupon_cannot_be_applied(tmp_path):
    documents = _catalog()
    documents["coupons"][0].update(expiration="time_limit",
                                   expiration_at="2026-10-01T12:00:00Z")
    assert ('applied_coupons.yaml: applied coupon #2 (customer "cus_a", coupon "welcome"): '
            "created_at: coupon 'welcome' expired at 2026-10-01T12:00:00Z") in refusal(
                tmp_path, documents)


def test_every_problem_is_reported_at_once(tmp_path):
    documents = _catalog()
    documents["coupons"][0].pop("amount_cents")
    documents["applied_coupons"][2]["coupon_code"] = "nope"
    assert "refused: 2 problems" in refusal(tmp_path, documents)


@MONTHLY
def test_the_layer_tests_hold_on_the_coupon_warehouse(monthly):
    """The dbt tests a close leaves out (selectors.yml: layer_tests) hold on the warehouse of
    monthly closes with coupons."""
    failures = layer_test_failures(monthly.warehouse)
    assert failures is None, failures[-4000:]
