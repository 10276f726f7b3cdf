"""Recurring metrics and prorated charges (LAGO_RULES.md §3, docs/billing-rules.md "Recurring
metrics and prorated charges"), through one real close of three monthly periods.

A recurring metric's units carry over from period to period without new events: a recurring
sum_agg bills every event since the subscription started, a recurring unique_count_agg the
values still present (operation_type add/remove). A prorated charge on a recurring metric
bills each unit for the days it existed in the period over the period's days, the prorated
total rounded up to 5 decimals before pricing; the fee shows the full units.

Expected amounts follow Lago's documented examples:
- https://getlago.com/docs/guide/plans/charges/prorated-vs-full (getlago/lago-doc
  guide/plans/charges/prorated-vs-full.mdx): seats at $10, a seat added on July 10th is
  prorated for 22 days, "(1 Seat x $10), used for 22 days = $7.33"; fully billed, the same
  seat costs the full $10. The page's $7.33 is 22/30 of $10: Lago's code divides by the days
  of the month, so a 22-day seat gives 7.33 in a 30-day month (June 9th, below) and 7.10 in
  July (22/31); both are tested.
- https://getlago.com/changelog/recurring-count: a user added on September 15th is prorated
  from the 15th to the 30th; removed on October 22nd, it is prorated from October 1st to
  October 22nd (both ends counted).
- getlago/lago-api ProratedAggregations::SumService (each event weighs the days from its day
  to the period end, the value carried from earlier periods the billed days) and
  Postgres UniqueCountQuery#prorated_query (a value weighs the days it was present).
"""
from __future__ import annotations

import datetime as dt

import pytest

from conftest import base_catalog, run_close, write_catalog, write_events

pytestmark = pytest.mark.xdist_group("recurring_metrics")

AS_OF = "2026-09-01T00:00:00Z"   # closes June, July and August 2026

METRICS = [
    {"code": "seats_total", "name": "Seats (sum)", "aggregation_type": "sum_agg",
     "field_name": "seats", "recurring": True},
    {"code": "seats", "name": "Seats", "aggregation_type": "unique_count_agg",
     "field_name": "seat_id", "recurring": True},
    {"code": "gb_stored", "name": "Storage", "aggregation_type": "weighted_sum_agg",
     "field_name": "gb", "weighted_interval": "seconds", "recurring": True},
    {"code": "calls", "name": "Calls", "aggregation_type": "sum_agg", "field_name": "n"},
]


def plan(code: str, metric: str, model: str = "standard", prorated: bool = False,
         amount_cents: int = 0, **properties) -> dict:
    return {"code": code, "name": code, "interval": "monthly", "amount_cents": amount_cents,
            "amount_currency": "EUR", "pay_in_advance": False,
            "charges": [{"billable_metric_code": metric, "charge_model": model,
                         "prorated": prorated, "properties": properties or {"amount": "10"}}]}


PLANS = [
    plan("sum_full", "seats_total"),
    plan("sum_full_plus", "seats_total", amount_cents=100, amount="20"),
    plan("seats_full", "seats"),
    plan("seats_prorated", "seats", prorated=True),
    plan("sum_prorated", "seats_total", prorated=True),
    plan("seats_volume_prorated", "seats", "volume", prorated=True, volume_ranges=[
        {"from_value": 0, "to_value": 2, "per_unit_amount": "10", "flat_amount": "0"},
        {"from_value": 3, "to_value": None, "per_unit_amount": "8", "flat_amount": "5"}]),
    plan("storage", "gb_stored", amount="1"),
    plan("metered", "calls", amount="1"),
]

SUBSCRIPTIONS = {
    "sub_sum": "sum_full",
    "sub_seats": "seats_full",
    "sub_doc": "seats_prorated",
    "sub_sum_prorated": "sum_prorated",
    "sub_volume": "seats_volume_prorated",
    "sub_storage": "storage",
    "sub_metered": "metered",
    "sub_upgrade": "sum_full",
}


def event(sub: str, code: str, day: str, seq: int, **properties) -> dict:
    return {"transaction_id": f"{sub}-{seq}", "external_subscription_id": sub, "code": code,
            "timestamp": f"2026-{day}", "properties": properties}


