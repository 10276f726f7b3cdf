-- Catalog table as validated on load (orchestration/lib/catalog): already typed and named.
select * from {{ source('catalog', 'wallet_targets') }}
