"""Invoice and credit note PDFs from the final tables.

The documents are rendered from `invoices`, `fees`, `invoice_taxes` and `credit_notes` (never
recomputed): what the PDF shows is what the warehouse holds. A finalized invoice never changes,
nor does a credit note (the table is append-only), so each PDF is rendered once;
`documents.rendered` (in the warehouse) records which file holds which document, so a PDF left
by another warehouse is never mistaken for this one's. Both kinds go through one code path:
load the pending documents, render them (in a process pool when there are many), record them.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

from invoice_rendering import (Address, CouponLine, CreditNoteDocument, CreditNoteItem,
                               FeeLine, InvoiceDocument, Party, TaxLine)

INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
# the folder of each kind of document, under the documents folder
FOLDERS = {INVOICE: "invoices", CREDIT_NOTE: "credit_notes"}

DOCUMENTS_DDL = """
create schema if not exists documents;
create table if not exists documents.rendered (
    document_type varchar not null,     -- invoice | credit_note
    document_id varchar not null,       -- invoice_id or credit_note_id
    number varchar not null,
    path varchar not null,
    sha256 varchar not null,
    primary key (document_type, document_id)
);
"""

# the customer block both documents show (issuer/customer partials)
_CUSTOMER_COLUMNS = """customers.customer_name, customers.legal_name,
    customers.legal_number, customers.tax_identification_number, customers.email,
    customers.address_line1, customers.address_line2, customers.zipcode, customers.city,
    customers.state, customers.country"""

_INVOICES_SQL = f"""
select
    invoices.invoice_id, invoices.number, invoices.status, invoices.invoice_type,
    invoices.currency, currencies.subunit_to_unit, currencies.exponent,
    coalesce(customers.document_locale, 'en') as locale,
    invoices.issuing_date, invoices.payment_due_date,
    cast(timezone(invoices.timezone, invoices.from_datetime) as date) as period_from,
    cast(timezone(invoices.timezone, invoices.to_datetime) as date) as period_to,
    invoices.fees_amount_cents, invoices.coupons_amount_cents,
    invoices.sub_total_excluding_taxes_amount_cents, invoices.taxes_amount_cents,
    invoices.sub_total_including_taxes_amount_cents, invoices.credit_notes_amount_cents,
    invoices.prepaid_credit_amount_cents, invoices.total_amount_cents, invoices.catalog_version,
    corrected.number as corrects_number, invoices.rerate_id,
    invoices.external_customer_id, {_CUSTOMER_COLUMNS}
from main.invoices as invoices
inner join reference.currencies as currencies using (currency)
left join staging.stg_catalog__customers as customers using (external_customer_id)
left join main.invoices as corrected on corrected.invoice_id = invoices.corrects_invoice_id
where invoices.invoice_id in (select unnest(?))
order by invoices.invoice_id
"""

_FEES_SQL = """
with filters as (
    select pricing_id, string_agg(filter_key || ': ' || values_text, ', ' order by filter_key)
        as filter_text
    from (
        select pricing_id, filter_key, string_agg(filter_value, ', ' order by filter_value)
            as values_text
        from staging.stg_catalog__charge_filter_values
        group by pricing_id, filter_key
    )
    group by pricing_id
)
select
    fees.fee_id, fees.invoice_id, fees.fee_type, fees.charge_model, fees.display_name,
    fees.billable_metric_name, fees.billable_metric_code, fees.external_subscription_id,
    fees.group_key, fees.is_true_up, fees.add_on_code, fees.units, fees.precise_amount_cents,
    fees.amount_cents,
    fees.taxes_rate, filters.filter_text,
    cast(timezone(invoices.timezone, fees.from_datetime) as date) as from_date,
    cast(timezone(invoices.timezone, fees.to_datetime) as date) as to_date
from main.fees as fees
inner join main.invoices as invoices using (invoice_id)
left join filters using (pricing_id)
where fees.{key} in (select unnest(?))
order by fees.invoice_id, fees.fee_type = 'commitment', fees.fee_type desc,
    fees.billable_metric_code, fees.pricing_id, fees.group_key, fees.is_true_up,
    fees.from_datetime, fees.fee_id
