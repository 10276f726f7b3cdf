"""What an invoice or credit note template sees: plain frozen values, read from the warehouse
beforehand. No SQL and no I/O here; amounts are integers in the currency's minor unit."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Address:
    line1: str | None = None
    line2: str | None = None
    zipcode: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None

    @property
    def lines(self) -> list[str]:
        city = " ".join(p for p in (self.zipcode, self.city) if p)
        return [p for p in (self.line1, self.line2, city, self.state, self.country) if p]


@dataclass(frozen=True)
class Party:
    name: str
    legal_name: str | None = None
    legal_number: str | None = None
    tax_identification_number: str | None = None
    email: str | None = None
    address: Address = field(default_factory=Address)
    external_id: str | None = None


@dataclass(frozen=True)
class FeeLine:
    description: str
    detail: str | None          # filter, group, or the period
    units: Decimal
    unit_amount: Decimal | None  # in currency units, unrounded (display only)
    amount_cents: int
    taxes_rate: Decimal
    fee_type: str
    charge_model: str | None = None


@dataclass(frozen=True)
class TaxLine:
    name: str
    rate: Decimal
    taxable_amount_cents: int
    amount_cents: int


@dataclass(frozen=True)
class CouponLine:
    """One coupon credited on the invoice (invoice_coupons), in the order it was applied."""
    name: str
    amount_cents: int


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    status: str
    invoice_type: str
    currency: str
    subunit_to_unit: int
    exponent: int
    locale: str
    issuing_date: dt.date
    payment_due_date: dt.date
    period_from: dt.date | None
    period_to: dt.date | None
    issuer: Party
    customer: Party
    fees: tuple[FeeLine, ...]
    taxes: tuple[TaxLine, ...]
    fees_amount_cents: int
    coupons_amount_cents: int
    sub_total_excluding_taxes_amount_cents: int
    taxes_amount_cents: int
    sub_total_including_taxes_amount_cents: int
    credit_notes_amount_cents: int
    prepaid_credit_amount_cents: int
    total_amount_cents: int
    catalog_version: str = ""
    coupons: tuple[CouponLine, ...] = ()
    # a re-rating's supplementary invoice: the number of the invoice it corrects, and the
    # re-rating (billing rerate) that issued it
    corrects_number: str | None = None
    rerate_id: str | None = None


@dataclass(frozen=True)
class CreditNoteItem:
    """One credited amount: the fee it credits (described as on the invoice) and how much."""
    description: str
    detail: str | None          # the credited fee's subscription and period, or its filter
    amount_cents: int
    taxes_rate: Decimal
    note: str | None = None     # why this amount, e.g. "21 unused days"
    coupons_amount_cents: int = 0   # the item's share of the fee's coupons, rounded


@dataclass(frozen=True)
class CreditNoteDocument:
    number: str
    invoice_number: str         # the invoice it credits
    reason: str                 # order_cancellation, order_change, … (CONTRACT.md §4)
    currency: str
    subunit_to_unit: int
    exponent: int
    locale: str
    issuing_date: dt.date
    issuer: Party
    customer: Party
    items: tuple[CreditNoteItem, ...]
    items_amount_cents: int
    coupons_adjustment_amount_cents: int
    sub_total_excluding_taxes_amount_cents: int
    taxes_amount_cents: int
    total_amount_cents: int
    credit_amount_cents: int
    refund_amount_cents: int
    description: str = ""     # the request's description, or the re-rating that issued it

    @property
    def reason_label(self) -> str:
        return REASON_LABELS.get(self.reason, self.reason.replace("_", " ").capitalize())


REASON_LABELS = {
    "order_cancellation": "Order cancellation",
    "order_change": "Order change",
    "duplicated_charge": "Duplicated charge",
    "product_unsatisfactory": "Product unsatisfactory",
    "fraudulent_charge": "Fraudulent charge",
    "other": "Other",
}
