import dagster as dg

# The period close: every asset, from the catalog and the landed events through the dbt models
# and their checks to the invoice documents. `billing run`, the schedules and backfills all
# run this job.
billing_close = dg.define_asset_job(
    "billing_close",
    selection=dg.AssetSelection.all(),
    description="Close every billing period due as of the run's instant, and render its invoices.",
)