"""

_TAXES_SQL = """
select invoice_id, tax_name, tax_rate, taxable_amount_cents, amount_cents
from main.invoice_taxes
where invoice_id in (select unnest(?))
order by invoice_id, tax_code
"""

_COUPONS_SQL = """
select invoice_coupons.invoice_id, coalesce(coupons.name, invoice_coupons.coupon_code) as name,
    invoice_coupons.amount_cents
from main.invoice_coupons as invoice_coupons
left join staging.stg_catalog__coupons as coupons using (coupon_code)
where invoice_coupons.invoice_id in (select unnest(?))
order by invoice_coupons.invoice_id, invoice_coupons.position
"""

_CREDIT_NOTES_SQL = f"""
select
    credit_notes.credit_note_id, credit_notes.number, credit_notes.invoice_number,
    credit_notes.reason, credit_notes.description, credit_notes.currency, currencies.subunit_to_unit, currencies.exponent,
    coalesce(customers.document_locale, 'en') as locale, credit_notes.issuing_date,
    credit_notes.coupons_adjustment_amount_cents,
    credit_notes.sub_total_excluding_taxes_amount_cents, credit_notes.taxes_amount_cents,
    credit_notes.total_amount_cents, credit_notes.credit_amount_cents,
    credit_notes.refund_amount_cents,
    credit_notes.external_customer_id, {_CUSTOMER_COLUMNS}
from main.credit_notes as credit_notes
inner join reference.currencies as currencies using (currency)
left join staging.stg_catalog__customers as customers using (external_customer_id)
where credit_notes.credit_note_id in (select unnest(?))
order by credit_notes.credit_note_id
"""

_CREDIT_NOTE_ITEMS_SQL = """
select credit_note_id, item_index, fee_id, unused_days, amount_cents,
    cast(round(precise_coupons_amount_cents, 0) as bigint) as coupons_amount_cents
from main.credit_note_items
where credit_note_id in (select unnest(?))
order by credit_note_id, item_index
"""

_ORGANIZATION_SQL = """
select name, legal_name, legal_number, tax_identification_number, email, address_line1,
    address_line2, zipcode, city, state, country
from staging.stg_catalog__organization
"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _fee_line(row: dict, subunit_to_unit: int) -> FeeLine:
    units = Decimal(row["units"])
    if row["fee_type"] in ("subscription", "commitment"):
        description = row["display_name"] or row["fee_type"].capitalize()
        detail = f"{row['external_subscription_id']} · {row['from_date']} – {row['to_date']}"
    elif row["fee_type"] == "add_on":
        description, detail = row["display_name"] or row["add_on_code"], None
    else:
        description = row["display_name"] or row["billable_metric_name"] or \
            row["billable_metric_code"]
        parts = []
        if row["is_true_up"]:
            description += " — minimum spend"
        if row["filter_text"]:
            parts.append(row["filter_text"])
        if row["group_key"]:
            groups = json.loads(row["group_key"])
            parts.append(", ".join(f"{k}: {'—' if v is None else v}" for k, v in groups.items()))
        detail = " · ".join(parts) or None
    unit_amount = None
    if row["fee_type"] in ("subscription", "commitment"):
        unit_amount = Decimal(row["amount_cents"]) / Decimal(subunit_to_unit)
    elif units:
        unit_amount = Decimal(row["precise_amount_cents"]) / units / Decimal(subunit_to_unit)
    return FeeLine(description=description, detail=detail, units=units, unit_amount=unit_amount,
                   amount_cents=int(row["amount_cents"]), taxes_rate=Decimal(row["taxes_rate"]),
                   fee_type=row["fee_type"], charge_model=row["charge_model"])


def _issuer(con: duckdb.DuckDBPyConnection) -> Party:
    org = _rows(con, _ORGANIZATION_SQL)[0]
    return Party(
        name=org["name"], legal_name=org["legal_name"], legal_number=org["legal_number"],
        tax_identification_number=org["tax_identification_number"], email=org["email"],
        address=Address(org["address_line1"], org["address_line2"], org["zipcode"], org["city"],
                        org["state"], org["country"]))


