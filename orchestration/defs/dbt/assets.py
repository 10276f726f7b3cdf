import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.defs.dbt.project import billing_project
from orchestration.lib.settings import BillingSettings, format_instant

class BillingTranslator(DagsterDbtTranslator):
    """Models keep their dbt names as asset keys; a source table is the asset of the Python
    step that writes it (catalog/<table>, landing/<table>); groups follow the dbt layers."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        return fqn[1] if len(fqn) > 2 else "marts"


def dbt_vars(settings: BillingSettings) -> dict[str, str]:
    """What one close passes to dbt: the instant it closes as of and the warehouse file."""
    return {"as_of": format_instant(settings.as_of_instant), "warehouse": str(settings.warehouse)}


@dbt_assets(
    manifest=billing_project.manifest_path,
    project=billing_project,
    dagster_dbt_translator=BillingTranslator(),
    pool="warehouse",
)
def billing_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                       settings: BillingSettings):
    """Metering, rating and invoicing: the dbt models, built (with their tests) in one call."""
    args = ["build", "--vars", json.dumps(dbt_vars(settings))]
    yield from dbt.cli(args, context=context).stream()
