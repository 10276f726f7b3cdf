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
