"""Write a validated catalog into the warehouse as typed, flat tables (schema `catalog`).

One table per kind of object; nested lists (charges, filters, tiers, tax codes) become child
tables keyed by the parent's id, so the dbt staging models only rename and cast. Amounts are
DECIMAL(38, 12) in currency units (cents columns are BIGINT), instants are TIMESTAMPTZ (UTC).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

import duckdb
import pyarrow as pa

from .expressions import translate_expression
from .schema import ChargeProperties, PlanVersionChange
from .validate import Catalog

# The tables this module writes (schema `catalog`); the dbt sources declare the same list.
CATALOG_TABLES = (
    "organization", "taxes", "billable_metrics", "billable_metric_filters", "plans",
    "plan_usage_thresholds", "charges", "charge_pricings", "charge_filter_values", "charge_tiers",
    "customers", "subscriptions", "plan_changes", "applied_taxes", "coupons", "coupon_targets",
    "applied_coupons", "add_ons", "one_off_invoices", "one_off_fees", "wallets",
    "wallet_targets", "wallet_movements", "credit_note_requests", "credit_note_request_items",
)

DEC = pa.decimal128(38, 12)
TS = pa.timestamp("us", tz="UTC")
STR, INT, BOOL = pa.string(), pa.int64(), pa.bool_()
STRS = pa.list_(pa.string())


def _dec(value: Decimal | int | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("1e-12"))


def _prefix(name: str) -> str:
    letters = "".join(ch for ch in name.upper() if ch.isalnum())
    return (letters[:3] or "INV").ljust(3, "X")


def charge_ids(plan_code: str, charges: Iterable) -> list[str]:
    """Stable charge ids: `plan/metric`, with `#n` when a plan prices one metric twice."""
    ids, seen = [], {}
    for charge in charges:
        base = f"{plan_code}/{charge.code or charge.billable_metric_code}"
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return ids


def catalog_tables(catalog: Catalog) -> dict[str, pa.Table]:
    org = catalog.organization
    tables: dict[str, tuple[list[tuple[str, pa.DataType]], list[tuple]]] = {}

    def add(name: str, columns: list[tuple[str, pa.DataType]], rows: list[tuple]) -> None:
        tables[name] = (columns, rows)

    add("organization", [
        ("name", STR), ("legal_name", STR), ("legal_number", STR),
        ("tax_identification_number", STR), ("email", STR), ("address_line1", STR),
        ("address_line2", STR), ("city", STR), ("zipcode", STR), ("state", STR),
        ("country", STR), ("timezone", STR), ("default_currency", STR),
        ("invoice_grace_period", INT), ("document_numbering", STR),
        ("document_number_prefix", STR), ("net_payment_term", INT), ("document_locale", STR),
        ("finalize_zero_amount_invoice", BOOL), ("premium", BOOL), ("catalog_version", STR),
    ], [(
        org.name, org.legal_name, org.legal_number, org.tax_identification_number, org.email,
        org.address_line1, org.address_line2, org.city, org.zipcode, org.state, org.country,
        org.timezone or "UTC", org.default_currency, org.invoice_grace_period,
        org.document_numbering, org.document_number_prefix or _prefix(org.name),
        org.net_payment_term, org.document_locale, org.finalize_zero_amount_invoice,
        org.premium, catalog.version,
    )])

    add("taxes", [("tax_code", STR), ("name", STR), ("rate", DEC)],
        [(t.code, t.name or t.code, _dec(t.rate)) for t in catalog.taxes])

    applied_taxes: list[tuple] = [("organization", "", code) for code in org.tax_codes]

    add("billable_metrics", [
        ("billable_metric_code", STR), ("name", STR), ("aggregation_type", STR),
        ("field_name", STR), ("recurring", BOOL), ("weighted_interval", STR),
        ("rounding_function", STR), ("rounding_precision", INT), ("expression", STR),
        ("expression_sql", STR), ("custom_aggregator", STR),
    ], [(
        m.code, m.name or m.code, m.aggregation_type, m.field_name, m.recurring,
        m.weighted_interval or ("seconds" if m.aggregation_type == "weighted_sum_agg" else None),
        m.rounding_function, m.rounding_precision, m.expression,
        translate_expression(m.expression) if m.expression else None, m.custom_aggregator,
    ) for m in catalog.billable_metrics])
    add("billable_metric_filters", [
        ("billable_metric_code", STR), ("filter_key", STR), ("filter_value", STR)],
        [(m.code, f.key, v) for m in catalog.billable_metrics for f in m.filters for v in f.values])

    plans, thresholds, charges, pricings, filter_values, tiers = [], [], [], [], [], []
    for plan in catalog.plans:
        commitment = plan.minimum_commitment
        # A version or an overridden plan is named as its plan: derived codes stay internal.
        parent = catalog.plan_parents.get(plan.code)
        name = plan.name or parent or plan.code
        plans.append((
            plan.code, name, plan.invoice_display_name or name,
            plan.interval, plan.amount_cents, plan.amount_currency, plan.pay_in_advance,
            _dec(plan.trial_period), plan.bill_charges_monthly,
            commitment.amount_cents if commitment else None,
            (commitment.invoice_display_name if commitment else None), parent,
        ))
        applied_taxes += [("plan", plan.code, code) for code in plan.tax_codes or []]
        if commitment:
            applied_taxes += [("minimum_commitment", plan.code, code)
                              for code in commitment.tax_codes or []]
        for i, threshold in enumerate(plan.usage_thresholds):
            thresholds.append((plan.code, i, threshold.amount_cents, threshold.recurring,
                               threshold.threshold_display_name))
        for position, (charge_id, charge) in enumerate(
                zip(charge_ids(plan.code, plan.charges), plan.charges)):
            charges.append((
                charge_id, plan.code, position, charge.billable_metric_code, charge.charge_model,
                charge.pay_in_advance, charge.invoiceable, charge.prorated,
                charge.min_amount_cents or 0, charge.invoice_display_name,
            ))
            applied_taxes += [("charge", charge_id, code) for code in charge.tax_codes or []]
            buckets = [(0, charge.properties, None, {})] + [
                (j + 1, f.properties, f.invoice_display_name, f.values)
                for j, f in enumerate(charge.filters)]
            for filter_position, props, display, values in buckets:
                pricing_id = charge_id if filter_position == 0 else f"{charge_id}/f{filter_position}"
                pricings.append(_pricing_row(pricing_id, charge_id, filter_position, display,
                                             props))
                for key, vals in values.items():
                    filter_values += [(pricing_id, key, v) for v in vals]
                tiers += _tier_rows(pricing_id, props)

    add("plans", [
        ("plan_code", STR), ("name", STR), ("invoice_display_name", STR), ("interval", STR),
        ("amount_cents", INT), ("currency", STR), ("pay_in_advance", BOOL),
        ("trial_period_days", DEC), ("bill_charges_monthly", BOOL),
        ("minimum_commitment_amount_cents", INT), ("minimum_commitment_display_name", STR),
        # the code as written in plans.yaml, for a row derived from it (a later version, or a
        # subscription's plan_overrides); null for the plan as written
        ("parent_plan_code", STR),
    ], plans)
    add("plan_usage_thresholds", [
        ("plan_code", STR), ("position", INT), ("amount_cents", INT), ("recurring", BOOL),
        ("display_name", STR)], thresholds)
    add("charges", [
        ("charge_id", STR), ("plan_code", STR), ("position", INT),
        ("billable_metric_code", STR), ("charge_model", STR), ("pay_in_advance", BOOL),
        ("invoiceable", BOOL), ("prorated", BOOL), ("min_amount_cents", INT),
        ("invoice_display_name", STR)], charges)
    add("charge_pricings", [
        ("pricing_id", STR), ("charge_id", STR), ("filter_position", INT),
        ("invoice_display_name", STR), ("amount", DEC), ("package_size", DEC),
        ("free_units", DEC), ("rate", DEC), ("fixed_amount", DEC),
        ("free_units_per_events", INT), ("free_units_per_total_aggregation", DEC),
        ("per_transaction_min_amount", DEC), ("per_transaction_max_amount", DEC),
        ("pricing_group_keys", STRS)], pricings)
    add("charge_filter_values", [
        ("pricing_id", STR), ("filter_key", STR), ("filter_value", STR)], filter_values)
    add("charge_tiers", [
        ("pricing_id", STR), ("tier_kind", STR), ("position", INT), ("from_value", DEC),
        ("to_value", DEC), ("per_unit_amount", DEC), ("flat_amount", DEC), ("rate", DEC)],
        tiers)

    currency_of = _customer_currencies(catalog)
    customers = []
    for c in catalog.customers:
        customers.append((
            c.external_id, c.name or c.external_id, c.legal_name, c.legal_number,
            c.tax_identification_number, c.email, c.address_line1, c.address_line2, c.city,
            c.zipcode, c.state, c.country, currency_of.get(c.external_id), c.timezone,
            c.invoice_grace_period, c.net_payment_term, c.document_locale,
            c.finalize_zero_amount_invoice,
        ))
        applied_taxes += [("customer", c.external_id, code) for code in c.tax_codes or []]
    add("customers", [
        ("external_customer_id", STR), ("name", STR), ("legal_name", STR),
        ("legal_number", STR), ("tax_identification_number", STR), ("email", STR),
        ("address_line1", STR), ("address_line2", STR), ("city", STR), ("zipcode", STR),
        ("state", STR), ("country", STR), ("currency", STR), ("timezone", STR),
        ("invoice_grace_period", INT), ("net_payment_term", INT), ("document_locale", STR),
        ("finalize_zero_amount_invoice", BOOL)], customers)

    subscriptions, plan_changes = [], []
    for s in catalog.subscriptions:
        started = s.started_at or s.subscription_at
        subscriptions.append((
            s.external_id, s.external_customer_id, s.plan_code, s.name,
            s.subscription_at or started, started, s.billing_time, s.ending_at, s.terminated_at,
        ))
        for i, change in enumerate(s.plan_changes):
            # 'requested': a plan change of the catalog, upgrade at once / downgrade at the
            # period end; 'version': a follower moving to a plan's new version, at once.
            kind = "version" if isinstance(change, PlanVersionChange) else "requested"
            plan_changes.append((s.external_id, i, change.plan_code, change.requested_at, kind))
    add("subscriptions", [
        ("external_subscription_id", STR), ("external_customer_id", STR), ("plan_code", STR),
        ("name", STR), ("subscription_at", TS), ("started_at", TS), ("billing_time", STR),
        ("ending_at", TS), ("terminated_at", TS)], subscriptions)
    add("plan_changes", [
        ("external_subscription_id", STR), ("position", INT), ("plan_code", STR),
        ("requested_at", TS), ("kind", STR)], plan_changes)


    # Coupons: the coupon as defined, the plans or metrics it is limited to, and each
    # application to a customer with the values in force (its overrides, else the coupon's).
    coupons, targets = [], []
    for c in catalog.coupons:
        scope = c.applies_to
        plan_codes = (scope.plan_codes or []) if scope else []
        metric_codes = (scope.billable_metric_codes or []) if scope else []
        limitation = ("billable_metrics" if metric_codes else "plans" if plan_codes else None)
        coupons.append((
            c.code, c.name or c.code, c.coupon_type, c.amount_cents, c.amount_currency,
            _dec(c.percentage_rate), c.frequency, c.frequency_duration, c.reusable,
            c.expiration, c.expiration_at, limitation,
        ))
        targets += [(c.code, "plan", code) for code in dict.fromkeys(plan_codes)]
        targets += [(c.code, "billable_metric", code) for code in dict.fromkeys(metric_codes)]
    add("coupons", [
        ("coupon_code", STR), ("name", STR), ("coupon_type", STR), ("amount_cents", INT),
        ("amount_currency", STR), ("percentage_rate", DEC), ("frequency", STR),
        ("frequency_duration", INT), ("reusable", BOOL), ("expiration", STR),
        ("expiration_at", TS), ("limitation", STR)], coupons)
    add("coupon_targets", [("coupon_code", STR), ("target_type", STR), ("target_code", STR)],
        targets)
    add("applied_coupons", [
        ("applied_coupon_id", STR), ("position", INT), ("external_customer_id", STR),
        ("coupon_code", STR), ("created_at", TS), ("coupon_type", STR), ("amount_cents", INT),
        ("amount_currency", STR), ("percentage_rate", DEC), ("frequency", STR),
        ("frequency_duration", INT)], [(
            a.applied_coupon_id, a.position, a.external_customer_id, a.coupon_code,
            a.created_at, a.coupon_type, a.amount_cents, a.amount_currency,
            _dec(a.percentage_rate), a.frequency, a.frequency_duration,
        ) for a in catalog.applied_coupons])

    # Add-ons, and one-off invoices with their fees (each fee's unit amount in force); a fee's
    # own tax codes are attached to it as owner 'one_off_fee' (`<one_off_invoice_id>/<position>`).
    add("add_ons", [
        ("add_on_code", STR), ("name", STR), ("invoice_display_name", STR),
        ("amount_cents", INT), ("amount_currency", STR)], [(
            a.code, a.name or a.code, a.invoice_display_name or a.name or a.code,
            a.amount_cents, a.amount_currency) for a in catalog.add_ons])
    for a in catalog.add_ons:
        applied_taxes.extend(("add_on", a.code, code) for code in a.tax_codes or [])
    one_off_fees = []
    for invoice in catalog.one_off_invoices:
        for fee in invoice.fees:
            fee_id = f"{invoice.one_off_invoice_id}/{fee.position}"
            one_off_fees.append((fee_id, invoice.one_off_invoice_id, fee.position,
                                 fee.add_on_code, _dec(fee.units), fee.unit_amount_cents,
                                 fee.display_name))
            applied_taxes.extend(("one_off_fee", fee_id, code) for code in fee.tax_codes or [])
    add("one_off_invoices", [
        ("one_off_invoice_id", STR), ("position", INT), ("external_customer_id", STR),
        ("currency", STR), ("issued_at", TS)], [(
            i.one_off_invoice_id, i.position, i.external_customer_id, i.currency, i.issued_at,
        ) for i in catalog.one_off_invoices])
    add("one_off_fees", [
        ("one_off_fee_id", STR), ("one_off_invoice_id", STR), ("position", INT),
        ("add_on_code", STR), ("units", DEC), ("unit_amount_cents", INT),
        ("display_name", STR)], one_off_fees)

    add("applied_taxes", [("owner_type", STR), ("owner_id", STR), ("tax_code", STR)],
        applied_taxes)

    # Wallets: the wallet, the metrics it is limited to, and every credit movement asked of it
    # (position 0: at creation; n: its nth transaction), one row per kind of credits.
    wallets, wallet_targets, movements = [], [], []
    for position, w in catalog.wallets:
        wallet_id = f"{w.external_customer_id}/{w.code}"
        scope = w.applies_to
        wallets.append((
            wallet_id, position, w.external_customer_id, w.code, w.name or w.code, w.currency,
            _dec(w.rate_amount), w.priority, w.created_at, w.expiration_at,
            list(dict.fromkeys((scope.fee_types or []) if scope else [])),
        ))
        wallet_targets += [(wallet_id, code) for code in dict.fromkeys(
            (scope.billable_metric_codes or []) if scope else [])]
        requests = [(0, w.created_at, w.paid_credits, w.granted_credits, None)] + [
            (i + 1, t.at, t.paid_credits, t.granted_credits, t.voided_credits)
            for i, t in enumerate(w.transactions)]
        for number, at, paid, granted, voided in requests:
            for kind, credits in (("purchased", paid), ("granted", granted),
                                  ("voided", voided)):
                if credits:
                    movements.append((wallet_id, number, kind, at, _dec(credits)))
    add("wallets", [
        ("wallet_id", STR), ("position", INT), ("external_customer_id", STR), ("code", STR),
        ("name", STR), ("currency", STR), ("rate_amount", DEC), ("priority", INT),
        ("created_at", TS), ("expiration_at", TS), ("allowed_fee_types", STRS)], wallets)
    add("wallet_targets", [("wallet_id", STR), ("billable_metric_code", STR)], wallet_targets)
    add("wallet_movements", [
        ("wallet_id", STR), ("request_position", INT), ("transaction_status", STR),
        ("requested_at", TS), ("credits", DEC)], movements)

    # Credit notes requested on finalized invoices, and the fees their items credit.
    requests, request_items = [], []
    for r in catalog.credit_note_requests:
        q = r.request
        requests.append((
            r.request_id, r.position, r.label, q.invoice_number, q.external_customer_id,
            q.invoice_issuing_date, q.at, q.reason, q.description, q.credit_amount_cents,
            q.refund_amount_cents))
        request_items += [(
            r.request_id, i, item.fee.fee_type, item.fee.external_subscription_id,
            item.fee.billable_metric_code, item.amount_cents) for i, item in enumerate(q.items)]
    add("credit_note_requests", [
        ("request_id", STR), ("position", INT), ("label", STR), ("invoice_number", STR),
        ("external_customer_id", STR), ("invoice_issuing_date", pa.date32()), ("at", TS),
        ("reason", STR), ("description", STR), ("credit_amount_cents", INT),
        ("refund_amount_cents", INT)], requests)
    add("credit_note_request_items", [
        ("request_id", STR), ("item_index", INT), ("fee_type", STR),
        ("external_subscription_id", STR), ("billable_metric_code", STR), ("amount_cents", INT)],
        request_items)

    return {name: pa.Table.from_pylist(
        [dict(zip([c for c, _ in cols], row)) for row in rows],
        schema=pa.schema(cols)) for name, (cols, rows) in tables.items()}


def _customer_currencies(catalog: Catalog) -> dict[str, str]:
    """A customer's currency: its own, else the currency of its first subscription's plan."""
    plans = {p.code: p for p in catalog.plans}
    currency = {c.external_id: c.currency for c in catalog.customers if c.currency}
    for s in sorted(catalog.subscriptions, key=lambda s: (s.started_at or s.subscription_at,
                                                          s.external_id)):
        plan = plans.get(s.plan_code)
        if plan is not None:
            currency.setdefault(s.external_customer_id, plan.amount_currency)
    for invoice in catalog.one_off_invoices:  # a customer billed only one-off invoices
        currency.setdefault(invoice.external_customer_id, invoice.currency)
    return currency


def _pricing_row(pricing_id: str, charge_id: str, position: int, display: str | None,
                 p: ChargeProperties) -> tuple:
    return (
        pricing_id, charge_id, position, display, _dec(p.amount), _dec(p.package_size),
        _dec(p.free_units), _dec(p.rate), _dec(p.fixed_amount), p.free_units_per_events,
        _dec(p.free_units_per_total_aggregation), _dec(p.per_transaction_min_amount),
        _dec(p.per_transaction_max_amount), p.group_keys,
    )


def _tier_rows(pricing_id: str, p: ChargeProperties) -> list[tuple]:
    rows = []
    for kind, ranges in (("graduated", p.graduated_ranges), ("volume", p.volume_ranges),
                         ("graduated_percentage", p.graduated_percentage_ranges)):
        for i, r in enumerate(ranges or []):
            rows.append((pricing_id, kind, i, _dec(r.from_value), _dec(r.to_value),
                         _dec(getattr(r, "per_unit_amount", None)), _dec(r.flat_amount),
                         _dec(getattr(r, "rate", None))))
    return rows


def write_catalog(con: duckdb.DuckDBPyConnection, catalog: Catalog) -> dict[str, int]:
    """Replace the `catalog` schema's tables with this catalog, in one transaction."""
    tables = catalog_tables(catalog)
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists catalog")
        for name, table in tables.items():
            con.register("_incoming", table)
            con.execute(f"create or replace table catalog.{name} as select * from _incoming")
            con.unregister("_incoming")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return {name: table.num_rows for name, table in tables.items()}
