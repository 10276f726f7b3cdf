"""Time a daily close on a warehouse holding N days of history against the same close on one
holding only a few: the work of a daily close should follow that day's data, not all history.

    python benchmarks/bench_daily.py                        # 30 days of 50,000 events
    python benchmarks/bench_daily.py --days 60 --events-per-day 100000

1. Input (under data/benchmark/daily-<days>-<events>-<subscriptions>/, re-made each run): the
   catalog of bench_close.py (4 metrics, 3 monthly plans, calendar billing, UTC) with every
   subscription starting on 2026-09-01, and one landing folder per day from 2026-09-01: each
   day's events happen on that day, and 0.5% of each day's rows are identical later copies of
   the day before's events (retries landing the next day: the deduplication must look back).
2. Long history: the N history days land and close at once, as of the midnight after the last
   (by the incremental models' rule, the same tables as N daily closes: tests/
   test_incremental_metering.py); then one more day lands and its close is timed.
3. Short history: a fresh warehouse gets only the last K history days (default 3), closed at
   once as of the same instant, then the same day lands and its close is timed.
The timed closes read the same day's file, close the same periods (as of the midnight after
that day; the history closes finalized the month before it) and differ only in history.

Printed: each timed close's wall and CPU time, the rows its metering took (int_events_outcomes'
last batch) and the dbt time of the event-level models; the last line is
`daily/short-history ratio: R` (the long-history close's wall time over the short one's).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_close  # noqa: E402  (re-executes under the project's .venv when needed)
from bench_close import BILLING, PROJECT_ROOT, run_measured  # noqa: E402

import duckdb  # noqa: E402
import numpy as np  # noqa: E402

FIRST_DAY = dt.date(2026, 9, 1)
SEED = 20260901
COPY_SHARE = 0.005
EVENT_MODELS = ("int_events_outcomes", "int_events_rejected", "int_events_billable",
                "int_events_windowed", "int_events_placed", "event_reconciliation",
                "quarantined_events")


def write_day(folder: Path, day_index: int, events: int, subscriptions: int) -> None:
    """One landing day: `events` rows of that day, the last COPY_SHARE of them identical
    copies of the day before's rows."""
    copies = int(round(events * COPY_SHARE)) if day_index else 0

    def originals(index: int, count: int):
        rng = np.random.default_rng(SEED + index)
        return {
            "seq": np.arange(index * events, index * events + count, dtype=np.int64),
            "sub": np.minimum((subscriptions * rng.random(count) ** 2).astype(np.int32),
                              subscriptions - 1),
            "metric": rng.choice(len(bench_close.METRICS), size=count,
                                 p=[m[3] for m in bench_close.METRICS]).astype(np.int8),
            "offset_us": np.sort(rng.integers(0, 86_400_000_000, size=count)),
            "gb": rng.integers(0, 10_000, size=count).astype(np.int32),
            "seats": rng.integers(1, 200, size=count).astype(np.int16),
            "user": rng.integers(0, 500, size=count).astype(np.int16),
            "day": np.full(count, index, dtype=np.int32),
        }

    today = originals(day_index, events - copies)
    if copies:
        before = originals(day_index - 1, events - (copies if day_index > 1 else 0))
        pick = np.sort(np.random.default_rng(SEED - day_index).choice(
            len(before["seq"]), size=copies, replace=False))
        today = {k: np.concatenate([v, before[k][pick]]) for k, v in today.items()}
    import pyarrow as pa

    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.register("raw", pa.table(today))
    codes = ", ".join(f"'{m[0]}'" for m in bench_close.METRICS)
    part = folder / f"date={FIRST_DAY + dt.timedelta(days=day_index)}"
    part.mkdir(parents=True, exist_ok=True)
    con.execute(f"""
        copy (
            select
                'tx_' || lpad(cast(seq as varchar), 10, '0') as transaction_id,
                'sub_' || lpad(cast(sub as varchar), 7, '0') as external_subscription_id,
                [{codes}][metric + 1] as code,
                timestamptz '{FIRST_DAY} 00:00:00+00' + to_days(day)
                    + to_microseconds(offset_us) as timestamp,
                case metric
                    when 0 then '{{"endpoint":"/v1/items","region":"eu"}}'
                    when 1 then '{{"gb":' || cast(gb // 100 as varchar) || '.'
                                 || lpad(cast(gb % 100 as varchar), 2, '0') || '}}'
                    when 2 then '{{"seats":' || cast(seats as varchar) || '}}'
                    else '{{"user_id":"u_' || cast(user as varchar) || '"}}'
                end as properties
            from raw
        ) to '{part / 'events-0.parquet'}' (format parquet, row_group_size 122880)""")
    con.close()


