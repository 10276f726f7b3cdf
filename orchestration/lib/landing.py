"""Land usage events: find new Parquet files, check them, load their rows into the warehouse.

Landing is the EL step before dbt: it records every file it reads in `landing.event_files` and
copies the rows, as they are, into `landing.events` (types normalised so that files written by
different producers fit one table). It decides nothing about billing: deduplication, quarantine
and metering are dbt models.

Landing order decides which copy of a duplicated event wins ("the first copy landed wins"):
files land in the order runs first see them, and files first seen by the same run land in the
order of their path (hive folders such as `date=2026-10-01/` sort by day). Inside a file, rows
land in file order. `landing_seq` encodes both.

A file that cannot be read, or lacks a required column, stops the run before anything is
computed, with its path and the problem: billing with a silently missing file would under-bill.
A file that changes after it landed is refused too: land corrections as new files.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

REQUIRED_COLUMNS = ("transaction_id", "external_subscription_id", "code", "timestamp")
OPTIONAL_COLUMNS = ("properties", "precise_total_amount_cents")
ROWS_PER_FILE_BITS = 32  # landing_seq = file_index << 32 | file_row_number

_HIVE_DATE = re.compile(r"(?:^|/)(?:date|day|landed_on|dt)=(\d{4}-\d{2}-\d{2})(?:/|$)")


class LandingError(Exception):
    """One or more event files cannot be landed; each problem names the file."""

    def __init__(self, problems: list[str], folder: Path):
        self.problems = problems
        head = f"events in {folder} refused: {len(problems)} file problem" + (
            "s" if len(problems) != 1 else "")
        super().__init__("\n".join([head] + [f"  - {p}" for p in problems]))


@dataclass(frozen=True)
class LandedFile:
    path: str              # relative to the events folder, with forward slashes
    size_bytes: int
    modified_ns: int
    row_count: int
    timestamp_kind: str    # 'instant' (Parquet timestamp), 'epoch' (number), 'text'
    properties_kind: str   # 'text' (JSON text), 'nested' (struct/map), 'absent'
    has_precise: bool      # carries precise_total_amount_cents (dynamic pricing)
    landed_on: str | None  # the hive partition day, when the path has one
    # the Parquet types of the columns landing reads (the kinds above follow from them): files
    # with the same land in one statement (DuckDB reads them in parallel)
    column_types: str


@dataclass(frozen=True)
class LandingResult:
    new_files: list[LandedFile]
    new_rows: int
    files_total: int
    rows_total: int
    missing_files: list[str]   # landed earlier, no longer in the folder (their rows are kept)


def _schema_problem(schema: pa.Schema) -> tuple[str | None, str, str]:
    names = set(schema.names)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        return (f"missing required column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} (has: {', '.join(schema.names)})"), "", ""
    ts_type = schema.field("timestamp").type
    if pa.types.is_timestamp(ts_type) or pa.types.is_date(ts_type):
        ts_kind = "instant"
    elif pa.types.is_integer(ts_type) or pa.types.is_floating(ts_type) or pa.types.is_decimal(
            ts_type):
        ts_kind = "epoch"
    elif pa.types.is_string(ts_type) or pa.types.is_large_string(ts_type):
        ts_kind = "text"
    else:
        return (f"column timestamp has type {ts_type}; expected a timestamp, epoch seconds "
                f"(number) or ISO 8601 text"), "", ""
    for column in ("transaction_id", "external_subscription_id", "code"):
        col_type = schema.field(column).type
        if not (pa.types.is_string(col_type) or pa.types.is_large_string(col_type)
                or pa.types.is_integer(col_type) or pa.types.is_dictionary(col_type)):
            return f"column {column} has type {col_type}; expected text", "", ""
    if "properties" not in names:
        props_kind = "absent"
    else:
        p_type = schema.field("properties").type
        if pa.types.is_struct(p_type) or pa.types.is_map(p_type):
            props_kind = "nested"
        elif pa.types.is_string(p_type) or pa.types.is_large_string(p_type):
            props_kind = "text"
        else:
            return (f"column properties has type {p_type}; expected JSON text, a struct or a "
                    f"map"), "", ""
    return None, ts_kind, props_kind


def _inspect(root: Path, path: Path) -> tuple[LandedFile | None, str | None]:
    rel = path.relative_to(root).as_posix()
    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except Exception as exc:  # noqa: BLE001 - any reader error: the file is unreadable
        return None, f"{rel}: not a readable Parquet file ({str(exc).splitlines()[0]})"
    problem, ts_kind, props_kind = _schema_problem(schema)
    if problem:
        return None, f"{rel}: {problem}"
    stat = path.stat()
    hive = _HIVE_DATE.search(rel)
    column_types = ", ".join(f"{name} {schema.field(name).type}"
                             for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS
                             if name in schema.names)
    return LandedFile(rel, stat.st_size, stat.st_mtime_ns, meta.num_rows, ts_kind, props_kind,
                      "precise_total_amount_cents" in schema.names,
                      hive.group(1) if hive else None, column_types), None


def _select_sql(files: list[tuple[LandedFile, str, int]]) -> str:
    """The rows of `files` ((file, absolute path, file_index), all with the same column types)
    as landing.events rows, read by one read_parquet."""
    file = files[0][0]
    ts = {
        "instant": "cast(timestamp as timestamptz)",
        "epoch": "case when isfinite(cast(timestamp as double)) "
                 "then to_timestamp(cast(timestamp as double)) end",
        "text": "cast(null as timestamptz)",
    }[file.timestamp_kind]
    ts_text = {
        "instant": "cast(null as varchar)",
        "epoch": "case when not isfinite(cast(timestamp as double)) "
                 "then cast(timestamp as varchar) end",
        "text": "cast(timestamp as varchar)",
    }[file.timestamp_kind]
    props = {
        "text": "cast(properties as varchar)",
        "nested": "cast(to_json(properties) as varchar)",
        "absent": "'{}'",
    }[file.properties_kind]
    precise = "cast(precise_total_amount_cents as varchar)" if file.has_precise else \
        "cast(null as varchar)"

    def quoted(path: str) -> str:
        return "'" + path.replace("'", "''") + "'"

    paths = ", ".join(quoted(path) for _, path, _ in files)
    # named so as not to clash with a column of the file
    file_index = "case __landed_from " + " ".join(
        f"when {quoted(path)} then {index}" for _, path, index in files) + " end"
    return f"""
        select
            cast(__landed_index as bigint) << {ROWS_PER_FILE_BITS} | file_row_number
                as landing_seq,
            __landed_index as file_index,
            file_row_number,
            cast(transaction_id as varchar) as transaction_id,
            cast(external_subscription_id as varchar) as external_subscription_id,
            cast(code as varchar) as code,
            {ts} as timestamp_value,
            {ts_text} as timestamp_text,
            {props} as properties,
            {precise} as precise_total_amount_cents
        from (
            select *, cast({file_index} as integer) as __landed_index
            from read_parquet([{paths}], file_row_number = true, filename = '__landed_from')
        )
    """


EVENTS_DDL = """
create schema if not exists landing;
create table if not exists landing.event_files (
    file_index integer primary key,
    path varchar not null unique,
    size_bytes bigint not null,
    modified_ns bigint not null,
    row_count bigint not null,
    timestamp_kind varchar not null,
    properties_kind varchar not null,
    landed_on date
);
create table if not exists landing.events (
    landing_seq bigint not null,
    file_index integer not null,
    file_row_number bigint not null,
    transaction_id varchar,
    external_subscription_id varchar,
    code varchar,
    timestamp_value timestamptz,
    timestamp_text varchar,
    properties varchar,
    precise_total_amount_cents varchar
);
"""


def land_events(con: duckdb.DuckDBPyConnection, folder: str | Path) -> LandingResult:
    """Land the files of `folder` not landed yet, in one transaction."""
    root = Path(folder).resolve()
    if not root.is_dir():
        raise LandingError([f"{root}: events folder not found"], root)
    con.execute("set TimeZone = 'UTC'")
    con.execute(EVENTS_DDL)
    known = {row[0]: row for row in con.execute(
        "select path, file_index, size_bytes, modified_ns from landing.event_files").fetchall()}

    paths = sorted((p for p in root.rglob("*.parquet") if p.is_file()),
                   key=lambda p: p.relative_to(root).as_posix())
    problems, new_files = [], []
    seen = set()
    for path in paths:
        rel = path.relative_to(root).as_posix()
        seen.add(rel)
        if rel in known:
            _, _, size, mtime = known[rel]
            stat = path.stat()
            if stat.st_size != size or stat.st_mtime_ns != mtime:
                problems.append(f"{rel}: changed after it landed (landed files are never "
                                f"re-read; land a correction as a new file)")
            continue
        landed, problem = _inspect(root, path)
        if problem:
            problems.append(problem)
        else:
            new_files.append(landed)
    if problems:
        raise LandingError(problems, root)

    next_index = (con.execute("select coalesce(max(file_index), -1) + 1 from landing.event_files")
                  .fetchone()[0])
    # files whose columns have the same types land in one statement, in path order
    batches: dict[str, list[tuple[LandedFile, str, int]]] = {}
    for offset, file in enumerate(new_files):
        batches.setdefault(file.column_types, []).append(
            (file, str(root / file.path), next_index + offset))
    # Rows are written in landing_seq order by the ORDER BY, not by DuckDB's insertion-order
    # preservation: with it on, rows read from many Parquet row groups were kept in memory and
    # compressed again by the next checkpoint (10M events: 5 s to land, 4-7 s to checkpoint);
    # sorted, they are written compressed as they land and the checkpoint has nothing to do.
    con.execute("set preserve_insertion_order = false")
    con.execute("begin transaction")
    try:
        for batch in batches.values():
            con.execute("insert into landing.events " + _select_sql(batch)
                        + " order by landing_seq")
        if new_files:
            con.executemany(
                "insert into landing.event_files values (?, ?, ?, ?, ?, ?, ?, ?)",
                [[next_index + offset, file.path, file.size_bytes, file.modified_ns,
                  file.row_count, file.timestamp_kind, file.properties_kind, file.landed_on]
                 for offset, file in enumerate(new_files)])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.execute("reset preserve_insertion_order")
    files_total, rows_total = con.execute(
        "select count(*), coalesce(sum(row_count), 0) from landing.event_files").fetchone()
    return LandingResult(
        new_files=new_files, new_rows=sum(f.row_count for f in new_files),
        files_total=files_total, rows_total=int(rows_total),
        missing_files=sorted(set(known) - seen))


def events_folder_fingerprint(folder: str | Path) -> list[tuple[str, int, int]]:
    """(path, size, mtime) of every Parquet file, for run records and sensors."""
    root = Path(folder)
    out = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            if name.endswith(".parquet"):
                full = Path(dirpath) / name
                stat = full.stat()
                out.append((full.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns))
    return sorted(out)
