import dagster as dg

from orchestration.lib.catalog import CATALOG_TABLES, CatalogError, validate_catalog, write_catalog
from orchestration.lib.settings import BillingSettings
from orchestration.lib.partitions import CLOSE_DAYS, ONE_RUN
from orchestration.lib.warehouse import LedgerFormatError, check_ledger_format, connect


@dg.multi_asset(
    specs=[dg.AssetSpec(["catalog", table], group_name="inputs", kinds={"yaml", "duckdb"})
           for table in CATALOG_TABLES],
    name="catalog",
    partitions_def=CLOSE_DAYS,
    backfill_policy=ONE_RUN,
    pool="warehouse",
    description="The pricing catalog (CONTRACT.md §2), validated and written to the warehouse "
                "as tables, all at once. A catalog with any problem is refused, naming file, "
                "object and field, before anything is computed.",
)
def catalog(context: dg.AssetExecutionContext, settings: BillingSettings):
    try:
        loaded = validate_catalog(settings.catalog)
    except CatalogError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    for warning in loaded.warnings:
        context.log.warning(warning)
    with connect(settings.warehouse) as con:
        try:
            check_ledger_format(con, settings.warehouse)
        except LedgerFormatError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        counts = write_catalog(con, loaded)
    context.log.info(f"catalog {loaded.version[:12]}: {counts['plans']} plans, "
                     f"{counts['customers']} customers, {counts['subscriptions']} subscriptions")
    for table in CATALOG_TABLES:
        yield dg.MaterializeResult(
            asset_key=["catalog", table],
            metadata={"rows": counts[table], "catalog_version": loaded.version,
                      "folder": str(settings.catalog)})
