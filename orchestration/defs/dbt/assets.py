import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from orchestration.defs.dbt.project import billing_project
from orchestration.lib.partitions import CLOSE_DAYS, ONE_RUN
from orchestration.lib.catalog.errors import catalog_refusal
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


def dbt_environment(settings: BillingSettings) -> dict[str, str]:
    """What one close tells dbt: the instant it closes as of and the warehouse file. Passed as
    environment variables (read by the as_of() macro and profiles.yml): a changed --vars or
    profile makes dbt re-parse the whole project, a changed variable only the files using it."""
    return {"BILLING_AS_OF": format_instant(settings.as_of_instant),
            "BILLING_CLOSE_DAY": "" if settings.as_of else (settings.close_day or ""),
            "BILLING_WAREHOUSE": str(settings.warehouse),
            # No dbt.log: every line dbt logs already reaches the run's log through dagster-dbt
            # (logs/billing-close.log for `billing`, the compute logs under Dagster), and
            # writing each line a second time was ~1.5 s of dbt's one busy core on a 10M
            # close. DBT_LOG_LEVEL_FILE=info (or debug: every statement of every node) writes
            # dbt.log beside the warehouse (dbt_target_path) when a close needs looking into.
            "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", "none")}


def dbt_target_path(settings: BillingSettings) -> Path:
    """One dbt target folder per warehouse, beside it (`.<warehouse file>.dbt/`): its
    partial-parse cache serves the next close, concurrent closes of other warehouses never
    share one, and it goes away with the warehouse's folder."""
    warehouse = Path(settings.warehouse)
    return warehouse.parent / f".{warehouse.name}.dbt"


def seed_partial_parse(target_path: Path) -> None:
    """Give a new warehouse's dbt target folder the project's parsed state (the
    partial_parse.msgpack `billing` or `dg dev` wrote under target/ when it parsed the project
    for Dagster), so that its first close does not parse the whole project again. dbt checks
    the state itself (file hashes, profile, variables) and re-parses what differs; the profile
    names no warehouse file (profiles.yml), so the state holds for every warehouse."""
    seed = billing_project.project_dir / "target" / "partial_parse.msgpack"
    wanted = target_path / "partial_parse.msgpack"
    if wanted.exists() or not seed.exists():
        return
    target_path.mkdir(parents=True, exist_ok=True)
    partial = target_path / f".partial_parse.msgpack.{os.getpid()}"
    with open(seed.parent / ".prepare.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)  # not while `billing` re-parses the project
        shutil.copyfile(seed, partial)
    os.replace(partial, wanted)


@contextlib.contextmanager
def scoped_environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# A close builds the dbt selector `close` (selectors.yml): every model, seed and data test but
# the `layer_tests`, the tests written beside the staging and intermediate models. Those check
# the layers' own shape (a key unique in a view, a status among its values): they guard the
# SQL as written more than a close's data, which the tests of the marts and the singular tests
# (invoice totals balance, every event read accounted for, every fee due invoiced) check on
# every close. They are about a third of a close's dbt nodes and of its time on a small
# warehouse; `make build` and the test suite (tests/conftest.py: layer_test_failures) run them.
CLOSE_SELECTOR = "close"


@dbt_assets(
    manifest=billing_project.manifest_path,
    selector=CLOSE_SELECTOR,
    project=billing_project,
    dagster_dbt_translator=BillingTranslator(),
    pool="warehouse",
    partitions_def=CLOSE_DAYS,
    backfill_policy=ONE_RUN,
)
def billing_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                       settings: BillingSettings):
    """Metering, rating and invoicing: the dbt models, built (with their tests) in one call."""
    settings = settings.for_run(context)
    with scoped_environment(dbt_environment(settings)):  # dbt's process copies it at start
        # unit tests check the SQL against fixtures, not the data: `make build` and
        # tests/test_dbt_unit_tests.py run them; a close only runs the data tests
        target_path = dbt_target_path(settings)
        seed_partial_parse(target_path)
        invocation = dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context,
                             target_path=target_path)
    try:
        yield from invocation.stream()
    except DagsterDbtCliRuntimeError as error:
        refusal = catalog_refusal(str(error))
        if refusal is None:
            raise
        raise dg.Failure(description=refusal) from error

