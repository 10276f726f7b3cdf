{{ config(materialized='table') }}

-- Every credit note issued by --as-of, requested (credit_notes.yaml) or automatic (a
-- terminated or upgraded pay-in-advance subscription), with its amounts as Lago computes them
-- (LAGO_RULES.md §12; getlago/lago-api CreditNotes::CreateService, ApplyTaxesService,
-- AdjustAmountsWithRoundingService, CreditNote#sub_total_excluding_taxes_amount_cents):
--
--   coupons adjustment   = Σ items' coupon shares (rounded for display);
--   sub total            = round(Σ items - coupons adjustment);
--   taxes                = round(Σ items' precise taxes);
--   total                = credit + refund as requested, moved by one unit towards
--                          sub total + taxes when they differ (int_credit_note_checks refuses
--                          a request off by more than one unit); the unit goes to the credit,
--                          or to the refund when nothing is credited.
--
-- An automatic credit note credits its whole total to the customer's balance (Lago's default,
-- on_termination: credit). The credit is then consumed by the customer's next invoices
-- (int_credit_note_applications); the refund is paid back and never applied to an invoice.
with

items as (

    select * from {{ ref('int_credit_note_items') }}

),

requests as (

    select * from {{ ref('int_credit_note_requests') }}
    where status = 'issued'

),

fees as (

    select distinct invoice_id, external_customer_id, currency, timezone, invoice_number
    from {{ ref('int_creditable_fees') }}

),

notes as (

    select
        credit_note_id,
        any_value(invoice_id) as invoice_id,
        any_value(created_at) as created_at,
        any_value(reason) as reason,
        any_value(rerate_id) as rerate_id,
        -- the subscription of an automatic credit note (its one item)
        case when count(*) = 1 then any_value(external_subscription_id) end
            as external_subscription_id,
        count(*) as items_count,
        sum(precise_amount_cents) as items_precise_amount_cents,
        sum(precise_coupons_amount_cents) as precise_coupons_adjustment_amount_cents,
        sum(precise_taxes_amount_cents) as precise_taxes_amount_cents,
        max(taxes_rate) as taxes_rate

    from items
    group by credit_note_id

),

amounts as (

    select
        notes.*,
        fees.external_customer_id,
        fees.currency,
        fees.timezone,
        requests.request_id,
        requests.label as request_label,
        coalesce(requests.description, 'Re-rating ' || notes.rerate_id) as description,
        case
            when notes.rerate_id is not null then 'rerate'
            when requests.request_id is null then 'termination'
            else 'request'
        end as origin,
        cast(round(notes.precise_coupons_adjustment_amount_cents, 0) as bigint)
            as coupons_adjustment_amount_cents,
        cast(round(notes.items_precise_amount_cents
                   - notes.precise_coupons_adjustment_amount_cents, 0) as bigint)
            as sub_total_excluding_taxes_amount_cents,
        cast(round(notes.precise_taxes_amount_cents, 0) as bigint) as taxes_amount_cents,
        -- requested: as asked; automatic: all of it to the balance
        coalesce(requests.credit_amount_cents,
                 sub_total_excluding_taxes_amount_cents + taxes_amount_cents)
            as requested_credit_amount_cents,
        coalesce(requests.refund_amount_cents, 0) as requested_refund_amount_cents

    from notes
    inner join fees using (invoice_id)
    left join requests
        on md5(concat_ws('|', 'request', requests.request_id)) = notes.credit_note_id

),

adjusted as (

    -- Lago's rounding adjustment: one unit towards sub total + taxes
    select
        *,
        requested_credit_amount_cents + requested_refund_amount_cents
            + sign(sub_total_excluding_taxes_amount_cents + taxes_amount_cents
                   - requested_credit_amount_cents - requested_refund_amount_cents)
            as total_amount_cents

    from amounts

),

final as (

    select
        credit_note_id,
        origin,
        request_id,
        rerate_id,
        request_label,
        invoice_id,
        external_customer_id,
        external_subscription_id,
        reason,
        description,
        currency,
        timezone,
        created_at,
        {{ local_date('created_at', 'timezone') }} as issuing_date,
        items_count,
        items_precise_amount_cents,
        precise_coupons_adjustment_amount_cents,
        coupons_adjustment_amount_cents,
        sub_total_excluding_taxes_amount_cents,
        precise_taxes_amount_cents,
        taxes_amount_cents,
        taxes_rate,
        requested_credit_amount_cents,
        requested_refund_amount_cents,
        cast(total_amount_cents as bigint) as total_amount_cents,
        cast(case when requested_credit_amount_cents > 0
            then total_amount_cents - requested_refund_amount_cents else 0 end as bigint)
            as credit_amount_cents,
        cast(case when requested_credit_amount_cents > 0 then requested_refund_amount_cents
            else total_amount_cents end as bigint) as refund_amount_cents

    from adjusted

)

select * from final
