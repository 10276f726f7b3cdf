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
LATER: dict[str, str] = {}


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
        problems = runner.compare(case, con, True) + credit_note_problems(case, con)
    assert problems == [], "\n".join(problems)


CREDIT_NOTE_AMOUNTS = ("sub_total_excluding_taxes_amount_cents", "taxes_amount_cents",
                       "credit_amount_cents", "refund_amount_cents", "total_amount_cents")


def credit_note_problems(case: dict, con) -> list[str]:
    """The kit's runner compares invoices only; the expected credit notes are compared here,
    each with the credit note of the customer of the invoice it credits."""
    expected = case["expected"].get("credit_notes") or []
    customer_of = {i.get("ref"): i.get("customer") or case["customers"][0]["external_id"]
                   for i in case["expected"].get("invoices") or []}
    cursor = con.execute("select * from credit_notes")
    names = [d[0] for d in cursor.description]
    got = [dict(zip(names, row)) for row in cursor.fetchall()]
    problems = []
    for want in expected:
        customer = customer_of.get(want.get("invoice_ref"))
        mine = [g for g in got if g["external_customer_id"] == customer]
        if len(mine) != 1:
            problems.append(f"credit note on {want.get('invoice_ref')}: {len(mine)} found")
            continue
        for field in CREDIT_NOTE_AMOUNTS:
            if field in want and int(mine[0][field]) != int(want[field]):
                problems.append(f"credit note on {want.get('invoice_ref')}: {field} "
                                f"{mine[0][field]} != {want[field]}")
        for item in want.get("items") or []:
            if "precise_amount_cents" in item and float(mine[0]["items_precise_amount_cents"]) \
                    != pytest.approx(float(item["precise_amount_cents"]), abs=1e-5):
                problems.append(f"credit note item {mine[0]['items_precise_amount_cents']} != "
                                f"{item['precise_amount_cents']}")
        if want.get("reason") and mine[0]["reason"] != want["reason"]:
            problems.append(f"credit note reason {mine[0]['reason']} != {want['reason']}")
    if len(got) != len(expected):
        problems.append(f"{len(got)} credit notes, {len(expected)} expected")
    return problems


@pytest.mark.xdist_group("conformance-cli")
def test_the_kit_runner_passes_through_the_billing_command():
    """The kit's runner, as the README shows it, on one case: the real `billing run`."""
    result = subprocess.run(
        [sys.executable, str(HERE / "run.py"), str(HERE / "cases" / "LC28_graduated_charge.yaml"),
         "--project", str(PROJECT_ROOT), "--billing", str(BILLING)],
        capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1 passed, 0 failed"
