import importlib.metadata
import shutil
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.defs.dbt.project import billing_project
from orchestration.lib.settings import BillingSettings


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's .venv), whether or not it is on PATH."""
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


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
