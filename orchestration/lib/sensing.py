"""What the new-event-files sensor sees: the Parquet files of the events folder that it has
not seen yet. Its cursor is the newest modification time seen and the files seen at that
time, so files written later (or in the same instant, but not seen yet) are new."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg

from orchestration.lib.partitions import CLOSE_DAYS


def _files(folder: Path) -> dict[str, int]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns
            for p in folder.rglob("*.parquet") if p.is_file()}


def new_event_files_request(folder: Path, cursor: str | None
                            ) -> tuple[dg.RunRequest | None, str]:
    seen = json.loads(cursor) if cursor else {"mtime_ns": -1, "at_mtime": []}
    files = _files(folder)
    new = sorted(path for path, mtime in files.items()
                 if mtime > seen["mtime_ns"]
                 or (mtime == seen["mtime_ns"] and path not in seen["at_mtime"]))
    if not files:
        return None, json.dumps(seen)
    newest = max(files.values())
    next_cursor = json.dumps({"mtime_ns": newest, "at_mtime": sorted(
        p for p, m in files.items() if m == newest)})
    if not new:
        return None, next_cursor
    day = CLOSE_DAYS.get_last_partition_key()
    digest = hashlib.sha256("\n".join(f"{p}:{files[p]}" for p in new).encode()).hexdigest()
    return dg.RunRequest(
        run_key=f"events-{digest[:16]}",
        partition_key=day,
        tags={"billing/new_event_files": str(len(new)), "billing/first_new_file": new[0]},
    ), next_cursor
