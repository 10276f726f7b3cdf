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

from conftest import base_catalog, run_close, write_catalog, write_events, layer_test_failures

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


# (5) prorated graduated charges: tiers by the running full count, prices by prorated days ----
#
# Lago's scenarios spec/scenarios/current_usage/by_charge_model/prorated_graduated_spec.rb
# (getlago/lago-api), replayed through a real close: the same events on the same days, the
# same tiers, a 0.00 plan, calendar monthly billing in UTC; Lago's invoice totals are the
# expected amounts (each invoice holds just this fee).

GRADUATED_AS_OF = "2023-11-01T00:00:00Z"    # closes September and October 2023

GRADUATED_METRICS = [
    {"code": "amount_sum", "name": "Amount", "aggregation_type": "sum_agg",
     "field_name": "amount", "recurring": True},
    {"code": "amount_unique", "name": "Amounts", "aggregation_type": "unique_count_agg",
     "field_name": "amount", "recurring": True},
]

GRADUATED_PLANS = [
    # "with sum_agg" / "three ranges and one overflow case"
    plan("grad_sum", "amount_sum", "graduated", prorated=True, graduated_ranges=[
        {"from_value": 0, "to_value": 5, "per_unit_amount": "10", "flat_amount": "100"},
        {"from_value": 6, "to_value": 15, "per_unit_amount": "5", "flat_amount": "50"},
        {"from_value": 16, "to_value": None, "per_unit_amount": "2", "flat_amount": "0"}]),
    # "with unique_count_agg" / "two ranges" and "two ranges and removal in another interval"
    plan("grad_unique", "amount_unique", "graduated", prorated=True, graduated_ranges=[
        {"from_value": 0, "to_value": 1, "per_unit_amount": "10", "flat_amount": "100"},
        {"from_value": 2, "to_value": None, "per_unit_amount": "5", "flat_amount": "50"}]),
    # "when item is removed before billing period": the first user free, the next at 10
    plan("grad_users", "amount_unique", "graduated", prorated=True, graduated_ranges=[
        {"from_value": 0, "to_value": 1, "per_unit_amount": "0", "flat_amount": "0"},
        {"from_value": 2, "to_value": None, "per_unit_amount": "10", "flat_amount": "0"}]),
]

GRADUATED_SUBSCRIPTIONS = {"g_sum": "grad_sum", "g_unique": "grad_unique",
                           "g_unique_removal": "grad_unique", "g_users": "grad_users"}


def lago_event(sub: str, code: str, day: str, seq: int, **properties) -> dict:
    # Lago's scenario travels to midnight UTC of each day and sends the event then
    return {"transaction_id": f"{sub}-{seq}", "external_subscription_id": sub, "code": code,
            "timestamp": f"2023-{day}T00:00:00Z", "properties": properties}


def amount(sub: str, day: str, seq: int, value: str, operation: str = "add") -> dict:
    return lago_event(sub, "amount_unique", day, seq, amount=value, operation_type=operation)


GRADUATED_EVENTS = [
    lago_event("g_sum", "amount_sum", "09-10", 1, amount="2"),
    lago_event("g_sum", "amount_sum", "09-16", 2, amount="5"),
    lago_event("g_sum", "amount_sum", "09-20", 3, amount="-6"),
    lago_event("g_sum", "amount_sum", "09-25", 4, amount="10"),
    lago_event("g_sum", "amount_sum", "09-26", 5, amount="4"),
    lago_event("g_sum", "amount_sum", "09-30", 6, amount="60"),
    lago_event("g_sum", "amount_sum", "10-17", 7, amount="20"),
    amount("g_unique", "09-10", 1, "1111"),
    amount("g_unique", "09-12", 2, "1111", "remove"),
    amount("g_unique", "09-14", 3, "1111"),
    amount("g_unique", "09-15", 4, "2222"),
    amount("g_unique", "09-16", 5, "2222"),                       # repeated add: no effect
    amount("g_unique", "09-20", 6, "3333"),
    amount("g_unique", "10-17", 7, "4444"),
    amount("g_unique_removal", "09-10", 1, "1111"),
    amount("g_unique_removal", "10-17", 2, "1111", "remove"),
    amount("g_unique_removal", "10-19", 3, "2222"),
    # Lago's scenario runs in October and November 2024; here a month and a year earlier
    amount("g_users", "09-05", 1, "73283"),
    amount("g_users", "09-06", 2, "73290"),
    amount("g_users", "09-07", 3, "78924"),
    amount("g_users", "09-25", 4, "73290", "remove"),
]