def _customer(row: dict) -> Party:
    return Party(
        name=row["customer_name"] or row["external_customer_id"],
        legal_name=row["legal_name"], legal_number=row["legal_number"],
        tax_identification_number=row["tax_identification_number"], email=row["email"],
        address=Address(row["address_line1"], row["address_line2"], row["zipcode"],
                        row["city"], row["state"], row["country"]),
        external_id=row["external_customer_id"])


def load_documents(con: duckdb.DuckDBPyConnection, invoice_ids: list[str]) -> list[
        tuple[str, InvoiceDocument]]:
    if not invoice_ids:
        return []
    issuer = _issuer(con)
    fees: dict[str, list[dict]] = {}
    for row in _rows(con, _FEES_SQL.format(key="invoice_id"), [invoice_ids]):
        fees.setdefault(row["invoice_id"], []).append(row)
    taxes: dict[str, list[TaxLine]] = {}
    for row in _rows(con, _TAXES_SQL, [invoice_ids]):
        taxes.setdefault(row["invoice_id"], []).append(TaxLine(
            row["tax_name"], Decimal(row["tax_rate"]), int(row["taxable_amount_cents"]),
            int(row["amount_cents"])))
    coupons: dict[str, list[CouponLine]] = {}
    for row in _rows(con, _COUPONS_SQL, [invoice_ids]):
        coupons.setdefault(row["invoice_id"], []).append(CouponLine(
            row["name"], int(row["amount_cents"])))
    documents = []
    for row in _rows(con, _INVOICES_SQL, [invoice_ids]):
        documents.append((row["invoice_id"], InvoiceDocument(
            number=row["number"], status=row["status"], invoice_type=row["invoice_type"],
            currency=row["currency"], subunit_to_unit=row["subunit_to_unit"],
            exponent=row["exponent"], locale=row["locale"], issuing_date=row["issuing_date"],
            payment_due_date=row["payment_due_date"], period_from=row["period_from"],
            period_to=row["period_to"], issuer=issuer, customer=_customer(row),
            fees=tuple(_fee_line(f, row["subunit_to_unit"]) for f in fees.get(row["invoice_id"],
                                                                               [])),
            taxes=tuple(taxes.get(row["invoice_id"], [])),
            fees_amount_cents=row["fees_amount_cents"],
            coupons_amount_cents=row["coupons_amount_cents"],
            sub_total_excluding_taxes_amount_cents=row["sub_total_excluding_taxes_amount_cents"],
            taxes_amount_cents=row["taxes_amount_cents"],
            sub_total_including_taxes_amount_cents=row["sub_total_including_taxes_amount_cents"],
            credit_notes_amount_cents=row["credit_notes_amount_cents"],
            prepaid_credit_amount_cents=row["prepaid_credit_amount_cents"],
            total_amount_cents=row["total_amount_cents"],
            catalog_version=row["catalog_version"] or "",
            coupons=tuple(coupons.get(row["invoice_id"], [])),
            corrects_number=row["corrects_number"], rerate_id=row["rerate_id"])))
    return documents


def _credit_note_item(row: dict, fee: dict | None, subunit_to_unit: int) -> CreditNoteItem:
    """The credited fee, described as its invoice line describes it, with the credited amount
    and its share of the fee's coupons."""
    if fee is None:  # not expected: the credited fee is on a finalized invoice
        description, detail, rate = "Credited fee", row["fee_id"], Decimal(0)
    else:
        line = _fee_line(fee, subunit_to_unit)
        description, detail, rate = line.description, line.detail, line.taxes_rate
    days = row["unused_days"]
    note = None if days is None else f"{days} unused day{'' if days == 1 else 's'}"
    return CreditNoteItem(description=description, detail=detail,
                          amount_cents=int(row["amount_cents"]), taxes_rate=rate, note=note,
                          coupons_amount_cents=int(row["coupons_amount_cents"]))


