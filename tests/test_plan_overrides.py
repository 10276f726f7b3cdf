"""Plan overrides and plan versions (docs/billing-rules.md, "Plan overrides and versions").

A subscription's `plan_overrides` (Lago's API shape) and a plan's versions (`effective_from`)
are resolved by the catalog loader into plan rows of their own: nothing is generated per plan,
the dbt models read the rows. Loader tests call validate_catalog / catalog_tables directly;
one close checks the invoices end to end.
"""
from __future__ import annotations

import copy
import time
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import base_catalog, run_close, write_catalog, write_events
from orchestration.lib.catalog.errors import CatalogError
from orchestration.lib.catalog.tables import catalog_tables
from orchestration.lib.catalog.validate import validate_catalog

pytestmark = pytest.mark.xdist_group("plan_overrides")


def load(tmp_path: Path, **documents):
    return validate_catalog(write_catalog(tmp_path / "catalog", base_catalog(**documents)))


def refusal(tmp_path: Path, **documents) -> str:
    with pytest.raises(CatalogError) as caught:
        load(tmp_path, **documents)
    return str(caught.value)


def rows(catalog, table: str) -> list[dict]:
    return catalog_tables(catalog)[table].to_pylist()


def by(items: list[dict], key: str) -> dict:
    return {item[key]: item for item in items}


def subscriptions(**changes) -> list[dict]:
    """The base subscriptions, with fields of sub_a changed."""
    subs = base_catalog()["subscriptions"]
    subs[0].update(changes)
    return subs


def versioned_plans(new_amount: int = 1500, effective_from: str = "2026-11-01T00:00:00Z",
                    api_price: str = "0.06") -> list[dict]:
    """`starter` as in the base catalog, and a second version from `effective_from`."""
    first = base_catalog()["plans"][0]
    second = copy.deepcopy(first)
    second.update(amount_cents=new_amount, effective_from=effective_from)
    second["charges"][0]["properties"]["amount"] = api_price
    return [first, second]


# --- overrides ----------------------------------------------------------------------------------


def test_overrides_make_a_plan_row_of_their_own(tmp_path):
    catalog = load(tmp_path, taxes=[{"code": "vat", "name": "VAT", "rate": 20}],
                   subscriptions=subscriptions(plan_overrides={
                       "amount_cents": 800, "amount_currency": "EUR",
                       "invoice_display_name": "Starter (negotiated)", "trial_period": 3,
                       "tax_codes": ["vat"],
                       "minimum_commitment": {"amount_cents": 5000},
                       "usage_thresholds": [{"amount_cents": 10000}],
                       "charges": [{"billable_metric_code": "api_calls",
                                    "invoice_display_name": "Calls",
                                    "min_amount_cents": 100,
                                    "properties": {"amount": "0.04"}}]}))
    plans = by(rows(catalog, "plans"), "plan_code")
    assert list(plans) == ["starter", "starter@sub_a"]
    derived = plans["starter@sub_a"]
    assert derived["amount_cents"] == 800 and plans["starter"]["amount_cents"] == 1000
    assert derived["name"] == "Starter"                       # the name is kept
    assert derived["invoice_display_name"] == "Starter (negotiated)"
    assert derived["parent_plan_code"] == "starter" and plans["starter"]["parent_plan_code"] is None
    assert derived["trial_period_days"] == 3 and derived["minimum_commitment_amount_cents"] == 5000
    assert [t["plan_code"] for t in rows(catalog, "plan_usage_thresholds")] == ["starter@sub_a"]
    assert ("plan", "starter@sub_a", "vat") in {tuple(t.values()) for t in
                                                 rows(catalog, "applied_taxes")}

    charges = by(rows(catalog, "charges"), "charge_id")
    assert charges["starter@sub_a/api_calls"]["min_amount_cents"] == 100
    assert charges["starter@sub_a/api_calls"]["invoice_display_name"] == "Calls"
    pricings = by(rows(catalog, "charge_pricings"), "pricing_id")
    assert pricings["starter@sub_a/api_calls"]["amount"] == Decimal("0.04")
    assert pricings["starter/api_calls"]["amount"] == Decimal("0.05")
    # a charge the subscription does not override is copied as it is, tiers included
    tiers = [t for t in rows(catalog, "charge_tiers")
             if t["pricing_id"] == "starter@sub_a/storage_gb"]
    assert len(tiers) == 2

    subs = by(rows(catalog, "subscriptions"), "external_subscription_id")
    assert subs["sub_a"]["plan_code"] == "starter@sub_a"
    assert subs["sub_b"]["plan_code"] == "starter"


