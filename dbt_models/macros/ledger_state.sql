{#
  What earlier runs finalized, read from the append-only ledger (ledger.finalized_invoices).

  A finalized invoice never changes: the models that compute what is due read this to leave
  alone every period part already billed. The ledger is written at the end of the same run
  (marts/ledger/finalized_invoices), so this reads the state as it was when the run began;
  before the first run there is no ledger and nothing has been billed.

  finalized_billing_items(): one row per period part billed by a finalized invoice:
    external_subscription_id, phase_index, period_index, charges_index, item_type, invoice_id.
  finalized_invoice_headers(): invoice_id, external_customer_id, billing_at, invoice_type and
    rerate_id (a re-rating's supplementary invoice) of finalized invoices.
#}
{% macro ledger_relation(identifier='finalized_invoices') -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema='ledger',
                                   identifier=identifier)) }}
{%- endmacro %}

{% macro finalized_billing_items() -%}
    {%- set ledger = ledger_relation() -%}
    {%- if ledger is none -%}
        select
            cast(null as varchar) as external_subscription_id,
            cast(null as integer) as phase_index,
            cast(null as bigint) as period_index,
            cast(null as integer) as charges_index,
            cast(null as varchar) as item_type,
            cast(null as varchar) as invoice_id
        where false
    {%- else -%}
        select
            item.external_subscription_id,
            item.phase_index,
            item.period_index,
            item.charges_index,
            item.item_type,
            invoice_id
        from (select invoice_id, unnest(billed_items) as item from {{ ledger }})
    {%- endif -%}
{%- endmacro %}

{% macro finalized_invoice_headers() -%}
    {%- set ledger = ledger_relation() -%}
    {%- if ledger is none -%}
        select
            cast(null as varchar) as invoice_id,
            cast(null as varchar) as external_customer_id,
            cast(null as timestamptz) as billing_at,
            cast(null as varchar) as invoice_type,
            cast(null as varchar) as rerate_id
        where false
    {%- else -%}
        select invoice_id, external_customer_id, billing_at, invoice_type, rerate_id
        from {{ ledger }}
    {%- endif -%}
{%- endmacro %}