def load_credit_notes(con: duckdb.DuckDBPyConnection, credit_note_ids: list[str]) -> list[
        tuple[str, CreditNoteDocument]]:
    if not credit_note_ids:
        return []
    issuer = _issuer(con)
    notes = _rows(con, _CREDIT_NOTES_SQL, [credit_note_ids])
    note_items: dict[str, list[dict]] = {}
    for item in _rows(con, _CREDIT_NOTE_ITEMS_SQL, [credit_note_ids]):
        note_items.setdefault(item["credit_note_id"], []).append(item)
    fees = {row["fee_id"]: row for row in _rows(
        con, _FEES_SQL.format(key="fee_id"),
        [sorted({i["fee_id"] for items in note_items.values() for i in items})])}
    documents = []
    for row in notes:
        items = tuple(_credit_note_item(item, fees.get(item["fee_id"]), row["subunit_to_unit"])
                      for item in note_items.get(row["credit_note_id"], []))
        documents.append((row["credit_note_id"], CreditNoteDocument(
            number=row["number"] or row["credit_note_id"], invoice_number=row["invoice_number"],
            reason=row["reason"], description=row["description"] or "",
            currency=row["currency"],
            subunit_to_unit=row["subunit_to_unit"], exponent=row["exponent"],
            locale=row["locale"], issuing_date=row["issuing_date"], issuer=issuer,
            customer=_customer(row), items=items,
            items_amount_cents=sum(item.amount_cents for item in items),
            coupons_adjustment_amount_cents=int(row["coupons_adjustment_amount_cents"]),
            sub_total_excluding_taxes_amount_cents=int(
                row["sub_total_excluding_taxes_amount_cents"]),
            taxes_amount_cents=int(row["taxes_amount_cents"]),
            total_amount_cents=int(row["total_amount_cents"]),
            credit_amount_cents=int(row["credit_amount_cents"]),
            refund_amount_cents=int(row["refund_amount_cents"]))))
    return documents


def _render_to(args: tuple[InvoiceDocument | CreditNoteDocument, str]) -> str:
    from invoice_rendering import render_pdf

    document, path = args
    pdf = render_pdf(document)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(pdf)
    os.replace(tmp, path)  # a reader never sees half a PDF
    return hashlib.sha256(pdf).hexdigest()


@dataclass(frozen=True)
class RenderResult:
    rendered: int
    already_rendered: int
    folder: Path
    rendered_by_type: dict[str, int] = field(default_factory=dict)


def _ensure_documents_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DOCUMENTS_DDL)


# what is due a document: every finalized invoice, every credit note (issued once, never changed)
_DUE_SQL = {
    INVOICE: "select invoice_id from main.invoices where status = 'finalized' order by invoice_id",
    CREDIT_NOTE: "select credit_note_id from main.credit_notes order by credit_note_id",
}
_LOADERS = {INVOICE: load_documents, CREDIT_NOTE: load_credit_notes}


def render_pending_documents(con: duckdb.DuckDBPyConnection, root: Path,
                             workers: int = 2) -> RenderResult:
    """Render the PDF of every finalized invoice and every credit note that has none yet in
    this warehouse, into root/invoices/<number>.pdf and root/credit_notes/<number>.pdf."""
    _ensure_documents_table(con)
    rendered = {(row[0], row[1]): row[2] for row in con.execute(
        "select document_type, document_id, path from documents.rendered").fetchall()}
    keys: list[tuple[str, str]] = []
    jobs: list[tuple[InvoiceDocument | CreditNoteDocument, str]] = []
    for document_type, loader in _LOADERS.items():
        pending = [row[0] for row in con.execute(_DUE_SQL[document_type]).fetchall()
                   if (document_type, row[0]) not in rendered
                   or not Path(rendered[(document_type, row[0])]).exists()]
        folder = root / FOLDERS[document_type]
        folder.mkdir(parents=True, exist_ok=True)
        for document_id, document in loader(con, pending):
            keys.append((document_type, document_id))
            jobs.append((document, str(folder / f"{document.number}.pdf")))
    if len(jobs) > 4 and workers > 1:
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
            digests = list(pool.map(_render_to, jobs, chunksize=4))
    else:
        digests = [_render_to(job) for job in jobs]
    if jobs:
        con.executemany(
            "insert or replace into documents.rendered values (?, ?, ?, ?, ?)",
            [(document_type, document_id, document.number, path, digest)
             for (document_type, document_id), (document, path), digest
             in zip(keys, jobs, digests)])
    by_type = {document_type: sum(1 for key in keys if key[0] == document_type)
               for document_type in _LOADERS}
    return RenderResult(rendered=len(jobs), already_rendered=len(rendered), folder=root,
                        rendered_by_type=by_type)