def test_overrides_replace_filters_and_properties_as_a_whole(tmp_path):
    metrics = base_catalog()["billable_metrics"]
    metrics[0]["filters"] = [{"key": "region", "values": ["eu", "us"]}]
    plans = base_catalog()["plans"]
    plans[0]["charges"][0]["filters"] = [
        {"values": {"region": ["eu"]}, "properties": {"amount": "0.07"}}]
    catalog = load(tmp_path, billable_metrics=metrics, plans=plans, subscriptions=subscriptions(
        plan_overrides={"charges": [{"billable_metric_code": "api_calls",
                                     "filters": [{"values": {"region": ["us"]},
                                                  "properties": {"amount": "0.01"}}]}]}))
    values = [(v["pricing_id"], v["filter_value"]) for v in rows(catalog, "charge_filter_values")]
    assert values == [("starter/api_calls/f1", "eu"), ("starter@sub_a/api_calls/f1", "us")]
    pricings = by(rows(catalog, "charge_pricings"), "pricing_id")
    # the default price is the plan's: only the filters were overridden
    assert pricings["starter@sub_a/api_calls"]["amount"] == Decimal("0.05")
    assert pricings["starter@sub_a/api_calls/f1"]["amount"] == Decimal("0.01")


def test_an_empty_override_is_no_override(tmp_path):
    catalog = load(tmp_path, subscriptions=subscriptions(plan_overrides={}))
    assert [p.code for p in catalog.plans] == ["starter"]


@pytest.mark.parametrize("overrides, field, words", [
    ({"charges": [{"billable_metric_code": "api_calls", "properties": {"amount": "-1"}}]},
     "plan_overrides.charges[0].properties.amount", "must not be negative"),
    ({"charges": [{"billable_metric_code": "api_calls", "properties": {"rate": "1"}}]},
     "plan_overrides.charges[0].properties.amount", "is required by the standard charge model"),
    ({"charges": [{"billable_metric_code": "storage_gb", "properties": {"graduated_ranges": [
        {"from_value": 0, "to_value": 10}, {"from_value": 20, "to_value": None}]}}]},
     "plan_overrides.charges[0].properties.graduated_ranges[1].from_value", "must continue"),
    ({"charges": [{"billable_metric_code": "unknown_metric"}]},
     "plan_overrides.charges[0].billable_metric_code", "an override cannot add a charge"),
    ({"charges": [{"billable_metric_code": "storage_gb", "charge_model": "standard"}]},
     "plan_overrides.charges[0].charge_model", "cannot change a charge's charge_model"),
    ({"charges": [{"billable_metric_code": "api_calls"}, {"billable_metric_code": "api_calls"}]},
     "plan_overrides.charges[1].billable_metric_code", "the same charge"),
    ({"charges": [{"billable_metric_code": "api_calls", "tax_codes": ["nope"]}]},
     "plan_overrides.charges[0].tax_codes[0]", "unknown tax 'nope'"),
    ({"amount_currency": "USD"}, "plan_overrides.amount_currency", "cannot change its plan's "
                                                                   "currency"),
    ({"amount_cents": -5}, "plan_overrides.amount_cents", "must not be negative"),
    ({"tax_codes": ["nope"]}, "plan_overrides.tax_codes[0]", "unknown tax 'nope'"),
    ({"minimum_commitment": {"invoice_display_name": "x"}},
     "plan_overrides.minimum_commitment.amount_cents", "no minimum commitment"),
])
def test_a_bad_override_is_refused_naming_the_subscription_and_field(tmp_path, overrides, field,
                                                                     words):
    message = refusal(tmp_path, subscriptions=subscriptions(plan_overrides=overrides))
    assert f'subscriptions.yaml: subscription "sub_a": {field}: ' in message
    assert words in message
    assert "plans.yaml" not in message   # the plan itself is sound


