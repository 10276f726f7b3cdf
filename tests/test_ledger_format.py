"""A warehouse whose ledger of finalized invoices another version wrote is refused with a
clear message before anything is computed; finalized invoices are never rewritten."""
from __future__ import annotations

import duckdb
import pytest

from conftest import base_catalog, run_close, write_catalog
from orchestration.lib.warehouse import LEDGER_FORMAT

pytestmark = pytest.mark.xdist_group("ledger_format")


def test_a_ledger_in_another_format_is_refused(tmp_path):
    write_catalog(tmp_path / "catalog", base_catalog())
    first = run_close(tmp_path, "2026-11-01T00:00:00Z", documents=False)
    assert first.success
    from orchestration.lib.warehouse import LEDGER_FORMAT
    assert first.scalar("select max(version) from ledger.format") == LEDGER_FORMAT
    with duckdb.connect(str(first.warehouse)) as con:
        before = con.execute("select count(*) from ledger.finalized_invoices").fetchone()[0]
        con.execute("update ledger.format set version = ?", [LEDGER_FORMAT - 1])

    second = run_close(tmp_path, "2026-11-01T00:00:00Z", documents=False, cli=True)
    assert not second.success
    assert (f"its ledger of finalized invoices was written in format {LEDGER_FORMAT - 1}"
            in second.output)
    assert "close into a new warehouse" in second.output
    assert second.scalar("select count(*) from ledger.finalized_invoices") == before
