"""Property test of prepaid credits (hypothesis): over random fees, coupons, tax rates and
wallets (rates, paid and granted credits, priorities, limits, top-ups, voids, expirations),
one close each, checked on the `invoices`, `wallet_transactions` and `wallets` tables.

- no invoice total is negative, and total = fees - coupons + taxes - credit notes - prepaid
  credits to the unit;
- an invoice never takes more credits than its total before them, and its prepaid credits
  are the sum of the invoiced transactions that name it;
- every wallet's balance after each movement is the sum of its movements up to then, and
  never negative, so no wallet gives more than its balance; its final balance is the sum of
  all its movements;
- a wallet limited to nothing that still holds credits after an invoice it could pay left
  that invoice at 0.

Each example is a real close, so the examples are few but each holds a few dozen random
customers with two invoices each; derandomize keeps CI reproducible.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ORGANIZATION, run_close, write_catalog, write_events

pytestmark = [pytest.mark.xdist_group("wallet_properties"), pytest.mark.slow]

AS_OF = "2026-12-01T00:00:00Z"
TAX_RATES = ["0", "5.5", "10", "19.6", "20", "25"]
RATES = ["0.01", "0.333", "1", "1.5", "2.5", "10"]
METRICS = [{"code": "units", "name": "Units", "aggregation_type": "sum_agg",
            "field_name": "units"}]
instants = st.datetimes(min_value=dt.datetime(2026, 10, 1), max_value=dt.datetime(2026, 11, 30),
                        timezones=st.just(dt.timezone.utc))
credits = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("300"), places=2)


@st.composite
def wallet(draw, customer: str, index: int):
    created = draw(instants)
    w = {"code": f"w{index}", "external_customer_id": customer,
         "created_at": created.isoformat(), "currency": "EUR",
         "rate_amount": draw(st.sampled_from(RATES)),
         "paid_credits": str(draw(credits)), "granted_credits": str(draw(credits)),
         "priority": draw(st.integers(1, 50))}
    limit = draw(st.sampled_from([None, None, {"fee_types": ["subscription"]},
                                  {"billable_metric_codes": ["units"]},
                                  {"fee_types": ["charge"]}]))
    if limit:
        w["applies_to"] = limit
    end = None
    if draw(st.booleans()):
        end = created + dt.timedelta(days=draw(st.integers(1, 60)))
        w["expiration_at"] = end.isoformat()
    credited = Decimal(w["paid_credits"]) + Decimal(w["granted_credits"])
    transactions = []
    offsets = sorted(draw(st.lists(st.integers(0, 50 * 24), max_size=2)))
    for hours in offsets:
        at = created + dt.timedelta(hours=hours + 1)
        if end is not None and at >= end:
            continue
        if draw(st.booleans()):
            top_up = draw(credits)
            transactions.append({"at": at.isoformat(), "granted_credits": str(top_up)})
            credited += top_up
        else:
            void = (credited * Decimal(draw(st.integers(0, 100))) / 100).quantize(
                Decimal("0.01"), rounding="ROUND_FLOOR")
            if void > 0:
                transactions.append({"at": at.isoformat(), "voided_credits": str(void)})
                credited -= void
    w["transactions"] = transactions
    return w


@st.composite
def customer(draw, index: int):
    code = f"c{index}"
    plan = {"code": f"p{index}", "name": f"p{index}", "interval": "monthly",
            "amount_cents": draw(st.integers(0, 20000)), "amount_currency": "EUR",
            "charges": [{"billable_metric_code": "units", "charge_model": "standard",
                         "properties": {"amount": draw(st.sampled_from(
                             ["0.01", "0.37", "1", "2.5"]))}}]}
    coupon = draw(st.sampled_from([
        None, {"coupon_type": "fixed_amount", "amount_cents": draw(st.integers(1, 15000)),
               "amount_currency": "EUR", "frequency": draw(st.sampled_from(["once", "forever"]))},
        {"coupon_type": "percentage", "percentage_rate": draw(st.integers(1, 100)),
         "frequency": "forever"}]))
    wallets = [draw(wallet(code, i)) for i in range(draw(st.integers(0, 3)))]
    units = [draw(st.integers(0, 500)) for _ in range(2)]
    return code, plan, draw(st.sampled_from(TAX_RATES)), coupon, wallets, units


@st.composite
def scenarios(draw):
    drawn = [draw(customer(i)) for i in range(draw(st.integers(20, 30)))]
    catalog = {
        "organization": [ORGANIZATION],
        "taxes": [{"code": f"t{i}", "name": "Tax", "rate": rate}
                  for i, rate in enumerate(TAX_RATES)],
        "billable_metrics": METRICS,
        "plans": [plan for _, plan, _, _, _, _ in drawn],
        "customers": [{"external_id": code, "name": code, "currency": "EUR",
                       "tax_codes": [f"t{TAX_RATES.index(rate)}"]}
                      for code, _, rate, _, _, _ in drawn],
        "subscriptions": [{"external_id": f"s_{code}", "external_customer_id": code,
                           "plan_code": plan["code"], "subscription_at": "2026-10-01T00:00:00Z"}
                          for code, plan, _, _, _, _ in drawn],
        "coupons": [{"code": f"k_{code}", **coupon}
                    for code, _, _, coupon, _, _ in drawn if coupon],
        "applied_coupons": [{"external_customer_id": code, "coupon_code": f"k_{code}",
                             "created_at": "2026-10-01T00:00:00Z"}
                            for code, _, _, coupon, _, _ in drawn if coupon],
        "wallets": [w for _, _, _, _, wallets, _ in drawn for w in wallets],
    }
    events = [{"transaction_id": f"{code}-{month}", "external_subscription_id": f"s_{code}",
               "code": "units", "timestamp": f"2026-{month}-15T12:00:00Z",
               "properties": {"units": n}}
              for code, _, _, _, _, units in drawn for month, n in zip((10, 11), units) if n]
    return catalog, events


@settings(max_examples=2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(scenario=scenarios())
def test_prepaid_credits_never_overdraw_and_every_ledger_balances(scenario, tmp_path_factory):
    catalog, events = scenario
    root = tmp_path_factory.mktemp("wallet_properties")
    write_catalog(root / "catalog", catalog)
    write_events(root / "events" / "events.parquet", events)
    result = run_close(root, AS_OF, documents=False)
    assert result.success

    invoices = result.rows("select * from invoices")
    transactions = result.rows("select * from wallet_transactions order by wallet_id, sequence")
    wallets = {w["wallet_id"]: w for w in result.rows("select * from wallets")}
    assert invoices and len(wallets) == len(catalog["wallets"])

    paid: dict[str, int] = {}
    for t in transactions:
        if t["transaction_status"] == "invoiced":
            paid[t["invoice_id"]] = paid.get(t["invoice_id"], 0) + t["amount_cents"]
    for i in invoices:
        before = i["sub_total_including_taxes_amount_cents"] - i["credit_notes_amount_cents"]
        assert 0 <= i["prepaid_credit_amount_cents"] <= max(before, 0)
        assert i["prepaid_credit_amount_cents"] == paid.get(i["invoice_id"], 0)
        assert i["total_amount_cents"] >= 0
        assert i["total_amount_cents"] == (
            i["fees_amount_cents"] - i["coupons_amount_cents"] + i["taxes_amount_cents"]
            - i["credit_notes_amount_cents"] - i["prepaid_credit_amount_cents"])

    running: dict[str, int] = {}
    for t in transactions:
        sign = 1 if t["transaction_type"] == "inbound" else -1
        running[t["wallet_id"]] = running.get(t["wallet_id"], 0) + sign * t["amount_cents"]
        assert t["amount_cents"] > 0
        assert t["balance_after_cents"] == running[t["wallet_id"]] >= 0
    for wallet_id, w in wallets.items():
        assert w["balance_cents"] == running.get(wallet_id, 0) >= 0
        inbound = w["purchased_amount_cents"] + w["granted_amount_cents"]
        assert w["consumed_amount_cents"] + w["voided_amount_cents"] \
            + w["expired_amount_cents"] + w["balance_cents"] == inbound

    # greedy: an unlimited wallet left holding credits after an invoice it could pay means
    # the invoice was paid in full
    unlimited = {f'{w["external_customer_id"]}/{w["code"]}' for w in catalog["wallets"]
                 if "applies_to" not in w}
    for i in invoices:
        for wallet_id in unlimited:
            w = wallets[wallet_id]
            if (w["external_customer_id"] != i["external_customer_id"]
                    or w["created_at"] > i["billing_at"]
                    or (w["expiration_at"] is not None and w["expiration_at"] <= i["billing_at"])):
                continue
            moves = [t for t in transactions
                     if t["wallet_id"] == wallet_id and t["settled_at"] <= i["billing_at"]]
            if moves and moves[-1]["balance_after_cents"] > 0:
                assert i["total_amount_cents"] == 0, (i, wallet_id)
