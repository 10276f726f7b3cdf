"""Plan minimum commitments (LAGO_RULES.md §15, CONTRACT.md §2 plans' minimum_commitment):
a `commitment` true-up fee tops the period's fees up to the commitment, prorated over partial
periods, in arrears and in advance, through the real close.

Where the amounts come from: Lago's scenarios getlago/lago-api
`spec/scenarios/commitments/minimum/in_arrears/calendar/monthly_spec.rb` and
`.../in_advance/calendar/monthly_spec.rb`: a monthly plan of 100.00 with a commitment of
10,000.00, subscribed on 2024-02-28 10:00 UTC (calendar): February's commitment is prorated to
2/29 days (689.66 -> 68,966 cents) and so is the fee (690). Lago's scenarios spread the usage over
an in-arrears, an in-advance and a recurring in-advance charge; our charges are in arrears, so
the same usage is billed by one in-arrears charge (1.00 per unit):

- in arrears, 30 units in February: 68966 - 690 - 3000 = 65,276 (Lago: 65_276), and in March
  (Lago counts 1,000 of the recurring charge's periodic fee) 10 units: 1,000,000 - 10,000 -
  1,000 = 989,000 (Lago: 989_000);
- in advance, 70 units in February (Lago's 25 + 30 + 15): no true-up on the first invoice, then
  on March's invoice 68966 - 690 - 7000 = 61,276 (Lago: 61_276), and on April's 1,000,000 -
  10,000 - 1,500 (15 units in March) = 988,500 (Lago: 988_500). March's in-advance fee was
  billed by the previous close: it is read back from the ledger.

A termination inside the period prorates the commitment
(`spec/scenarios/commitments/minimum/on_termination_spec.rb`, days counted as
Commitments::CalculateProratedCoefficientService does): 2024-03-01 to 2024-03-16 12:00 is 16
of 31 days, 1,000,000 x 16/31 = 516,129.03 -> 516,129, fee 10,000 x 16/31 -> 5,161, true-up
510,968. Usage above the commitment leaves no true-up. The in-advance plan's commitment has a
tax of its own (10%), which wins over the organization's 20% (Fees::ApplyTaxesService).
"""
from __future__ import annotations

import pytest

from conftest import ORGANIZATION, run_close, write_catalog, write_events, layer_test_failures

pytestmark = pytest.mark.xdist_group("minimum_commitment")

COMMITMENT = 1_000_000


def plan(code: str, pay_in_advance: bool, **commitment) -> dict:
    return {"code": code, "name": code.replace("_", " ").title(), "interval": "monthly",
            "amount_cents": 10000, "amount_currency": "EUR", "pay_in_advance": pay_in_advance,
            "minimum_commitment": {"amount_cents": COMMITMENT, **commitment},
            "charges": [{"billable_metric_code": "metered", "charge_model": "standard",
                         "properties": {"amount": "1"}}]}


SUBSCRIPTIONS = [
    ("arrears", "in_arrears", "2024-02-28T10:00:00Z", None),
    ("advance", "in_advance", "2024-02-28T10:00:00Z", None),
    ("term", "in_arrears", "2024-03-01T00:00:00Z", "2024-03-16T12:00:00Z"),
    ("over", "in_arrears", "2024-03-01T00:00:00Z", None),
]
USAGE = [("arrears", "2024-02-28T11:00:00Z", 30), ("arrears", "2024-03-10T00:00:00Z", 10),
         ("advance", "2024-02-28T11:00:00Z", 70), ("advance", "2024-03-10T00:00:00Z", 15),
         ("over", "2024-03-10T00:00:00Z", 10000)]
CATALOG = {
    "organization": [{**ORGANIZATION, "tax_codes": ["vat20"]}],
    "taxes": [{"code": "vat20", "name": "VAT", "rate": 20},
              {"code": "vat10", "name": "Reduced VAT", "rate": 10}],
    "billable_metrics": [{"code": "metered", "name": "Metered", "aggregation_type": "sum_agg",
                          "field_name": "total"}],
    "plans": [plan("in_arrears", False),
              plan("in_advance", True, invoice_display_name="Minimum Contract Commitment",
                   tax_codes=["vat10"])],
    "customers": [{"external_id": f"cus_{name}", "currency": "EUR"}
                  for name, *_ in SUBSCRIPTIONS],
    "subscriptions": [{"external_id": f"sub_{name}", "external_customer_id": f"cus_{name}",
                       "plan_code": plan_code, "subscription_at": at,
                       **({"terminated_at": end} if end else {})}
                      for name, plan_code, at, end in SUBSCRIPTIONS],
}


@pytest.fixture(scope="module")
def closes(tmp_path_factory):
    root = tmp_path_factory.mktemp("commitment")
    write_catalog(root / "catalog", CATALOG)
    write_events(root / "events" / "usage.parquet", [
        {"transaction_id": f"t{i}", "external_subscription_id": f"sub_{name}", "code": "metered",
         "timestamp": at, "properties": {"total": str(total)}}
        for i, (name, at, total) in enumerate(USAGE)])
    march = run_close(root, "2024-03-01T00:00:00Z", documents=False)
    march_fees = march.rows(FEES_SQL) if march.success else None
    april = run_close(root, "2024-04-01T00:00:00Z", documents=False)
    return march, march_fees, april


FEES_SQL = """
select invoices.external_customer_id as customer, cast(invoices.issuing_date as varchar) as issued,
    fees.fee_type, fees.display_name, fees.amount_cents, fees.taxes_amount_cents,
    cast(fees.from_datetime as date)::varchar || '/' || cast(fees.to_datetime as date)::varchar
        as period
from fees inner join invoices using (invoice_id)
order by customer, issued, fees.fee_type = 'commitment', fees.fee_type desc
"""