def test_every_bad_override_is_reported_at_once(tmp_path):
    message = refusal(tmp_path, subscriptions=subscriptions(plan_overrides={
        "amount_currency": "USD", "tax_codes": ["nope"],
        "charges": [{"billable_metric_code": "api_calls", "properties": {"rate": "1"}},
                    {"billable_metric_code": "unknown_metric"}]}))
    assert "4 problems" in message


def test_overrides_and_following_updates_do_not_mix(tmp_path):
    message = refusal(tmp_path, plans=versioned_plans(), subscriptions=subscriptions(
        follow_plan_updates=True, plan_overrides={"amount_cents": 1}))
    assert 'subscriptions.yaml: subscription "sub_a": follow_plan_updates: cannot be combined ' \
           'with plan_overrides' in message


def test_unknown_override_fields_are_warnings(tmp_path):
    catalog = load(tmp_path, subscriptions=subscriptions(plan_overrides={
        "description": "ignored by Lago's engine too", "amount_cents": 900,
        "charges": [{"billable_metric_code": "api_calls", "unit_price": "0.01"}]}))
    assert catalog.warnings == ['subscriptions.yaml: subscription "sub_a": '
                                'plan_overrides.charges[0].unit_price: unknown field, ignored']


# --- versions -----------------------------------------------------------------------------------


def test_versions_grandfather_existing_subscribers(tmp_path):
    subs = base_catalog()["subscriptions"] + [
        {"external_id": "sub_new", "external_customer_id": "cus_b", "plan_code": "starter",
         "subscription_at": "2026-11-05T00:00:00Z"},
        {"external_id": "sub_at", "external_customer_id": "cus_b", "plan_code": "starter",
         "subscription_at": "2026-11-01T00:00:00Z"}]
    catalog = load(tmp_path, plans=versioned_plans(), subscriptions=subs)
    plans = by(rows(catalog, "plans"), "plan_code")
    assert list(plans) == ["starter", "starter@v2026-11-01"]
    assert plans["starter@v2026-11-01"]["amount_cents"] == 1500
    assert plans["starter@v2026-11-01"]["name"] == "Starter"
    assert plans["starter@v2026-11-01"]["parent_plan_code"] == "starter"
    codes = {s["external_subscription_id"]: s["plan_code"] for s in rows(catalog, "subscriptions")}
    assert codes == {"sub_a": "starter", "sub_b": "starter", "sub_new": "starter@v2026-11-01",
                     "sub_at": "starter@v2026-11-01"}
    assert rows(catalog, "plan_changes") == []          # grandfathered: no change ever


def test_followers_move_to_each_new_version_at_its_effective_date(tmp_path):
    plans = versioned_plans() + [dict(versioned_plans(2000)[1],
                                      effective_from="2027-01-01T00:00:00Z")]
    catalog = load(tmp_path, plans=plans, subscriptions=subscriptions(follow_plan_updates=True))
    changes = rows(catalog, "plan_changes")
    assert [(c["external_subscription_id"], c["position"], c["plan_code"],
             c["requested_at"].isoformat(), c["kind"]) for c in changes] == [
        ("sub_a", 0, "starter@v2026-11-01", "2026-11-01T00:00:00+00:00", "version"),
        ("sub_a", 1, "starter@v2027-01-01", "2027-01-01T00:00:00+00:00", "version")]


def test_a_follower_stops_following_when_it_changes_plan_or_ends(tmp_path):
    plans = versioned_plans() + [{
        "code": "premium", "name": "Premium", "interval": "monthly", "amount_cents": 9000,
        "amount_currency": "EUR"}]
    changed = subscriptions(follow_plan_updates=True, plan_changes=[
        {"plan_code": "premium", "requested_at": "2026-10-20T00:00:00Z"}])
    changed[1].update(follow_plan_updates=True, terminated_at="2026-10-25T00:00:00Z")
    catalog = load(tmp_path, plans=plans, subscriptions=changed)
    assert [(c["plan_code"], c["kind"]) for c in rows(catalog, "plan_changes")] == [
        ("premium", "requested")]


