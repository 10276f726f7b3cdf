import dagster as dg

from orchestration.lib.landing import LandingError, land_events
from orchestration.lib.settings import BillingSettings
from orchestration.lib.partitions import CLOSE_DAYS, ONE_RUN
from orchestration.lib.warehouse import connect


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["landing", "events"], group_name="inputs", kinds={"parquet", "duckdb"},
                     description="Every landed event row, as it landed, in landing order."),
        dg.AssetSpec(["landing", "event_files"], group_name="inputs", kinds={"duckdb"},
                     description="Every Parquet file landed, with its row count."),
    ],
    name="landed_events",
    partitions_def=CLOSE_DAYS,
    backfill_policy=ONE_RUN,
    pool="warehouse",
    description="Usage events from the Parquet files of the events folder, landed as they are "
                "(new files only, in landing order). Unreadable files and files missing a "
                "required column stop the run, named.",
)
def landed_events(context: dg.AssetExecutionContext, settings: BillingSettings):
    try:
        with connect(settings.warehouse) as con:
            result = land_events(con, settings.events)
    except LandingError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    for path in result.missing_files:
        context.log.warning(f"{path}: landed earlier, no longer in {settings.events} "
                            f"(its events are kept)")
    context.log.info(f"landed {len(result.new_files)} new file(s), {result.new_rows} event(s); "
                     f"{result.files_total} file(s), {result.rows_total} event(s) in all")
    yield dg.MaterializeResult(asset_key=["landing", "events"], metadata={
        "new_events": result.new_rows, "events_total": result.rows_total,
        "events_folder": str(settings.events)})
    yield dg.MaterializeResult(asset_key=["landing", "event_files"], metadata={
        "new_files": len(result.new_files), "files_total": result.files_total})