def close(base: Path, events: Path, as_of: dt.date, warehouse: Path) -> dict:
    cmd = [str(BILLING), "run", "--as-of", f"{as_of}T00:00:00Z", "--catalog",
           str(base / "catalog"), "--events", str(events), "--warehouse", str(warehouse),
           "--no-documents", "--quiet"]
    result = run_measured(cmd)
    if result["returncode"] != 0:
        sys.stderr.write(result["stderr"][-4000:])
        raise SystemExit(f"close as of {as_of} failed")
    return result


def timed_close_details(warehouse: Path) -> dict:
    results = json.loads((warehouse.parent / f".{warehouse.name}.dbt" / "run_results.json")
                         .read_text())["results"]
    seconds = sum(float(r.get("execution_time") or 0) for r in results
                  if r["unique_id"].split(".")[-1] in EVENT_MODELS)
    con = duckdb.connect(str(warehouse), read_only=True)
    total = con.execute("select count(*) from landing.events").fetchone()[0]
    try:
        batch, rows = con.execute("""
            select metered_after_seq, count(*) from intermediate.int_events_outcomes
            group by all order by 1 desc limit 1""").fetchone()
    except duckdb.Error:   # a version before incremental metering: every row, every close
        batch, rows = -1, total
    con.close()
    return {"event_model_seconds": seconds, "metered_rows": rows, "landed_rows": total,
            "batch_after_seq": batch}


def run_history(base: Path, name: str, days: range, timed_day: int) -> dict:
    """Land `days`, close as of the midnight after the last, then land `timed_day` and time
    its close."""
    work = base / name
    shutil.rmtree(work, ignore_errors=True)
    events = work / "events"
    for index in days:
        src = base / "days" / f"date={FIRST_DAY + dt.timedelta(days=index)}"
        shutil.copytree(src, events / src.name)
    warehouse = work / "close.duckdb"
    timed_date = FIRST_DAY + dt.timedelta(days=timed_day)
    print(f"{name}: {len(days)} days of history, one close as of {timed_date} …", flush=True)
    history = close(base, events, timed_date, warehouse)
    print(f"  {history['seconds']:.1f} s", flush=True)
    src = base / "days" / f"date={timed_date}"
    shutil.copytree(src, events / src.name)
    print(f"{name}: the close of {timed_date} …", flush=True)
    timed = close(base, events, timed_date + dt.timedelta(days=1), warehouse)
    details = timed_close_details(warehouse)
    print(f"  {timed['seconds']:.1f} s wall, {timed['cpu_seconds']:.1f} s CPU; metered "
          f"{details['metered_rows']:,} of {details['landed_rows']:,} landed rows; event "
          f"models {details['event_model_seconds']:.2f} s in dbt", flush=True)
    return {**timed, **details}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30, help="days of history (default 30)")
    parser.add_argument("--short-days", type=int, default=3,
                        help="days of history of the short warehouse (default 3)")
    parser.add_argument("--events-per-day", type=int, default=50_000)
    parser.add_argument("--subscriptions", type=int, default=1_000)
    parser.add_argument("--keep", action="store_true", help="keep the warehouses")
    args = parser.parse_args()
    if not 0 < args.short_days < args.days:
        parser.error("--short-days must be between 1 and --days - 1")

    base = (PROJECT_ROOT / "data" / "benchmark" /
            f"daily-{args.days}-{args.events_per_day}-{args.subscriptions}")
    shutil.rmtree(base, ignore_errors=True)
    print(f"input: {args.days + 1} days of {args.events_per_day:,} events over "
          f"{args.subscriptions:,} subscriptions into {base.relative_to(PROJECT_ROOT)} …",
          flush=True)
    bench_close.PERIOD_START = f"{FIRST_DAY}T00:00:00Z"   # read by _write_catalog
    bench_close._write_catalog(base / "catalog", args.subscriptions)
    for index in range(args.days + 1):
        write_day(base / "days", index, args.events_per_day, args.subscriptions)

    long = run_history(base, "long", range(args.days), args.days)
    short = run_history(base, "short", range(args.days - args.short_days, args.days),
                        args.days)
    if not args.keep:
        for name in ("long", "short"):
            shutil.rmtree(base / name, ignore_errors=True)

    print(f"daily close after {args.days} days of history: {long['seconds']:.2f} s wall, "
          f"{long['cpu_seconds']:.2f} s CPU, event models {long['event_model_seconds']:.2f} s, "
          f"metered {long['metered_rows']:,} of {long['landed_rows']:,} rows")
    print(f"daily close after {args.short_days} days of history: {short['seconds']:.2f} s "
          f"wall, {short['cpu_seconds']:.2f} s CPU, event models "
          f"{short['event_model_seconds']:.2f} s, metered {short['metered_rows']:,} of "
          f"{short['landed_rows']:,} rows")
    print(f"CPU ratio: {long['cpu_seconds'] / short['cpu_seconds']:.2f}; event models ratio: "
          f"{long['event_model_seconds'] / short['event_model_seconds']:.2f}")
    print(f"daily/short-history ratio: {long['seconds'] / short['seconds']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