def test_a_plan_change_picks_the_version_in_force_when_requested(tmp_path):
    plans = versioned_plans() + [{
        "code": "premium", "name": "Premium", "interval": "monthly", "amount_cents": 9000,
        "amount_currency": "EUR"}]
    subs = subscriptions(plan_code="premium", plan_changes=[
        {"plan_code": "starter", "requested_at": "2026-11-10T00:00:00Z"}])
    catalog = load(tmp_path, plans=plans, subscriptions=subs)
    assert [(c["plan_code"], c["kind"]) for c in rows(catalog, "plan_changes")] == [
        ("starter@v2026-11-01", "requested")]


def test_versions_on_one_day_and_overrides_of_a_version(tmp_path):
    plans = versioned_plans(effective_from="2026-11-01T00:00:00Z") + [
        dict(versioned_plans(1700)[1], effective_from="2026-11-01T12:00:00Z")]
    subs = subscriptions(subscription_at="2026-11-02T00:00:00Z",
                         plan_overrides={"amount_cents": 100})
    catalog = load(tmp_path, plans=plans, subscriptions=subs)
    assert [p.code for p in catalog.plans] == [
        "starter", "starter@v2026-11-01T00:00:00Z", "starter@v2026-11-01T12:00:00Z",
        "starter@v2026-11-01T12:00:00Z@sub_a"]
    assert catalog.plan_parents["starter@v2026-11-01T12:00:00Z@sub_a"] == "starter"


def test_a_subscription_before_the_first_version_is_refused(tmp_path):
    plans = versioned_plans()
    plans[0]["effective_from"] = "2026-10-10T00:00:00Z"
    message = refusal(tmp_path, plans=plans)
    assert ('subscriptions.yaml: subscription "sub_a": plan_code: plan \'starter\' has no '
            'version in force at 2026-10-01T00:00:00Z (its first version is effective from '
            '2026-10-10T00:00:00Z)') in message
    assert 'subscription "sub_b"' not in message    # it starts on 2026-10-16


def test_duplicate_codes_are_still_refused_without_distinct_effective_from(tmp_path):
    plans = versioned_plans()
    del plans[1]["effective_from"]
    assert "plans.yaml: plan \"starter\": code: 'starter' is defined twice" in refusal(
        tmp_path, plans=plans)
    plans = versioned_plans() + versioned_plans()[1:]
    assert ("plans.yaml: plan \"starter\": effective_from: 'starter' is defined twice with the "
            "same effective_from (2026-11-01T00:00:00Z)") in refusal(tmp_path, plans=plans)


def test_a_bad_version_is_named_by_its_effective_from(tmp_path):
    plans = versioned_plans(api_price="-1")
    message = refusal(tmp_path, plans=plans)
    assert ('plans.yaml: plan "starter" (effective_from 2026-11-01T00:00:00Z): '
            'charges[0].properties.amount: must not be negative') in message
    plans = versioned_plans()
    plans[1]["amount_currency"] = "USD"
    plans[1]["charges"][0]["tax_codes"] = ["nope"]
    message = refusal(tmp_path, plans=plans)
    assert ('plans.yaml: plan "starter" (effective_from 2026-11-01T00:00:00Z): amount_currency: '
            'versions of a plan keep its currency') in message
    assert ('plans.yaml: plan "starter" (effective_from 2026-11-01T00:00:00Z): '
            'charges[0].tax_codes[0]: unknown tax') in message


# --- scale --------------------------------------------------------------------------------------


