import shutil
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt.project import billing_project
from orchestration.lib.settings import BillingSettings


def dbt_executable() -> str:
    """The dbt installed beside this Python (the project's .venv), whether or not it is on PATH."""
    local = Path(sys.executable).parent / "dbt"
    return str(local) if local.exists() else (shutil.which("dbt") or "dbt")


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={
        "settings": BillingSettings(),
        "dbt": DbtCliResource(project_dir=billing_project, dbt_executable=dbt_executable()),
    })
