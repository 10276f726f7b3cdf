"""The dbt-duckdb plugin that opens a close's warehouse under one fixed name.

dbt keeps its parsed project (partial_parse.msgpack) only while the profile's connection
settings stay the same, and a DuckDB catalog is named after its file: with the warehouse path
in the profile, every new warehouse file (each test, each benchmark run, each fresh clone)
made dbt parse the whole project again, about 6 s. So the profile names no file: it opens an
in-memory DuckDB and this plugin attaches the warehouse from BILLING_WAREHOUSE (which the
Dagster dbt asset sets for each close) as the catalog `warehouse`, before dbt-duckdb's own
`attach` entries run, and makes it every connection's default catalog. The relations dbt
writes are "warehouse"."<schema>"."<name>" whatever the file is called, and one parsed
project serves every warehouse.
"""
from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin

CATALOG = "warehouse"
DEFAULT_WAREHOUSE = "data/warehouse.duckdb"  # relative to dbt's working directory


def warehouse_path() -> str:
    return os.environ.get("BILLING_WAREHOUSE") or DEFAULT_WAREHOUSE


def read_only() -> bool:
    """BILLING_WAREHOUSE_READ_ONLY=1: attach the warehouse read-only, for `dbt test` or
    `dbt show` beside other readers (a close's own build always writes)."""
    return os.environ.get("BILLING_WAREHOUSE_READ_ONLY", "") not in ("", "0")


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        path = warehouse_path().replace("'", "''")
        mode = " (read_only)" if read_only() else ""
        conn.execute(f"attach if not exists '{path}' as {CATALOG}{mode}")
        conn.execute(f"use {CATALOG}")

    def configure_cursor(self, cursor) -> None:
        # each dbt thread's cursor is a connection of its own: names a macro leaves
        # unqualified (catalog.billable_metrics) resolve in the warehouse, as they did when
        # the warehouse was the database dbt opened
        cursor.execute(f"use {CATALOG}")