def test_hundreds_of_plans_and_thousands_of_subscriptions_load_quickly(tmp_path):
    template = base_catalog()["plans"][0]
    plans = []
    for n in range(500):
        plan = copy.deepcopy(template)
        plan["code"] = f"plan_{n:03d}"
        plans.append(plan)
        if n % 5 == 0:  # every fifth plan has a second version
            plans.append(dict(copy.deepcopy(plan), amount_cents=2000,
                              effective_from="2026-11-01T00:00:00Z"))
    customers = [{"external_id": f"cus_{n}", "currency": "EUR"} for n in range(1000)]
    subs = []
    for n in range(5000):
        sub = {"external_id": f"sub_{n}", "external_customer_id": f"cus_{n % 1000}",
               "plan_code": f"plan_{n % 500:03d}",
               "subscription_at": "2026-10-01T00:00:00Z" if n % 2 else "2026-11-02T00:00:00Z"}
        if n % 10 == 1:
            sub["plan_overrides"] = {"amount_cents": 900, "charges": [
                {"billable_metric_code": "api_calls", "properties": {"amount": "0.01"}}]}
        elif n % 10 == 3:
            sub["follow_plan_updates"] = True
        subs.append(sub)
    folder = write_catalog(tmp_path / "catalog", base_catalog(
        plans=plans, customers=customers, subscriptions=subs))

    started = time.perf_counter()
    catalog = validate_catalog(folder)
    validated = time.perf_counter()
    tables = catalog_tables(catalog)
    done = time.perf_counter()
    print(f"\n500 plans (+100 versions), 5000 subscriptions (500 overridden): validated in "
          f"{validated - started:.2f} s, tables in {done - validated:.2f} s; "
          f"{tables['plans'].num_rows} plan rows, {tables['charges'].num_rows} charge rows")
    assert tables["plans"].num_rows == 500 + 100 + 500
    assert tables["subscriptions"].num_rows == 5000
    assert done - started < 20


# --- one close, end to end ----------------------------------------------------------------------


def plan(code, amount, api_price, **fields):
    return {"code": code, "name": code.title(), "interval": "monthly", "amount_cents": amount,
            "amount_currency": "EUR", "pay_in_advance": False,
            "charges": [{"billable_metric_code": "api_calls", "charge_model": "standard",
                         "properties": {"amount": api_price}}], **fields}


E2E_PLANS = [
    plan("starter", 1000, "0.05"),
    # pro: 50.00 and 0.10 per call until November, 60.00 and 0.12 from November 1
    plan("pro", 5000, "0.10"),
    plan("pro", 6000, "0.12", effective_from="2026-11-01T00:00:00Z"),
    # basic gets cheaper on November 1
    plan("basic", 3000, "0.10"),
    plan("basic", 2000, "0.10", effective_from="2026-11-01T00:00:00Z"),
    # team gets dearer in the middle of November
    plan("team", 3000, "0"),
    plan("team", 6000, "0", effective_from="2026-11-16T00:00:00Z"),
]

E2E_SUBSCRIPTIONS = {
    "list": ("starter", "2026-10-01T00:00:00Z", {}),
    "negotiated": ("starter", "2026-10-01T00:00:00Z", {"plan_overrides": {
        "amount_cents": 800, "charges": [{"billable_metric_code": "api_calls",
                                          "properties": {"amount": "0.04"}}]}}),
    "grandfathered": ("pro", "2026-10-01T00:00:00Z", {}),
    "newcomer": ("pro", "2026-11-01T00:00:00Z", {}),
    "follower": ("pro", "2026-10-01T00:00:00Z", {"follow_plan_updates": True}),
    "cheaper": ("basic", "2026-10-01T00:00:00Z", {"follow_plan_updates": True}),
    "midmonth": ("team", "2026-10-01T00:00:00Z", {"follow_plan_updates": True}),
}


@pytest.fixture(scope="module")
def closed(tmp_path_factory):
    root = tmp_path_factory.mktemp("plan_overrides")
    customers = [{"external_id": sub, "name": sub, "currency": "EUR"} for sub in E2E_SUBSCRIPTIONS]
    subs = [{"external_id": sub, "external_customer_id": sub, "plan_code": code,
             "subscription_at": at, "billing_time": "calendar", **extra}
            for sub, (code, at, extra) in E2E_SUBSCRIPTIONS.items()]
    write_catalog(root / "catalog", base_catalog(plans=E2E_PLANS, customers=customers,
                                                 subscriptions=subs))
    events = []
    for sub in E2E_SUBSCRIPTIONS:  # 100 calls in October, 200 in November
        for n in range(300):
            day = "2026-10-10" if n < 100 else "2026-11-10"
            events.append({"transaction_id": f"{sub}-{n}", "external_subscription_id": sub,
                           "code": "api_calls", "timestamp": f"{day}T12:00:00Z",
                           "properties": {}})
    write_events(root / "events" / "events.parquet", events)
    result = run_close(root, "2026-12-01T00:00:00Z")
    assert result.success
    return result


