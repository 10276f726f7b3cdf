"""Billing periods and the subscription fee across intervals, billing times, time zones,
trials and terminations (LAGO_RULES.md §6 and §8), in one close with one customer per case."""
from __future__ import annotations

import datetime as dt

import pytest

from conftest import base_catalog, run_close, write_catalog, write_events, layer_test_failures

pytestmark = pytest.mark.xdist_group("calendar")

METRICS = [{"code": "calls", "name": "Calls", "aggregation_type": "count_agg"}]


def plan(code, interval, amount, advance=False, trial=None, charge=True):
    out = {"code": code, "name": code, "interval": interval, "amount_cents": amount,
           "amount_currency": "EUR", "pay_in_advance": advance, "charges": []}
    if trial:
        out["trial_period"] = trial
    if charge:
        out["charges"] = [{"billable_metric_code": "calls", "charge_model": "standard",
                           "properties": {"amount": "1"}}]
    return out


PLANS = [
    plan("monthly", "monthly", 3100),
    plan("monthly_trial", "monthly", 3100, trial=10),
    plan("monthly_long_trial", "monthly", 3100, trial=40),
    plan("quarterly", "quarterly", 9200, charge=False),
    plan("yearly", "yearly", 12000, charge=False),
    plan("monthly_3000", "monthly", 3000, charge=False),
]

# customer / subscription id, plan, start, extra subscription fields, customer timezone
CASES = {
    "trial": ("monthly_trial", "2026-10-05T12:00:00Z", {}, None),
    "long_trial": ("monthly_long_trial", "2026-10-20T00:00:00Z", {}, None),
    "quarter": ("quarterly", "2026-07-15T00:00:00Z", {}, None),
    "anniv_year": ("yearly", "2025-10-20T09:00:00Z", {"billing_time": "anniversary"}, None),
    "anniv_31st": ("monthly_3000", "2026-08-31T10:00:00Z", {"billing_time": "anniversary"}, None),
    "terminated": ("monthly", "2026-10-01T00:00:00Z", {"terminated_at": "2026-10-10T15:00:00Z"},
                   None),
    "joburg": ("monthly", "2026-09-01T00:00:00Z", {}, "Africa/Johannesburg"),
    "paris": ("monthly", "2026-09-01T00:00:00Z", {}, "Europe/Paris"),
}


def calls(sub: str, *stamps: str) -> list[dict]:
    return [{"transaction_id": f"{sub}-{i}", "external_subscription_id": sub, "code": "calls",
             "timestamp": stamp, "properties": {}} for i, stamp in enumerate(stamps)]


@pytest.fixture(scope="module")
def closed(tmp_path_factory):
    root = tmp_path_factory.mktemp("calendar")
    customers, subscriptions = [], []
    for name, (plan_code, start, extra, timezone) in CASES.items():
        customer = {"external_id": name, "name": name.title(), "currency": "EUR"}
        if timezone:
            customer["timezone"] = timezone
        customers.append(customer)
        subscriptions.append({"external_id": name, "external_customer_id": name,
                              "plan_code": plan_code, "subscription_at": start,
                              "billing_time": "calendar", **extra})
    write_catalog(root / "catalog", base_catalog(
        billable_metrics=METRICS, plans=PLANS, customers=customers, subscriptions=subscriptions))
    write_events(root / "events" / "usage.parquet", [
        *calls("terminated", "2026-10-02T00:00:00Z", "2026-10-10T14:59:59Z",
               "2026-10-10T15:00:01Z"),
        # Johannesburg is UTC+2: 21:30 UTC on Oct 31 is still October there; 23:30 UTC is Nov 1
        *calls("joburg", "2026-09-30T22:30:00Z", "2026-10-31T21:30:00Z", "2026-10-31T23:30:00Z"),
        # Paris leaves summer time on Oct 25: October ends at 23:00 UTC
        *calls("paris", "2026-10-31T22:59:59Z", "2026-10-31T23:00:00Z"),
        *calls("trial", "2026-10-06T00:00:00Z"),
    ])
    result = run_close(root, "2026-11-01T00:00:00Z")
    assert result.success
    return result


