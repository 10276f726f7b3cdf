import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.lib.settings import PROJECT_ROOT


def dbt_executable(name: str = "billing-dbt") -> str:
    """The dbt a close runs: `billing-dbt` (dbt's command line with the collector set for one
    command, orchestration/lib/dbt_command.py), installed with this environment (the
    project's .venv), whether or not it is on PATH: `.venv/bin/dg dev` starts its code server
    with an interpreter path that need not sit beside the venv's scripts, so look beside the
    interpreter, in the environment's prefix, and beside the installed dbt package.
    name="dbt" finds plain dbt the same way."""
    import importlib.util

    candidates = [Path(sys.executable).parent / name, Path(sys.prefix) / "bin" / name]
    spec = importlib.util.find_spec("dbt")
    if spec and spec.submodule_search_locations:
        # <env>/lib/pythonX.Y/site-packages/dbt -> <env>/bin/<name>
        package = Path(next(iter(spec.submodule_search_locations)))
        candidates.append(package.parents[3] / "bin" / name)
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    return shutil.which(name) or name


billing_project = DbtProject(project_dir=PROJECT_ROOT, profiles_dir=PROJECT_ROOT)
# Under `dg dev` the manifest is rebuilt from the models (dagster-dbt runs `dbt parse` with the
# `dbt` on PATH: put ours first, as `.venv/bin/dg` is usually run without activating the
# venv); elsewhere `billing` prepares it.
os.environ["PATH"] = os.pathsep.join(
    [str(Path(dbt_executable("dbt")).parent), os.environ.get("PATH", "")])
billing_project.prepare_if_dev()
