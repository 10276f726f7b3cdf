"""Approvals: finance's word that draft invoices may be finalized before their grace period
ends. `billing approve --period …` (or the `approve_period` setting of a run) appends one row
to `ledger.approvals`; the next close finalizes the drafts it covers (int_invoice_keys)."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import duckdb

APPROVALS_DDL = """
create schema if not exists ledger;
create table if not exists ledger.approvals (
    approval_id varchar primary key,
    approved_at timestamptz not null,
    first_day date not null,
    last_day date not null,
    external_customer_id varchar,
    note varchar
);
"""


class ApprovalError(ValueError):
    pass


@dataclass(frozen=True)
class Approval:
    first_day: dt.date
    last_day: dt.date
    external_customer_id: str | None = None


def parse_period(text: str, customer: str | None = None) -> Approval:
    """`2026-11-01` (the drafts billed that day), `2026-11` (billed that month) or
    `2026-11-01..2026-11-03` (billed on those days), in each customer's time zone."""
    value = text.strip()
    try:
        if ".." in value:
            first, last = (dt.date.fromisoformat(part) for part in value.split("..", 1))
        elif len(value) == 7:
            first = dt.date.fromisoformat(value + "-01")
            last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - \
                dt.timedelta(days=1)
        else:
            first = last = dt.date.fromisoformat(value)
    except ValueError:
        raise ApprovalError(f"period {text!r}: expected YYYY-MM-DD, YYYY-MM or "
                            f"YYYY-MM-DD..YYYY-MM-DD") from None
    if last < first:
        raise ApprovalError(f"period {text!r}: ends before it starts")
    return Approval(first, last, customer or None)


def record_approval(con: duckdb.DuckDBPyConnection, approval: Approval,
                    approved_at: dt.datetime, note: str = "") -> str:
    """Append the approval (once: the same approval at the same instant is one row)."""
    con.execute(APPROVALS_DDL)
    key = "|".join([approval.first_day.isoformat(), approval.last_day.isoformat(),
                    approval.external_customer_id or "", approved_at.isoformat()])
    approval_id = hashlib.sha256(key.encode()).hexdigest()[:16]
    con.execute("insert into ledger.approvals values (?, ?, ?, ?, ?, ?) on conflict do nothing",
                [approval_id, approved_at, approval.first_day, approval.last_day,
                 approval.external_customer_id, note])
    return approval_id
