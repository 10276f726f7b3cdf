import dagster as dg
import pandera.polars as pa

from orchestration.lib.schemas import FeeSchema, InvoiceSchema
from orchestration.lib.settings import BillingSettings
from orchestration.lib.warehouse import connect


def _markdown(frame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *rows])


def validate_table(settings: BillingSettings, table: str, schema) -> dg.AssetCheckResult:
    """The pandera contract of one output table, as an asset check result."""
    with connect(settings.warehouse, read_only=True) as con:
        frame = con.sql(f"select * from main.{table}").pl()
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases
        return dg.AssetCheckResult(
            passed=False,
            description=f"{table}: {failures.height} contract violation(s)",
            metadata={"rows": frame.height,
                      "failures": dg.MetadataValue.md(_markdown(failures.head(20)))})
    return dg.AssetCheckResult(passed=True, metadata={"rows": frame.height})


@dg.asset_check(asset="invoices", blocking=True,
                description="pandera InvoiceSchema: types, unique numbers, no negative amounts, "
                            "total = fees - coupons + taxes - credit notes - prepaid credits.")
def invoices_pandera_schema(settings: BillingSettings) -> dg.AssetCheckResult:
    return validate_table(settings, "invoices", InvoiceSchema)


@dg.asset_check(asset="fees", blocking=True,
                description="pandera FeeSchema: types, unique ids, no negative amounts.")
def fees_pandera_schema(settings: BillingSettings) -> dg.AssetCheckResult:
    return validate_table(settings, "fees", FeeSchema)