def invoices_of(closed, customer: str) -> list[dict]:
    return closed.rows("select * from invoices where external_customer_id = ? "
                       "order by billing_at", [customer])


def fee(closed, customer: str, fee_type: str, billing_day: str | None = None) -> list[int]:
    return [r[0] for r in closed.query(
        "select f.amount_cents from fees f join invoices i using (invoice_id) "
        "where i.external_customer_id = ? and f.fee_type = ? "
        "and (? is null or cast(i.billing_at as date) = cast(? as date)) order by i.billing_at",
        [customer, fee_type, billing_day, billing_day])]


def test_trial_days_are_not_billed_in_arrears(closed):
    # trial from Oct 5 12:00 to Oct 15 12:00: Oct 15..31 = 17 days of 31
    assert fee(closed, "trial", "subscription") == [1700]
    assert fee(closed, "trial", "charge") == [100]   # usage during the trial is billed


def test_a_trial_covering_the_period_bills_no_fee(closed):
    assert fee(closed, "long_trial", "subscription") == []


def test_calendar_quarter_prorated_from_the_start_day(closed):
    # Jul 15..Sep 30 = 78 of the quarter's 92 days, billed on Oct 1
    (invoice,) = invoices_of(closed, "quarter")
    assert str(invoice["issuing_date"]) == "2026-10-01"
    assert invoice["fees_amount_cents"] == round(9200 * 78 / 92)


def test_anniversary_year_is_whole(closed):
    (invoice,) = invoices_of(closed, "anniv_year")
    assert invoice["fees_amount_cents"] == 12000
    assert str(invoice["issuing_date"]) == "2026-10-20"
    assert invoice["from_datetime"].date() == dt.date(2025, 10, 20)


def test_anniversary_on_the_31st_follows_the_month_end(closed):
    periods = [(str(i["from_datetime"].date()), str(i["to_datetime"].date()))
               for i in invoices_of(closed, "anniv_31st")]
    assert periods == [("2026-08-31", "2026-09-29"), ("2026-09-30", "2026-10-30")]
    assert fee(closed, "anniv_31st", "subscription") == [3000, 3000]


def test_termination_bills_the_used_days_and_usage_to_that_instant(closed):
    (invoice,) = invoices_of(closed, "terminated")
    assert invoice["billing_at"] == dt.datetime(2026, 10, 10, 15, tzinfo=dt.timezone.utc)
    assert fee(closed, "terminated", "subscription") == [1000]   # Oct 1..10: 10 of 31 days
    assert fee(closed, "terminated", "charge") == [200]          # the call after 15:00 is not


def test_customer_time_zone_decides_the_period_of_an_event(closed):
    october = [i for i in invoices_of(closed, "joburg") if i["issuing_date"].month == 11]
    assert fee(closed, "joburg", "charge", "2026-10-31") == [200]
    assert len(october) == 1
    assert october[0]["from_datetime"] == dt.datetime(2026, 9, 30, 22, tzinfo=dt.timezone.utc)
    pending = closed.scalar("select events from event_reconciliation where outcome = 'pending'")
    assert pending == 2   # joburg's Nov 1 call and paris's


def test_daylight_saving_change_loses_no_hour(closed):
    (october,) = [i for i in invoices_of(closed, "paris") if i["issuing_date"].month == 11]
    assert october["from_datetime"] == dt.datetime(2026, 9, 30, 22, tzinfo=dt.timezone.utc)
    assert october["to_datetime"] == dt.datetime(2026, 10, 31, 22, 59, 59, 999999,
                                                 tzinfo=dt.timezone.utc)
    assert fee(closed, "paris", "subscription", "2026-10-31") == [3100]  # a whole month
    assert fee(closed, "paris", "charge", "2026-10-31") == [100]


