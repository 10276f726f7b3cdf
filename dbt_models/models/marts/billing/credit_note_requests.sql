-- One row per credit note request of credit_notes.yaml (CONTRACT.md §2) and what became of
-- it: issued (with its credit note's number), scheduled (its `at` is after --as-of) or pending
-- (it names by number an invoice this close finalized: the next close issues it). A request
-- the close refuses never gets here: the close stops first (int_credit_note_checks). A request
-- naming by number an invoice that is still unknown once this close has finalized everything
-- due by its `at` is refused here, after the fact: nothing was issued from it.
with

requests as (

    select * from {{ ref('int_credit_note_requests') }}

),

issued as (

    select request_id, credit_note_id, number from {{ ref('issued_credit_notes') }}
    where request_id is not null

),

invoices as (

    select number from {{ ref('finalized_invoices') }}

),

final as (

    select
        requests.request_id,
        requests.position,
        requests.label,
        requests.invoice_number,
        requests.external_customer_id,
        requests.invoice_issuing_date,
        requests.requested_at,
        requests.reason,
        requests.credit_amount_cents,
        requests.refund_amount_cents,
        case
            when issued.credit_note_id is not null then 'issued'
            when requests.status = 'pending' and invoices.number is null then error(
                'credit_notes.yaml refused: ' || requests.label || ': invoice_number: no '
                || 'invoice is numbered ' || requests.invoice_number || ' (every invoice '
                || 'due by the request''s at is finalized)')
            else requests.status
        end as status,
        case
            when issued.credit_note_id is not null then null
            when requests.status = 'pending' then
                'invoice ' || requests.invoice_number || ' was finalized by this close; the '
                || 'next close issues the credit note'
            when requests.status = 'scheduled' then 'issued by the first close as of '
                || strftime(requests.requested_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%SZ')
                || ' or later'
        end as status_reason,
        issued.credit_note_id,
        issued.number as credit_note_number

    from requests
    left join issued using (request_id)
    left join invoices on invoices.number = requests.invoice_number

)

select * from final
order by position
