import dagster as dg

from orchestration.lib.run_records import record_run
from orchestration.lib.settings import PROJECT_ROOT, BillingSettings
from orchestration.lib.partitions import CLOSE_DAYS, ONE_RUN
from orchestration.lib.warehouse import connect


@dg.asset(
    key=["ledger", "close_runs"],
    group_name="records",
    partitions_def=CLOSE_DAYS,
    backfill_policy=ONE_RUN,
    kinds={"duckdb"},
    deps=["event_reconciliation", "invoices", "credit_notes", ["landing", "event_files"],
          ["catalog", "organization"]],
    pool="warehouse",
    description="One row per close, appended and never changed: the instant it closed as of, "
                "the catalog version (content hash, git commits), the event files it landed "
                "and the latest arrival seen, where every event stood, and the invoices and "
                "credit notes it finalized.",
)
def close_runs(context: dg.AssetExecutionContext, settings: BillingSettings):
    settings = settings.for_run(context)
    with connect(settings.warehouse) as con:
        record = record_run(con, run_id=context.run.run_id, as_of=settings.as_of_instant,
                            catalog_folder=settings.catalog, events_folder=settings.events,
                            project_root=PROJECT_ROOT)
    context.log.info(
        f"run recorded: catalog {record['catalog_version'][:12]}, "
        f"{len(record['event_files_landed'])} new event file(s), "
        f"{len(record['invoices_finalized'])} invoice(s) and "
        f"{len(record['credit_notes_issued'])} credit note(s) finalized")
    return dg.MaterializeResult(metadata={
        "catalog_version": record["catalog_version"],
        "catalog_git_commit": record["catalog_git_commit"] or "",
        "event_files_landed": len(record["event_files_landed"]),
        "events_read": record["events_read"],
        "invoices_finalized": len(record["invoices_finalized"]),
        "credit_notes_issued": len(record["credit_notes_issued"])})
