import dagster as dg

from orchestration.lib.approvals import APPROVALS_DDL, ApprovalError, parse_period, record_approval
from orchestration.lib.partitions import CLOSE_DAYS, ONE_RUN
from orchestration.lib.rerates import RERATES_DDL, RerateError, approve_rerate, parse_range, \
    request_rerate
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


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["ledger", "rerates"], group_name="inputs", kinds={"duckdb"},
                     description="Re-rating requests (`billing rerate --from … --to …`): the "
                                 "finalized period parts ending in those days are recomputed by "
                                 "every close until the request is approved."),
        dg.AssetSpec(["ledger", "rerate_approvals"], group_name="inputs", kinds={"duckdb"},
                     description="Approved re-ratings (`billing approve --rerate …`): the next "
                                 "close issues their credit notes and supplementary invoices."),
    ],
    partitions_def=CLOSE_DAYS,
    backfill_policy=ONE_RUN,
    pool="warehouse",
)
def rerates(context: dg.AssetExecutionContext, settings: BillingSettings):
    settings = settings.for_run(context)
    with connect(settings.warehouse) as con:
        con.execute(RERATES_DDL)
        try:
            if settings.rerate_from or settings.rerate_to:
                request = parse_range(settings.rerate_from or "", settings.rerate_to or "",
                                      settings.rerate_customer)
                rerate_id, new = request_rerate(con, request, settings.as_of_instant,
                                                note=f"run {context.run.run_id}")
                who = request.external_customer_id or "every customer"
                context.log.info(
                    f"{'requested' if new else 'still open:'} re-rating {rerate_id} of the "
                    f"periods ending {request.first_day} to {request.last_day} ({who})")
            if settings.approve_rerate:
                new = approve_rerate(con, settings.approve_rerate, settings.as_of_instant,
                                     note=f"run {context.run.run_id}")
                context.log.info(f"approved re-rating {settings.approve_rerate}" if new else
                                 f"re-rating {settings.approve_rerate} was already approved: "
                                 f"nothing is issued twice")
        except RerateError as exc:
            raise dg.Failure(description=f"rerate: {exc}", allow_retries=False) from None
        requested, approved = con.execute(
            "select (select count(*) from ledger.rerates), "
            "(select count(*) from ledger.rerate_approvals)").fetchone()
    yield dg.MaterializeResult(asset_key=["ledger", "rerates"],
                               metadata={"requests": requested})
    yield dg.MaterializeResult(asset_key=["ledger", "rerate_approvals"],
                               metadata={"approvals": approved})
