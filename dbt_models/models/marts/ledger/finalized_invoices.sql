{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    schema='ledger',
) }}

-- The ledger: every finalized invoice, frozen as it was finalized, with its fees, its taxes
-- and the period parts it billed. Append-only: a row is written once, in the same statement
-- that numbers it, and never changed or deleted (--full-refresh leaves this table alone).
-- Corrections are credit notes or new invoices. Changing this model's columns changes the
-- ledger's format: bump LEDGER_FORMAT in orchestration/lib/warehouse.py, so that a warehouse
-- written in the old format is refused with a clear message instead of failing mid-build.
--
-- Numbers follow Lago's document_numbering (LAGO_RULES.md §17): per customer
-- PREFIX-<customer seq %03d>-<invoice seq %03d>, per organization
-- PREFIX-<YYYYMM of finalization>-<organization seq %03d>. A customer's sequence is given
-- when its first invoice is finalized. Sequences continue from the ledger, so they have no
-- gaps and never reuse a number: an interrupted run commits nothing, and its re-run numbers
-- the same invoices the same way.
--
-- A credit note request the close refuses stops it before this model is written:
-- depends_on: {{ ref('int_credit_note_checks') }}
with

computed as (

    select * from {{ ref('int_invoices_credited') }}

),

fees as (

    select * from {{ ref('int_fees') }}

),

fee_taxes as (

    select * from {{ ref('int_fee_taxes') }}

),

coupon_credits as (

    select * from {{ ref('int_invoice_coupons') }}

),

prepaid_credits as (

    select * from {{ ref('int_invoice_prepaid_credits') }}

),

items as (

    select * from {{ ref('int_billing_items') }}

),

credit_note_credits as (

    select * from {{ ref('int_credit_note_applications') }}

),

invoice_keys as (

    select * from {{ ref('int_invoice_keys') }}

),

organization as (

    select * from {{ ref('stg_catalog__organization') }}

),

previous as (

    {% if is_incremental() %}
    select
        invoice_id,
        external_customer_id,
        customer_sequence,
        invoice_sequence,
        organization_sequence
    from {{ this }}
    {% else %}
    select
        cast(null as varchar) as invoice_id,
        cast(null as varchar) as external_customer_id,
        cast(null as bigint) as customer_sequence,
        cast(null as bigint) as invoice_sequence,
        cast(null as bigint) as organization_sequence
    where false
    {% endif %}

),

to_finalize as (

    -- An invoice is final when it is generated, or when its grace period ends or an
    -- approval comes (int_invoice_keys.finalizes; a draft until then), unless a review gate
    -- fails (int_close_gates): then nothing of this close is finalized.
    select
        computed.* exclude (finalizes, finalizes_at, status),
        computed.finalizes_at as finalized_at

    from computed
    anti join previous using (invoice_id)
    where computed.finalizes
        and not exists (select 1 from {{ ref('int_close_gates') }} where failures > 0)

),

known_customers as (

    select
        external_customer_id,
        max(customer_sequence) as customer_sequence,
        max(invoice_sequence) as last_invoice_sequence

    from previous
    group by external_customer_id

),

new_customers as (

    select
        external_customer_id,
        (select coalesce(max(customer_sequence), 0) from previous)
            + row_number() over (order by min(finalized_at), external_customer_id)
            as customer_sequence,
        0 as last_invoice_sequence

    from to_finalize
    anti join known_customers using (external_customer_id)
    group by external_customer_id

),

customer_sequences as (

    select * from known_customers
    union all
    select * from new_customers

),

numbered as (

    select
        to_finalize.*,
        customer_sequences.customer_sequence,
        customer_sequences.last_invoice_sequence + row_number() over (
            partition by to_finalize.external_customer_id
            order by to_finalize.finalized_at, to_finalize.invoice_id) as invoice_sequence,
        (select coalesce(max(organization_sequence), 0) from previous) + row_number() over (
            order by to_finalize.finalized_at, to_finalize.external_customer_id,
                to_finalize.invoice_id) as organization_sequence

    from to_finalize
    inner join customer_sequences using (external_customer_id)

),

fee_lists as (

    select
        invoice_id,
        list({
            'fee_id': fee_id,
            'fee_key': fee_key,
            'fee_type': fee_type,
            'external_subscription_id': external_subscription_id,
            'phase_index': phase_index,
            'period_index': period_index,
            'charges_index': charges_index,
            'plan_code': plan_code,
            'charge_id': charge_id,
            'billable_metric_code': billable_metric_code,
            'billable_metric_name': billable_metric_name,
            'charge_model': charge_model,
            'pricing_id': pricing_id,
            'filter_position': filter_position,
            'display_name': display_name,
            'group_key': group_key,
            'is_true_up': is_true_up,
            'add_on_code': add_on_code,
            'units': units,
            'events_count': events_count,
            'unit_amount_cents': unit_amount_cents,
            'amount_cents': amount_cents,
            'precise_amount_cents': precise_amount_cents,
            'coupons_amount_cents': coupons_amount_cents,
            'precise_coupons_amount_cents': precise_coupons_amount_cents,
            'taxes_amount_cents': taxes_amount_cents,
            'taxes_rate': taxes_rate,
            'from_datetime': from_datetime,
            'to_datetime': to_datetime
        } order by charge_position nulls first, fee_type desc, billable_metric_code,
            filter_position, group_key, is_true_up, fee_key) as fees

    from fees
    group by invoice_id

),

