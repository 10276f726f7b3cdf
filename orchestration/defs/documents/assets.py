import dagster as dg

from orchestration.lib.documents import render_pending_invoices
from orchestration.lib.settings import BillingSettings
from orchestration.lib.warehouse import connect


@dg.asset(
    key="invoice_documents",
    group_name="documents",
    kinds={"weasyprint", "pdf"},
    deps=["invoices", "fees", "invoice_taxes"],
    pool="warehouse",
    description="One PDF per finalized invoice, rendered from the final tables once (a "
                "finalized invoice never changes), into the documents folder.",
)
def invoice_documents(context: dg.AssetExecutionContext,
                      settings: BillingSettings) -> dg.MaterializeResult:
    folder = settings.documents / "invoices"
    with connect(settings.warehouse) as con:
        result = render_pending_invoices(con, folder)
    context.log.info(f"rendered {result.rendered} invoice PDF(s) into {folder}")
    return dg.MaterializeResult(metadata={
        "rendered": result.rendered, "already_rendered": result.already_rendered,
        "folder": dg.MetadataValue.path(str(folder))})
