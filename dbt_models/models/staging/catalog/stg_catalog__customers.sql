with

source as (

    select * from {{ source('catalog', 'customers') }}

),

organization as (

    select * from {{ source('catalog', 'organization') }}

),

renamed as (

    select
        source.external_customer_id,
        source.name as customer_name,
        source.legal_name,
        source.legal_number,
        source.tax_identification_number,
        source.email,
        source.address_line1,
        source.address_line2,
        source.city,
        source.zipcode,
        source.state,
        source.country,
        source.currency,
        -- Applicable settings: the customer's own, else the organization's (LAGO_RULES.md §6, §17).
        coalesce(source.timezone, organization.timezone, 'UTC') as timezone,
        coalesce(source.invoice_grace_period, organization.invoice_grace_period, 0)
            as invoice_grace_period,
        coalesce(source.net_payment_term, organization.net_payment_term, 0) as net_payment_term,
        coalesce(source.document_locale, organization.document_locale, 'en') as document_locale,
        coalesce(source.finalize_zero_amount_invoice, organization.finalize_zero_amount_invoice)
            as finalize_zero_amount_invoice

    from source
    cross join organization

)

select * from renamed