{#
  finalized_coupon_credits(): one row per coupon credit of a finalized invoice:
    invoice_id, external_customer_id, billing_at, applied_coupon_id, amount_cents.
  What a coupon already gave (a once fixed_amount coupon's consumed amount, a recurring
  coupon's invoices) is read from here, so a later close carries it on. (A ledger of an
  older format is refused before the build: orchestration/lib/warehouse.py.)
#}
{% macro finalized_coupon_credits() -%}
    {%- set ledger = ledger_relation() -%}
    {%- if ledger is none -%}
        select
            cast(null as varchar) as invoice_id,
            cast(null as varchar) as external_customer_id,
            cast(null as timestamptz) as billing_at,
            cast(null as varchar) as applied_coupon_id,
            cast(null as bigint) as amount_cents
        where false
    {%- else -%}
        select
            invoice_id,
            external_customer_id,
            billing_at,
            credit.applied_coupon_id,
            credit.amount_cents
        from (
            select invoice_id, external_customer_id, billing_at,
                unnest(applied_coupons) as credit
            from {{ ledger }}
        )
    {%- endif -%}
{%- endmacro %}

{#
  finalized_period_fees(): one row per subscription or charge fee of a finalized invoice, with
  the period part it billed: external_subscription_id, phase_index, period_index, fee_type,
  amount_cents, precise_amount_cents. A minimum commitment counts the fees of its period that
  earlier closes billed (an in-advance fee, the monthly charges of a yearly plan).
#}
{% macro finalized_period_fees() -%}
    {%- set ledger = ledger_relation() -%}
    {%- if ledger is none -%}
        select
            cast(null as varchar) as external_subscription_id,
            cast(null as integer) as phase_index,
            cast(null as bigint) as period_index,
            cast(null as varchar) as fee_type,
            cast(null as bigint) as amount_cents,
            cast(null as decimal(38, 5)) as precise_amount_cents
        where false
    {%- else -%}
        select
            fee.external_subscription_id,
            fee.phase_index,
            fee.period_index,
            fee.fee_type,
            fee.amount_cents,
            fee.precise_amount_cents
        from (select unnest(fees) as fee from {{ ledger }})
        where fee.fee_type in ('subscription', 'charge')
    {%- endif -%}
{%- endmacro %}

{#
  finalized_prepaid_credits(): one row per wallet a finalized invoice consumed credits of:
    invoice_id, external_customer_id, billing_at, wallet_id, amount_cents.
  What earlier closes took from each wallet is read from here: those invoices keep what they
  consumed, and later invoices see the balance that is left (int_wallet_applications).
#}
{% macro finalized_prepaid_credits() -%}
    {%- set ledger = ledger_relation() -%}
    {%- if ledger is none -%}
        select
            cast(null as varchar) as invoice_id,
            cast(null as varchar) as external_customer_id,
            cast(null as timestamptz) as billing_at,
            cast(null as varchar) as wallet_id,
            cast(null as bigint) as amount_cents
        where false
    {%- else -%}
        select
            invoice_id,
            external_customer_id,
            billing_at,
            credit.wallet_id,
            credit.amount_cents
        from (
            select invoice_id, external_customer_id, billing_at,
                unnest(applied_prepaid_credits) as credit
            from {{ ledger }}
        )
    {%- endif -%}
{%- endmacro %}

{#
  finalized_invoice_fees(): one row per fee of a finalized invoice, with its invoice's number,
    customer, currency, time zone, billing_at, issuing_date and total: what a credit note
    credits (int_creditable_fees).
  finalized_credit_note_credits(): one row per credit note amount a finalized invoice consumed:
    invoice_id, billing_at, credit_note_id, amount_cents. A credit note's balance left is its
    credit less these (int_credit_note_applications).
#}
{% macro finalized_invoice_fees() -%}
    {%- set ledger = ledger_relation() -%}
    {%- if ledger is none -%}
        select
            cast(null as varchar) as invoice_id,
            cast(null as varchar) as invoice_number,
            cast(null as varchar) as external_customer_id,
            cast(null as varchar) as currency,
            cast(null as varchar) as timezone,
            cast(null as timestamptz) as billing_at,
            cast(null as date) as issuing_date,
            cast(null as bigint) as invoice_total_amount_cents,
            cast(null as varchar) as fee_id,
            cast(null as varchar) as fee_key,
            cast(null as varchar) as fee_type,
            cast(null as varchar) as external_subscription_id,
            cast(null as varchar) as billable_metric_code,
            cast(null as bigint) as amount_cents,
            cast(null as decimal(38, 5)) as precise_coupons_amount_cents,
            cast(null as decimal(38, 12)) as taxes_rate
        where false
    {%- else -%}
        select
            invoice_id,
            number as invoice_number,
            external_customer_id,
            currency,
            timezone,
            billing_at,
            issuing_date,
            total_amount_cents as invoice_total_amount_cents,
            fee.fee_id,
            fee.fee_key,
            fee.fee_type,
            fee.external_subscription_id,
            fee.billable_metric_code,
            fee.amount_cents,
            cast(fee.precise_coupons_amount_cents as decimal(38, 5)) as precise_coupons_amount_cents,
            cast(fee.taxes_rate as decimal(38, 12)) as taxes_rate
        from (
            select *, unnest(fees, recursive := false) as fee
            from {{ ledger }}
        )
    {%- endif -%}
{%- endmacro %}

{% macro finalized_credit_note_credits() -%}
    {%- set ledger = ledger_relation() -%}
    {%- if ledger is none -%}
        select
            cast(null as varchar) as invoice_id,
            cast(null as timestamptz) as billing_at,
            cast(null as varchar) as credit_note_id,
            cast(null as bigint) as amount_cents
        where false
    {%- else -%}
        select invoice_id, billing_at, credit.credit_note_id, credit.amount_cents
        from (
            select invoice_id, billing_at, unnest(applied_credit_notes) as credit
            from {{ ledger }}
        )
    {%- endif -%}
{%- endmacro %}

{#
  finalized_fee_lines(): one row per subscription or charge fee of a finalized invoice, as it
    was frozen, with the period part it billed: what a re-rating compares its recomputation
    with (int_rerate_differences). invoices_in: only the invoices of that relation's invoice_id
    (the ledger grows with every close; a re-rating reads the few it covers).
#}
{% macro finalized_fee_lines(invoices_in=none) -%}
    {%- set ledger = ledger_relation() -%}
    {%- if ledger is none -%}
        select
            cast(null as varchar) as invoice_id,
            cast(null as varchar) as invoice_number,
            cast(null as varchar) as fee_id,
            cast(null as varchar) as fee_key,
            cast(null as varchar) as fee_type,
            cast(null as varchar) as external_subscription_id,
            cast(null as integer) as phase_index,
            cast(null as bigint) as period_index,
            cast(null as integer) as charges_index,
            cast(null as varchar) as plan_code,
            cast(null as varchar) as charge_id,
            cast(null as varchar) as billable_metric_code,
            cast(null as varchar) as billable_metric_name,
            cast(null as varchar) as charge_model,
            cast(null as varchar) as pricing_id,
            cast(null as bigint) as filter_position,
            cast(null as varchar) as display_name,
            cast(null as varchar) as group_key,
            cast(null as boolean) as is_true_up,
            cast(null as decimal(38, 12)) as units,
            cast(null as bigint) as events_count,
            cast(null as bigint) as amount_cents,
            cast(null as decimal(38, 5)) as precise_amount_cents,
            cast(null as timestamptz) as from_datetime,
            cast(null as timestamptz) as to_datetime
        where false
    {%- else -%}
        select
            invoice_id,
            number as invoice_number,
            fee.fee_id,
            fee.fee_key,
            fee.fee_type,
            fee.external_subscription_id,
            fee.phase_index,
            fee.period_index,
            fee.charges_index,
            fee.plan_code,
            fee.charge_id,
            fee.billable_metric_code,
            fee.billable_metric_name,
            fee.charge_model,
            fee.pricing_id,
            fee.filter_position,
            fee.display_name,
            fee.group_key,
            fee.is_true_up,
            cast(fee.units as decimal(38, 12)) as units,
            fee.events_count,
            fee.amount_cents,
            cast(fee.precise_amount_cents as decimal(38, 5)) as precise_amount_cents,
            fee.from_datetime,
            fee.to_datetime
        from (
            select invoice_id, number, unnest(fees) as fee
            from {{ ledger }}
            {% if invoices_in is not none -%}
            where invoice_id in (select invoice_id from {{ invoices_in }})
            {%- endif %}
        )
        where fee.fee_type in ('subscription', 'charge')
    {%- endif -%}
{%- endmacro %}

{#
  settled_rerate_adjustments(): what earlier closes issued for approved re-ratings
    (ledger.rerate_adjustments, written at the end of the close that issued them), one row per
    fee compared: rerate_id, invoice_id, fee_key, original_fee_id, difference_cents, action,
    document_id, approved_at. A settled re-rating is not recomputed again; its credit notes stay
    in int_credit_notes from these rows, and what it corrected counts for later re-ratings.
#}
{% macro settled_rerate_adjustments() -%}
    {%- set relation = ledger_relation('rerate_adjustments') -%}
    {%- if relation is none -%}
        select
            cast(null as varchar) as rerate_id,
            cast(null as varchar) as invoice_id,
            cast(null as varchar) as fee_key,
            cast(null as varchar) as original_fee_id,
            cast(null as bigint) as difference_cents,
            cast(null as varchar) as action,
            cast(null as varchar) as document_id,
            cast(null as timestamptz) as approved_at
        where false
    {%- else -%}
        select rerate_id, invoice_id, fee_key, original_fee_id, difference_cents, action,
            document_id, approved_at
        from {{ relation }}
    {%- endif -%}
{%- endmacro %}
