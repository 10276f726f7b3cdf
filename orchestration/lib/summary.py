"""The summary the `billing` command prints after a close, read from the warehouse."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb


def _money(cents: int, subunit: int, exponent: int) -> str:
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
        select invoices.currency, count(*), sum(fees_amount_cents), sum(taxes_amount_cents),
            sum(total_amount_cents), any_value(subunit_to_unit), any_value(exponent)
        from main.invoices as invoices
        inner join reference.currencies using (currency)
        group by invoices.currency order by invoices.currency
    """).fetchall()
    if rows:
        lines += ["", "  totals per currency      invoices          fees         taxes         total"]
        for currency, count, fees, taxes, total, subunit, exponent in rows:
            lines.append(f"    {currency:<20} {count:>10} {_money(fees, subunit, exponent):>13} "
                         f"{_money(taxes, subunit, exponent):>13} "
                         f"{_money(total, subunit, exponent):>13}")
    outcomes = con.execute(
        "select outcome, reason, events from main.event_reconciliation").fetchall()
    counts = {"read": 0, "billed": 0, "pending": 0, "duplicate": 0, "quarantined": 0}
    reasons = []
    for outcome, reason, events in outcomes:
        counts[outcome] = counts.get(outcome, 0) + events
        if outcome == "quarantined":
            reasons.append((reason, events))
    lines += ["", "  events read    {read:>10}".format(**counts),
              "    billed       {billed:>10}".format(**counts),
              "    pending      {pending:>10}   (in periods not closed yet)".format(**counts),
              "    duplicates   {duplicate:>10}".format(**counts),
              "    quarantined  {quarantined:>10}".format(**counts)]
    for reason, events in reasons:
        lines.append(f"      {reason:<28} {events:>6}")
    pdfs = con.execute("select count(*) from documents.rendered").fetchone()[0] if con.execute(
        "select count(*) from information_schema.tables where table_schema = 'documents' "
        "and table_name = 'rendered'").fetchone()[0] else 0
    lines += ["", f"  invoice PDFs   {pdfs:>10}   in {documents / 'invoices'}"]
    return "\n".join(lines)
