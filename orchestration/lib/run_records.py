"""Run records: what each close read and wrote, so that any invoice can be explained and rebuilt.

One row per close in `ledger.close_runs`, appended once at the end of the close and never
changed: the Dagster run, the instant it closed as of, the catalog it priced with (its content
hash, and the git commit of the catalog folder and of the project's SQL where they are git
checkouts), the event files it landed and the latest arrival seen (the newest file's
modification time), where every landed event stood after the run, and the invoices and credit
notes the run finalized (those no earlier record names).
"""
from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb

RUNS_DDL = """
create schema if not exists ledger;
create table if not exists ledger.close_runs (
    run_id varchar primary key,
    as_of timestamptz not null,
    recorded_at timestamptz not null,
    catalog_folder varchar not null,
    catalog_version varchar not null,
    catalog_git_commit varchar,
    catalog_git_dirty boolean,
    project_git_commit varchar,
    project_git_dirty boolean,
    events_folder varchar not null,
    event_files_total bigint not null,
    event_files_landed varchar[] not null,
    latest_arrival_at timestamptz,
    events_read bigint not null,
    events_billed bigint not null,
    events_late bigint not null,
    events_pending bigint not null,
    events_duplicate bigint not null,
    events_quarantined bigint not null,
    invoices_finalized varchar[] not null,
    credit_notes_issued varchar[] not null
);
"""


@dataclass(frozen=True)
class GitState:
    commit: str | None
    dirty: bool | None


def git_state(folder: Path) -> GitState:
    """The commit checked out where `folder` lives, and whether `folder` differs from it;
    (None, None) when the folder is not in a git checkout (or git is missing)."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True,
                                  text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return GitState(None, None)
    status = git("status", "--porcelain", "--untracked-files=normal", "--", ".")
    return GitState(commit.strip(), bool(status and status.strip()))


def _names(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return [row[0] for row in con.execute(sql).fetchall()]


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute("select count(*) from information_schema.tables where table_schema = ? "
                       "and table_name = ?", [schema, table]).fetchone()[0] > 0


def record_run(con: duckdb.DuckDBPyConnection, *, run_id: str, as_of: dt.datetime,
               catalog_folder: Path, events_folder: Path, project_root: Path) -> dict:
    """Append this run's record (once per run id: a retried step does not write it twice) and
    return it."""
    con.execute(RUNS_DDL)
    existing = con.execute("select count(*) from ledger.close_runs where run_id = ?",
                           [run_id]).fetchone()[0]
    catalog_version = con.execute(
        "select catalog_version from catalog.organization").fetchone()[0]
    counts = dict.fromkeys(("read", "billed", "late", "pending", "duplicate", "quarantined"), 0)
    for outcome, events in con.execute(
            "select outcome, sum(events) from main.event_reconciliation group by outcome"
    ).fetchall():
        counts[outcome] = int(events)
    files_total, latest_ns = con.execute(
        "select count(*), max(modified_ns) from landing.event_files").fetchone()
    recorded = ("select unnest({col}) from ledger.close_runs")
    landed = _names(con, "select path from landing.event_files except "
                         + recorded.format(col="event_files_landed") + " order by 1")
    invoices = _names(con, "select invoice_id from main.invoices except "
                           + recorded.format(col="invoices_finalized") + " order by 1")
    credit_notes = []
    if _table_exists(con, "main", "credit_notes"):
        credit_notes = _names(con, "select credit_note_id from main.credit_notes except "
                                   + recorded.format(col="credit_notes_issued") + " order by 1")
    catalog_git = git_state(catalog_folder)
    project_git = git_state(project_root)
    record = {
        "run_id": run_id,
        "as_of": as_of,
        "recorded_at": dt.datetime.now(dt.timezone.utc),
        "catalog_folder": str(catalog_folder),
        "catalog_version": catalog_version,
        "catalog_git_commit": catalog_git.commit,
        "catalog_git_dirty": catalog_git.dirty,
        "project_git_commit": project_git.commit,
        "project_git_dirty": project_git.dirty,
        "events_folder": str(events_folder),
        "event_files_total": int(files_total),
        "event_files_landed": landed,
        "latest_arrival_at": (dt.datetime.fromtimestamp(latest_ns / 1e9, dt.timezone.utc)
                              if latest_ns is not None else None),
        "events_read": counts["read"],
        "events_billed": counts["billed"],
        "events_late": counts["late"],
        "events_pending": counts["pending"],
        "events_duplicate": counts["duplicate"],
        "events_quarantined": counts["quarantined"],
        "invoices_finalized": invoices,
        "credit_notes_issued": credit_notes,
    }
    if not existing:
        columns = list(record)
        con.execute(f"insert into ledger.close_runs ({', '.join(columns)}) values "
                    f"({', '.join('?' for _ in columns)})", [record[c] for c in columns])
    return record


def runs_text(con: duckdb.DuckDBPyConnection, last: int = 20) -> str:
    """The newest `last` run records as a table, oldest first."""
    if not _table_exists(con, "ledger", "close_runs"):
        return "no close recorded yet"
    rows = con.execute("""
        select * from (
            select as_of, recorded_at, run_id, catalog_version, catalog_git_commit,
                catalog_git_dirty, len(event_files_landed), event_files_total, latest_arrival_at,
                events_read, events_billed, events_late, events_pending, events_duplicate,
                events_quarantined,
                len(invoices_finalized), len(credit_notes_issued)
            from ledger.close_runs order by recorded_at desc limit ?
        ) order by recorded_at""", [last]).fetchall()
    lines = ["as of                 run       catalog       git            files  "
             "read / billed / late / pending / dup / quarantined   invoices  credit notes"]
    for (as_of, _, run_id, version, commit, dirty, landed, files, _latest, read, billed,
         late, pending, dup, quarantined, invoices, notes) in rows:
        git = "-" if commit is None else commit[:10] + ("+dirty" if dirty else "")
        counts = f"{read} / {billed} / {late} / {pending} / {dup} / {quarantined}"
        lines.append(f"{as_of.astimezone(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}  {run_id[:8]}  "
                     f"{version[:12]}  {git:<14} +{landed:<4}  {counts:<50} {invoices:>8}  "
                     f"{notes:>12}")
    return "\n".join(lines)