def seat(sub: str, day: str, seq: int, seat_id: str, operation: str = "add") -> dict:
    return event(sub, "seats", day, seq, seat_id=seat_id, operation_type=operation)


EVENTS = [
    # recurring sum, fully billed: 3 seats in June, nothing new in July, +2 and -1 in August
    event("sub_sum", "seats_total", "06-05T09:00:00Z", 1, seats=3),
    event("sub_sum", "seats_total", "08-10T09:00:00Z", 2, seats=2),
    event("sub_sum", "seats_total", "08-20T09:00:00Z", 3, seats=-1),
    # recurring unique count, fully billed
    seat("sub_seats", "06-03T10:00:00Z", 1, "alice"),
    seat("sub_seats", "06-04T10:00:00Z", 2, "bob"),
    seat("sub_seats", "06-10T10:00:00Z", 3, "alice"),             # repeated add: no effect
    seat("sub_seats", "07-10T10:00:00Z", 4, "carol"),             # the doc's July 10th seat
    seat("sub_seats", "07-20T10:00:00Z", 5, "bob", "remove"),
    seat("sub_seats", "07-25T10:00:00Z", 6, "erin"),
    seat("sub_seats", "08-01T10:00:00Z", 7, "dave", "remove"),    # never added: no effect
    seat("sub_seats", "08-02T10:00:00Z", 8, "erin", "remove"),
    seat("sub_seats", "08-15T10:00:00Z", 9, "alice", "remove"),
    seat("sub_seats", "08-16T10:00:00Z", 10, "bob"),
    # prorated unique count: the documented seats
    seat("sub_doc", "06-09T08:00:00Z", 1, "s1"),                  # 22 days of June
    seat("sub_doc", "07-10T08:00:00Z", 2, "s2"),                  # 22 days of July
    seat("sub_doc", "08-22T08:00:00Z", 3, "s1", "remove"),        # Aug 1st to 22nd
    # prorated sum
    event("sub_sum_prorated", "seats_total", "06-01T00:00:00Z", 1, seats=5),
    event("sub_sum_prorated", "seats_total", "06-16T12:00:00Z", 2, seats=3),
    event("sub_sum_prorated", "seats_total", "07-21T12:00:00Z", 3, seats=-2),
    # prorated volume: the tier of the full units, the price of the prorated units
    seat("sub_volume", "06-01T00:00:00Z", 1, "a"),
    seat("sub_volume", "06-01T00:00:00Z", 2, "b"),
    seat("sub_volume", "06-16T00:00:00Z", 3, "c"),
    # recurring weighted sum: 10 GB from June 16th, carried in July, removed August 16th
    event("sub_storage", "gb_stored", "06-16T00:00:00Z", 1, gb=10),
    event("sub_storage", "gb_stored", "08-16T00:00:00Z", 2, gb=-10),
    # a metered (non-recurring) sum still resets every period
    event("sub_metered", "calls", "06-10T00:00:00Z", 1, n=4),
    # recurring sum across an upgrade: the new plan sees the old plan's events
    event("sub_upgrade", "seats_total", "06-05T09:00:00Z", 1, seats=3),
]


@pytest.fixture(scope="module")
def closed(tmp_path_factory):
    root = tmp_path_factory.mktemp("recurring")
    customers = [{"external_id": f"cus_{sub}", "name": sub, "currency": "EUR"}
                 for sub in SUBSCRIPTIONS]
    subscriptions = [{"external_id": sub, "external_customer_id": f"cus_{sub}",
                      "plan_code": plan_code, "subscription_at": "2026-06-01T00:00:00Z",
                      "billing_time": "calendar"}
                     for sub, plan_code in SUBSCRIPTIONS.items()]
    subscriptions[-1]["plan_changes"] = [
        {"plan_code": "sum_full_plus", "requested_at": "2026-07-15T10:00:00Z"}]
    write_catalog(root / "catalog", base_catalog(
        billable_metrics=METRICS, plans=PLANS, customers=customers,
        subscriptions=subscriptions))
    write_events(root / "events" / "part-0.parquet", EVENTS)
    result = run_close(root, AS_OF, documents=False)
    assert result.success
    return result


