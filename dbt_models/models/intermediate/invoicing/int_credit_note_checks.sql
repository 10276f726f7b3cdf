{{ config(materialized='table') }}

-- The checks of a credit note request that need its invoice (LAGO_RULES.md §12; getlago/
-- lago-api CreditNotes::ValidateItemService and ValidateService), each naming the file, the
-- request and the field as a catalog refusal does. The catalog loader checks what a request
-- says on its own (orchestration/lib/catalog/validate.py); these need the finalized invoice:
--
--   * the invoice exists and is finalized by the request's `at` (int_credit_note_requests);
--   * each item names exactly one fee of the invoice;
--   * an item is at most what is left to credit of its fee: its amount less the items of
--     earlier credit notes on it (Fee#creditable_amount_cents);
--   * credit + refund match the items: round(items - coupon shares + taxes), to one unit;
--   * the credit is at most what is left to credit of the invoice (its fees plus their taxes
--     at their rates, less earlier credit notes' credits), to one unit;
--   * credit + refund are at most the invoice's fees plus taxes less every earlier credit note;
--   * the refund is at most what was paid less earlier refunds. We do not track payments: a
--     finalized invoice counts as paid, in full, for its total (after credit notes and prepaid
--     credits), so a refund never pays back what a credit note or a wallet settled.
--
-- When any check fails the close stops here, before the ledger freezes anything
-- (ledger.finalized_invoices depends on this model), and prints every problem.
with

requests as (

    select * from {{ ref('int_credit_note_requests') }}

),

request_fees as (

    select * from {{ ref('int_credit_note_request_fees') }}

),

items as (

    select * from {{ ref('int_credit_note_items') }}

),

credit_notes as (

    select * from {{ ref('int_credit_notes') }}

),

fees as (

    select * from {{ ref('int_creditable_fees') }}

),

current_totals as (

    select invoice_id, total_amount_cents from {{ ref('int_invoices_computed') }}

),

invoices as (

    -- what each credited invoice billed: fees + their taxes at their rates (Lago's
    -- Invoice#fee_total_amount_cents), and its total, as paid
    select
        fees.invoice_id,
        cast(sum(fees.amount_cents) + round(sum(fees.amount_cents * fees.taxes_rate) / 100, 0)
             as bigint) as fee_total_amount_cents,
        coalesce(any_value(fees.invoice_total_amount_cents),
                 any_value(current_totals.total_amount_cents)) as paid_amount_cents

    from fees
    left join current_totals using (invoice_id)
    group by fees.invoice_id

),

earlier_items as (

    -- per item, the items of credit notes issued before it on the same fee
    select
        items.credit_note_id,
        items.item_index,
        items.fee_amount_cents
            - coalesce(sum(earlier.amount_cents), 0) as creditable_amount_cents

    from items
    left join items as earlier
        on earlier.fee_id = items.fee_id
        and (earlier.created_at, earlier.credit_note_id) < (items.created_at, items.credit_note_id)
        -- an earlier item larger than the fee on its own is refused itself: not counted twice
        and earlier.amount_cents <= earlier.fee_amount_cents
    group by items.credit_note_id, items.item_index, items.fee_amount_cents

),

earlier_notes as (

    select
        credit_notes.credit_note_id,
        coalesce(sum(earlier.credit_amount_cents), 0) as credited_before_cents,
        coalesce(sum(earlier.refund_amount_cents), 0) as refunded_before_cents

    from credit_notes
    left join credit_notes as earlier
        on earlier.invoice_id = credit_notes.invoice_id
        and (earlier.created_at, earlier.credit_note_id)
            < (credit_notes.created_at, credit_notes.credit_note_id)
    group by credit_notes.credit_note_id

),

problems as (

    select position, label, invoice_field as field, status_reason as message
    from requests
    where status = 'refused'

    union all

    select distinct requests.position, requests.label,
        'items[' || request_fees.item_index || '].fee',
        case when request_fees.fees_matched = 0
            then 'no ' || request_fees.fee_type || ' fee of subscription '
                || request_fees.external_subscription_id
                || coalesce(' on billable metric ' || request_fees.billable_metric_code, '')
                || ' is on the invoice'
            else request_fees.fees_matched || ' fees of the invoice match (a charge with '
                || 'filters or pricing groups); a credit note item credits one fee'
        end
    from request_fees
    inner join requests using (request_id)
    where request_fees.fees_matched <> 1

    union all

    select requests.position, requests.label,
        'items[' || items.item_index || '].amount_cents',
        items.amount_cents || ' is more than is left to credit on the fee ('
            || earlier_items.creditable_amount_cents || ' of ' || items.fee_amount_cents || ')'
    from items
    inner join earlier_items using (credit_note_id, item_index)
    inner join credit_notes using (credit_note_id)
    inner join requests using (request_id)
    where items.amount_cents > earlier_items.creditable_amount_cents

    union all

    select requests.position, requests.label, 'credit_amount_cents',
        'credit_amount_cents + refund_amount_cents = '
            || (credit_notes.requested_credit_amount_cents
                + credit_notes.requested_refund_amount_cents)
            || ', but the items come to '
            || cast(round(credit_notes.items_precise_amount_cents
                          - credit_notes.precise_coupons_adjustment_amount_cents
                          + credit_notes.precise_taxes_amount_cents, 0) as bigint)
            || ' (items ' || cast(credit_notes.items_precise_amount_cents as bigint)
            || ' - coupons ' || credit_notes.coupons_adjustment_amount_cents
            || ' + taxes ' || credit_notes.taxes_amount_cents || ')'
    from credit_notes
    inner join requests using (request_id)
    where abs(credit_notes.requested_credit_amount_cents
              + credit_notes.requested_refund_amount_cents
              - round(credit_notes.items_precise_amount_cents
                      - credit_notes.precise_coupons_adjustment_amount_cents
                      + credit_notes.precise_taxes_amount_cents, 0)) > 1

    union all

    select requests.position, requests.label, 'credit_amount_cents',
        credit_notes.credit_amount_cents || ' is more than is left to credit on the invoice ('
            || (invoices.fee_total_amount_cents - earlier_notes.credited_before_cents) || ')'
    from credit_notes
    inner join earlier_notes using (credit_note_id)
    inner join invoices using (invoice_id)
    inner join requests using (request_id)
    where credit_notes.credit_amount_cents
        > invoices.fee_total_amount_cents - earlier_notes.credited_before_cents + 1

    union all

    select requests.position, requests.label, 'credit_amount_cents',
        'credit_amount_cents + refund_amount_cents = ' || credit_notes.total_amount_cents
            || ' is more than is left of the invoice ('
            || (invoices.fee_total_amount_cents - earlier_notes.credited_before_cents
                - earlier_notes.refunded_before_cents) || ')'
    from credit_notes
    inner join earlier_notes using (credit_note_id)
    inner join invoices using (invoice_id)
    inner join requests using (request_id)
    where credit_notes.total_amount_cents > invoices.fee_total_amount_cents
        - earlier_notes.credited_before_cents - earlier_notes.refunded_before_cents + 1

    union all

    select requests.position, requests.label, 'refund_amount_cents',
        credit_notes.refund_amount_cents || ' is more than was paid on the invoice less '
            || 'earlier refunds (' || (invoices.paid_amount_cents
                - earlier_notes.refunded_before_cents) || '; an invoice counts as paid for '
            || 'its total, after credit notes and prepaid credits)'
    from credit_notes
    inner join earlier_notes using (credit_note_id)
    inner join invoices using (invoice_id)
    inner join requests using (request_id)
    where credit_notes.refund_amount_cents
        > invoices.paid_amount_cents - earlier_notes.refunded_before_cents

),

final as (

    select
        count(*) as problems,
        case when count(*) > 0 then error(
            'credit_notes.yaml refused: ' || count(*) || ' problem(s)' || chr(10)
            || string_agg('  - credit_notes.yaml: ' || label || ': ' || field || ': ' || message,
                          chr(10) order by position, field))
        end as refused

    from problems

)

select * from final
