"""Wallets and prepaid credits (LAGO_RULES.md §13, CONTRACT.md §2 wallets.yaml, §4
wallet_transactions): loaded and checked with the catalog, applied to invoices last in Lago's
order, with exact amounts, through two closes on one warehouse.

Where the amounts come from:

- Lago's changelog "New calculation method for invoices" (https://getlago.com/changelog/
  nvoice-calculation-method): subscriptions 50.00 + usage 20.00, a 10.00 coupon, 30.00 of
  prepaid credits and a 10% tax. Prepaid credits are deducted after tax; coupons, since
  Lago moved them, before tax (LAGO_RULES.md §9, getlago/lago-doc guide/coupons): fees 70.00
  - coupon 10.00 + tax 6.00 - credits 30.00 = 36.00 (cus_example).
- Lago's Cloud walkthrough (https://getlago.com/blog/lago-cloud-usage-to-invoice): a wallet
  of 100.00 USD, 250 units at 0.02 USD, no base fee, no tax: 5.00 of credits applied, the
  customer owes 0 and has 95.00 left (cus_cloud).
- Lago's API reference, wallets/create (https://getlago.com/docs/api-reference/wallets/create):
  rate_amount 1.5 with 20 paid and 10 granted credits; balance = credits x rate_amount
  (app/models/wallet_credit.rb), 30 credits = 45.00 USD (cus_api).
- Credits::AllocatePrepaidCreditsByWalletsService (getlago/lago-api): wallets by priority,
  limited wallets take only from the fee types / metrics they apply to, each fee worth
  amount - coupons + taxes (cus_limited).

The other figures follow from these rules on round numbers (a 20% tax, 10.00 EUR a month).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import ORGANIZATION, run_close, write_catalog, write_events, layer_test_failures
from orchestration.lib.catalog.errors import CatalogError
from orchestration.lib.catalog.validate import validate_catalog

pytestmark = pytest.mark.xdist_group("wallets")

NOV, DEC = "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"
OCT_1 = "2026-10-01T00:00:00Z"

METRICS = [{"code": "units", "name": "Units", "aggregation_type": "sum_agg",
            "field_name": "units"}]
PLANS = [
    # 10.00 EUR a month in arrears
    {"code": "base", "name": "Base", "interval": "monthly", "amount_cents": 1000,
     "amount_currency": "EUR"},
    # the changelog's invoice: 50.00 of subscription, 1.00 a unit of usage
    {"code": "example", "name": "Example", "interval": "monthly", "amount_cents": 5000,
     "amount_currency": "EUR", "charges": [
         {"billable_metric_code": "units", "charge_model": "standard",
          "properties": {"amount": "1"}}]},
    # the walkthrough's: no base fee, 0.02 USD a unit
    {"code": "cloud", "name": "Cloud", "interval": "monthly", "amount_cents": 0,
     "amount_currency": "USD", "charges": [
         {"billable_metric_code": "units", "charge_model": "standard",
          "properties": {"amount": "0.02"}}]},
]
# customer -> (plan, tax codes, currency)
CUSTOMERS = {
    "cus_two_runs": ("base", ["vat20"], "EUR"),
    "cus_topup": ("base", ["vat20"], "EUR"),
    "cus_expiry": ("base", ["vat20"], "EUR"),
    "cus_example": ("example", ["vat10"], "EUR"),
    "cus_limited": ("example", ["vat10"], "EUR"),
    "cus_cloud": ("cloud", None, "USD"),
    "cus_api": ("cloud", None, "USD"),
}
WALLETS = [
    # 15.00 EUR, consumed by two invoices of 12.00 over two closes
    {"code": "prepaid", "external_customer_id": "cus_two_runs", "created_at": OCT_1,
     "currency": "EUR", "rate_amount": "1", "paid_credits": "15"},
    # 1 credit = 2.50 EUR: 4 granted credits (10.00), then a top-up and a void mid-November
    {"code": "credits", "external_customer_id": "cus_topup", "created_at": OCT_1,
     "currency": "EUR", "rate_amount": "2.5", "granted_credits": "4",
     "transactions": [
         {"at": "2026-11-15T00:00:00Z", "paid_credits": "2", "granted_credits": "1.2"},
         {"at": "2026-11-20T00:00:00Z", "voided_credits": "0.8"}]},
    # 20.00 EUR expiring on 20 November: 8.00 is lost, December's invoice is paid in full
    {"code": "expiring", "external_customer_id": "cus_expiry", "created_at": OCT_1,
     "currency": "EUR", "rate_amount": "1", "granted_credits": "20",
     "expiration_at": "2026-11-20T00:00:00Z"},
    {"code": "prepaid", "external_customer_id": "cus_example", "created_at": OCT_1,
     "currency": "EUR", "rate_amount": "1", "paid_credits": "30"},
    # two limited wallets: the subscription-fee wallet has priority 1 though created later
    {"code": "usage_only", "external_customer_id": "cus_limited", "created_at": OCT_1,
     "currency": "EUR", "rate_amount": "1", "granted_credits": "100",
     "applies_to": {"billable_metric_codes": ["units"]}},
    {"code": "fees_only", "external_customer_id": "cus_limited",
     "created_at": "2026-10-02T00:00:00Z", "currency": "EUR", "rate_amount": "1",
     "paid_credits": "10", "priority": 1, "applies_to": {"fee_types": ["subscription"]}},
    {"code": "prepaid", "external_customer_id": "cus_cloud", "created_at": OCT_1,
     "currency": "USD", "rate_amount": "1", "paid_credits": "100"},
    {"code": "api", "external_customer_id": "cus_api", "created_at": OCT_1,
     "currency": "USD", "rate_amount": "1.5", "paid_credits": "20", "granted_credits": "10"},
]


def wallet_catalog() -> dict:
    customers = []
    for code, (_, taxes, currency) in CUSTOMERS.items():
        customer = {"external_id": code, "name": code, "currency": currency}
        if taxes:
            customer["tax_codes"] = taxes
        customers.append(customer)
    return {
        "organization": [ORGANIZATION],
        "taxes": [{"code": "vat20", "name": "VAT", "rate": 20},
                  {"code": "vat10", "name": "VAT", "rate": 10}],
        "billable_metrics": METRICS, "plans": PLANS, "customers": customers,
        "subscriptions": [{"external_id": f"sub_{c}", "external_customer_id": c,
                           "plan_code": plan, "subscription_at": OCT_1,
                           "billing_time": "calendar"} for c, (plan, _, _) in CUSTOMERS.items()],
        "coupons": [{"code": "ten_off", "coupon_type": "fixed_amount", "amount_cents": 1000,
                     "amount_currency": "EUR", "frequency": "once"}],
        "applied_coupons": [{"external_customer_id": "cus_example", "coupon_code": "ten_off",
                             "created_at": OCT_1}],
        "wallets": WALLETS,
    }


def usage() -> list[dict]:
    events = []
    for customer, units in (("cus_example", 20), ("cus_limited", 20), ("cus_cloud", 250)):
        events.append({"transaction_id": f"{customer}-oct", "external_subscription_id":
                       f"sub_{customer}", "code": "units", "timestamp": "2026-10-10T10:00:00Z",
                       "properties": {"units": units}})
    return events


@pytest.fixture(scope="module")
def closes(tmp_path_factory):
    """November's close (with its PDFs), then December's on the same warehouse."""
    root = tmp_path_factory.mktemp("wallets")
    write_catalog(root / "catalog", wallet_catalog())
    write_events(root / "events" / "events.parquet", usage())
    november = run_close(root, NOV)
    assert november.success
    november_invoices = november.rows("select * from invoices order by external_customer_id")
    november_ledger = november.rows("select * from wallet_transactions")
    december = run_close(root, DEC, documents=False)
    assert december.success
    return november_invoices, november_ledger, december


def invoice(close, customer: str, issued: str) -> dict:
    rows = close.rows("select * from invoices where external_customer_id = ? and "
                      "issuing_date = ?", [customer, dt.date.fromisoformat(issued)])
    assert len(rows) == 1, (customer, issued, rows)
    return rows[0]


def totals(row: dict) -> tuple:
    return (row["fees_amount_cents"], row["coupons_amount_cents"], row["taxes_amount_cents"],
            row["prepaid_credit_amount_cents"], row["total_amount_cents"])


def movements(close, wallet_id: str) -> list[tuple]:
    return close.query("""
        select transaction_status, strftime(settled_at at time zone 'UTC', '%Y-%m-%d'),
            credit_amount, amount_cents, balance_after_cents
        from wallet_transactions where wallet_id = ? order by sequence""", [wallet_id])


def test_lago_changelog_example_coupon_tax_then_prepaid_credits(closes):
    _, _, december = closes
    # fees 70.00, coupon 10.00 before tax, tax 10% of 60.00, then 30.00 of credits
    assert totals(invoice(december, "cus_example", "2026-11-01")) == (7000, 1000, 600, 3000, 3600)
    # the wallet is empty: December's invoice (50.00 + 5.00 tax, no usage) pays in full
    assert totals(invoice(december, "cus_example", "2026-12-01")) == (5000, 0, 500, 0, 5500)


def test_wallet_consumed_over_two_periods_across_two_closes(closes):
    november_invoices, _, december = closes
    nov = next(i for i in november_invoices if i["external_customer_id"] == "cus_two_runs")
    assert totals(nov) == (1000, 0, 200, 1200, 0)
    # the second close reads what the first took from the ledger: 3.00 is left
    assert totals(invoice(december, "cus_two_runs", "2026-11-01")) == totals(nov)
    assert totals(invoice(december, "cus_two_runs", "2026-12-01")) == (1000, 0, 200, 300, 900)
    assert movements(december, "cus_two_runs/prepaid") == [
        ("purchased", "2026-10-01", Decimal("15"), 1500, 1500),
        ("invoiced", "2026-11-01", Decimal("12"), 1200, 300),
        ("invoiced", "2026-12-01", Decimal("3"), 300, 0),
    ]


def test_top_up_and_void_mid_period_at_the_wallet_rate(closes):
    _, _, december = closes
    # 4 granted credits x 2.50 = 10.00 of November's 12.00
    assert totals(invoice(december, "cus_topup", "2026-11-01")) == (1000, 0, 200, 1000, 200)
    # + 2 paid and 1.2 granted credits (8.00), - 0.8 voided (2.00): 6.00 for December
    assert totals(invoice(december, "cus_topup", "2026-12-01")) == (1000, 0, 200, 600, 600)
    assert movements(december, "cus_topup/credits") == [
        ("granted", "2026-10-01", Decimal("4"), 1000, 1000),
        ("invoiced", "2026-11-01", Decimal("4"), 1000, 0),
        ("purchased", "2026-11-15", Decimal("2"), 500, 500),
        ("granted", "2026-11-15", Decimal("1.2"), 300, 800),
        ("voided", "2026-11-20", Decimal("0.8"), 200, 600),
        ("invoiced", "2026-12-01", Decimal("2.4"), 600, 0),
    ]


def test_expired_balance_is_lost(closes):
    _, _, december = closes
    assert totals(invoice(december, "cus_expiry", "2026-11-01")) == (1000, 0, 200, 1200, 0)
    assert totals(invoice(december, "cus_expiry", "2026-12-01")) == (1000, 0, 200, 0, 1200)
    assert movements(december, "cus_expiry/expiring") == [
        ("granted", "2026-10-01", Decimal("20"), 2000, 2000),
        ("invoiced", "2026-11-01", Decimal("12"), 1200, 800),
        ("expired", "2026-11-20", Decimal("8"), 800, 0),
    ]
    wallet = december.rows("select * from wallets where wallet_id = 'cus_expiry/expiring'")[0]
    assert (wallet["status"], wallet["balance_cents"], wallet["expired_amount_cents"]) == (
        "terminated", 0, 800)


def test_limited_wallets_by_priority_pay_only_their_fees(closes):
    _, _, december = closes
    # subscription 50.00 + 5.00 tax, units 20.00 + 2.00 tax: the priority-1 wallet (10.00,
    # subscription fees) goes first, then the units wallet takes the 22.00 of the units fee
    assert totals(invoice(december, "cus_limited", "2026-11-01")) == (7000, 0, 700, 3200, 4500)
    consumed = december.query("""
        select wallet_code, amount_cents from wallet_transactions
        where external_customer_id = 'cus_limited' and transaction_status = 'invoiced'
        order by sequence""")
    assert consumed == [("fees_only", 1000), ("usage_only", 2200)]
    # December has no usage: the subscription wallet is empty and the units wallet may not
    # pay a subscription fee, so the invoice is paid in full
    assert totals(invoice(december, "cus_limited", "2026-12-01")) == (5000, 0, 500, 0, 5500)


def test_lago_cloud_walkthrough_and_api_example(closes):
    _, _, december = closes
    # 250 units x 0.02 USD = 5.00, paid by the 100.00 wallet: owes 0, 95.00 left
    assert totals(invoice(december, "cus_cloud", "2026-11-01")) == (500, 0, 0, 500, 0)
    # 20 paid + 10 granted credits at 1.5 USD = 45.00 USD, untouched (no usage)
    balances = dict(december.query(
        "select wallet_id, balance_cents from wallets where currency = 'USD'"))
    assert balances == {"cus_cloud/prepaid": 9500, "cus_api/api": 4500}
    credits = december.scalar("select credits_balance from wallets where wallet_id = 'cus_api/api'")
    assert credits == Decimal("30")


def test_balance_at_any_instant_is_the_sum_of_the_transactions(closes):
    _, november_ledger, december = closes
    # the first close's movements are still there, unchanged, in the second
    later = {r["wallet_transaction_id"]: r for r in december.rows("select * from wallet_transactions")}
    for row in november_ledger:
        assert later[row["wallet_transaction_id"]] == row
    # balance(t) = sum of the transactions up to t, for every wallet and every movement
    rows = december.rows("select * from wallet_transactions order by wallet_id, sequence")
    running: dict[str, int] = {}
    for row in rows:
        sign = 1 if row["transaction_type"] == "inbound" else -1
        running[row["wallet_id"]] = running.get(row["wallet_id"], 0) + sign * row["amount_cents"]
        assert row["balance_after_cents"] == running[row["wallet_id"]] >= 0
    assert dict(december.query("select wallet_id, balance_cents from wallets")) == {
        w: running.get(w, 0) for w, in december.query("select wallet_id from wallets")}
    # every invoice's prepaid credits are its invoiced transactions, and the identity holds
    assert december.scalar("""
        select count(*) from invoices
        where prepaid_credit_amount_cents <> coalesce((
                select sum(amount_cents) from wallet_transactions as t
                where t.invoice_id = invoices.invoice_id), 0)
            or total_amount_cents <> fees_amount_cents - coupons_amount_cents
                + taxes_amount_cents - credit_notes_amount_cents - prepaid_credit_amount_cents
            or total_amount_cents < 0""") == 0


def test_the_invoice_pdf_shows_the_prepaid_credits(closes, tmp_path_factory):
    from test_credit_note_pdf import pdf_text

    november_invoices, _, december = closes
    number = next(i["number"] for i in november_invoices
                  if i["external_customer_id"] == "cus_example")
    text = pdf_text(december.documents / "invoices" / f"{number}.pdf")
    assert "Prepaid credits" in text and "30.00" in text and "36.00" in text
    plain = next(i["number"] for i in november_invoices
                 if i["external_customer_id"] == "cus_cloud")
    assert "Prepaid credits" in pdf_text(december.documents / "invoices" / f"{plain}.pdf")


def test_closing_december_again_changes_nothing(closes):
    _, _, december = closes
    snapshot = ("select * from wallet_transactions order by wallet_transaction_id",
                "select * from wallets order by wallet_id",
                "select * from invoices order by invoice_id")
    before = [december.rows(sql) for sql in snapshot]
    again = run_close(december.root, DEC, documents=False)
    assert again.success
    assert [again.rows(sql) for sql in snapshot] == before


# --- refusals -----------------------------------------------------------------------------------


def refusals(tmp_path: Path, wallets: list[dict]) -> list[str]:
    catalog = wallet_catalog()
    catalog["wallets"] = wallets
    write_catalog(tmp_path / "catalog", catalog)
    with pytest.raises(CatalogError) as refused:
        validate_catalog(tmp_path / "catalog")
    return [str(issue) for issue in refused.value.issues]


WALLET = {"code": "w", "external_customer_id": "cus_two_runs", "created_at": OCT_1,
          "currency": "EUR", "rate_amount": "1", "paid_credits": "10"}


@pytest.mark.parametrize("change, expected", [
    ({"external_customer_id": "cus_nobody"},
     'wallets.yaml: wallet "w" (customer "cus_nobody"): external_customer_id: unknown '
     "customer 'cus_nobody'"),
    ({"currency": "USD"},
     'wallets.yaml: wallet "w" (customer "cus_two_runs"): currency: the wallet is in USD, '
     "but customer 'cus_two_runs' is billed in EUR"),
    ({"currency": "XYZ"}, "currency: unknown currency 'XYZ'"),
    ({"paid_credits": "-5"}, "paid_credits: must not be negative (got -5)"),
    ({"rate_amount": "0"}, "rate_amount: must be greater than 0"),
    ({"granted_credits": "1.123456"}, "granted_credits: credits are kept to 5 decimals"),
    ({"expiration_at": "2026-09-01T00:00:00Z"},
     "expiration_at: must be after the wallet is created (2026-10-01T00:00:00Z)"),
    ({"priority": 0}, "priority: must be between 1 and 50 (got 0)"),
    ({"applies_to": {"fee_types": ["usage"]}},
     "applies_to.fee_types[0]: unknown fee type 'usage'"),
    ({"applies_to": {"billable_metric_codes": ["nope"]}},
     "applies_to.billable_metric_codes[0]: unknown billable metric 'nope'"),
    ({"transactions": [{"at": "2026-09-01T00:00:00Z", "granted_credits": "1"}]},
     "transactions[0].at: is before the wallet is created"),
    ({"expiration_at": "2026-11-01T00:00:00Z",
      "transactions": [{"at": "2026-11-02T00:00:00Z", "paid_credits": "1"}]},
     "transactions[0].at: the wallet expired at 2026-11-01T00:00:00Z"),
    ({"transactions": [{"at": "2026-11-02T00:00:00Z", "voided_credits": "11"}]},
     "transactions[0].voided_credits: voids 11 credits, more than the 10 credited"),
    ({"transactions": [{"at": "2026-11-02T00:00:00Z"}]},
     "transactions[0]: needs paid_credits, granted_credits or voided_credits"),
    ({"recurring_transaction_rules": [{"trigger": "interval", "interval": "monthly"}]},
     "recurring_transaction_rules: automatic top-ups are not supported yet"),
    ({"rate_amount": "one"}, "rate_amount: expected a number, got 'one'"),
])
def test_a_bad_wallet_is_refused_naming_file_object_and_field(tmp_path, change, expected):
    problems = refusals(tmp_path, [{**WALLET, **change}])
    assert any(expected in p for p in problems), problems


def test_a_wallet_code_is_unique_per_customer(tmp_path):
    problems = refusals(tmp_path, [WALLET, WALLET, {**WALLET,
                                                    "external_customer_id": "cus_topup"}])
    assert problems == [
        'wallets.yaml: wallet "w" (customer "cus_two_runs"): code: \'w\' is defined twice for '
        "customer 'cus_two_runs' (a wallet's code is unique per customer)"]


def test_the_layer_tests_hold_on_the_wallet_warehouse(closes):
    """The dbt tests a close leaves out (selectors.yml: layer_tests) hold on the warehouse of two
    closes with wallets."""
    failures = layer_test_failures(closes[2].warehouse)
    assert failures is None, failures[-4000:]
