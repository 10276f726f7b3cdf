import dagster as dg

from orchestration.defs.checks.output_contracts import validate_table
from orchestration.defs.dbt.assets import dbt_target_path
from orchestration.lib.review import Check, collect, dbt_checks, write_report
from orchestration.lib.schemas import FeeSchema, InvoiceSchema
from orchestration.lib.settings import BillingSettings
from orchestration.lib.partitions import CLOSE_DAYS, ONE_RUN
from orchestration.lib.warehouse import connect


@dg.asset(
    key="review_report",
    group_name="review",
    partitions_def=CLOSE_DAYS,
    backfill_policy=ONE_RUN,
    kinds={"html"},
    deps=["int_close_gates", "int_invoices_credited", "int_fees", "invoices", "late_events",
          "quarantined_events"],
    pool="warehouse",
    description="The finance review page of the close, written next to the warehouse "
                "(review/<warehouse>-<as-of>-<run>.html, and <warehouse>-latest.html): totals "
                "per currency, plan and customer, the largest movers against the previous "
                "invoice, customers with no usage, quarantined events by reason, events per "
                "metric per day, and every check of the run with the failing rules named.",
)
def review_report(context: dg.AssetExecutionContext,
                  settings: BillingSettings) -> dg.MaterializeResult:
    settings = settings.for_run(context)
    checks = dbt_checks(dbt_target_path(settings) / "run_results.json")
    for table, schema in (("invoices", InvoiceSchema), ("fees", FeeSchema)):
        result = validate_table(settings, table, schema)
        checks.append(Check(f"{table} pandera schema", "pandera",
                            "pass" if result.passed else "fail", result.description or ""))
    with connect(settings.warehouse, read_only=True) as con:
        review = collect(con, run_id=context.run.run_id, as_of=settings.as_of_instant,
                         checks=checks)
    path = write_report(review, settings.warehouse)
    failed = [c.name for c in review.failed_checks]
    context.log.info(f"review report: {path}" + (f" ({len(failed)} failed check(s): "
                                                 f"{', '.join(failed)})" if failed else ""))
    blocked = review.failed_gates
    if blocked:
        rules = "; ".join(f"{g['rule']} ({g['failures']} failing"
                          + (f", e.g. {g['example']}" if g["example"] else "") + ")"
                          for g in blocked)
        raise dg.Failure(description=f"finalization blocked by review gate(s): {rules}; "
                                     f"nothing was finalized. Review report: {path}",
                         allow_retries=False)
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(path)),
        "customers": len(review.customers),
        "failed_checks": ", ".join(failed) or "none"})