@pytest.fixture(scope="module")
def graduated(tmp_path_factory):
    root = tmp_path_factory.mktemp("prorated_graduated")
    customers = [{"external_id": f"cus_{sub}", "name": sub, "currency": "EUR"}
                 for sub in GRADUATED_SUBSCRIPTIONS]
    subscriptions = [{"external_id": sub, "external_customer_id": f"cus_{sub}",
                      "plan_code": plan_code, "subscription_at": "2023-09-01T00:00:00Z",
                      "billing_time": "calendar"}
                     for sub, plan_code in GRADUATED_SUBSCRIPTIONS.items()]
    write_catalog(root / "catalog", base_catalog(
        billable_metrics=GRADUATED_METRICS, plans=GRADUATED_PLANS, customers=customers,
        subscriptions=subscriptions))
    write_events(root / "events" / "part-0.parquet", GRADUATED_EVENTS)
    result = run_close(root, GRADUATED_AS_OF, documents=False)
    assert result.success
    return result


def invoice_totals(closed, sub: str) -> dict:
    return dict(closed.query(
        "select month(i.issuing_date), i.total_amount_cents from invoices i "
        "where i.external_customer_id = ? order by 1", [f"cus_{sub}"]))


def test_prorated_graduated_sum_with_additions_and_a_removal(graduated):
    # September (30 days), running count 0 -> 2 -> 7 -> 1 -> 11 -> 15 -> 75:
    #   +2 on the 10th (21/30 = 0.7 a slot): slots 1-2 in tier 1: 1.4 x 10 = 14
    #   +5 on the 16th (15/30 = 0.5): slots 3-5 in tier 1: 15; slots 6-7 in tier 2: 5
    #   -6 on the 20th (11/30 given back): slots 6-7: -2 x 11/30 x 5; slots 2-5: -4 x 11/30 x 10
    #   +10 on the 25th (6/30): slots 2-5 in tier 1: 8; slots 6-11 in tier 2: 6
    #   +4 on the 26th (5/30): slots 12-15 in tier 2: 3.33..
    #   +60 on the 30th (1/30): slots 16-75 in tier 3: 2 x 2 = 4
    #   = 37.00, plus the flat amounts of the three tiers reached (100 + 50 + 0) = 187.00:
    #   Lago's invoice "total_amount_cents 18_700".
    # October (31 days): the 75 carried all month (50 + 50 + 120 = 220) + 20 on the 17th
    #   (15/31) in tier 3: 20 x 0.483870.. x 2 = 19.35 -> 220 + 19.35 + 150 = 389.35: Lago's
    #   usage on October 17th, "38_935" (no later event, so the invoice of November 1st).
    assert invoice_totals(graduated, "g_sum") == {10: 18700, 11: 38935}
    fees = charges(graduated, "g_sum")
    assert {m: (u, a) for m, (u, _, a) in fees.items()} == {9: (75.0, 18700), 10: (95.0, 38935)}


def test_prorated_graduated_unique_count_with_a_removal_and_a_re_add(graduated):
    # September: 1111 from the 10th to its removal on the 12th (3/30 = 0.1), in slot 1:
    #   1.00; added again on the 14th (17/30 -> 0.56667), slot 1 again: 5.6667; 2222 from the
    #   15th (16/30 -> 0.53334) in slot 2 (tier 2): 2.6667; its repeated add changes nothing;
    #   3333 from the 20th (11/30 -> 0.36667) in slot 3: 1.83335. 11.16675 + 100 + 50 =
    #   161.17: Lago's invoice "16_117".
    # October: 1111, 2222, 3333 all month (10 + 5 + 5) + 4444 from the 17th (15/31 ->
    #   0.48388) x 5 = 2.4194, + 150 = 172.42: Lago's usage on October 17th "17_242".
    assert invoice_totals(graduated, "g_unique") == {10: 16117, 11: 17242}


