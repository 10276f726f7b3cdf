"""The finance review report: one HTML page per close, written next to the warehouse
(`<warehouse folder>/review/`), of the invoices the close put up for finalization.

It reads the output tables and the dbt run results only; it computes no amount of its own. What
it shows: totals per currency, plan and customer; each customer's change against its previous
invoice, largest movers first; customers with no usage; quarantined events by reason; the
checks of the run (dbt tests, pandera contracts) with every failing rule named; and two charts,
events per metric per day and revenue by plan, drawn as inline SVG (the page loads nothing).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from invoice_rendering import formatting
from invoice_rendering.render import environment

TEMPLATE = "review/review_v1.html.j2"


@dataclass
class Check:
    name: str
    kind: str           # 'dbt test' | 'pandera'
    status: str         # 'pass' | 'fail' | 'error' | 'warn'
    detail: str = ""


@dataclass
class Review:
    as_of: dt.datetime
    run_id: str
    catalog_version: str
    invoices: list[dict]
    currencies: list[dict]
    plans: list[dict]
    customers: list[dict]
    movers: list[dict]
    zero_usage: list[dict]
    quarantine: list[dict]
    checks: list[Check]
    gates: list[dict] = field(default_factory=list)
    late_usage: list[dict] = field(default_factory=list)
    rerates: list[dict] = field(default_factory=list)
    usage_chart: str = ""
    revenue_chart: str = ""
    money_formats: dict = field(default_factory=dict)

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if c.status in ("fail", "error")]

    @property
    def failed_gates(self) -> list[dict]:
        return [g for g in self.gates if g["failures"]]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def dbt_checks(run_results: Path) -> list[Check]:
    """The data tests of the last dbt build, from its run_results.json."""
    if not run_results.exists():
        return [Check("dbt build", "dbt test", "error", f"{run_results} not found")]
    results = json.loads(run_results.read_text())["results"]
    checks = []
    for result in results:
        unique_id = result["unique_id"]
        if not unique_id.startswith("test."):
            continue
        name = unique_id.split(".")[2]
        failures = result.get("failures")
        detail = (result.get("message") or "") if result["status"] != "pass" else ""
        if failures and result["status"] != "pass":
            detail = f"{failures} failing row(s)" + (f": {detail}" if detail else "")
        checks.append(Check(name, "dbt test", result["status"], detail))
    return sorted(checks, key=lambda c: (c.status == "pass", c.name))


def collect(con: duckdb.DuckDBPyConnection, *, run_id: str, as_of: dt.datetime,
            checks: list[Check]) -> Review:
    """The figures of the invoices this close computed for finalization (int_invoices_credited
    and int_fees: the same rows the ledger freezes when every gate passes)."""
    params: dict = {}

    def rows(sql: str) -> list[dict]:
        sql = (sql.replace("$invoices", "intermediate.int_invoices_credited")
                  .replace("$fees", "intermediate.int_fees"))
        cursor = con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    catalog_version = con.execute(
        "select catalog_version from catalog.organization").fetchone()[0]
    currencies = rows("""
        select currency, count(*) as invoices, sum(fees_amount_cents) as fees,
            sum(coupons_amount_cents) as coupons, sum(taxes_amount_cents) as taxes,
            sum(credit_notes_amount_cents) as credit_notes,
            sum(prepaid_credit_amount_cents) as prepaid_credits,
            sum(total_amount_cents) as total
        from $invoices
        group by currency order by currency""")
    plans = rows("""
        select fees.currency, coalesce(fees.plan_code, '(none)') as plan_code,
            count(distinct fees.external_subscription_id) as subscriptions,
            sum(fees.amount_cents) filter (where fees.fee_type = 'subscription')
                as subscription_fees,
            sum(fees.amount_cents) filter (where fees.fee_type <> 'subscription') as other_fees,
            sum(fees.amount_cents) as fees
        from $fees as fees
        group by all order by fees.currency, fees desc, plan_code""")
    # per customer: what the close invoiced, and its latest billing against the one before it
    # (invoices billed at the same instant count together: a customer's invoice of a day)
    customers = rows("""
        with billings as (
            select external_customer_id, currency, billing_at,
                sum(total_amount_cents) as total, bool_or(in_scope) as in_scope
            from (
                select external_customer_id, currency, billing_at, invoice_type,
                    total_amount_cents, true as in_scope
                from $invoices
                union all
                select external_customer_id, currency, billing_at, invoice_type,
                    total_amount_cents, false
                from main.invoices
                where invoice_id not in (select invoice_id from $invoices)
            )
            where invoice_type = 'subscription'
            group by all
        ),
        ranked as (
            select *,
                lag(total) over (partition by external_customer_id, currency
                                 order by billing_at) as previous_total
            from billings
        ),
        latest as (
            select external_customer_id, currency,
                arg_max(total, billing_at) as latest_total,
                arg_max(previous_total, billing_at) as previous_total
            from ranked where in_scope group by all
        ),
        current as (
            select external_customer_id, currency, count(*) as invoices,
                sum(fees_amount_cents) as fees, sum(total_amount_cents) as total
            from $invoices
            group by all
        ),
        usage as (
            select external_customer_id,
                coalesce(sum(units) filter (where fee_type = 'charge'), 0) as units
            from $fees group by all
        )
        select current.*, customers.name as name, latest.latest_total, latest.previous_total,
            latest.latest_total - latest.previous_total as change,
            coalesce(usage.units, 0) as units
        from current
        inner join (select external_customer_id, name from catalog.customers) as customers
            using (external_customer_id)
        left join latest using (external_customer_id, currency)
        left join usage using (external_customer_id)
        order by current.currency, current.total desc, current.external_customer_id""")
    movers = sorted((c for c in customers if c["change"]),
                    key=lambda c: (-abs(c["change"]), c["external_customer_id"]))[:10]
    zero_usage = [c for c in customers if c["units"] == 0]
    quarantine = _rows(con, """
        select reason, count(*) as events, count(distinct landed_file) as files,
            min(transaction_id) as example
        from main.quarantined_events group by reason order by events desc, reason""")
    usage = rows("""
        with window_ as (
            select min(from_datetime) as from_at, max(to_datetime) as to_at
            from $invoices
        ),
        -- counted per UTC day number (floor of the epoch in days), made a date after: a
        -- date per event is a calendar conversion per event, 0.6 s of a 10M-event close
        per_day as (
            select billable_metric_code as metric,
                epoch_us(event_at) // 86400000000
                    - cast(epoch_us(event_at) % 86400000000 < 0 as bigint) as day_number,
                count(*) as events
            from intermediate.int_events_billable, window_
            where event_at >= window_.from_at and event_at <= window_.to_at
            group by all
        )
        select metric, cast(make_timestamptz(day_number * 86400000000) as date) as day, events
        from per_day order by metric, day""")
    formats = {r["currency"]: (r["subunit_to_unit"], r["exponent"]) for r in _rows(
        con, "select currency, subunit_to_unit, exponent from reference.currencies")}
    review = Review(as_of=as_of, run_id=run_id, catalog_version=catalog_version,
                    invoices=[], currencies=currencies, plans=plans, customers=customers,
                    movers=movers, zero_usage=zero_usage, quarantine=quarantine, checks=checks,
                    money_formats=formats)
    review.late_usage = _rows(con, """
        select late.external_customer_id, customers.name, late.billable_metric_code,
            late.invoice_number, count(*) as events, min(late.event_at) as first_event_at,
            max(late.event_at) as last_event_at, min(late.landed_file) as landed_file
        from main.late_events as late
        left join catalog.customers as customers using (external_customer_id)
        group by all order by events desc, late.invoice_number, late.billable_metric_code""")
    # re-ratings awaiting approval or approved: each fee that differs
    review.rerates = _rows(con, """
        select d.rerate_id, d.status, d.first_day, d.last_day, d.external_customer_id,
            customers.name, d.invoice_number, coalesce(d.display_name, d.billable_metric_code,
            d.fee_type) as fee, d.currency, d.frozen_amount_cents, d.recomputed_amount_cents,
            d.difference_cents, d.action
        from main.rerate_differences as d
        left join catalog.customers as customers using (external_customer_id)
        where d.status <> 'settled' and d.difference_cents <> 0
        order by d.rerate_id, d.external_customer_id, d.invoice_number, fee""")
    review.gates = _rows(con, "select rule, failures, example from intermediate.int_close_gates "
                              "order by rule")
    review.usage_chart = usage_chart(usage)
    review.revenue_chart = revenue_chart(plans, lambda cents, cur: money(review, cents, cur))
    return review


def money(review: Review, cents: int | None, currency: str) -> str:
    if cents is None:
        return ""
    subunit, exponent = review.money_formats.get(currency, (100, 2))
    return formatting.money(int(cents), currency, subunit, exponent, "en")


# --- charts: inline SVG, nothing fetched ------------------------------------------------------

PALETTE = ["#2f6fdf", "#e07b24", "#2e9e5b", "#c0392b", "#8e44ad", "#16a085", "#7f8c8d"]


def _escape(text: str) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def usage_chart(usage: list[dict], width: int = 720, height: int = 240) -> str:
    """Events per metric per day: one polyline per metric."""
    if not usage:
        return ""
    days = sorted({r["day"] for r in usage})
    metrics = sorted({r["metric"] for r in usage})
    top = max(r["events"] for r in usage)
    left, bottom, right, top_pad = 48, 28, 160, 12
    plot_w, plot_h = width - left - right, height - bottom - top_pad
    step = plot_w / max(len(days) - 1, 1)
    x = {day: left + i * step for i, day in enumerate(days)}

    def y(value: int) -> float:
        return top_pad + plot_h - plot_h * value / top

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="events per metric per day">',
             f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" '
             f'y2="{top_pad + plot_h}" stroke="#999"/>',
             f'<text x="{left - 6}" y="{top_pad + 4}" text-anchor="end" font-size="10">{top}</text>',
             f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" font-size="10">0</text>',
             f'<text x="{left}" y="{height - 8}" font-size="10">{days[0]}</text>',
             f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end" '
             f'font-size="10">{days[-1]}</text>']
    for i, metric in enumerate(metrics):
        color = PALETTE[i % len(PALETTE)]
        by_day = {r["day"]: r["events"] for r in usage if r["metric"] == metric}
        points = " ".join(f"{x[d]:.1f},{y(by_day.get(d, 0)):.1f}" for d in days)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" '
                     f'points="{points}"><title>{_escape(metric)}</title></polyline>')
        parts.append(f'<rect x="{width - right + 12}" y="{top_pad + i * 16}" width="10" '
                     f'height="10" fill="{color}"/><text x="{width - right + 26}" '
                     f'y="{top_pad + i * 16 + 9}" font-size="11">{_escape(metric)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def revenue_chart(plans: list[dict], fmt, width: int = 720) -> str:
    """Revenue by plan: one horizontal bar per plan and currency, scaled within its currency."""
    if not plans:
        return ""
    row_h, label_w = 20, 220
    height = row_h * len(plans) + 8
    tops = {}
    for r in plans:
        tops[r["currency"]] = max(tops.get(r["currency"], 0), int(r["fees"] or 0))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="revenue by plan">']
    for i, r in enumerate(plans):
        top = tops[r["currency"]] or 1
        bar = (width - label_w - 140) * max(int(r["fees"] or 0), 0) / top
        y = 4 + i * row_h
        color = PALETTE[sorted(tops).index(r["currency"]) % len(PALETTE)]
        parts.append(f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" font-size="11">'
                     f'{_escape(r["plan_code"])} ({_escape(r["currency"])})</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="{row_h - 6}" '
                     f'fill="{color}"/><text x="{label_w + bar + 6}" y="{y + 13}" '
                     f'font-size="11">{_escape(fmt(r["fees"], r["currency"]))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render(review: Review) -> str:
    return environment().get_template(TEMPLATE).render(
        review=review, money=lambda cents, currency: money(review, cents, currency))


def report_path(warehouse: Path, as_of: dt.datetime, run_id: str) -> Path:
    stamp = as_of.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    return warehouse.parent / "review" / f"{warehouse.stem}-{stamp}-{run_id[:8]}.html"


def write_report(review: Review, warehouse: Path) -> Path:
    """The close's own page, and `<warehouse>-latest.html` pointing finance at the newest."""
    path = report_path(warehouse, review.as_of, review.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = render(review)
    path.write_text(html, encoding="utf-8")
    (path.parent / f"{warehouse.stem}-latest.html").write_text(html, encoding="utf-8")
    return path
