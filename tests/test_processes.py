"""The two short-lived processes of a close, `billing` and the dbt it starts, tune CPython's
collector for one command (orchestration/lib/collector.py); code calling close() in-process
keeps the defaults."""
from __future__ import annotations

import gc
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

from orchestration.defs.dbt.project import dbt_executable
from orchestration.definitions import defs

# An object in a reference cycle, alive when the interpreter exits: CPython's exit collects it
# (its __del__ runs) unless the collector was told to leave what is left alone.
CYCLE_AT_EXIT = """
import sys
class Node:
    def __del__(self):
        sys.stdout.write("collected at exit\\n")
        sys.stdout.flush()
node = Node(); node.me = node
{tune}
import gc
print("thresholds", gc.get_threshold())
"""


def run_python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout


def test_a_command_process_makes_full_passes_rarer_and_leaves_its_objects_at_exit():
    default = run_python(CYCLE_AT_EXIT.format(tune=""))
    assert "collected at exit" in default        # what the tuning saves
    tuned = run_python(CYCLE_AT_EXIT.format(
        tune="from orchestration.lib.collector import tune_for_one_command\n"
             "tune_for_one_command()"))
    assert "collected at exit" not in tuned
    young, middle, _ = gc.get_threshold()
    assert f"thresholds ({young}, {middle}, 100)" in tuned


def test_the_commands_are_the_tuned_entry_points():
    scripts = {e.name: e.value for e in importlib.metadata.entry_points(group="console_scripts")
               if e.name in ("billing", "billing-dbt")}
    assert scripts == {"billing": "orchestration.cli:command",
                       "billing-dbt": "orchestration.lib.dbt_command:command"}
    # and this process, which imported the definitions, kept CPython's collector
    assert gc.get_threshold()[2] == 10


def test_the_close_runs_dbt_through_billing_dbt():
    resources = defs().resources
    executable = Path(resources["dbt"].dbt_executable)
    assert executable.name == "billing-dbt" and executable == Path(dbt_executable())
    assert executable.parent == Path(sys.executable).parent
    ok = subprocess.run([str(executable), "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "build" in ok.stdout
    # dbt's own exit codes come through: 2 for a usage error, as `dbt` gives
    bad = subprocess.run([str(executable), "parse", "--project-dir", "/nonexistent"],
                         capture_output=True, text=True)
    plain = subprocess.run([str(Path(sys.executable).parent / "dbt"), "parse", "--project-dir",
                            "/nonexistent"], capture_output=True, text=True)
    assert bad.returncode == plain.returncode != 0


def test_billing_parses_over_a_dbt_state_another_parse_wrote(tmp_path, monkeypatch):
    """dagster-dbt's `dbt parse` under `dg dev` leaves the seed's checksum empty in target/;
    the closes start from that state, so `billing` parses over any state it did not write."""
    from orchestration import cli

    parses = []
    manifest = tmp_path / "target" / "manifest.json"

    def dbt_parse(command, **kwargs):
        parses.append(command)
        manifest.write_text("{}")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(cli, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(cli.subprocess, "run", dbt_parse)
    cli.prepare_dbt(verbose=False)
    assert len(parses) == 1 and "--no-partial-parse" in parses[0]
    cli.prepare_dbt(verbose=False)
    assert len(parses) == 1                      # its own parse, up to date: kept
    manifest.write_text("{}")                    # another parse writes target/
    stat = manifest.stat()
    os.utime(manifest, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    cli.prepare_dbt(verbose=False)
    assert len(parses) == 2
