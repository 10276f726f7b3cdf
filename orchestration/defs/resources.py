import importlib.metadata
from functools import cached_property

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.defs.dbt.project import billing_project, dbt_executable
from orchestration.lib.settings import BillingSettings


class BillingDbtResource(DbtCliResource):
    """dagster-dbt's resource without two costs we do not need on every close (about 4 s):
    asking the dbt executable its version in a subprocess (the installed dbt-core package
    knows it), and opening an in-process dbt adapter, which only serves optional column and
    row-count metadata."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={
        "settings": BillingSettings(),
        "dbt": BillingDbtResource(project_dir=billing_project, dbt_executable=dbt_executable()),
    })
