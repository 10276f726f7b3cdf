"""The summary the `billing` command prints after a close, read from the warehouse."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb


def money_text(cents: int, subunit: int, exponent: int) -> str:
    """Minor units as a decimal amount at the currency's exponent: 2000, 100, 2 -> 20.00."""
    value = Decimal(cents) / Decimal(subunit)
    return f"{value:,.{exponent}f}"


def summary_text(con: duckdb.DuckDBPyConnection, as_of: str, documents: Path) -> str:
    lines = [f"Billing close as of {as_of}", ""]
    customers, subscriptions = con.execute(
        "select (select count(*) from catalog.customers), "
        "(select count(*) from catalog.subscriptions)").fetchone()
    invoices, finalized = con.execute(
        "select count(*), count(*) filter (where status = 'finalized') from main.invoices"
    ).fetchone()
    lines.append(f"  customers      {customers:>10}   subscriptions {subscriptions}")
    lines.append(f"  invoices       {invoices:>10}   finalized {finalized}")
    rows = con.execute("""
        select invoices.currency, count(*), sum(fees_amount_cents), sum(coupons_amount_cents),
            sum(taxes_amount_cents), sum(prepaid_credit_amount_cents),
            sum(total_amount_cents), any_value(subunit_to_unit),
            any_value(exponent)
        from main.invoices as invoices
        inner join reference.currencies using (currency)
        group by invoices.currency order by invoices.currency
    """).fetchall()
    if rows:
        lines += ["", "  totals per currency      invoices          fees       coupons"
                      "         taxes       prepaid         total"]
        for currency, count, fees, coupons, taxes, prepaid, total, subunit, exponent in rows:
            lines.append(f"    {currency:<20} {count:>10} {money_text(fees, subunit, exponent):>13} "
                         f"{money_text(coupons, subunit, exponent):>13} "
                         f"{money_text(taxes, subunit, exponent):>13} "
                         f"{money_text(prepaid, subunit, exponent):>13} "
                         f"{money_text(total, subunit, exponent):>13}")
    coupons = con.execute("""
        select coupon_code, count(distinct invoice_id), count(distinct external_customer_id)
        from main.invoice_coupons group by coupon_code order by coupon_code""").fetchall()
    if coupons:
        lines.append("    coupons applied: " + ", ".join(
            f"{code} on {invoices} invoice(s) of {customers} customer(s)"
            for code, invoices, customers in coupons))
    lines += _one_off_and_commitment_lines(con)
    lines += _wallet_lines(con)
    lines += _calendar_lines(con)
    lines += _credit_note_lines(con)
    outcomes = con.execute(
        "select outcome, reason, events from main.event_reconciliation").fetchall()
    counts = {"read": 0, "billed": 0, "late": 0, "pending": 0, "duplicate": 0,
              "quarantined": 0}
    reasons = []
    for outcome, reason, events in outcomes:
        counts[outcome] = counts.get(outcome, 0) + events
        if outcome == "quarantined":
            reasons.append((reason, events))
    lines += ["", "  events read    {read:>10}".format(**counts),
              "    billed       {billed:>10}".format(**counts)]
    if counts["late"]:
        lines.append("    late         {late:>10}   (landed after their period was invoiced: "
                     "late_events)".format(**counts))
    lines += ["    pending      {pending:>10}   (in periods not closed yet)".format(**counts),
              "    duplicates   {duplicate:>10}".format(**counts),
              "    quarantined  {quarantined:>10}".format(**counts)]
    for reason, events in reasons:
        lines.append(f"      {reason:<28} {events:>6}")
    rendered = dict(con.execute(
        "select document_type, count(*) from documents.rendered group by all").fetchall()
    ) if con.execute(
        "select count(*) from information_schema.tables where table_schema = 'documents' "
        "and table_name = 'rendered'").fetchone()[0] else {}
    lines += ["", f"  invoice PDFs   {rendered.get('invoice', 0):>10}   in {documents / 'invoices'}"]
    if rendered.get("credit_note"):
        lines.append(f"  credit-note PDFs {rendered['credit_note']:>8}   in "
                     f"{documents / 'credit_notes'}")
    return "\n".join(lines)


def _names(rows, limit: int = 4) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f", … ({len(rows) - limit} more)" if len(rows) > limit else "")