tax_lists as (

    select
        invoice_id,
        list({
            'tax_code': tax_code,
            'tax_name': tax_name,
            'tax_rate': tax_rate,
            'taxable_amount_cents': taxable_amount_cents,
            'amount_cents': amount_cents
        } order by tax_code) as applied_taxes

    from (
        select
            fees.invoice_id,
            fee_taxes.tax_code,
            any_value(fee_taxes.tax_name) as tax_name,
            any_value(fee_taxes.tax_rate) as tax_rate,
            -- the fees after coupons, rounded once per tax
            cast(round(sum(fee_taxes.taxable_amount_cents), 0) as bigint) as taxable_amount_cents,
            cast(round(sum(fee_taxes.precise_taxes_amount_cents), 0) as bigint) as amount_cents
        from fee_taxes
        inner join fees using (fee_key)
        group by fees.invoice_id, fee_taxes.tax_code
    )
    group by invoice_id

),

coupon_lists as (

    -- the coupon credits, in the order they were applied; later closes read them back
    -- (finalized_coupon_credits) to carry a coupon's remainder and count its invoices
    select
        invoice_id,
        list({
            'applied_coupon_id': applied_coupon_id,
            'coupon_code': coupon_code,
            'amount_cents': amount_cents
        } order by position) as applied_coupons

    from coupon_credits
    group by invoice_id

),

prepaid_credit_lists as (

    -- the credits each wallet paid, in the order the wallets were applied; later closes read
    -- them back (finalized_prepaid_credits) so the balances they leave carry on
    select
        invoice_id,
        list({
            'wallet_id': wallet_id,
            'wallet_code': wallet_code,
            'amount_cents': amount_cents,
            'credit_amount': credit_amount
        } order by position) as applied_prepaid_credits

    from prepaid_credits
    group by invoice_id

),

credit_note_lists as (

    -- what each credit note gave the invoice, oldest credit note first; later closes read
    -- them back (finalized_credit_note_credits) to carry each credit note's balance
    select
        invoice_id,
        list({
            'credit_note_id': credit_note_id,
            'amount_cents': amount_cents
        } order by position) as applied_credit_notes

    from credit_note_credits
    group by invoice_id

),

item_lists as (

    select
        invoice_keys.invoice_id,
        list({
            'external_subscription_id': items.external_subscription_id,
            'phase_index': items.phase_index,
            'period_index': items.period_index,
            'charges_index': items.charges_index,
            'item_type': items.item_type
        } order by items.external_subscription_id, items.phase_index, items.period_index,
            items.charges_index,
            items.item_type) as billed_items

    from items
    inner join invoice_keys using (external_customer_id, billing_at, invoice_group)
    group by invoice_keys.invoice_id

),

final as (

    select
        numbered.invoice_id,
        case organization.document_numbering
            when 'per_organization' then organization.document_number_prefix || '-'
                || strftime({{ local_date('numbered.finalized_at', 'organization.timezone') }},
                            '%Y%m')
                || '-' || printf('%03d', numbered.organization_sequence)
            else organization.document_number_prefix || '-'
                || printf('%03d', numbered.customer_sequence) || '-'
                || printf('%03d', numbered.invoice_sequence)
        end as number,
        numbered.customer_sequence,
        numbered.invoice_sequence,
        numbered.organization_sequence,
        numbered.external_customer_id,
        numbered.invoice_type,
        'finalized' as status,
        numbered.currency,
        numbered.timezone,
        numbered.billing_at,
        numbered.finalized_at,
        numbered.issuing_date,
        numbered.payment_due_date,
        numbered.net_payment_term,
        numbered.from_datetime,
        numbered.to_datetime,
        numbered.fees_amount_cents,
        numbered.coupons_amount_cents,
        numbered.sub_total_excluding_taxes_amount_cents,
        numbered.taxes_amount_cents,
        numbered.sub_total_including_taxes_amount_cents,
        numbered.credit_notes_amount_cents,
        numbered.prepaid_credit_amount_cents,
        numbered.total_amount_cents,
        -- a re-rating's supplementary invoice: the invoice it corrects, and the re-rating
        numbered.corrects_invoice_id,
        numbered.rerate_id,
        organization.catalog_version,
        -- the events landed when the invoice was frozen: an event of its periods landing
        -- later is late usage (event_reconciliation, late_events), never silently billed
        landed.landed_through_seq,
        coalesce(fee_lists.fees, []) as fees,
        coalesce(tax_lists.applied_taxes, []) as applied_taxes,
        coalesce(item_lists.billed_items, []) as billed_items,
        coalesce(coupon_lists.applied_coupons, []) as applied_coupons,
        coalesce(prepaid_credit_lists.applied_prepaid_credits, []) as applied_prepaid_credits,
        coalesce(credit_note_lists.applied_credit_notes, []) as applied_credit_notes

    from numbered
    cross join organization
    cross join (
        select coalesce(max(landing_seq), -1) as landed_through_seq
        from {{ ref('stg_usage__events') }}
    ) as landed
    left join fee_lists using (invoice_id)
    left join tax_lists using (invoice_id)
    left join item_lists using (invoice_id)
    left join coupon_lists using (invoice_id)
    left join prepaid_credit_lists using (invoice_id)
    left join credit_note_lists using (invoice_id)

)

select * from final
order by organization_sequence