def charges(closed, sub: str) -> dict:
    """Charge fees of a subscription by the month their period starts in:
    {month: (units, events_count, amount_cents)}; a month with two fees (a plan change) maps to
    a list of them in period order."""
    rows = closed.query(
        "select from_datetime, units, events_count, amount_cents from fees "
        "where external_subscription_id = ? and fee_type = 'charge' order by from_datetime",
        [sub])
    by_month: dict = {}
    for start, units, events_count, amount in rows:
        by_month.setdefault(start.month, []).append((float(units), events_count, amount))
    return {m: v[0] if len(v) == 1 else v for m, v in by_month.items()}


# (1) recurring sum_agg carried to the next period with no new events -------------------------

def test_recurring_sum_carries_over_without_new_events(closed):
    # June: 3 seats x 10.00; July: no event, the 3 seats are billed again; August: 3 + 2 - 1.
    # events_count counts every event since the start, as Lago's recurring sum does.
    assert charges(closed, "sub_sum") == {
        6: (3.0, 1, 3000), 7: (3.0, 1, 3000), 8: (4.0, 3, 4000)}


def test_metered_sum_still_resets(closed):
    # The same aggregation without `recurring`: July and August have no usage, no fee.
    assert charges(closed, "sub_metered") == {6: (4.0, 1, 400)}


# (2) recurring unique_count_agg with add/remove ----------------------------------------------

def test_recurring_unique_count_keeps_the_active_values(closed):
    # June: {alice, bob} (the second add of alice changes nothing).
    # July: {alice, carol, erin}: carol, added on July 10th, is billed the full 10.00 (the
    #   fully-billed seat of the prorated-vs-full page); bob is removed.
    # August: {carol, bob}: erin and alice removed, bob added again; removing dave, who was
    #   never added, changes nothing.
    fees = charges(closed, "sub_seats")
    assert {m: (u, a) for m, (u, _, a) in fees.items()} == {
        6: (2.0, 2000), 7: (3.0, 3000), 8: (2.0, 2000)}


# (3) prorated standard charge with units added mid-period ------------------------------------

def test_prorated_seat_documented_example(closed):
    # June: seat s1 from June 9th: 22/30 days = 0.733333.. -> 0.73334 x 10.00 = 7.33
    #   (the documented "used for 22 days = $7.33").
    # July: s1 the whole month (31/31) + s2 from July 10th (22/31 = 0.709677..):
    #   1.709677.. -> 1.70968 x 10.00 = 17.10, s2 alone being the doc's seat in July (7.10).
    # August: s1 removed on the 22nd, both ends counted (22/31), s2 the whole month:
    #   53/31 = 1.709677.. -> 17.10; the fee shows the full units, 1 seat at the end.
    fees = charges(closed, "sub_doc")
    assert {m: (u, a) for m, (u, _, a) in fees.items()} == {
        6: (1.0, 733), 7: (2.0, 1710), 8: (1.0, 1710)}


def test_prorated_sum_weighs_each_event_by_its_days(closed):
    # June (30 days): 5 from June 1st (30/30) + 3 from June 16th (15/30) = 6.5 -> 65.00.
    # July (31 days): the 8 carried weigh 31/31; -2 on July 21st gives back 11/31 of 2:
    #   8 - 22/31 = 7.290322.. -> 7.29033 (rounded up) x 10.00 = 72.9033 -> 72.90.
    # August: the 6 carried, whole month: 60.00.
    assert charges(closed, "sub_sum_prorated") == {
        6: (8.0, 2, 6500), 7: (6.0, 3, 7290), 8: (6.0, 3, 6000)}


def test_prorated_volume_finds_the_tier_by_full_units(closed):
    # June: 3 seats (tier 3+: 8.00 per unit + 5.00 flat); a and b the whole month, c from
    # June 16th (15/30): 2.5 prorated units x 8.00 + 5.00 = 25.00.
    # July and August: 3 seats the whole month: 3 x 8.00 + 5.00 = 29.00.
    fees = charges(closed, "sub_volume")
    assert {m: (u, a) for m, (u, _, a) in fees.items()} == {
        6: (3.0, 2500), 7: (3.0, 2900), 8: (3.0, 2900)}


