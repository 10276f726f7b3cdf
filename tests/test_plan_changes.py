"""Plan changes as Lago applies them (LAGO_RULES.md §8): an upgrade at once with both plans
prorated, a downgrade at the end of the period, credit notes for unused in-advance days.
Expected values are Lago's documented examples and scenario specs (see each test)."""
from __future__ import annotations

import datetime as dt

import pytest

from conftest import base_catalog, run_close, write_catalog, layer_test_failures

pytestmark = pytest.mark.xdist_group("plan_changes")


def plan(code, amount, interval="monthly", advance=False):
    return {"code": code, "name": code, "interval": interval, "amount_cents": amount,
            "amount_currency": "EUR", "pay_in_advance": advance, "charges": []}


PLANS = [
    plan("a_100", 10000), plan("b_200", 20000),
    plan("p1000", 1000, advance=True), plan("p1500", 1500, advance=True),
    plan("p1900", 1900, advance=True),
    plan("m1000", 1000, advance=True), plan("y12000", 12000, "yearly", advance=True),
    plan("m12900", 12900, advance=True), plan("y118800", 118800, "yearly", advance=True),
]

SUBSCRIPTIONS = [
    # guide/subscriptions/upgrades-downgrades.mdx, "Subscription paid in arrears"
    {"external_id": "doc", "plan_code": "a_100", "subscription_at": "2025-01-01T00:00:00Z",
     "plan_changes": [{"plan_code": "b_200", "requested_at": "2025-01-15T10:00:00Z"}]},
    # spec/scenarios/subscriptions/multiple_upgrade_spec.rb, calendar billing, 25% tax
    {"external_id": "chain", "plan_code": "p1000", "subscription_at": "2024-03-05T12:12:00Z",
     "plan_changes": [{"plan_code": "p1500", "requested_at": "2024-03-12T12:12:00Z"},
                      {"plan_code": "p1900", "requested_at": "2024-03-12T13:12:00Z"}]},
    # spec/scenarios/subscriptions/upgrade_spec.rb, monthly to yearly, anniversary
    {"external_id": "anniv_up", "plan_code": "m1000", "subscription_at": "2023-06-29T12:12:00Z",
     "billing_time": "anniversary",
     "plan_changes": [{"plan_code": "y12000", "requested_at": "2023-09-28T05:00:00Z"}]},
    # spec/scenarios/subscriptions/downgrade_spec.rb, monthly to a cheaper yearly plan
    {"external_id": "anniv_down", "plan_code": "m12900",
     "subscription_at": "2023-07-19T12:12:00Z", "billing_time": "anniversary",
     "plan_changes": [{"plan_code": "y118800", "requested_at": "2023-11-09T10:00:00Z"}]},
]


@pytest.fixture(scope="module")
def closed(tmp_path_factory):
    root = tmp_path_factory.mktemp("plan_changes")
    customers = [{"external_id": s["external_id"], "name": s["external_id"], "currency": "EUR"}
                 for s in SUBSCRIPTIONS]
    customers[1]["tax_codes"] = ["vat25"]
    subscriptions = [{"external_customer_id": s["external_id"], "billing_time": "calendar", **s}
                     for s in SUBSCRIPTIONS]
    write_catalog(root / "catalog", base_catalog(
        plans=PLANS, customers=customers, subscriptions=subscriptions,
        taxes=[{"code": "vat25", "name": "VAT", "rate": 25}]))
    result = run_close(root, "2025-02-01T00:00:00Z")
    assert result.success
    return result


def fees(closed, customer, day=None):
    """(billing instant, plan, amount) of the subscription fees of a customer's invoices."""
    return [(b, p, a) for b, p, a in closed.query(
        "select i.billing_at, f.plan_code, f.amount_cents from fees f join invoices i "
        "using (invoice_id) where i.external_customer_id = ? and f.fee_type = 'subscription' "
        "order by i.billing_at, f.plan_code", [customer])
        if day is None or b.date() == dt.date.fromisoformat(day)]


def at(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_upgrade_in_arrears_bills_both_plans_by_day(closed):
    # Plan A until the day before the upgrade: 14/31 x 100 = 45.16; Plan B from the upgrade
    # day to the month end: 17/31 x 200 = 109.68.
    assert fees(closed, "doc", "2025-01-15") == [(at("2025-01-15T10:00:00Z"), "a_100", 4516)]
    assert fees(closed, "doc", "2025-02-01") == [(at("2025-02-01T00:00:00Z"), "b_200", 10968)]
    assert closed.scalar("select count(*) from credit_notes where external_customer_id = 'doc'") \
        == 0


def test_chained_upgrades_on_one_day_with_credit_notes(closed):
    march = [row for row in fees(closed, "chain") if row[0].month == 3]
    assert march == [
        (at("2024-03-05T12:12:00Z"), "p1000", 871),   # 27/31 x 1000
        (at("2024-03-12T12:12:00Z"), "p1500", 968),   # 20/31 x 1500
        (at("2024-03-12T13:12:00Z"), "p1900", 1226),  # 20/31 x 1900
    ]
    notes = closed.query(
        "select reason, sub_total_excluding_taxes_amount_cents, taxes_amount_cents, "
        "total_amount_cents from credit_notes where external_customer_id = 'chain' "
        "order by created_at")
    # 1000 x 20/31 = 645.16 + 25 %; 1500 x 20/31 = 967.74 + 25 %
    assert notes == [("order_change", 645, 161, 806), ("order_change", 968, 242, 1210)]


def test_upgrade_to_yearly_keeps_the_anniversary(closed):
    # the inherited yearly period 2023-06-29 .. 2024-06-28 has 366 days; Sep 28 .. Jun 28
    # is 275 of them: round(275 x 12000 / 366) = 9016
    assert fees(closed, "anniv_up", "2023-09-28") == [
        (at("2023-09-28T05:00:00Z"), "y12000", 9016)]
    (note,) = closed.rows("select n.total_amount_cents, i.unused_days from credit_notes n "
                          "join credit_note_items i using (credit_note_id) "
                          "where n.external_customer_id = 'anniv_up'")
    assert note["unused_days"] == 1 and note["total_amount_cents"] == 32   # 1000 / 31


def test_downgrade_waits_for_the_end_of_the_period(closed):
    rows = fees(closed, "anniv_down")
    assert [r for r in rows if at("2023-11-01T00:00:00Z") <= r[0] < at("2023-12-01T00:00:00Z")] \
        == [(at("2023-11-19T00:00:00Z"), "y118800", 78875)]   # 243 / 366 x 118800
    assert (at("2023-10-19T00:00:00Z"), "m12900", 12900) in rows
    assert closed.scalar(
        "select count(*) from credit_notes where external_customer_id = 'anniv_down'") == 0
    period = closed.rows(
        "select from_datetime, to_datetime from billing_periods "
        "where external_subscription_id = 'anniv_down' and plan_code = 'y118800' "
        "and period_start_date = date '2023-07-19'")
    assert period and period[0]["from_datetime"] == at("2023-11-19T00:00:00Z")


def test_the_layer_tests_hold_after_plan_changes(closed):
    """The dbt tests a close leaves out (selectors.yml: layer_tests) hold on a warehouse with plan
    changes."""
    failures = layer_test_failures(closed.warehouse)
    assert failures is None, failures[-4000:]
