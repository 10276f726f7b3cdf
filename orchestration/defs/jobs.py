import dagster as dg

from orchestration.lib.partitions import CLOSE_DAYS

# The period close: every asset, from the catalog and the landed events through the dbt models
# and their checks to the invoice documents. `billing run`, the daily schedule, the sensor and
# backfills all run this job; a partition is a billing day (orchestration/lib/partitions.py).
billing_close = dg.define_asset_job(
    "billing_close",
    selection=dg.AssetSelection.all(),
    partitions_def=CLOSE_DAYS,
    description="Close every billing period due by the end of the partition's day in each "
                "customer's time zone (or as of the run's instant), and render its invoices.",
)
