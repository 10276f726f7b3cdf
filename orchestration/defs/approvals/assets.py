import dagster as dg

from orchestration.lib.approvals import APPROVALS_DDL, ApprovalError, parse_period, record_approval
from orchestration.lib.partitions import CLOSE_DAYS, ONE_RUN
from orchestration.lib.settings import BillingSettings
from orchestration.lib.warehouse import connect


@dg.asset(
    key=["ledger", "approvals"],
    group_name="inputs",
    kinds={"duckdb"},
    partitions_def=CLOSE_DAYS,
    backfill_policy=ONE_RUN,
    pool="warehouse",
    description="Approvals to finalize draft invoices before their grace period ends: "
                "`billing approve --period …`, or a run's approve_period setting, appends one; "
                "the close finalizes the drafts billed in that period.",
)
def approvals(context: dg.AssetExecutionContext, settings: BillingSettings):
    settings = settings.for_run(context)
    with connect(settings.warehouse) as con:
        con.execute(APPROVALS_DDL)
        if settings.approve_period:
            try:
                approval = parse_period(settings.approve_period, settings.approve_customer)
            except ApprovalError as exc:
                raise dg.Failure(description=f"approve: {exc}", allow_retries=False) from None
            approval_id = record_approval(con, approval, settings.as_of_instant,
                                          note=f"run {context.run.run_id}")
            who = approval.external_customer_id or "every customer"
            context.log.info(f"approved the drafts billed {approval.first_day} to "
                             f"{approval.last_day} ({who}): approval {approval_id}")
        total = con.execute("select count(*) from ledger.approvals").fetchone()[0]
    return dg.MaterializeResult(metadata={"approvals": total})
