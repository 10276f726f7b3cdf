"""`billing-dbt`: dbt's own command line, in a process whose collector is set for one
command (collector.py). The dbt assets and `billing` run dbt through it; its arguments,
output and exit codes are dbt's. `.venv/bin/dbt` is the same dbt, with CPython's defaults."""
from __future__ import annotations

from orchestration.lib.collector import tune_for_one_command


def command() -> None:
    tune_for_one_command()
    from dbt.cli.main import cli

    cli()  # a click command: it exits with dbt's own code
