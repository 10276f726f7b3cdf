-- Nothing is lost in silence: every fee due by the close is placed on an invoice (int_fees
-- places each exactly once; a join there that dropped one would under-bill). Returns the
-- fees due that no invoice holds.
{{ config(meta={'dagster': {'ref': {'name': 'int_fees'}}}) }}

select due.fee_key, due.fee_type, due.external_subscription_id
from {{ ref('int_fees_due') }} as due
anti join {{ ref('int_fees') }} as placed using (fee_key)
