"""Lago's own worked cases (tests/conformance/cases, from the shared conformance kit) through
the real close: the invoices and fees must equal what Lago produced."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from conftest import BILLING, PROJECT_ROOT, run_close

HERE = Path(__file__).parent / "conformance"
CASES = sorted((HERE / "cases").glob("*.yaml"))

_spec = importlib.util.spec_from_file_location("conformance_run", HERE / "run.py")
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)

# Cases that need a feature a later issue builds.
LATER = {
    "LC02": "coupons (issue 4)",
    "LC07": "termination credit notes for in-advance fees (issue 3)",
}


def _case_param(path: Path):
    case_id = path.name.split("_")[0]
    marks = [pytest.mark.xdist_group(f"conformance-{case_id}")]
    if case_id in LATER:
        marks.append(pytest.mark.xfail(strict=True, reason=f"needs {LATER[case_id]}"))
    return pytest.param(path, id=case_id, marks=marks)


@pytest.mark.parametrize("path", [_case_param(p) for p in CASES])
def test_case_matches_lago(path: Path, tmp_path: Path):
    case = yaml.safe_load(path.read_text())
    catalog, events = runner.write_inputs(case, str(tmp_path))
    for as_of in runner.run_times(case):
        result = run_close(tmp_path, str(as_of), catalog=Path(catalog), events=Path(events))
        assert result.success, f"the close as of {as_of} failed"
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        problems = runner.compare(case, con, True)
    assert problems == [], "\n".join(problems)


@pytest.mark.xdist_group("conformance-cli")
def test_the_kit_runner_passes_through_the_billing_command():
    """The kit's runner, as the README shows it, on one case: the real `billing run`."""
    result = subprocess.run(
        [sys.executable, str(HERE / "run.py"), str(HERE / "cases" / "LC28_graduated_charge.yaml"),
         "--project", str(PROJECT_ROOT), "--billing", str(BILLING)],
        capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1 passed, 0 failed"