def commitment_fees(rows: list[dict]) -> list[tuple]:
    return [(r["customer"], r["issued"], r["amount_cents"], r["period"]) for r in rows
            if r["fee_type"] == "commitment"]


def test_in_arrears_the_period_is_topped_up_when_it_closes(closes):
    march, march_fees, april = closes
    assert march.success and april.success
    rows = april.rows(FEES_SQL)
    assert [(r["issued"], r["fee_type"], r["amount_cents"]) for r in rows
            if r["customer"] == "cus_arrears"] == [
        ("2024-03-01", "subscription", 690), ("2024-03-01", "charge", 3000),
        ("2024-03-01", "commitment", 65276),
        ("2024-04-01", "subscription", 10000), ("2024-04-01", "charge", 1000),
        ("2024-04-01", "commitment", 989000),
    ]
    totals = april.query("select cast(issuing_date as varchar), fees_amount_cents from invoices "
                         "where external_customer_id = 'cus_arrears' order by issuing_date")
    assert totals == [("2024-03-01", 68966), ("2024-04-01", COMMITMENT)]


def test_in_advance_the_previous_period_is_reconciled_on_the_next_invoice(closes):
    march, march_fees, april = closes
    # the first invoice (the in-advance fee at subscription) has no true-up
    assert commitment_fees(march_fees) == [
        ("cus_advance", "2024-03-01", 61276, "2024-02-28/2024-02-29"),
        ("cus_arrears", "2024-03-01", 65276, "2024-02-28/2024-02-29"),
    ]
    rows = [r for r in april.rows(FEES_SQL) if r["customer"] == "cus_advance"]
    assert [(r["issued"], r["fee_type"], r["display_name"], r["amount_cents"]) for r in rows] == [
        ("2024-02-28", "subscription", "In Advance", 690, ),
        ("2024-03-01", "subscription", "In Advance", 10000),
        ("2024-03-01", "charge", None, 7000),
        ("2024-03-01", "commitment", "Minimum Contract Commitment", 61276),
        ("2024-04-01", "subscription", "In Advance", 10000),
        ("2024-04-01", "charge", None, 1500),
        ("2024-04-01", "commitment", "Minimum Contract Commitment", 988500),
    ]


def test_the_commitment_is_taxed_with_its_own_taxes(closes):
    _, _, april = closes
    rows = [r for r in april.rows(FEES_SQL)
            if r["customer"] == "cus_advance" and r["issued"] == "2024-03-01"]
    # commitment 10% of 61,276 = 6,127.6; the fee and the charge take the organization's 20%
    assert [(r["fee_type"], r["taxes_amount_cents"]) for r in rows] == [
        ("subscription", 2000), ("charge", 1400), ("commitment", 6128)]
    invoice = april.rows("select fees_amount_cents, taxes_amount_cents, total_amount_cents "
                         "from invoices where external_customer_id = 'cus_advance' "
                         "and issuing_date = '2024-03-01'")
    assert invoice == [{"fees_amount_cents": 78276, "taxes_amount_cents": 9528,
                        "total_amount_cents": 87804}]


def test_a_termination_prorates_the_commitment(closes):
    _, _, april = closes
    rows = [r for r in april.rows(FEES_SQL) if r["customer"] == "cus_term"]
    assert [(r["issued"], r["fee_type"], r["amount_cents"], r["period"]) for r in rows] == [
        ("2024-03-16", "subscription", 5161, "2024-03-01/2024-03-16"),
        ("2024-03-16", "commitment", 510968, "2024-03-01/2024-03-16"),
    ]


def test_usage_above_the_commitment_leaves_no_true_up(closes):
    _, _, april = closes
    rows = [r for r in april.rows(FEES_SQL) if r["customer"] == "cus_over"]
    assert [(r["fee_type"], r["amount_cents"]) for r in rows] == [
        ("subscription", 10000), ("charge", 1000000)]


def test_every_period_is_trued_up_once(closes):
    _, _, april = closes
    assert commitment_fees(april.rows(FEES_SQL)) == [
        ("cus_advance", "2024-03-01", 61276, "2024-02-28/2024-02-29"),
        ("cus_advance", "2024-04-01", 988500, "2024-03-01/2024-03-31"),
        ("cus_arrears", "2024-03-01", 65276, "2024-02-28/2024-02-29"),
        ("cus_arrears", "2024-04-01", 989000, "2024-03-01/2024-03-31"),
        ("cus_term", "2024-03-16", 510968, "2024-03-01/2024-03-16"),
    ]


def test_a_bad_minimum_commitment_is_refused(tmp_path):
    from conftest import base_catalog
    from orchestration.lib.catalog.errors import CatalogError
    from orchestration.lib.catalog.validate import validate_catalog

    plans = base_catalog()["plans"]
    plans[0]["minimum_commitment"] = {"amount_cents": -100, "tax_codes": ["nope"]}
    folder = write_catalog(tmp_path / "catalog", base_catalog(plans=plans))
    with pytest.raises(CatalogError) as caught:
        validate_catalog(folder)
    assert ('plans.yaml: plan "starter": minimum_commitment.amount_cents: must not be negative'
            in str(caught.value))


def test_the_layer_tests_hold_on_the_commitment_warehouse(closes):
    """The dbt tests a close leaves out (selectors.yml: layer_tests) hold on a warehouse with
    minimum commitments."""
    failures = layer_test_failures(closes[2].warehouse)
    assert failures is None, failures[-4000:]
