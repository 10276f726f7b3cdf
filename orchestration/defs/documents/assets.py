import dagster as dg

from orchestration.lib.documents import CREDIT_NOTE, INVOICE, render_pending_documents
from orchestration.lib.settings import BillingSettings
from orchestration.lib.partitions import CLOSE_DAYS, ONE_RUN
from orchestration.lib.warehouse import connect


@dg.asset(
    key="invoice_documents",
    group_name="documents",
    partitions_def=CLOSE_DAYS,
    backfill_policy=ONE_RUN,
    kinds={"weasyprint", "pdf"},
    deps=["invoices", "fees", "invoice_taxes", "credit_notes"],
    pool="warehouse",
    description="One PDF per finalized invoice and per credit note, rendered from the final "
                "tables once (neither ever changes), into the documents folder "
                "(invoices/ and credit_notes/).",
)
def invoice_documents(context: dg.AssetExecutionContext,
                      settings: BillingSettings) -> dg.MaterializeResult:
    folder = settings.documents
    with connect(settings.warehouse) as con:
        result = render_pending_documents(con, folder)
    invoices = result.rendered_by_type.get(INVOICE, 0)
    credit_notes = result.rendered_by_type.get(CREDIT_NOTE, 0)
    context.log.info(f"rendered {invoices} invoice PDF(s) and {credit_notes} credit note PDF(s) "
                     f"into {folder}")
    return dg.MaterializeResult(metadata={
        "rendered": result.rendered, "rendered_invoices": invoices,
        "rendered_credit_notes": credit_notes, "already_rendered": result.already_rendered,
        "folder": dg.MetadataValue.path(str(folder))})
