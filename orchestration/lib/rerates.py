"""Re-rating requests and their approvals: finance's two steps to correct closed periods.

`billing rerate --from D1 --to D2` appends a request to `ledger.rerates`; every close then
recomputes the finalized period parts it covers against the current catalog and events and
writes what differs from the frozen invoices to `rerate_differences`.
`billing approve --rerate RR-001` appends to `ledger.rerate_approvals`; the next close issues
the credit notes and supplementary invoices and records them in `ledger.rerate_adjustments`
(dbt_models/models/marts/ledger/rerate_adjustments.sql). Both tables are appended, never
changed: a request or an approval given twice is recorded once.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import duckdb

from orchestration.lib.summary import money_text

RERATES_DDL = """
create schema if not exists ledger;
create table if not exists ledger.rerates (
    rerate_id varchar primary key,
    requested_at timestamptz not null,
    first_day date not null,
    last_day date not null,
    external_customer_id varchar,
    note varchar
);
create table if not exists ledger.rerate_approvals (
    rerate_id varchar primary key,
    approved_at timestamptz not null,
    note varchar
);
"""


class RerateError(ValueError):
    pass


@dataclass(frozen=True)
class RerateRequest:
    first_day: dt.date
    last_day: dt.date
    external_customer_id: str | None = None


def parse_range(first: str, last: str, customer: str | None = None) -> RerateRequest:
    try:
        first_day, last_day = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    except ValueError:
        raise RerateError(f"--from {first!r} --to {last!r}: expected YYYY-MM-DD days") from None
    if last_day < first_day:
        raise RerateError(f"--to {last} is before --from {first}")
    return RerateRequest(first_day, last_day, customer or None)


def request_rerate(con: duckdb.DuckDBPyConnection, request: RerateRequest,
                   requested_at: dt.datetime, note: str = "") -> tuple[str, bool]:
    """Record a re-rating of the period parts ending from first_day to last_day. A request for
    the same days and customer that is not approved yet is the same request: its id is
    returned and nothing is appended. Ids are RR-001, RR-002, … in the order requested."""
    con.execute(RERATES_DDL)
    open_request = con.execute(
        """
        select rerate_id from ledger.rerates
        anti join ledger.rerate_approvals using (rerate_id)
        where first_day = ? and last_day = ?
            and coalesce(external_customer_id, '') = coalesce(?, '')
        order by requested_at limit 1
        """, [request.first_day, request.last_day, request.external_customer_id]).fetchone()
    if open_request:
        return open_request[0], False
    count = con.execute("select count(*) from ledger.rerates").fetchone()[0]
    rerate_id = f"RR-{count + 1:03d}"
    con.execute("insert into ledger.rerates values (?, ?, ?, ?, ?, ?)",
                [rerate_id, requested_at, request.first_day, request.last_day,
                 request.external_customer_id, note])
    return rerate_id, True


def approve_rerate(con: duckdb.DuckDBPyConnection, rerate_id: str, approved_at: dt.datetime,
                   note: str = "") -> bool:
    """Approve a re-rating: the next close issues its credit notes and supplementary invoices.
    Approving it again changes nothing (False): they are issued once."""
    con.execute(RERATES_DDL)
    known = con.execute("select requested_at from ledger.rerates where rerate_id = ?",
                        [rerate_id]).fetchone()
    if known is None:
        ids = [row[0] for row in con.execute(
            "select rerate_id from ledger.rerates order by rerate_id").fetchall()]
        raise RerateError(f"no re-rating {rerate_id!r} was requested"
                          + (f" (requested: {', '.join(ids)})" if ids else
                             " (none requested yet: billing rerate --from … --to …)"))
    if known[0] > approved_at:
        raise RerateError(f"{rerate_id} was requested at {known[0]:%Y-%m-%dT%H:%M:%SZ}, after "
                          f"the approval's instant")
    inserted = con.execute(
        "insert into ledger.rerate_approvals values (?, ?, ?) on conflict do nothing "
        "returning rerate_id", [rerate_id, approved_at, note]).fetchall()
    return bool(inserted)


def differences_text(con: duckdb.DuckDBPyConnection, rerate_id: str | None = None) -> str:
    """The re-ratings' differences as finance reads them (rerate_differences): one block per
    re-rating, a line per fee that differs, and what approving it issues (or issued)."""
    where = "where d.rerate_id = ?" if rerate_id else ""
    rows = con.execute(f"""
        select d.rerate_id, d.status, d.first_day, d.last_day, d.external_customer_id,
            d.invoice_number, d.display_name, d.billable_metric_code, d.fee_type,
            d.frozen_amount_cents, d.recomputed_amount_cents, d.difference_cents, d.action,
            d.document_number, d.currency, c.subunit_to_unit, c.exponent
        from main.rerate_differences as d
        inner join reference.currencies as c on c.currency = d.currency
        {where}
        order by d.rerate_id, d.external_customer_id, d.invoice_number, d.fee_type desc,
            d.billable_metric_code, d.fee_key
        """, [rerate_id] if rerate_id else []).fetchall()
    if not rows:
        return ("  re-ratings      none" if rerate_id is None else
                f"  re-rating {rerate_id}: nothing to compare (no finalized period ends in its "
                f"days)")
    compared = Counter(row[0] for row in rows)
    differing = Counter(row[0] for row in rows if row[11] != 0)
    lines, current = [], None
    for (rid, status, first, last, customer, number, name, metric, fee_type, frozen,
         recomputed, difference, action, document, currency, subunit, exponent) in rows:
        if rid != current:
            current = rid
            what = {"awaiting_approval": f"awaiting approval: billing approve --rerate {rid}",
                    "approved": "approved: issued by the next close that passes the review",
                    "settled": "settled"}[status]
            lines.append(f"  re-rating {rid} (periods ending {first} to {last}): "
                         f"{compared[rid]} fees compared, {differing[rid]} differ; {what}")
        if difference == 0:
            continue
        label = name or metric or fee_type
        issued = {"credit_note": "credit note", "supplementary_invoice": "supplementary invoice",
                  "none": "nothing"}[action] + (f" {document}" if document else "")
        def amount(cents: int, sign: str = "") -> str:
            return f"{sign}{money_text(cents, subunit, exponent)} {currency}"

        lines.append(f"    {customer:<14} {number or '':<16} {label:<24} "
                     f"{amount(frozen):>16} -> {amount(recomputed):>16}  "
                     f"{amount(difference, '+' if difference > 0 else ''):>17}  {issued}")
    return "\n".join(lines)