def _calendar_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What the catalog asks of the billing calendar, so a reader sees which rules ran."""
    anniversary = [r[0] for r in con.execute(
        "select external_subscription_id from catalog.subscriptions "
        "where billing_time = 'anniversary' order by 1").fetchall()]
    # the time zone each subscription is billed in, as the calendar models resolved it
    zones = con.execute("""
        select timezone, count(distinct external_customer_id)
        from intermediate.int_subscription_phases
        where timezone not in ('UTC', 'Etc/UTC') group by timezone order by 2 desc, 1
    """).fetchall()
    monthly_charges = [r[0] for r in con.execute("""
        select distinct external_subscription_id from intermediate.int_subscription_phases
        where bill_charges_monthly and plan_interval <> 'monthly' order by 1""").fetchall()]
    changes = con.execute("""
        select external_subscription_id, plan_code, end_reason,
            strftime(phase_ended_at at time zone 'UTC', '%Y-%m-%d'), lead(plan_code) over (
                partition by external_subscription_id order by phase_index)
        from intermediate.int_subscription_phases order by 1, phase_index""").fetchall()
    plan_changes = [f"{sub} {old} → {new} ({reason} {day})"
                    for sub, old, reason, day, new in changes
                    if reason in ("upgrade", "downgrade") and new]
    terminations = [f"{sub} ({day})" for sub, _, reason, day, _ in changes
                    if reason == "terminated"]
    trials = [r[0] for r in con.execute(
        "select distinct external_subscription_id from intermediate.int_subscription_phases "
        "where trial_period_days > 0 order by 1").fetchall()]
    lines = ["", "  billing calendar"]
    lines.append(f"    anniversary billing  {len(anniversary):>5}   {_names(anniversary)}")
    lines.append(f"    non-UTC customers    {sum(n for _, n in zones):>5}   "
                 + _names([f"{zone} {n}" for zone, n in zones]))
    lines.append(f"    monthly charges on   {len(monthly_charges):>5}   "
                 f"{_names(monthly_charges)} (longer plan interval)")
    lines.append(f"    plan changes         {len(plan_changes):>5}   {_names(plan_changes)}")
    lines.append(f"    terminations         {len(terminations):>5}   {_names(terminations)}")
    if trials:
        lines.append(f"    trials               {len(trials):>5}   {_names(trials)}")
    return lines


def _one_off_and_commitment_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """One-off invoices (their add-ons) and minimum commitment true-ups, when there are any."""
    lines = []
    one_offs = con.execute("""
        select count(distinct invoice_id), string_agg(distinct add_on_code, ', '
                                                      order by add_on_code)
        from main.fees inner join main.invoices using (invoice_id)
        where invoice_type = 'one_off'""").fetchone()
    if one_offs[0]:
        lines.append(f"    one-off invoices: {one_offs[0]} (add-ons {one_offs[1]})")
    commitments = con.execute("""
        select count(*), count(distinct external_subscription_id),
            string_agg(distinct external_subscription_id, ', '
                       order by external_subscription_id)
        from main.fees where fee_type = 'commitment'""").fetchone()
    if commitments[0]:
        lines.append(f"    minimum commitment true-ups: {commitments[0]} fee(s) on "
                     f"{commitments[1]} subscription(s) ({commitments[2]})")
    return lines


def _credit_note_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Credit notes per currency: what was credited to balances and what invoices consumed of
    it, what was refunded; and the requests of credit_notes.yaml not issued yet."""
    rows = con.execute("""
        select notes.currency, count(*), count(*) filter (where origin = 'request'),
            sum(credit_amount_cents), sum(consumed_amount_cents), sum(balance_amount_cents),
            sum(refund_amount_cents), any_value(subunit_to_unit), any_value(exponent)
        from main.credit_notes as notes
        inner join reference.currencies using (currency)
        group by notes.currency order by notes.currency""").fetchall()
    if not rows:
        return ["", "  credit notes            0"]
    lines = ["", "  credit notes            count      credited      consumed       balance"
                 "      refunded"]
    for currency, count, requested, credit, consumed, balance, refund, subunit, exponent in rows:
        money = [money_text(v, subunit, exponent) for v in (credit, consumed, balance, refund)]
        lines.append(f"    {currency:<20} {count:>5} " + " ".join(f"{m:>13}" for m in money)
                     + f"   ({requested} requested)")
    waiting = con.execute("""
        select status, count(*) from main.credit_note_requests
        where status <> 'issued' group by status order by status""").fetchall()
    if waiting:
        lines.append("    requests not issued yet: " + ", ".join(
            f"{count} {status}" for status, count in waiting))
    return lines


def _wallet_lines(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Prepaid credits: per currency, the wallets, what they were credited, what invoices
    consumed and the balances left (all from the wallets mart, itself summed from
    wallet_transactions)."""
    rows = con.execute("""
        select wallets.currency, count(*),
            sum(purchased_amount_cents + granted_amount_cents), sum(consumed_amount_cents),
            sum(voided_amount_cents + expired_amount_cents), sum(balance_cents),
            any_value(subunit_to_unit), any_value(exponent)
        from main.wallets as wallets
        inner join reference.currencies using (currency)
        group by wallets.currency order by wallets.currency""").fetchall()
    if not rows:
        return []
    lines = ["", "  wallets      count      credited      consumed  voided/expired       balance"]
    for currency, count, credited, consumed, lost, balance, subunit, exponent in rows:
        lines.append(f"    {currency:<8} {count:>5} {money_text(credited, subunit, exponent):>13} "
                     f"{money_text(consumed, subunit, exponent):>13} "
                     f"{money_text(lost, subunit, exponent):>15} "
                     f"{money_text(balance, subunit, exponent):>13}")
    invoices, customers = con.execute(
        "select count(*), count(distinct external_customer_id) from main.invoices "
        "where prepaid_credit_amount_cents > 0").fetchone()
    lines.append(f"    prepaid credits paid {invoices} invoice(s) of {customers} customer(s)")
    return lines
