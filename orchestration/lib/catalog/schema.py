"""The shapes of the catalog documents (CONTRACT.md §2), in Lago's API field names.

Pydantic checks each object's types and ranges; `validate.py` checks what spans objects
(codes that must exist, tiers that must chain, currencies that must agree). Unknown fields are
kept (`model_extra`) and reported as warnings: Lago's API ignores them too, but a typo in a
field name should not pass unnoticed.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

# --- scalar types -------------------------------------------------------------------------------


def _to_decimal(value: Any) -> Any:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, (int, float, str)):
        text = str(value).strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"expected a number, got {value!r}") from None
        if not number.is_finite():
            raise ValueError(f"expected a finite number, got {value!r}")
        return number
    raise ValueError(f"expected a number, got {value!r}")


def _not_negative(value: Any) -> Any:
    if value is not None and value < 0:
        raise ValueError(f"must not be negative (got {value})")
    return value


def _to_int(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise ValueError(f"expected a whole number, got {value!r}")
        return value
    if isinstance(value, int):
        return value
    number = _to_decimal(value)
    if number != number.to_integral_value():
        raise ValueError(f"expected a whole number, got {value!r}")
    return int(number)


def _to_instant(value: Any) -> Any:
    """An instant in UTC. Accepts ISO 8601 text (Z or offset), YAML timestamps, or dates."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"expected an ISO 8601 timestamp, got {value!r}") from None
    else:
        raise ValueError(f"expected an ISO 8601 timestamp, got {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def _to_code_list(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return value


Amount = Annotated[Decimal, BeforeValidator(_to_decimal), AfterValidator(_not_negative)]
SignedNumber = Annotated[Decimal, BeforeValidator(_to_decimal)]
Cents = Annotated[int, BeforeValidator(_to_int), AfterValidator(_not_negative)]
Count = Annotated[int, BeforeValidator(_to_int), AfterValidator(_not_negative)]
Instant = Annotated[dt.datetime, BeforeValidator(_to_instant)]
Codes = Annotated[list[str], BeforeValidator(_to_code_list)]


class Document(BaseModel):
    """Base of every catalog object: unknown fields are kept to be reported, not refused."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    # Fields Lago's objects carry that do not change what we compute; accepted silently.
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset()


# --- organization and taxes ---------------------------------------------------------------------


class Organization(Document):
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({"premium_integrations", "id", "created_at"})

    name: str = "Billing Organization"
    legal_name: str | None = None
    legal_number: str | None = None
    tax_identification_number: str | None = None
    email: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    zipcode: str | None = None
    state: str | None = None
    country: str | None = None
    timezone: str | None = "UTC"
    default_currency: str = "USD"
    invoice_grace_period: Count = 0
    document_numbering: Literal["per_customer", "per_organization"] = "per_customer"
    document_number_prefix: str | None = None
    net_payment_term: Count = 0
    tax_codes: Codes = Field(default_factory=list)
    document_locale: str = "en"
    finalize_zero_amount_invoice: bool = True
    # Lago gates a few pricing options behind its premium licence (percentage per-transaction
    # min/max). Every option is available here; `premium: false` reproduces Lago's free tier.
    premium: bool = True


class Tax(Document):
    code: str
    name: str | None = None
    rate: Amount
    description: str | None = None


# --- billable metrics ---------------------------------------------------------------------------

AGGREGATION_TYPES = (
    "count_agg", "sum_agg", "max_agg", "unique_count_agg", "latest_agg", "weighted_sum_agg",
    "custom_agg",
)


class MetricFilter(Document):
    key: str
    values: list[str]


class BillableMetric(Document):
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({"id", "created_at", "description"})

    code: str
    name: str | None = None
    aggregation_type: Literal[
        "count_agg", "sum_agg", "max_agg", "unique_count_agg", "latest_agg",
        "weighted_sum_agg", "custom_agg",
    ]
    field_name: str | None = None
    recurring: bool = False
    weighted_interval: Literal["seconds"] | None = None
    rounding_function: Literal["round", "ceil", "floor"] | None = None
    rounding_precision: int | None = None
    filters: list[MetricFilter] = Field(default_factory=list)
    # Lago's per-event formula computing `field_name` from the event (its expression syntax:
    # event.properties.x, event.timestamp, + - * /, round/ceil/floor, concat).
    expression: str | None = None
    # custom_agg only: a SQL aggregate over the period's events (see docs/catalog.md).
    custom_aggregator: str | None = None


# --- plans and charges --------------------------------------------------------------------------


class GraduatedRange(Document):
    from_value: Amount
    to_value: Amount | None = None
    per_unit_amount: Amount = Decimal(0)
    flat_amount: Amount = Decimal(0)


class GraduatedPercentageRange(Document):
    from_value: Amount
    to_value: Amount | None = None
    rate: Amount = Decimal(0)
    flat_amount: Amount = Decimal(0)


class ChargeProperties(Document):
    amount: Amount | None = None
    graduated_ranges: list[GraduatedRange] | None = None
    graduated_percentage_ranges: list[GraduatedPercentageRange] | None = None
    volume_ranges: list[GraduatedRange] | None = None
    package_size: Amount | None = None
    free_units: Amount | None = None
    rate: Amount | None = None
    fixed_amount: Amount | None = None
    free_units_per_events: Count | None = None
    free_units_per_total_aggregation: Amount | None = None
    per_transaction_min_amount: Amount | None = None
    per_transaction_max_amount: Amount | None = None
    pricing_group_keys: list[str] | None = None
    grouped_by: list[str] | None = None  # Lago's older name for pricing_group_keys

    @property
    def group_keys(self) -> list[str]:
        return list(self.pricing_group_keys or self.grouped_by or [])


class ChargeFilter(Document):
    values: dict[str, list[str]]
    properties: ChargeProperties = Field(default_factory=ChargeProperties)
    invoice_display_name: str | None = None


CHARGE_MODELS = (
    "standard", "graduated", "graduated_percentage", "package", "percentage", "volume", "dynamic",
)


class Charge(Document):
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({"id", "created_at", "lago_id"})

    code: str | None = None
    billable_metric_code: str
    charge_model: Literal[
        "standard", "graduated", "graduated_percentage", "package", "percentage", "volume",
        "dynamic",
    ]
    pay_in_advance: bool = False
    invoiceable: bool = True
    prorated: bool = False
    min_amount_cents: Cents | None = None
    invoice_display_name: str | None = None
    properties: ChargeProperties = Field(default_factory=ChargeProperties)
    filters: list[ChargeFilter] = Field(default_factory=list)
    tax_codes: Codes | None = None


class MinimumCommitment(Document):
    amount_cents: Cents
    invoice_display_name: str | None = None
    tax_codes: Codes | None = None


class UsageThreshold(Document):
    amount_cents: Cents
    recurring: bool = False
    threshold_display_name: str | None = None


class Plan(Document):
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({"id", "created_at", "description"})

    code: str
    name: str | None = None
    invoice_display_name: str | None = None
    interval: Literal["weekly", "monthly", "quarterly", "semiannual", "yearly"]
    amount_cents: Cents = 0
    amount_currency: str
    pay_in_advance: bool = False
    trial_period: Amount = Decimal(0)
    bill_charges_monthly: bool = False
    minimum_commitment: MinimumCommitment | None = None
    usage_thresholds: list[UsageThreshold] = Field(default_factory=list)
    tax_codes: Codes | None = None
    charges: list[Charge] = Field(default_factory=list)
    # Versions: several entries with one code and distinct `effective_from` are versions of
    # one plan. A subscription keeps the version in force when it was subscribed
    # (grandfathering) unless it sets `follow_plan_updates` (see docs/billing-rules.md).
    effective_from: Instant | None = None


# --- customers and subscriptions ----------------------------------------------------------------


class Customer(Document):
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({"id", "created_at", "metadata", "billing_configuration"})

    external_id: str
    name: str | None = None
    legal_name: str | None = None
    legal_number: str | None = None
    tax_identification_number: str | None = None
    email: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    zipcode: str | None = None
    state: str | None = None
    country: str | None = None
    currency: str | None = None
    timezone: str | None = None
    tax_codes: Codes | None = None
    invoice_grace_period: Count | None = None
    net_payment_term: Count | None = None
    document_locale: str | None = None
    finalize_zero_amount_invoice: bool | None = None


class PlanChange(Document):
    plan_code: str
    requested_at: Instant


class PlanVersionChange(PlanChange):
    """A move to a new version of the plan, made by the loader for a subscription that sets
    `follow_plan_updates` (never read from YAML). It takes effect at `requested_at` (the
    version's effective_from) whatever its price: `kind = 'version'` in catalog.plan_changes."""


# --- plan overrides (Lago's `plan_overrides` on a subscription) ---------------------------------
#
# The plan fields a subscription may override, in Lago's API names (PlanOverridesObject). A
# field left out, or given as null, keeps the plan's value; a given list (tax_codes, filters,
# usage_thresholds) replaces the plan's list, and a given `properties` replaces the charge's
# properties as a whole, as Lago's override services do. Charges are matched by
# `billable_metric_code` (or by the charge's `code`), where Lago matches them by id.


def _json_object(value: Any) -> Any:
    """A flat table (CSV/Parquet) carries plan_overrides as JSON text."""
    if isinstance(value, str):
        import json

        text = value.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"expected an object (or JSON text of one): {exc}") from None
    return value


class ChargeOverride(Document):
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({"id", "billable_metric_id", "lago_id"})

    billable_metric_code: str | None = None
    code: str | None = None
    # Lago cannot change a charge's model, pricing mode or flags on a subscription; these are
    # accepted when they repeat the plan's value and refused otherwise.
    charge_model: str | None = None
    pay_in_advance: bool | None = None
    invoiceable: bool | None = None
    prorated: bool | None = None
    invoice_display_name: str | None = None
    min_amount_cents: Cents | None = None
    properties: ChargeProperties | None = None
    filters: list[ChargeFilter] | None = None
    tax_codes: Codes | None = None


class MinimumCommitmentOverride(Document):
    amount_cents: Cents | None = None
    invoice_display_name: str | None = None
    tax_codes: Codes | None = None


class PlanOverrides(Document):
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({"description", "metadata"})

    amount_cents: Cents | None = None
    amount_currency: str | None = None   # accepted only when it is the plan's currency
    name: str | None = None
    invoice_display_name: str | None = None
    trial_period: Amount | None = None
    tax_codes: Codes | None = None
    minimum_commitment: MinimumCommitmentOverride | None = None
    usage_thresholds: list[UsageThreshold] | None = None
    charges: list[ChargeOverride] = Field(default_factory=list)


class Subscription(Document):
    # termination_reason / previous_plan_code describe outcomes Lago derived; the engine
    # derives them itself from plan_changes and terminated_at.
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({"id", "created_at", "termination_reason", "status"})

    external_id: str
    external_customer_id: str
    plan_code: str
    name: str | None = None
    subscription_at: Instant | None = None
    started_at: Instant | None = None
    billing_time: Literal["calendar", "anniversary"] = "calendar"
    ending_at: Instant | None = None
    terminated_at: Instant | None = None
    plan_overrides: Annotated[PlanOverrides | None, BeforeValidator(_json_object)] = None
    plan_changes: list[PlanChange] = Field(default_factory=list)
    # Move to each new version of the plan at its effective_from (default: keep the version in
    # force at subscription_at for the subscription's whole life).
    follow_plan_updates: Annotated[bool, BeforeValidator(
        lambda v: False if v is None else v)] = False   # an empty cell of a table is false


# --- coupons (Lago's coupon and applied coupon objects) -----------------------------------------


class CouponAppliesTo(Document):
    plan_codes: Codes | None = None
    billable_metric_codes: Codes | None = None


class Coupon(Document):
    # limited_plans / limited_billable_metrics are what Lago derives from applies_to.
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({
        "id", "lago_id", "created_at", "description", "limited_plans",
        "limited_billable_metrics", "terminated_at", "plan_codes", "billable_metric_codes"})

    code: str
    name: str | None = None
    coupon_type: Literal["fixed_amount", "percentage"]
    amount_cents: Cents | None = None
    amount_currency: str | None = None
    percentage_rate: Amount | None = None
    frequency: Literal["once", "recurring", "forever"] = "once"
    frequency_duration: Count | None = None
    reusable: bool = True
    expiration: Literal["no_expiration", "time_limit"] = "no_expiration"
    expiration_at: Instant | None = None
    applies_to: CouponAppliesTo | None = None


class AppliedCoupon(Document):
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({
        "id", "lago_id", "lago_coupon_id", "lago_customer_id", "status",
        "frequency_duration_remaining", "amount_cents_remaining", "terminated_at"})

    external_customer_id: str
    coupon_code: str
    # when the coupon was applied to the customer: it applies to invoices issued from then on
    created_at: Instant
    # the overrides Lago's apply_coupon accepts (a field left out keeps the coupon's value)
    amount_cents: Cents | None = None
    amount_currency: str | None = None
    percentage_rate: Amount | None = None
    frequency: Literal["once", "recurring", "forever"] | None = None
    frequency_duration: Count | None = None


# --- add-ons and one-off invoices (Lago's add-on object and POST /invoices) ---------------------


def _units(value: Any) -> Any:
    """Lago reads a one-off fee's units as a number (default 1); they may be fractional."""
    return Decimal(1) if value is None else value


class AddOn(Document):
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({
        "id", "lago_id", "created_at", "description"})

    code: str
    name: str | None = None
    invoice_display_name: str | None = None
    amount_cents: Cents
    amount_currency: str
    tax_codes: Codes | None = None


class OneOffFee(Document):
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({"description"})

    add_on_code: str
    units: Annotated[Decimal, BeforeValidator(_to_decimal), BeforeValidator(_units),
                     AfterValidator(_not_negative)] = Decimal(1)
    # the add-on's amount_cents when left out
    unit_amount_cents: Cents | None = None
    invoice_display_name: str | None = None
    # replace the add-on's taxes (and the customer's and organization's) for this fee
    tax_codes: Codes | None = None


class OneOffInvoice(Document):
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({"id", "lago_id"})

    external_customer_id: str
    currency: str | None = None      # the customer's currency when left out
    at: Instant                      # when the invoice is issued (Lago: the API call)
    fees: list[OneOffFee]


# --- wallets (Lago's wallet and wallet transaction objects) -------------------------------------

# The fee types Lago's wallets may be limited to (Fee.fee_types).
WALLET_FEE_TYPES = ("charge", "add_on", "subscription", "credit", "commitment")


class WalletAppliesTo(Document):
    fee_types: Codes | None = None
    billable_metric_codes: Codes | None = None


class WalletTransaction(Document):
    """A top-up or a void after the wallet was created (Lago's wallet transaction request):
    paid and granted credits are added, voided credits taken out, at `at`."""

    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({
        "id", "lago_id", "wallet_id", "lago_wallet_id", "metadata", "name", "source"})

    at: Instant
    paid_credits: Amount | None = None
    granted_credits: Amount | None = None
    voided_credits: Amount | None = None


class Wallet(Document):
    # the balances and statuses are what Lago derives; they are derived here from the
    # transactions and the invoices
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({
        "id", "lago_id", "lago_customer_id", "status", "balance_cents", "credits_balance",
        "ongoing_balance_cents", "ongoing_usage_balance_cents", "credits_ongoing_balance",
        "credits_ongoing_usage_balance", "consumed_amount_cents", "consumed_credits",
        "last_balance_sync_at", "last_consumed_credit_at", "terminated_at",
        "invoice_requires_successful_payment", "transaction_metadata", "transaction_name"})

    code: str
    name: str | None = None
    external_customer_id: str
    created_at: Instant
    currency: str
    rate_amount: Amount
    paid_credits: Amount | None = None
    granted_credits: Amount | None = None
    expiration_at: Instant | None = None
    # Lago applies a customer's wallets by priority (1 first, 50 by default), then creation
    priority: Count = 50
    applies_to: WalletAppliesTo | None = None
    transactions: list[WalletTransaction] = Field(default_factory=list)
    # Lago's automatic top-ups; not built: refused when given (validate.py)
    recurring_transaction_rules: list[Any] | None = None


# --- credit notes (Lago's credit note object, requested on a finalized invoice) -----------------


class CreditNoteFee(Document):
    """The fee an item credits, named by what the invoice line shows (Lago names it by fee id)."""

    fee_type: Literal["subscription", "charge"]
    external_subscription_id: str
    billable_metric_code: str | None = None


class CreditNoteItem(Document):
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({"lago_id", "fee_id", "lago_fee_id"})

    fee: CreditNoteFee
    amount_cents: Cents


class CreditNoteRequest(Document):
    # offset_amount_cents (Lago's newer "offset against the invoice's own due amount") has no
    # meaning here: we do not track payments, every finalized invoice counts as paid.
    IGNORED_FIELDS: ClassVar[frozenset[str]] = frozenset({
        "id", "lago_id", "lago_invoice_id", "metadata", "credit_status", "refund_status"})

    invoice_number: str | None = None
    external_customer_id: str | None = None
    invoice_issuing_date: dt.date | None = None
    # when the credit note is issued: the invoice must be finalized by then
    at: Instant
    reason: Literal["duplicated_charge", "product_unsatisfactory", "order_change",
                    "order_cancellation", "fraudulent_charge", "other"] = "other"
    description: str | None = None
    credit_amount_cents: Cents = 0
    refund_amount_cents: Cents = 0
    items: list[CreditNoteItem]
