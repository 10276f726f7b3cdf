"""Connections to the warehouse. DuckDB allows one writing process at a time: writers open,
write and close; readers open read-only after the writes of a run are done."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import duckdb


@contextlib.contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        con.execute("set TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


# The shape of the ledger (ledger.finalized_invoices: frozen invoices with their fees, taxes,
# coupons and the credit notes they consumed; ledger.issued_credit_notes: frozen credit notes).
# Bump it whenever those models' columns change: finalized documents are never rewritten, so a
# warehouse whose ledger has another shape is refused, not migrated silently.
LEDGER_FORMAT = 8  # 4: fees carry their period part and add-on code (commitments, one-offs);
                   # 5: invoices carry the prepaid credits they consumed (wallets);
                   # 6: invoices carry the last landing_seq landed when frozen (late usage);
                   # 7: invoices carry the credit notes they consumed; issued_credit_notes
                   # 8: re-ratings: supplementary invoices (corrects_invoice_id, rerate_id),
                   #    credit notes' rerate_id, rerate_adjustments


class LedgerFormatError(RuntimeError):
    pass


def check_ledger_format(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a warehouse whose ledger another version wrote; record the format of a new one."""
    def exists(schema: str, table: str) -> bool:
        return con.execute("select count(*) from information_schema.tables where "
                           "table_schema = ? and table_name = ?", [schema, table]).fetchone()[0] > 0

    has_ledger = exists("ledger", "finalized_invoices")
    recorded = (con.execute("select max(version) from ledger.format").fetchone()[0]
                if exists("ledger", "format") else None)
    if has_ledger and recorded != LEDGER_FORMAT:
        written = f"format {recorded}" if recorded else "an earlier format"
        raise LedgerFormatError(
            f"warehouse {path}: its ledger of finalized invoices was written in {written}; this "
            f"version writes format {LEDGER_FORMAT}. Finalized invoices are never rewritten, so "
            "the ledger is not migrated: close into a new warehouse (--warehouse or "
            "BILLING_WAREHOUSE), or delete this one if it holds only test data.")
    if recorded is None:
        con.execute("create schema if not exists ledger")
        con.execute("create table if not exists ledger.format (version integer not null)")
        con.execute("insert into ledger.format values (?)", [LEDGER_FORMAT])