def test_billing_periods_table(closed):
    rows = closed.rows("select * from billing_periods where external_subscription_id = 'trial'")
    (october,) = [r for r in rows if r["period_start_date"] == dt.date(2026, 10, 1)]
    assert october["fee_days"] == 17 and october["billed_days"] == 27
    assert float(october["fee_proration_factor"]) == pytest.approx(17 / 31)
    assert october["period_status"] == "closed"
    assert october["trial_ends_at"] == dt.datetime(2026, 10, 15, 12, tzinfo=dt.timezone.utc)
    # periods of one subscription never overlap and leave no gap
    for name in CASES:
        periods = closed.query(
            "select period_start_date, period_end_date from billing_periods "
            "where external_subscription_id = ? order by period_index", [name])
        for (_, end), (start, _) in zip(periods, periods[1:]):
            assert start == end + dt.timedelta(days=1), name


@pytest.fixture(scope="module")
def yearly_with_monthly_charges(tmp_path_factory):
    root = tmp_path_factory.mktemp("bill_charges_monthly")
    plans = [{**plan("yearly_monthly", "yearly", 36500), "bill_charges_monthly": True},
             {**plan("yearly_monthly_adv", "yearly", 36500, advance=True),
              "bill_charges_monthly": True}]
    write_catalog(root / "catalog", base_catalog(
        billable_metrics=METRICS, plans=plans,
        customers=[{"external_id": c, "name": c, "currency": "EUR"} for c in ("arrears", "adv")],
        subscriptions=[
            {"external_id": "arrears", "external_customer_id": "arrears",
             "plan_code": "yearly_monthly", "subscription_at": "2026-01-01T00:00:00Z"},
            {"external_id": "adv", "external_customer_id": "adv", "billing_time": "anniversary",
             "plan_code": "yearly_monthly_adv", "subscription_at": "2026-03-31T00:00:00Z"}]))
    write_events(root / "events" / "usage.parquet", [
        *calls("arrears", "2026-01-10T00:00:00Z", "2026-02-10T00:00:00Z", "2026-02-11T00:00:00Z",
               "2026-10-31T23:59:59Z"),
        *calls("adv", "2026-04-01T00:00:00Z", "2026-04-30T00:00:00Z", "2026-04-30T12:00:00Z"),
    ])
    result = run_close(root, "2026-11-01T00:00:00Z")
    assert result.success
    return result


def test_yearly_plan_bills_its_charges_every_month(yearly_with_monthly_charges):
    closed = yearly_with_monthly_charges
    monthly = closed.query(
        "select cast(i.billing_at as date)::varchar, f.amount_cents from fees f "
        "join invoices i using (invoice_id) where i.external_customer_id = 'arrears' "
        "and f.fee_type = 'charge' order by 1")
    assert monthly == [("2026-02-01", 100), ("2026-03-01", 200), ("2026-11-01", 100)]
    # ten monthly invoices so far (Feb 1 .. Nov 1), no subscription fee before the year ends
    assert closed.scalar("select count(*) from invoices where external_customer_id = 'arrears'") \
        == 10
    assert closed.scalar("select count(*) from fees f join invoices i using (invoice_id) "
                         "where i.external_customer_id = 'arrears' "
                         "and f.fee_type = 'subscription'") == 0


def test_anniversary_in_advance_fee_once_charges_monthly(yearly_with_monthly_charges):
    closed = yearly_with_monthly_charges
    rows = closed.query(
        "select cast(i.billing_at as date)::varchar, f.fee_type, f.amount_cents from fees f "
        "join invoices i using (invoice_id) where i.external_customer_id = 'adv' order by 1, 2")
    assert rows[0] == ("2026-03-31", "subscription", 36500)
    # anniversary months from the 31st: Mar 31 .. Apr 29, Apr 30 .. May 30: the two Apr 30
    # calls belong to the second month, billed on May 31
    charges = [r for r in rows if r[1] == "charge"]
    assert charges == [("2026-04-30", "charge", 100), ("2026-05-31", "charge", 200)]
    assert [r for r in rows if r[1] == "subscription"] == [("2026-03-31", "subscription", 36500)]


def test_the_layer_tests_hold_on_the_calendar_warehouse(closed):
    """The dbt tests a close leaves out (selectors.yml: layer_tests) hold on a warehouse of varied
    billing calendars."""
    failures = layer_test_failures(closed.warehouse)
    assert failures is None, failures[-4000:]