def invoiced(closed, sub: str) -> list[tuple]:
    """(billing day, fee type, plan code, amount) of a subscription's non-zero fees."""
    return closed.query(
        "select cast(i.billing_at as date)::varchar, f.fee_type, f.plan_code, f.amount_cents "
        "from fees f join invoices i using (invoice_id) "
        "where f.external_subscription_id = ? and f.amount_cents <> 0 "
        "order by i.billing_at, f.fee_type desc, f.plan_code", [sub])


def totals(closed, sub: str) -> list[tuple]:
    return closed.query(
        "select cast(billing_at as date)::varchar, fees_amount_cents, total_amount_cents "
        "from invoices where external_customer_id = ? order by billing_at", [sub])


def test_overridden_prices_are_billed(closed):
    # the plan: 10.00 + 100 calls x 0.05; the overrides: 8.00 + 100 calls x 0.04
    assert invoiced(closed, "list")[:2] == [("2026-11-01", "subscription", "starter", 1000),
                                            ("2026-11-01", "charge", "starter", 500)]
    assert invoiced(closed, "negotiated") == [
        ("2026-11-01", "subscription", "starter@negotiated", 800),
        ("2026-11-01", "charge", "starter@negotiated", 400),
        ("2026-12-01", "subscription", "starter@negotiated", 800),
        ("2026-12-01", "charge", "starter@negotiated", 800),
    ]
    assert totals(closed, "negotiated") == [("2026-11-01", 1200, 1200), ("2026-12-01", 1600, 1600)]


def test_invoices_show_the_plans_name(closed):
    # derived codes stay internal: the lines are named after the plan
    assert closed.query(
        "select distinct external_subscription_id, display_name from fees "
        "where fee_type = 'subscription' and external_subscription_id in "
        "('negotiated', 'newcomer', 'follower') order by 1, 2") == [
        ("follower", "Pro"), ("negotiated", "Starter"), ("newcomer", "Pro")]


def test_a_grandfathered_subscriber_keeps_the_old_prices(closed):
    # November: 50.00 + 200 x 0.10, while a new subscriber pays 60.00 + 200 x 0.12
    assert invoiced(closed, "grandfathered") == [
        ("2026-11-01", "subscription", "pro", 5000), ("2026-11-01", "charge", "pro", 1000),
        ("2026-12-01", "subscription", "pro", 5000), ("2026-12-01", "charge", "pro", 2000)]
    assert invoiced(closed, "newcomer") == [
        ("2026-12-01", "subscription", "pro@v2026-11-01", 6000),
        ("2026-12-01", "charge", "pro@v2026-11-01", 2400)]


def test_a_follower_moves_to_a_dearer_version_on_its_date(closed):
    assert invoiced(closed, "follower") == [
        ("2026-11-01", "subscription", "pro", 5000), ("2026-11-01", "charge", "pro", 1000),
        ("2026-12-01", "subscription", "pro@v2026-11-01", 6000),
        ("2026-12-01", "charge", "pro@v2026-11-01", 2400)]


def test_a_version_taking_effect_mid_period_prorates_both(closed):
    # November 1-15 on the first version (15/30 x 30.00), November 16-30 on the second
    # (15/30 x 60.00), as an upgrade is billed
    assert invoiced(closed, "midmonth") == [
        ("2026-11-01", "subscription", "team", 3000),
        ("2026-11-16", "subscription", "team", 1500),
        ("2026-12-01", "subscription", "team@v2026-11-16", 3000)]


def test_a_follower_moves_to_a_cheaper_version_on_its_date(closed):
    assert invoiced(closed, "cheaper") == [
        ("2026-11-01", "subscription", "basic", 3000), ("2026-11-01", "charge", "basic", 1000),
        ("2026-12-01", "subscription", "basic@v2026-11-01", 2000),
        ("2026-12-01", "charge", "basic@v2026-11-01", 2000)]
