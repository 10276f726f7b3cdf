{{ config(materialized='table') }}

-- Each credit note request of credit_notes.yaml, with the finalized invoice it credits and
-- what the close does with it (LAGO_RULES.md §12; getlago/lago-api CreditNotes::CreateService):
--
--   scheduled  its `at` is after --as-of: a later close issues it;
--   pending    named by a number no invoice had when this close began: an invoice is numbered
--              when the ledger freezes it, at the end of a close, so a request naming it is
--              issued by the next close (credit_note_requests tells which);
--   issued     the credit note exists from `at` on;
--   refused    the invoice cannot be credited as asked: the close stops before anything is
--              finalized (int_credit_note_checks), naming the file, the request and the field.
--
-- Named by customer and issuing date, the invoice may be one this close finalizes: it is
-- found, so closing month by month or several months at once issues the same credit notes.
-- The invoice must be finalized by the request's `at` (Lago credits finalized invoices only).
with

requests as (

    select * from {{ ref('stg_catalog__credit_note_requests') }}

),

invoices as (

    select distinct
        invoice_id, invoice_number, external_customer_id, currency, timezone, billing_at,
        issuing_date, invoice_total_amount_cents, is_finalized_before
    from {{ ref('int_creditable_fees') }}

),

matches as (

    select
        requests.request_id,
        invoices.*

    from requests
    inner join invoices
        on (requests.invoice_number is not null
            and invoices.invoice_number = requests.invoice_number)
        or (requests.invoice_number is null
            and invoices.external_customer_id = requests.external_customer_id
            and invoices.issuing_date = requests.invoice_issuing_date)

),

matched as (

    select
        request_id,
        count(*) as invoices_matched,
        -- several invoices issued the same day: the earliest finalized by the request's `at`
        -- would be a guess, so the request is refused
        any_value(invoice_id) as invoice_id

    from matches
    group by request_id

),

resolved as (

    select
        requests.*,
        coalesce(matched.invoices_matched, 0) as invoices_matched,
        matches.invoice_id,
        matches.invoice_number as finalized_invoice_number,
        matches.external_customer_id as invoice_customer_id,
        matches.currency,
        matches.timezone,
        matches.billing_at as invoice_billing_at,
        matches.issuing_date,
        matches.invoice_total_amount_cents,
        matches.is_finalized_before

    from requests
    left join matched using (request_id)
    left join matches
        on matches.request_id = requests.request_id
        and matches.invoice_id = matched.invoice_id
        and matched.invoices_matched = 1

),

final as (

    select
        *,
        case
            when requested_at > {{ as_of() }} then 'scheduled'
            when invoice_number is not null and invoices_matched = 0 then 'pending'
            when invoices_matched <> 1 or invoice_billing_at > requested_at then 'refused'
            else 'issued'
        end as status,
        case
            when requested_at > {{ as_of() }} then null
            when invoice_number is not null and invoices_matched = 0 then
                'no invoice numbered ' || invoice_number || ' was finalized when this close '
                || 'began; the close that finds it issues the credit note'
            when invoices_matched = 0 then
                'no invoice of customer ' || external_customer_id || ' was issued on '
                || strftime(invoice_issuing_date, '%Y-%m-%d') || ' by the request''s at ('
                || strftime(requested_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%SZ') || ')'
            when invoices_matched > 1 then
                'customer ' || external_customer_id || ' has ' || invoices_matched
                || ' invoices issued on ' || strftime(invoice_issuing_date, '%Y-%m-%d')
                || '; name the invoice by invoice_number'
            when invoice_billing_at > requested_at then
                'the invoice is finalized at '
                || strftime(invoice_billing_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%SZ')
                || ', after the request''s at; a credit note credits a finalized invoice'
        end as status_reason,
        case when invoice_number is not null then 'invoice_number' else 'invoice_issuing_date' end
            as invoice_field

    from resolved

)

select * from final