# (4) several periods, weighted sums and plan changes -----------------------------------------

def test_recurring_weighted_sum_starts_from_the_carried_value(closed):
    # June: 10 GB from June 16th, 15 of 30 days (to 23:59:59.999999): 5 GB -> 5.00.
    # July: no event; the 10 GB carried hold the whole month: 10 GB -> 10.00.
    # August: the 10 GB until August 16th, 15 of 31 days: 4.838.. GB -> 4.84.
    fees = charges(closed, "sub_storage")
    assert {m: a for m, (_, _, a) in fees.items()} == {6: 500, 7: 1000, 8: 484}
    assert fees[7][1] == 0          # no event in July
    assert fees[8][1] == 1


def test_recurring_value_carries_over_a_plan_change(closed):
    # Upgraded on July 15th 10:00 from 10.00 to 20.00 a seat: events belong to the external
    # subscription id, so the new plan bills the 3 seats sent in June (LAGO_RULES.md §2, §18.8).
    fees = charges(closed, "sub_upgrade")
    assert fees[6] == (3.0, 1, 3000)
    assert fees[7] == [(3.0, 1, 3000), (3.0, 1, 6000)]
    assert fees[8] == (3.0, 1, 6000)


def test_every_period_is_invoiced_once(closed):
    # Three monthly invoices per subscription (four for the upgraded one), each total the sum
    # of its fees.
    counts = dict(closed.query(
        "select external_customer_id, count(*) from invoices group by 1"))
    expected = {f"cus_{sub}": 3 for sub in SUBSCRIPTIONS}
    expected["cus_sub_upgrade"] = 4
    assert counts == expected
    assert closed.scalar(
        "select count(*) from invoices where total_amount_cents <> fees_amount_cents") == 0


def test_every_event_is_accounted_for(closed):
    outcomes = dict(closed.query(
        "select outcome, sum(events)::bigint from event_reconciliation group by outcome"))
    assert outcomes == {"read": len(EVENTS), "billed": len(EVENTS)}


def test_a_later_close_carries_the_value_into_the_next_period(closed):
    # Closing September on the same warehouse bills the recurring units again, with no new
    # events, and leaves the finalized invoices unchanged.
    before = closed.query("select invoice_id, total_amount_cents from invoices order by 1")
    later = run_close(closed.root, "2026-10-01T00:00:00Z", documents=False)
    assert later.success
    september = {sub: charges(later, sub).get(9) for sub in ("sub_sum", "sub_doc", "sub_seats")}
    assert september == {"sub_sum": (4.0, 3, 4000), "sub_doc": (1.0, 3, 1000),
                         "sub_seats": (2.0, 10, 2000)}
    after = later.query("select invoice_id, total_amount_cents from invoices "
                        "where issuing_date < '2026-10-01' order by 1")
    assert after == before


def test_prorated_graduated_is_refused_until_built(tmp_path):
    # Lago prices a prorated graduated charge event by event (ProratedGraduatedService); not
    # built yet, so the catalog is refused rather than billed on full units.
    from orchestration.lib.catalog.errors import CatalogError
    from orchestration.lib.catalog.validate import validate_catalog

    plans = [plan("seats_graduated_prorated", "seats", "graduated", prorated=True,
                  graduated_ranges=[
                      {"from_value": 0, "to_value": 5, "per_unit_amount": "10",
                       "flat_amount": "0"},
                      {"from_value": 6, "to_value": None, "per_unit_amount": "8",
                       "flat_amount": "0"}])]
    folder = write_catalog(tmp_path / "catalog", base_catalog(
        billable_metrics=METRICS, plans=plans, subscriptions=[]))
    with pytest.raises(CatalogError) as caught:
        validate_catalog(folder)
    assert 'plans.yaml: plan "seats_graduated_prorated": charges[0].prorated: prorated ' \
           "graduated charges are not supported yet" in str(caught.value)
    # the same charge without proration loads
    plans[0]["charges"][0]["prorated"] = False
    validate_catalog(write_catalog(tmp_path / "ok", base_catalog(
        billable_metrics=METRICS, plans=plans, subscriptions=[])))
