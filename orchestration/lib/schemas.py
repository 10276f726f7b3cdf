"""Pandera (polars) schemas of the output tables: one per table they guard.

They run as blocking asset checks after the dbt models: a table that breaks its contract stops
the run before any document is rendered from it. Money columns are integers (minor units) or
DECIMAL, never floats; every invoice must balance to the unit.
"""
from __future__ import annotations

from typing import Annotated

import pandera.polars as pa
import polars as pl

INVOICE_TYPES = ["subscription", "one_off", "credit", "progressive_billing", "advance_charges"]
INVOICE_STATUSES = ["draft", "finalized", "voided"]
FEE_TYPES = ["subscription", "charge", "add_on", "commitment", "credit"]


class InvoiceSchema(pa.DataFrameModel):
    invoice_id: str = pa.Field(unique=True)
    number: str = pa.Field(nullable=True)   # a draft has none yet; see numbered_once
    external_customer_id: str
    invoice_type: str = pa.Field(isin=INVOICE_TYPES)
    status: str = pa.Field(isin=INVOICE_STATUSES)
    currency: str = pa.Field(str_length={"min_value": 3, "max_value": 3})
    fees_amount_cents: pl.Int64 = pa.Field(ge=0)
    coupons_amount_cents: pl.Int64 = pa.Field(ge=0)
    taxes_amount_cents: pl.Int64 = pa.Field(ge=0)
    credit_notes_amount_cents: pl.Int64 = pa.Field(ge=0)
    prepaid_credit_amount_cents: pl.Int64 = pa.Field(ge=0)
    total_amount_cents: pl.Int64 = pa.Field(ge=0)

    class Config:
        strict = False  # the mart carries more columns (dates, sequences); these are the contract

    @pa.dataframe_check
    @classmethod
    def numbered_once(cls, data) -> pl.LazyFrame:
        """A finalized invoice has a number no other invoice has; a draft has none."""
        finalized = pl.col("status") != "draft"
        return data.lazyframe.select(
            pl.when(finalized)
            .then(pl.col("number").is_not_null()
                  & (pl.col("number").filter(finalized).is_duplicated().any().not_()))
            .otherwise(pl.col("number").is_null()))

    @pa.dataframe_check
    @classmethod
    def total_balances(cls, data) -> pl.LazyFrame:
        """total = fees - coupons + taxes - credit notes - prepaid credits, to the unit."""
        return data.lazyframe.select(
            pl.col("total_amount_cents") == (
                pl.col("fees_amount_cents") - pl.col("coupons_amount_cents")
                + pl.col("taxes_amount_cents") - pl.col("credit_notes_amount_cents")
                - pl.col("prepaid_credit_amount_cents")))


class FeeSchema(pa.DataFrameModel):
    fee_id: str = pa.Field(unique=True)
    invoice_id: str
    fee_type: str = pa.Field(isin=FEE_TYPES)
    units: Annotated[pl.Decimal, 38, 12] = pa.Field(ge=0)
    events_count: pl.Int64 = pa.Field(ge=0)
    amount_cents: pl.Int64 = pa.Field(ge=0)
    taxes_amount_cents: pl.Int64 = pa.Field(ge=0)
    currency: str = pa.Field(str_length={"min_value": 3, "max_value": 3})

    class Config:
        strict = False

    @pa.dataframe_check
    @classmethod
    def charge_fees_name_their_metric(cls, data) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("fee_type") != "charge") | pl.col("billable_metric_code").is_not_null())