def test_prorated_graduated_unique_count_removal_in_a_later_period(graduated):
    # September: 1111 from the 10th (21/30 = 0.7) x 10 + 100 = 107.00: Lago's "10_700".
    # October: 1111 carried, removed on the 17th (17/31 -> 0.54839) in slot 1; 2222 from the
    #   19th (13/31 -> 0.41936) in slot 1 again (the count went back to 0):
    #   9.6775 + 100 (only the first tier reached) = 109.68: Lago's invoice "10_968".
    assert invoice_totals(graduated, "g_unique_removal") == {10: 10700, 11: 10968}
    fees = charges(graduated, "g_unique_removal")
    assert {m: (u, a) for m, (u, _, a) in fees.items()} == {9: (1.0, 10700), 10: (1.0, 10968)}


def test_prorated_graduated_user_removed_earlier_takes_no_tier_slot(graduated):
    # Lago's regression scenario "when item is removed before billing period": three users
    # added, one removed, in the first period; in the next one the two left fill slot 1
    # (free) and slot 2 (10.00) all month: 1000, the removed user taking no slot.
    # First period: 73283 from the 5th (26/30 -> 0.86667) in the free slot; 73290 from the
    # 6th to its removal on the 25th (20/30 -> 0.66667) and 78924 from the 7th (24/30 = 0.8)
    # in slots 2 and 3: (0.66667 + 0.8) x 10 = 14.6667 -> 14.67 (Lago's scenario does not
    # pin it).
    assert invoice_totals(graduated, "g_users") == {10: 1467, 11: 1000}


def test_prorated_fees_unit_amount_is_the_amount_per_full_unit(closed, graduated):
    # Lago's unit amount of a prorated fee is its amount over the *full* units, not the
    # charge's price: StandardService#unit_amount (amount / full_units_number; its spec: 51.2345
    # for 100 full units -> 0.512345), VolumeService#number_of_units (the full units when
    # prorated), ProratedGraduatedService#unit_amount (amount / the full units; its spec:
    # 197.33 / 14 = 14.10). Fees::ChargeService stores unit_amount x 100 in the bigint
    # unit_amount_cents, which cuts the decimals (its spec: 5 cents for 2 units -> 2).
    def unit_amounts(result, sub):
        # {month: (units, amount_cents, unit_amount_cents)}
        return {start.month: (float(u), a, ua) for start, u, a, ua in result.query(
            "select from_datetime, units, amount_cents, unit_amount_cents from fees "
            "where external_subscription_id = ? and fee_type = 'charge'", [sub])}
    # standard, the documented seat: June 7.3334 for 1 seat -> 733; July 17.0968 for 2 seats
    # -> 854 (8.5484); August 17.0968 for 1 seat -> 1709 (not the charge's 1000)
    doc = unit_amounts(closed, "sub_doc")
    assert [doc[m] for m in (6, 7, 8)] == [(1.0, 733, 733), (2.0, 1710, 854), (1.0, 1710, 1709)]
    # volume: June 25.00 for 3 seats -> 833
    assert unit_amounts(closed, "sub_volume")[6] == (3.0, 2500, 833)
    # graduated: September 187.00 for 75 units -> 249; October 389.3548.. for 95 -> 409
    assert unit_amounts(graduated, "g_sum") == {9: (75.0, 18700, 249), 10: (95.0, 38935, 409)}


def test_prorated_graduated_in_advance_is_refused(tmp_path):
    # Lago prorates charges paid in advance for the standard model only
    # (getlago/lago-api Charge#validate_prorated); in arrears, graduated loads.
    from orchestration.lib.catalog.errors import CatalogError
    from orchestration.lib.catalog.validate import validate_catalog

    plans = [dict(GRADUATED_PLANS[0])]
    plans[0]["charges"] = [dict(plans[0]["charges"][0], pay_in_advance=True)]
    folder = write_catalog(tmp_path / "catalog", base_catalog(
        billable_metrics=GRADUATED_METRICS, plans=plans, subscriptions=[]))
    with pytest.raises(CatalogError) as caught:
        validate_catalog(folder)
    assert 'plans.yaml: plan "grad_sum": charges[0].prorated: proration needs a recurring' \
        in str(caught.value)
    validate_catalog(write_catalog(tmp_path / "ok", base_catalog(
        billable_metrics=GRADUATED_METRICS, plans=GRADUATED_PLANS, subscriptions=[])))


def test_the_layer_tests_hold_on_the_recurring_warehouse(closed):
    """The dbt tests a close leaves out (selectors.yml: layer_tests) hold on a warehouse with
    recurring metrics."""
    failures = layer_test_failures(closed.warehouse)
    assert failures is None, failures[-4000:]
